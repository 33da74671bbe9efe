-- crm_private.visible_node_ids(p_node_type) — ids of the nodes of a type the session's user
-- can see, by exactly the rules of the nodes policy (acl NULL, acl overlapping the user's
-- principals, or a node read grant). SECURITY DEFINER so the acl overlap can use the GIN
-- index on nodes.acl (under RLS it could not: && is not leakproof); the identity is the
-- session's own (crm_private.session_actor()), so it never reveals more than a plain
-- SELECT on crm.nodes by the same login would. Admin sessions get every id of the type.
-- Wrapper views over private materialized views filter with
-- `node_id IN (SELECT crm_private.visible_node_ids(...))` — a hashed subplan, once per query.
CREATE OR REPLACE FUNCTION crm_private.visible_node_ids(p_node_type text)
RETURNS SETOF uuid
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_principals uuid[];
    v_grants     jsonb;
BEGIN
    IF pg_catalog.pg_has_role(session_user, 'crm_admin', 'MEMBER') THEN
        RETURN QUERY SELECT n.id FROM crm.nodes n WHERE n.node_type = p_node_type;
        RETURN;
    END IF;
    v_principals := crm_private.principals_of(crm_private.session_actor());
    v_grants := crm_private.grants_of(v_principals);
    RETURN QUERY
        SELECT n.id FROM crm.nodes n WHERE n.node_type = p_node_type AND n.acl && v_principals
        UNION
        SELECT n.id FROM crm.nodes n WHERE n.node_type = p_node_type AND n.acl IS NULL
        UNION
        SELECT n.id FROM crm.nodes n
         WHERE v_grants <> '[]'::jsonb AND n.node_type = p_node_type
           AND crm_private.node_grant_match(v_grants, 'read', n.node_type, n.attrs, n.acl);
END;
$$;

COMMENT ON FUNCTION crm_private.visible_node_ids(text) IS
    'The ids of nodes of the given type visible to the session''s user (the nodes policy''s rules, index-assisted).';
