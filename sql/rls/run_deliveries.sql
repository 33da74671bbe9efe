-- Row-level security on crm_raw.run_deliveries: what a full-refresh run delivered is read by
-- connectors for the sources they are allowed (crm_raw.connector_sources) and by admins — like
-- the records and runs themselves. Nobody but crm_owner writes it (crm_private.list_run_deliveries,
-- called by crm_raw.land_staged, checks the run and the records; crm.reconcile prunes older
-- runs): no INSERT is granted, and there is no insert policy.
ALTER TABLE crm_raw.run_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.run_deliveries FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS run_deliveries_select ON crm_raw.run_deliveries;
CREATE POLICY run_deliveries_select ON crm_raw.run_deliveries FOR SELECT TO crm_connector, crm_admin
USING (source = ANY ((SELECT crm_private.caller_sources())::text[]));
DROP POLICY IF EXISTS run_deliveries_insert ON crm_raw.run_deliveries;
