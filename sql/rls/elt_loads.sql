-- Row-level security on crm_raw.elt_loads: which dlt loads crm_raw.land_from has landed —
-- read and written by connectors for the sources they are allowed (crm_raw.connector_sources)
-- and by admins, like the records themselves. Nobody updates or deletes (a load is landed once).
ALTER TABLE crm_raw.elt_loads ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.elt_loads FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS elt_loads_select ON crm_raw.elt_loads;
CREATE POLICY elt_loads_select ON crm_raw.elt_loads FOR SELECT TO crm_connector, crm_admin
USING (source = ANY ((SELECT crm_private.caller_sources())::text[]));
DROP POLICY IF EXISTS elt_loads_insert ON crm_raw.elt_loads;
CREATE POLICY elt_loads_insert ON crm_raw.elt_loads FOR INSERT TO crm_connector, crm_admin
WITH CHECK (source = ANY ((SELECT crm_private.caller_sources())::text[]));
