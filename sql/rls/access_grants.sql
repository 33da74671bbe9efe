-- Row-level security on crm.access_grants: a user sees the grants that apply to them (to
-- them or one of their teams); admins see and manage all.
ALTER TABLE crm.access_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.access_grants FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS access_grants_select ON crm.access_grants;
CREATE POLICY access_grants_select ON crm.access_grants FOR SELECT TO crm_reader, crm_connector
USING ((SELECT crm_private.actor_is_admin()) OR ARRAY[grantee_id] && (SELECT crm_private.actor_principals()));

DROP POLICY IF EXISTS access_grants_admin ON crm.access_grants;
CREATE POLICY access_grants_admin ON crm.access_grants FOR ALL TO crm_admin USING (true) WITH CHECK (true);
