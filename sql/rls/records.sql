-- Row-level security on crm_raw.records: raw source payloads (personal data of every
-- account) are read and written by connectors and admins only — nobody else, whatever
-- their teams. Deleting is legal erasure (crm.purge_node, as owner) only.
ALTER TABLE crm_raw.records ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.records FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS records_select ON crm_raw.records;
CREATE POLICY records_select ON crm_raw.records FOR SELECT TO crm_connector, crm_admin USING (true);
DROP POLICY IF EXISTS records_insert ON crm_raw.records;
CREATE POLICY records_insert ON crm_raw.records FOR INSERT TO crm_connector, crm_admin WITH CHECK (true);
DROP POLICY IF EXISTS records_update ON crm_raw.records;
CREATE POLICY records_update ON crm_raw.records FOR UPDATE TO crm_connector, crm_admin USING (true) WITH CHECK (true);
