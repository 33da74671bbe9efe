-- crm_private.role_can_write_node(p_role, p_node_id) — may p_role write the node? The one
-- evaluation of the write scoping of a node (seed 002: admins everything; members what their
-- teams or claims make visible and that is unclaimed or theirs, or what a node write grant
-- covers): crm_private.can_write_node (the write policies and the write API) passes the
-- caller's current_user; SECURITY DEFINER code (which runs as crm_owner and cannot see the
-- caller's current_user) passes the role it was given.
-- Guarantees:
-- * false for a role the session may not become (crm_private.role_trusted), for a role that is
--   not a writer (crm_writer's privileges: a reader writes nothing, whatever its user's teams
--   could), for an unknown node and for a role without identity that is not an admin; so it
--   answers only what SET ROLE p_role and crm_private.can_write_node would;
-- * an admin (not acting for a user) may write every node of a member- or admin-scoped type;
--   anyone else only nodes of member-scoped types, by crm_private.node_write_rule with the
--   identity of p_role, resolved once (crm_private.caller_identity) — a write grant also makes
--   the node readable (crm_private.node_grant_match: read matches every grant), so nothing is
--   writable that the caller cannot see;
-- * the node is read once, by primary key, without re-entering row-level security.
-- SECURITY DEFINER: reads the node whatever the caller's policies would show.
CREATE OR REPLACE FUNCTION crm_private.role_can_write_node(p_role name, p_node_id uuid)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
-- the statements below are primary-key lookups whatever the arguments: one generic plan
SET plan_cache_mode = 'force_generic_plan'
AS $$
DECLARE
    v_id crm_private.identity;
BEGIN
    IF p_node_id IS NULL THEN
        RETURN false;
    END IF;
    -- only a writer writes (a reader mapped to a user whose teams could write the node cannot:
    -- the write functions and tables are crm_writer's; review of issue 16)
    IF NOT crm_private.role_trusted(p_role) OR NOT pg_catalog.pg_has_role(p_role, 'crm_writer', 'USAGE') THEN
        RETURN false;
    END IF;
    IF crm_private.role_is_admin(p_role) THEN   -- false for a role the session may not become
        RETURN EXISTS (SELECT 1 FROM crm.nodes n JOIN crm.node_types t ON t.node_type = n.node_type
                        WHERE n.id = p_node_id AND t.write_scope IN ('member', 'admin'));
    END IF;
    v_id := crm_private.caller_identity(p_role);  -- no identity for a role the session may not become
    IF v_id.actor IS NULL THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT 1 FROM crm.nodes n JOIN crm.node_types t ON t.node_type = n.node_type
                    WHERE n.id = p_node_id AND t.write_scope = 'member'
                      AND crm_private.node_write_rule(n.acl, n.claimed_by, n.node_type, n.attrs, false,
                                                      v_id.actor, v_id.principals, v_id.grants));
END;
$$;

COMMENT ON FUNCTION crm_private.role_can_write_node(name, uuid) IS
    'True when p_role (a role the session may become) may write the node: admin (member- and admin-scoped types), or a member for whom it is visible and unclaimed/claimed by them/covered by a write grant (member-scoped types). crm_private.can_write_node passes current_user.';
