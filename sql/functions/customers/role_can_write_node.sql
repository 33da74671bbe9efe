-- crm_private.role_can_write_node(p_role, p_node_id) — crm_private.can_write_node for a role
-- passed in by the caller: SECURITY DEFINER code (which runs as crm_owner and cannot see the
-- caller's current_user) checks with it that its caller may write the node (seed 002 scoping:
-- admins everything; members what their teams or claims make visible and that is unclaimed or
-- theirs, or what a node write grant covers).
-- Guarantees: the rule of crm_private.node_write_rule and the type scope (as crm_private.
-- can_write_node: admin types only for admins), evaluated for p_role; false for a
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
    SELECT crm_private.role_trusted(p_role)
       AND EXISTS (SELECT 1 FROM crm.nodes n
                      JOIN crm.node_types t ON t.node_type = n.node_type
                    WHERE n.id = p_node_id
                      AND (t.write_scope = 'member' OR (t.write_scope = 'admin' AND crm_private.role_is_admin(p_role)))
                      AND crm_private.node_write_rule(n.acl, n.claimed_by, n.node_type, n.attrs,
                                                      crm_private.role_is_admin(p_role), crm_private.actor_of(p_role),
                                                      crm_private.caller_principals(p_role),
                                                      crm_private.caller_grants(p_role)))
$$;

COMMENT ON FUNCTION crm_private.role_can_write_node(name, uuid) IS
    'True when p_role (a role the session may become) may write the node: crm_private.can_write_node''s rule for SECURITY DEFINER code.';
