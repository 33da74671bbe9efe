-- Undo 0016: registry write scopes, events.about, connector source grants, the instance
-- secret. (The retired bulk-apply objects of 0014 are not brought back: run `crm360 migrate`
-- of the matching crm360 version for that.)
SET LOCAL lock_timeout = '5s';
DROP TABLE IF EXISTS crm_raw.connector_sources CASCADE;
DROP TABLE IF EXISTS crm_private.instance_secret CASCADE;
ALTER TABLE crm.events DROP COLUMN IF EXISTS about CASCADE;
ALTER TABLE crm.event_types DROP COLUMN IF EXISTS write_scope CASCADE;
ALTER TABLE crm.edge_types DROP COLUMN IF EXISTS write_scope CASCADE;
ALTER TABLE crm.node_types DROP COLUMN IF EXISTS write_scope CASCADE;
DELETE FROM crm.error_codes WHERE sqlstate IN ('CR032', 'CR033', 'CR034');
