-- Roles are cluster-wide and may serve other databases: they are kept.
SET LOCAL lock_timeout = '5s';
DELETE FROM crm.assertion_types WHERE assertion_type = 'negotiation_stance'
   AND NOT EXISTS (SELECT 1 FROM crm.assertions WHERE assertion_type = 'negotiation_stance');
UPDATE crm.assertion_types SET sensitive = false WHERE assertion_type = 'deal_value';
DROP INDEX IF EXISTS crm.assertions_acl;
DROP INDEX IF EXISTS crm.events_acl;
ALTER TABLE crm.artifacts DROP COLUMN IF EXISTS acl CASCADE;
ALTER TABLE crm.assertions DROP COLUMN IF EXISTS sensitive CASCADE;
ALTER TABLE crm.assertions DROP COLUMN IF EXISTS acl CASCADE;
ALTER TABLE crm.event_participants DROP COLUMN IF EXISTS event_acl CASCADE;
ALTER TABLE crm.event_participants DROP COLUMN IF EXISTS acl CASCADE;
ALTER TABLE crm.events DROP COLUMN IF EXISTS acl CASCADE;
ALTER TABLE crm.events DROP COLUMN IF EXISTS recorded_by CASCADE;
ALTER TABLE crm.edges DROP COLUMN IF EXISTS target_acl CASCADE;
ALTER TABLE crm.edges DROP COLUMN IF EXISTS source_acl CASCADE;
DROP TABLE IF EXISTS crm.access_grants CASCADE;
DROP TABLE IF EXISTS crm.logins CASCADE;
