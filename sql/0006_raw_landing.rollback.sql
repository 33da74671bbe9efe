-- Undo 0006: drops the raw landing tables and their configuration (raw rows are lost).
SET LOCAL lock_timeout = '5s';
DROP TABLE IF EXISTS crm_raw.region_teams CASCADE;
DROP TABLE IF EXISTS crm_raw.ownership_mapping CASCADE;
DROP TABLE IF EXISTS crm_raw.free_mail_domains CASCADE;
DROP TABLE IF EXISTS crm_raw.cursors CASCADE;
DROP TABLE IF EXISTS crm_raw.records CASCADE;
DROP TABLE IF EXISTS crm_raw.sync_runs CASCADE;
DROP TABLE IF EXISTS crm_raw.source_schedules CASCADE;
DROP TABLE IF EXISTS crm_raw.source_objects CASCADE;
