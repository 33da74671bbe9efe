-- crm.allow_source(p_role, p_source) — let a connector role land and reconcile one source
-- ('*' = every source). Guarantees: the role exists (P0002) and the source is registered in
-- crm_raw.source_objects or is '*' (22023); idempotent (false when already allowed); the
-- role still needs crm_connector to do anything. Admin only (42501): which system may feed
-- which records decides who sees what (the CRM source restricts accounts).
CREATE OR REPLACE FUNCTION crm.allow_source(p_role name, p_source text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_private.require_admin('allow connector sources');
    IF p_role IS NULL OR pg_catalog.to_regrole(pg_catalog.quote_ident(p_role)) IS NULL THEN
        RAISE EXCEPTION 'role "%" does not exist', p_role
            USING ERRCODE = 'P0002', HINT = 'CREATE ROLE ... LOGIN, GRANT crm_connector to it, then allow its sources';
    END IF;
    IF p_source IS NULL OR (p_source <> '*' AND NOT EXISTS (SELECT 1 FROM crm_raw.source_objects o WHERE o.source = p_source)) THEN
        RAISE EXCEPTION 'unknown source "%"', p_source
            USING ERRCODE = '22023',
                  HINT = 'sources: * (all), ' || (SELECT string_agg(DISTINCT o.source, ', ') FROM crm_raw.source_objects o);
    END IF;
    INSERT INTO crm_raw.connector_sources (login_role, source) VALUES (p_role, p_source)
    ON CONFLICT (login_role, source) DO NOTHING;
    RETURN FOUND;
END;
$$;

COMMENT ON FUNCTION crm.allow_source(name, text) IS
$c$Allow a connector role (a member of crm_connector) to land raw records of a source and reconcile it ('*' = every source); connectors are denied every source until allowed. Admin only. Errors: 42501 not admin, P0002 unknown role, 22023 unknown source. Example: SELECT crm.allow_source('zendesk_loader', 'zendesk');$c$;
