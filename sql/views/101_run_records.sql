-- crm_raw.run_records — the records each sync run delivered: the versions it landed first
-- (crm_raw.records.last_seen_run_id = the run) and, for a full refresh, the ones it delivered
-- again identical to an earlier version (crm_raw.run_deliveries, migration 0035). The one
-- definition crm_raw.finish_run (a run's counts), crm_private.rc_remove_missing (what the latest
-- full run no longer delivers) and crm_raw.reconcile (what came back after a removal) read.
-- security_invoker: read with the caller's row policies (connectors: their sources; admins;
-- crm360's own code as crm_owner). The two arms are disjoint (the second skips a record whose
-- last_seen_run_id already names the run), so counting rows counts records; a delivery row
-- naming a record of another source than its own is ignored. A filter on run_id is pushed
-- into both arms (index records_last_seen_run; run_deliveries' primary key).
CREATE OR REPLACE VIEW crm_raw.run_records
WITH (security_invoker = true) AS
SELECT r.last_seen_run_id AS run_id, r.id AS record_id, r.source, r.object, r.external_id, r.status,
       r.reason, r.source_updated_at, r.run_id AS landed_by_run_id
  FROM crm_raw.records r
 WHERE r.last_seen_run_id IS NOT NULL
UNION ALL
SELECT d.run_id, r.id, r.source, r.object, r.external_id, r.status,
       r.reason, r.source_updated_at, r.run_id
  FROM crm_raw.run_deliveries d
  JOIN crm_raw.records r ON r.id = d.record_id AND r.source = d.source
 WHERE r.last_seen_run_id IS DISTINCT FROM d.run_id;

COMMENT ON VIEW crm_raw.run_records IS
    'The records each sync run delivered (one row per run and record): the versions it landed first, and those a full refresh delivered again unchanged (crm_raw.run_deliveries). A full-refresh object keeps the latter only from its latest finished good full run on.';
COMMENT ON COLUMN crm_raw.run_records.run_id IS 'The sync run that delivered the record';
COMMENT ON COLUMN crm_raw.run_records.record_id IS 'The record version (crm_raw.records.id)';
COMMENT ON COLUMN crm_raw.run_records.source IS 'Source system';
COMMENT ON COLUMN crm_raw.run_records.object IS 'Source object';
COMMENT ON COLUMN crm_raw.run_records.external_id IS 'The record key in its source (NULL only for rejected rows)';
COMMENT ON COLUMN crm_raw.run_records.status IS 'The version''s status now: pending, applied, rejected, orphan';
COMMENT ON COLUMN crm_raw.run_records.reason IS 'Why it was rejected or orphaned';
COMMENT ON COLUMN crm_raw.run_records.source_updated_at IS 'Source modification time of the version';
COMMENT ON COLUMN crm_raw.run_records.landed_by_run_id IS 'The run that landed this version first (= run_id unless delivered again)';
