-- crm_private.role_can_write_node(p_role, p_node_id) — crm_private.can_write_node for a role
-- passed in by the caller: SECURITY DEFINER code (which runs as crm_owner and cannot see the
-- caller's current_user) checks with it that its caller may write the node (seed 002 scoping:
-- admins everything; members what their teams or claims make visible and that is unclaimed or
-- theirs, or what a node write grant covers).
-- Guarantees: the same rule as crm_private.can_write_node, evaluated for p_role; false for a
-- role the session may not become (crm_private.role_trusted), for an unknown node, and for a
-- role without identity that is not an admin.
CREATE OR REPLACE FUNCTION crm_private.role_can_write_node(p_role name, p_node_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    WITH who AS (
        SELECT crm_private.role_is_admin(p_role) AS is_admin, crm_private.actor_of(p_role) AS actor,
               crm_private.caller_principals(p_role) AS principals
    )
    SELECT EXISTS (
        SELECT 1 FROM crm.nodes n, who
         WHERE n.id = p_node_id
           AND crm_private.role_trusted(p_role)
           AND (who.is_admin
                OR (who.actor IS NOT NULL
                    AND (((n.acl IS NULL OR n.acl && who.principals)
                          AND (n.claimed_by IS NULL OR n.claimed_by = who.actor))
                         OR crm_private.node_grant_match(crm_private.caller_grants(p_role), 'write',
                                                         n.node_type, n.attrs, n.acl)))))
$$;

COMMENT ON FUNCTION crm_private.role_can_write_node(name, uuid) IS
    'True when p_role (a role the session may become) may write the node: crm_private.can_write_node''s rule for SECURITY DEFINER code.';
