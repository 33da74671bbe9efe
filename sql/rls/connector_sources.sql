-- Row-level security on crm_raw.connector_sources: a connector sees the grants that apply to
-- it; admins see and manage all (crm.allow_source / crm.disallow_source).
ALTER TABLE crm_raw.connector_sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.connector_sources FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS connector_sources_select ON crm_raw.connector_sources;
CREATE POLICY connector_sources_select ON crm_raw.connector_sources FOR SELECT TO crm_connector
USING (pg_catalog.to_regrole(pg_catalog.quote_ident(login_role)) IS NOT NULL
       AND pg_catalog.pg_has_role(current_user, login_role, 'USAGE'));
DROP POLICY IF EXISTS connector_sources_admin ON crm_raw.connector_sources;
CREATE POLICY connector_sources_admin ON crm_raw.connector_sources FOR ALL TO crm_admin USING (true) WITH CHECK (true);
