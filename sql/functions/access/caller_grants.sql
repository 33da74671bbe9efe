-- crm_private.caller_grants(p_role) — the live access grants of the user p_role acts as
-- (crm_private.grants_of over crm_private.caller_principals). SECURITY DEFINER: crm.access_grants
-- is admin-only to read directly; answers only for the caller's own identity.
CREATE OR REPLACE FUNCTION crm_private.caller_grants(p_role name)
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    SELECT (crm_private.caller_identity(p_role)).grants
$$;

COMMENT ON FUNCTION crm_private.caller_grants(name) IS
    'Live access grants that apply to the user p_role acts as (only for a role the session may become).';
