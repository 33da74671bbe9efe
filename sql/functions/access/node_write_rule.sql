-- crm_private.node_write_rule(p_acl, p_claimed_by, p_node_type, p_attrs, p_is_admin, p_actor,
-- p_principals, p_grants) — the one definition of seed 002's write scoping for a node, given the
-- node's access columns and the caller's identity (computed once by the caller:
-- crm_private.can_write_node per call, crm_private.require_writable once per bulk operation,
-- crm_private.role_can_write_node for a role, the customer-model row policies once per
-- statement through (select ...) InitPlans).
-- Rule: admins write everything; a member with an identity writes a node their teams or claims
-- make visible (acl NULL or overlapping their principals) that is unclaimed or claimed by them,
-- or a node a node WRITE grant covers (a read grant never gives write); nobody without identity.
-- SQL-standard body, no SET clause: bound at CREATE time and inlined by the planner (the
-- identity arguments are then evaluated only when the rule reaches them).
CREATE OR REPLACE FUNCTION crm_private.node_write_rule(
    p_acl        uuid[],
    p_claimed_by uuid,
    p_node_type  text,
    p_attrs      jsonb,
    p_is_admin   boolean,
    p_actor      uuid,
    p_principals uuid[],
    p_grants     jsonb)
RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
RETURN p_is_admin
    OR (p_actor IS NOT NULL
        AND (((p_acl IS NULL OR p_acl && p_principals)
              AND (p_claimed_by IS NULL OR p_claimed_by = p_actor))
             OR crm_private.node_grant_match(p_grants, 'write', p_node_type, p_attrs, p_acl)));

COMMENT ON FUNCTION crm_private.node_write_rule(uuid[], uuid, text, jsonb, boolean, uuid, uuid[], jsonb) IS
    'Seed 002 write scoping of a node for a given identity (admin; visible and unclaimed/own; or a write grant): the one definition shared by can_write_node, role_can_write_node, require_writable and row policies.';
