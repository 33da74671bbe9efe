-- Undo 0035: the previous checkout marks a full refresh's records by moving
-- crm_raw.records.last_seen_run_id, so the deliveries kept here are written back there first
-- (each record gets the latest run that delivered it) — the latest full run's removals stay
-- the same.
SET LOCAL lock_timeout = '5s';

DO $$
BEGIN
    IF to_regclass('crm_raw.run_deliveries') IS NOT NULL THEN
        -- only a delivery of a run that exists, of the record's own source and object, counts
        UPDATE crm_raw.records r SET last_seen_run_id = d.run_id
          FROM (SELECT x.record_id, s.source, s.object, max(x.run_id) AS run_id
                  FROM crm_raw.run_deliveries x
                  JOIN crm_raw.sync_runs s ON s.id = x.run_id AND s.source = x.source
                 GROUP BY x.record_id, s.source, s.object) d
         WHERE r.id = d.record_id AND r.source = d.source AND r.object = d.object
           AND (r.last_seen_run_id IS NULL OR r.last_seen_run_id < d.run_id);
    END IF;
END
$$;
DROP VIEW IF EXISTS crm_raw.run_records;
DROP TABLE IF EXISTS crm_raw.run_deliveries;
