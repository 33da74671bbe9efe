-- crm.disallow_source(p_role, p_source) — withdraw crm.allow_source. Idempotent (false when it
-- was not allowed). Admin only (42501).
CREATE OR REPLACE FUNCTION crm.disallow_source(p_role name, p_source text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_private.require_admin('disallow connector sources');
    DELETE FROM crm_raw.connector_sources s WHERE s.login_role = p_role AND s.source = p_source;
    RETURN FOUND;
END;
$$;

COMMENT ON FUNCTION crm.disallow_source(name, text) IS
$c$Withdraw a connector role's permission to land and reconcile a source (see crm.allow_source). Admin only. Errors: 42501 not admin. Example: SELECT crm.disallow_source('zendesk_loader', 'zendesk');$c$;
