-- Row-level security on crm_raw.cursors: connectors move their cursors; admins read and fix them.
ALTER TABLE crm_raw.cursors ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.cursors FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS cursors_select ON crm_raw.cursors;
CREATE POLICY cursors_select ON crm_raw.cursors FOR SELECT TO crm_connector, crm_admin USING (true);
DROP POLICY IF EXISTS cursors_insert ON crm_raw.cursors;
CREATE POLICY cursors_insert ON crm_raw.cursors FOR INSERT TO crm_connector, crm_admin WITH CHECK (true);
DROP POLICY IF EXISTS cursors_update ON crm_raw.cursors;
CREATE POLICY cursors_update ON crm_raw.cursors FOR UPDATE TO crm_connector, crm_admin USING (true) WITH CHECK (true);
