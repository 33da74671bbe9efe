-- transactional: false
SET lock_timeout = '5s';
DROP INDEX CONCURRENTLY IF EXISTS crm.nodes_type_acl_null;
RESET lock_timeout;
