-- Undo 0017: the shared facts view and the materialized view built on it. `crm360 rollback`
-- of 0017 followed by re-applying 0011's materialized view is not automatic: roll 0011
-- back too and migrate again.
SET LOCAL lock_timeout = '5s';
DROP MATERIALIZED VIEW IF EXISTS crm_private.accounts_360_mv CASCADE;
DROP VIEW IF EXISTS crm_private.accounts_360_facts CASCADE;
DROP TABLE IF EXISTS crm_private.acl_changed_accounts;
