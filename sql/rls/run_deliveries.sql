-- Row-level security on crm_raw.run_deliveries: what a full-refresh run delivered is written
-- (crm_raw.land_staged, as the caller) and read by connectors for the sources they are allowed
-- (crm_raw.connector_sources) and by admins — like the records and runs themselves. Nobody
-- updates or deletes (crm.reconcile prunes older runs as crm_owner). A row naming a record of
-- another source is ignored by every reader (crm_raw.run_records matches the record's source).
ALTER TABLE crm_raw.run_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.run_deliveries FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS run_deliveries_select ON crm_raw.run_deliveries;
CREATE POLICY run_deliveries_select ON crm_raw.run_deliveries FOR SELECT TO crm_connector, crm_admin
USING (source = ANY ((SELECT crm_private.caller_sources())::text[]));
DROP POLICY IF EXISTS run_deliveries_insert ON crm_raw.run_deliveries;
CREATE POLICY run_deliveries_insert ON crm_raw.run_deliveries FOR INSERT TO crm_connector, crm_admin
WITH CHECK (source = ANY ((SELECT crm_private.caller_sources())::text[]));
