-- crm_private.sources_of(p_role) — the sources p_role may land raw records for and reconcile.
-- Guarantees: every registered source for an admin (crm_private.role_is_admin); for a
-- trusted role (crm_private.role_trusted) with crm_connector's privileges, the sources in
-- crm_raw.connector_sources granted to it or to a role it has the privileges of ('*' = every
-- registered source); '{}' for anyone else (deny by default). SECURITY DEFINER (reads the
-- grants as crm360); answers only about a role the session may become.
CREATE OR REPLACE FUNCTION crm_private.sources_of(p_role name)
RETURNS text[]
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_all  text[];
    v_some text[];
BEGIN
    SELECT coalesce(array_agg(DISTINCT o.source ORDER BY o.source), '{}') INTO v_all FROM crm_raw.source_objects o;
    IF crm_private.role_is_admin(p_role) THEN
        RETURN v_all;
    END IF;
    IF NOT crm_private.role_trusted(p_role) OR NOT pg_catalog.pg_has_role(p_role, 'crm_connector', 'USAGE') THEN
        RETURN '{}';
    END IF;
    SELECT coalesce(array_agg(DISTINCT s.source ORDER BY s.source), '{}') INTO v_some
      FROM crm_raw.connector_sources s
     WHERE pg_catalog.to_regrole(pg_catalog.quote_ident(s.login_role)) IS NOT NULL
       AND pg_catalog.pg_has_role(p_role, s.login_role, 'USAGE');
    IF '*' = ANY (v_some) THEN
        RETURN v_all;
    END IF;
    RETURN v_some;
END;
$$;

COMMENT ON FUNCTION crm_private.sources_of(name) IS
    'Sources p_role may land and reconcile: all for admins; for connectors those granted in crm_raw.connector_sources (* = all); none otherwise.';
