-- Row-level security on crm.logins: a role sees its own mapping; admins see and manage all.
ALTER TABLE crm.logins ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.logins FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS logins_select ON crm.logins;
CREATE POLICY logins_select ON crm.logins FOR SELECT TO crm_reader, crm_connector
USING ((SELECT crm_private.actor_is_admin()) OR login_role = current_user);

DROP POLICY IF EXISTS logins_admin ON crm.logins;
CREATE POLICY logins_admin ON crm.logins FOR ALL TO crm_admin USING (true) WITH CHECK (true);
