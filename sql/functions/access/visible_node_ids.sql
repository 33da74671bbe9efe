-- crm_private.visible_node_ids(p_node_type, p_role) — ids of the nodes of a type that p_role
-- can see, by exactly the rules of the nodes policy (acl NULL, acl overlapping the user's
-- principals, or a node read grant). SECURITY DEFINER so the acl overlap can use the GIN
-- index on nodes.acl (under RLS it could not: && is not leakproof). p_role is the caller's
-- current_user, passed by the view (definer code cannot see it); it is trusted only when the
-- session may become it (crm_private.role_trusted), so the answer never reveals more than a
-- plain SELECT on crm.nodes as that role would — a role acting for a user through
-- crm.act_as gets that user's ids, even an admin role or a superuser that did SET ROLE.
-- Admin roles (not acting) get every id of the type. The acl arm reads the nodes of the type
-- through the typed acl index (crm_private.typed_acl): only that type's rows of the caller's
-- principals, not every node they can see (a rep's 20 users cost what 20 rows do).
-- Wrapper views over private materialized views filter with
-- `node_id IN (SELECT crm_private.visible_node_ids(..., current_user))` — a hashed subplan,
-- once per query.
CREATE OR REPLACE FUNCTION crm_private.visible_node_ids(p_node_type text, p_role name)
RETURNS SETOF uuid
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_principals uuid[];
    v_grants     jsonb;
BEGIN
    IF crm_private.role_is_admin(p_role) THEN
        RETURN QUERY SELECT n.id FROM crm.nodes n WHERE n.node_type = p_node_type;
        RETURN;
    END IF;
    v_principals := crm_private.caller_principals(p_role);
    v_grants := crm_private.grants_of(v_principals);
    -- three disjoint arms (UNION ALL: no de-duplication of thousands of ids; the grants arm
    -- leaves out what the first two already return)
    RETURN QUERY
        SELECT n.id FROM crm.nodes n
         WHERE n.node_type = p_node_type
           AND crm_private.typed_acl(n.node_type, n.acl) && crm_private.typed_acl(p_node_type, v_principals)
           AND n.acl && v_principals
        UNION ALL
        SELECT n.id FROM crm.nodes n WHERE n.node_type = p_node_type AND n.acl IS NULL
        UNION ALL
        SELECT n.id FROM crm.nodes n
         WHERE v_grants <> '[]'::jsonb AND n.node_type = p_node_type
           AND NOT coalesce(n.acl && v_principals, true)
           AND crm_private.node_grant_match(v_grants, 'read', n.node_type, n.attrs, n.acl);
END;
$$;

COMMENT ON FUNCTION crm_private.visible_node_ids(text, name) IS
    'The ids of nodes of the given type visible to p_role (the caller''s current_user; trusted only if the session may become it), by the nodes policy''s rules, index-assisted.';
