-- Undo 0035: the previous checkout marks a full refresh's records by moving
-- crm_raw.records.last_seen_run_id, so the deliveries kept here are written back there first
-- (each record gets the latest run that delivered it) — the latest full run's removals stay
-- the same.
SET LOCAL lock_timeout = '5s';

DO $$
BEGIN
    IF to_regclass('crm_raw.run_deliveries') IS NOT NULL THEN
        UPDATE crm_raw.records r SET last_seen_run_id = d.run_id
          FROM (SELECT x.record_id, max(x.run_id) AS run_id FROM crm_raw.run_deliveries x GROUP BY x.record_id) d
         WHERE r.id = d.record_id AND (r.last_seen_run_id IS NULL OR r.last_seen_run_id < d.run_id);
    END IF;
END
$$;
DROP VIEW IF EXISTS crm_raw.run_records;
DROP TABLE IF EXISTS crm_raw.run_deliveries;
COMMENT ON COLUMN crm_raw.records.last_seen_run_id IS 'The latest sync run that delivered this version (moves on identical re-landings; full-refresh removal compares it with the latest full run)';
