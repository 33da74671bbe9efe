-- crm_private.writable_node_types() — the node types the caller may write (crm.node_types.write_scope):
-- crm360's own code (crm_owner) every type; admins (not acting for a user) member and admin
-- types; everyone else member types only. Used by the node write policies as
-- (select crm_private.writable_node_types()), once per statement.
CREATE OR REPLACE FUNCTION crm_private.writable_node_types()
RETURNS text[]
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(t.node_type ORDER BY t.node_type), '{}')
      FROM crm.node_types t
     WHERE t.write_scope = 'member'
        OR current_user = 'crm_owner'
        OR (t.write_scope = 'admin' AND (SELECT crm_private.actor_is_admin()))   -- once per call, not per registered type
$$;

COMMENT ON FUNCTION crm_private.writable_node_types() IS
    'The node types the caller may write: member types; plus admin types for admins; every type for crm360''s own code (crm_owner).';
