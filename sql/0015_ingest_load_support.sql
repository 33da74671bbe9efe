-- transactional: false
-- 0015 ingestion load support: a partial index on the nodes a full-refresh source removed (crm.nodes.attrs has
-- removed_at_source and the node is archived).
-- Why: crm.reconcile checks, for every full-refresh source object it applies, whether the
-- latest full export delivered a removed record again (then the node is restored). Without
-- an index that check read every node (a seq scan of crm.nodes, ~0.9 s per call at 150k
-- nodes right after a bulk load, before hint bits are set); removed nodes are few, and the
-- index holds only them (no write cost for live nodes).
-- Also: no column statistics for crm_raw.records.payload / match (the jsonb documents).
-- Reconciliation re-ANALYZEs the raw table during a bulk load (crm_private.rc_refresh_stats)
-- and sampling 30k payloads was most of that cost; no query plan depends on them (records
-- are found by source/object/status/external_id/id, which keep their statistics).
-- Built CONCURRENTLY (DESIGN §3), hence not transactional; safe to run twice.
SET lock_timeout = '5s';
ALTER TABLE crm_raw.records ALTER COLUMN payload SET STATISTICS 0, ALTER COLUMN match SET STATISTICS 0;
CREATE INDEX CONCURRENTLY IF NOT EXISTS nodes_removed_at_source ON crm.nodes (id)
    WHERE archived_at IS NOT NULL AND attrs ? 'removed_at_source';
RESET lock_timeout;
