-- transactional: false
-- 0018 source-key indexes no reader can turn into an existence oracle (issue 11, finding 14).
-- Why: a btree index on (external_source, external_id) serves `external_id = '<email>'` (or a
-- range, as in a binary search) as an index condition — texteq/text_lt are leakproof, so
-- PostgreSQL runs them BEFORE the row-level security filter, and EXPLAIN ANALYZE's "Rows
-- Removed by Filter" then counts the hidden rows that match: a reader could extract a hidden
-- email key by key. The keys are indexed as the expression ARRAY[external_source,
-- external_id] instead: array equality is not leakproof, so for a caller under row-level
-- security it can never be an index condition (the planner must filter by the policy first);
-- crm360's own code (reconciliation, as crm_owner, and the SECURITY DEFINER lookups) matches
-- keys with that same expression and uses the indexes. One live node per (external_source,
-- external_id) of a registered source; one event per source key. Keys with external_source
-- 'internal' (codes crm360 allocates, which writers may also set) are not unique-indexed
-- any more: codes are unique by allocation (crm.generate_crm_code), and a unique index on
-- keys anyone may write let a writer squat the next codes (every create_org/person/
-- opportunity then failed with 23505) and learn through 23505 that a hidden node has a code.
-- Built CONCURRENTLY (DESIGN §3): not transactional; safe to run twice.
SET lock_timeout = '5s';
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS nodes_source_key_live
    ON crm.nodes ((ARRAY[external_source, external_id]))
    WHERE archived_at IS NULL AND external_id IS NOT NULL AND external_source <> 'internal';
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS events_source_key
    ON crm.events ((ARRAY[external_source, external_id])) WHERE external_id IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS crm.nodes_external_key_live;
DROP INDEX CONCURRENTLY IF EXISTS crm.nodes_external_key;
DROP INDEX CONCURRENTLY IF EXISTS crm.events_external_key;
RESET lock_timeout;
