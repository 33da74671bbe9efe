-- Row-level security on crm_raw.sync_runs: connectors record their runs — for the sources
-- they are allowed (crm_raw.connector_sources) — and read them; admins all (the "last
-- synced" times are exposed to users by views/functions).
ALTER TABLE crm_raw.sync_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.sync_runs FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS sync_runs_select ON crm_raw.sync_runs;
CREATE POLICY sync_runs_select ON crm_raw.sync_runs FOR SELECT TO crm_connector, crm_admin
USING (source = ANY ((SELECT crm_private.caller_sources())::text[]));
DROP POLICY IF EXISTS sync_runs_insert ON crm_raw.sync_runs;
CREATE POLICY sync_runs_insert ON crm_raw.sync_runs FOR INSERT TO crm_connector, crm_admin
WITH CHECK (source = ANY ((SELECT crm_private.caller_sources())::text[]));
DROP POLICY IF EXISTS sync_runs_update ON crm_raw.sync_runs;
CREATE POLICY sync_runs_update ON crm_raw.sync_runs FOR UPDATE TO crm_connector, crm_admin
USING (source = ANY ((SELECT crm_private.caller_sources())::text[]))
WITH CHECK (source = ANY ((SELECT crm_private.caller_sources())::text[]));
