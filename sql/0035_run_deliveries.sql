-- 0035 What a full refresh delivered, without rewriting the records (issue 16 item 3: "replaying
-- an unchanged export ... nothing written but the run record"). A full-refresh run must remember
-- which records it delivered: what it no longer delivers is removed at source
-- (crm_private.rc_remove_missing). Until now it moved crm_raw.records.last_seen_run_id on every
-- record it delivered again — an UPDATE of a wide row that is never HOT (the column is indexed)
-- and writes 8 index entries: 0.69 s of the 0.94 s a replay of 22,000 Stripe invoices took to
-- land. crm_raw.run_deliveries keeps instead one narrow row per (full-refresh run, record
-- delivered again); the records are not touched. Records a run lands first keep
-- last_seen_run_id = their run (set once, at the insert). crm_raw.run_records (sql/views) is the
-- one definition of "the records run R delivered" that finish_run, rc_remove_missing and
-- reconcile_run read. Written only by crm_private.list_run_deliveries (definer, called by
-- crm_raw.land_staged: the run must be running, full-refresh and of a source the caller may
-- land; only records of that run's source and object); the runs older than an object's latest
-- finished good full run lose their rows (crm.reconcile prunes them). Safe to run twice.
-- Sections: tables, comments.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- tables
CREATE TABLE IF NOT EXISTS crm_raw.run_deliveries (
    run_id    bigint NOT NULL,
    record_id bigint NOT NULL,
    source    text NOT NULL,
    PRIMARY KEY (run_id, record_id)
);

-- ---------------------------------------------------------------- comments
COMMENT ON TABLE crm_raw.run_deliveries IS
    'The records a full-refresh sync run delivered again, identical to a version landed by an earlier run (the versions it landed first carry last_seen_run_id = the run): one narrow row each, so a replay rewrites no record. Written only by crm_private.list_run_deliveries (called by crm_raw.land_staged); read through crm_raw.run_records; runs older than the latest finished good (succeeded or partial) full run of their source object lose their rows (pruned by crm.reconcile). Not foreign keys on purpose: the landing is the hot path and erasure removes records first.';
COMMENT ON COLUMN crm_raw.run_deliveries.run_id IS 'The full-refresh sync run (crm_raw.sync_runs.id)';
COMMENT ON COLUMN crm_raw.run_deliveries.record_id IS 'The record version (crm_raw.records.id) it delivered again';
COMMENT ON COLUMN crm_raw.run_deliveries.source IS 'The run''s source system (row policies: a connector writes and reads only its allowed sources; readers also match it against the record)';
-- (crm_raw.records.last_seen_run_id keeps the comment 0006 gave it — re-running 0006 must
-- change nothing — but from here on it is set once, at the insert: the run that landed the
-- version; which records a run delivered is crm_raw.run_records)
