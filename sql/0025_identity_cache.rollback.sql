-- Undo 0025: the identity-change triggers, the cache function and the wrappers' dependency on
-- it are repeatable files (the previous versions come back with the previous checkout); drop
-- what the migration created.
SET LOCAL lock_timeout = '5s';

DROP TRIGGER IF EXISTS tg_logins__identity_changed ON crm.logins;
DROP TRIGGER IF EXISTS tg_access_grants__identity_changed ON crm.access_grants;
DROP TRIGGER IF EXISTS tg_logins__identity_truncated ON crm.logins;
DROP TRIGGER IF EXISTS tg_access_grants__identity_truncated ON crm.access_grants;
DROP TRIGGER IF EXISTS tg_edges__identity_changed_ins ON crm.edges;
DROP TRIGGER IF EXISTS tg_edges__identity_changed_upd ON crm.edges;
DROP TRIGGER IF EXISTS tg_edges__identity_changed_del ON crm.edges;
DROP TRIGGER IF EXISTS tg_nodes__identity_changed_ins ON crm.nodes;
DROP TRIGGER IF EXISTS tg_nodes__identity_changed_upd ON crm.nodes;
DROP TRIGGER IF EXISTS tg_nodes__identity_changed_del ON crm.nodes;
DROP FUNCTION IF EXISTS crm_private.tg_identity_changed();
DROP FUNCTION IF EXISTS crm_private.caller_identity(name, boolean) CASCADE;
DROP SEQUENCE IF EXISTS crm_private.identity_epoch;
DROP TYPE IF EXISTS crm_private.identity CASCADE;
