-- transactional: false
-- Undo 0029.
SET lock_timeout = '5s';
DROP INDEX CONCURRENTLY IF EXISTS crm_raw.records_raw;
ALTER TABLE crm_raw.records DROP COLUMN IF EXISTS raw_hash;
RESET lock_timeout;
