-- Row-level security on crm_raw.sync_runs: connectors record their runs; connectors and
-- admins read them (the "last synced" times are exposed to users by views/functions).
ALTER TABLE crm_raw.sync_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.sync_runs FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS sync_runs_select ON crm_raw.sync_runs;
CREATE POLICY sync_runs_select ON crm_raw.sync_runs FOR SELECT TO crm_connector, crm_admin USING (true);
DROP POLICY IF EXISTS sync_runs_insert ON crm_raw.sync_runs;
CREATE POLICY sync_runs_insert ON crm_raw.sync_runs FOR INSERT TO crm_connector, crm_admin WITH CHECK (true);
DROP POLICY IF EXISTS sync_runs_update ON crm_raw.sync_runs;
CREATE POLICY sync_runs_update ON crm_raw.sync_runs FOR UPDATE TO crm_connector, crm_admin USING (true) WITH CHECK (true);
