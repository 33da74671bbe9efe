-- transactional: false
SET lock_timeout = '5s';
ALTER TABLE crm_raw.records ALTER COLUMN payload SET STATISTICS -1, ALTER COLUMN match SET STATISTICS -1;
DROP INDEX CONCURRENTLY IF EXISTS crm.nodes_removed_at_source;
RESET lock_timeout;
