-- transactional: false
-- 0012 a plain index on crm.nodes (node_type), for lookups by type under row-level security.
-- Why: under RLS the planner may only use leakproof quals as index conditions ahead of the
-- policy; `properties ->> 'code' = ...` is not leakproof, so the pipeline lookups in
-- crm.advance_deal_stage and in the terminal-stage test of crm.opportunities_active_live
-- (which, unlike nodes_type_live, do not filter archived_at IS NULL) fell back to a
-- sequential scan of every node — once per call, and once per opportunity row in the view.
-- node_type = '...' is leakproof, so this index serves them as rep and as admin.
-- Built CONCURRENTLY (DESIGN §3), hence not transactional; safe to run twice.
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS nodes_type ON crm.nodes (node_type);
RESET lock_timeout;
