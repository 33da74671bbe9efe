-- transactional: false
-- Undo 0018: back to the plain-column key indexes (and their EXPLAIN side channel).
SET lock_timeout = '5s';
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS nodes_external_key_live
    ON crm.nodes (external_source, external_id) WHERE archived_at IS NULL AND external_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS nodes_external_key ON crm.nodes (external_id, external_source);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS events_external_key
    ON crm.events (external_source, external_id) WHERE external_id IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS crm.nodes_source_key_live;
DROP INDEX CONCURRENTLY IF EXISTS crm.events_source_key;
RESET lock_timeout;
