-- crm_private.caller_sources() — crm_private.sources_of(current_user): the sources the caller
-- may land and reconcile. Used by the crm_raw row policies as (select ...), once per statement.
CREATE OR REPLACE FUNCTION crm_private.caller_sources()
RETURNS text[]
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.sources_of(current_user)
$$;

COMMENT ON FUNCTION crm_private.caller_sources() IS
    'The sources the current role may land raw records for and reconcile (crm_raw.connector_sources; all for admins).';
