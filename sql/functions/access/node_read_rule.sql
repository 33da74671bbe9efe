-- crm_private.node_read_rule(p_acl, p_node_type, p_attrs, p_is_admin, p_principals, p_grants) —
-- the read rule of the nodes policy (DESIGN §6) for a node's access columns and an identity
-- computed once by the caller: admins see everything; anyone else a node that is not
-- access-checked (acl NULL), whose acl overlaps their principals, or that a node grant covers.
-- The companion of crm_private.node_write_rule, for SECURITY DEFINER code that has the node
-- row in hand and evaluates a role's identity (crm_private.visible_among, the *_as write API):
-- no second read of the node. SQL-standard body, no SET clause: bound at CREATE time and inlined
-- by the planner (the grants are then matched only when the first arms do not decide).
CREATE OR REPLACE FUNCTION crm_private.node_read_rule(
    p_acl        uuid[],
    p_node_type  text,
    p_attrs      jsonb,
    p_is_admin   boolean,
    p_principals uuid[],
    p_grants     jsonb)
RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL RESTRICTED
RETURN p_is_admin
    OR p_acl IS NULL
    OR p_acl && p_principals
    OR crm_private.node_grant_match(p_grants, 'read', p_node_type, p_attrs, p_acl);

COMMENT ON FUNCTION crm_private.node_read_rule(uuid[], text, jsonb, boolean, uuid[], jsonb) IS
    'The nodes policy''s read rule for a node''s access columns and a given identity (admin; acl NULL; acl overlapping the principals; a node read grant): shared by visible_among and the SECURITY DEFINER write API.';
