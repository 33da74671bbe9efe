-- Row-level security on crm_raw.cursors: connectors move the cursors of the sources they are
-- allowed (crm_raw.connector_sources); admins read and fix them all.
ALTER TABLE crm_raw.cursors ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.cursors FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS cursors_select ON crm_raw.cursors;
CREATE POLICY cursors_select ON crm_raw.cursors FOR SELECT TO crm_connector, crm_admin
USING (source = ANY ((SELECT crm_private.caller_sources())::text[]));
DROP POLICY IF EXISTS cursors_insert ON crm_raw.cursors;
CREATE POLICY cursors_insert ON crm_raw.cursors FOR INSERT TO crm_connector, crm_admin
WITH CHECK (source = ANY ((SELECT crm_private.caller_sources())::text[]));
DROP POLICY IF EXISTS cursors_update ON crm_raw.cursors;
CREATE POLICY cursors_update ON crm_raw.cursors FOR UPDATE TO crm_connector, crm_admin
USING (source = ANY ((SELECT crm_private.caller_sources())::text[]))
WITH CHECK (source = ANY ((SELECT crm_private.caller_sources())::text[]));
