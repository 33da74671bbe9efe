-- transactional: false
SET lock_timeout = '5s';
DROP INDEX CONCURRENTLY IF EXISTS crm.nodes_type;
RESET lock_timeout;
