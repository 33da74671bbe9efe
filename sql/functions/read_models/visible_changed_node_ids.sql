-- crm_private.visible_changed_node_ids(p_node_type, p_role) — the nodes of a type whose acl,
-- type or existence changed since the refresh of the read model that stores them (a row in
-- crm_private.read_model_acl_changes) and that p_role can see now, by the nodes policy's read
-- rule (crm_private.node_read_rule) on the live row.
-- Guarantees: the same trust rule as crm_private.visible_node_ids — p_role is the caller's
-- current_user, passed by the wrapper views (definer code cannot see it) and answered for
-- only when the session may become it (crm_private.caller_identity: no identity, so only
-- nodes with a NULL acl, otherwise); an admin role that is not acting gets every changed node
-- of the type. The answer is a subset of what a plain SELECT on crm.nodes as that role
-- returns. It reads the change log, which nobody else may read, only to narrow that set.
-- Used by crm.opportunities_active and crm.contacts_directory for the rows whose stored acl
-- they do not trust (a hashed subplan: once per query, and only when the log has rows).
-- SECURITY DEFINER: the log and the live rows are crm_owner's.
CREATE OR REPLACE FUNCTION crm_private.visible_changed_node_ids(p_node_type text, p_role name)
RETURNS SETOF uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    WITH i AS MATERIALIZED (   -- the identity once, not per row
        SELECT x.principals, x.grants, crm_private.role_is_admin(p_role) AS is_admin
          FROM crm_private.caller_identity(p_role) AS x
    )
    SELECT n.id
      FROM i, crm.nodes n
     WHERE n.id IN (SELECT c.node_id FROM crm_private.read_model_acl_changes c WHERE c.node_id IS NOT NULL)
       AND n.node_type = p_node_type
       AND crm_private.node_read_rule(n.acl, n.node_type, n.attrs, i.is_admin, i.principals, i.grants)
$$;

COMMENT ON FUNCTION crm_private.visible_changed_node_ids(text, name) IS
    'Nodes of the given type whose acl, type or existence changed since their read model''s refresh and that p_role (the caller''s current_user; trusted only if the session may become it) can see now: the live half of crm.opportunities_active and crm.contacts_directory.';
