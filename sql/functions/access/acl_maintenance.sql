-- crm_private.acl_maintenance() — true inside crm360's own ACL maintenance.
-- Guarantees: true only when the transaction-local flag crm.acl_maintenance is on AND the
-- current role owns schema crm (i.e. inside a SECURITY DEFINER maintenance function, or the
-- DBA). Any other role setting the flag gets false: denormalised ACL columns stay
-- trigger-maintained and cannot be forged by an UPDATE.
CREATE OR REPLACE FUNCTION crm_private.acl_maintenance()
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(current_setting('crm.acl_maintenance', true), '') = 'on'
       AND current_user = (SELECT n.nspowner::regrole::text FROM pg_catalog.pg_namespace n WHERE n.nspname = 'crm')
$$;

COMMENT ON FUNCTION crm_private.acl_maintenance() IS
    'True inside crm360''s ACL maintenance (flag crm.acl_maintenance set by a function running as the schema owner); guards the denormalised ACL columns.';
