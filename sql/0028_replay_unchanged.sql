-- 0028 Replays write nothing but the run (issue 16 item 3): a record version identical to one
-- already landed is no longer rewritten to mark it seen by an incremental run (only a full
-- refresh needs that mark, crm_raw.records.last_seen_run_id, to find what the source no longer
-- has). The run keeps what it re-delivered as counts instead: how many of its unchanged records
-- were already applied, orphaned or rejected — so its summary (applied, rejected, partial) says
-- the same as before.
-- Safe to run twice.
SET LOCAL lock_timeout = '5s';

ALTER TABLE crm_raw.sync_runs ADD COLUMN IF NOT EXISTS unchanged_applied bigint NOT NULL DEFAULT 0;
ALTER TABLE crm_raw.sync_runs ADD COLUMN IF NOT EXISTS unchanged_orphans bigint NOT NULL DEFAULT 0;
ALTER TABLE crm_raw.sync_runs ADD COLUMN IF NOT EXISTS unchanged_rejected bigint NOT NULL DEFAULT 0;
COMMENT ON COLUMN crm_raw.sync_runs.unchanged_applied IS
    'Records this incremental run delivered identical to a version already landed and applied (not rewritten: a full refresh marks its records seen instead)';
COMMENT ON COLUMN crm_raw.sync_runs.unchanged_orphans IS
    'Records this incremental run delivered identical to a version already landed and waiting as an orphan';
COMMENT ON COLUMN crm_raw.sync_runs.unchanged_rejected IS
    'Records this incremental run delivered identical to a version already landed and rejected (with its reason) — a replay of an export with a bad row is still partial';
