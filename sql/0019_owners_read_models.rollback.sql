-- Undo 0019: the read-model registry and the Account 360 storage are dropped (roll 0017 back
-- and migrate again to rebuild the previous one); view_refreshes keeps refreshed_seq (harmless).
SET LOCAL lock_timeout = '5s';
DROP MATERIALIZED VIEW IF EXISTS crm_private.accounts_360_mv CASCADE;
DROP VIEW IF EXISTS crm_private.accounts_360_facts CASCADE;
UPDATE crm.edge_types SET source_types = '{opportunity}' WHERE edge_type = 'assigned_to';
DROP TABLE IF EXISTS crm_private.read_models;
