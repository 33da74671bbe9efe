-- Row-level security on crm_raw.records: raw source payloads (personal data of every
-- account) are read and written by connectors and admins only — nobody else, whatever
-- their teams — and a connector only for the sources it is allowed
-- (crm_raw.connector_sources, crm.allow_source): a ticketing connector cannot land
-- "Salesforce" accounts (which would decide who sees what) nor read the CRM's payloads.
-- Deleting is legal erasure (crm.purge_node, as crm_owner) only.
ALTER TABLE crm_raw.records ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.records FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS records_select ON crm_raw.records;
CREATE POLICY records_select ON crm_raw.records FOR SELECT TO crm_connector, crm_admin
USING (source = ANY ((SELECT crm_private.caller_sources())::text[]));
DROP POLICY IF EXISTS records_insert ON crm_raw.records;
CREATE POLICY records_insert ON crm_raw.records FOR INSERT TO crm_connector, crm_admin
WITH CHECK (source = ANY ((SELECT crm_private.caller_sources())::text[]));
DROP POLICY IF EXISTS records_update ON crm_raw.records;
CREATE POLICY records_update ON crm_raw.records FOR UPDATE TO crm_connector, crm_admin
USING (source = ANY ((SELECT crm_private.caller_sources())::text[]))
WITH CHECK (source = ANY ((SELECT crm_private.caller_sources())::text[]));
