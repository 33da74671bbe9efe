-- crm_raw.finish_run(p_run_id, p_error) — close a sync run and report it.
-- Guarantees: with p_error the run is failed with that error (its records were rolled back
-- by the caller); otherwise its counters are recounted from the records it delivered
-- (crm_raw.run_records, plus the unchanged ones an incremental run counted), status is
-- succeeded, or partial when any record was rejected, and the
-- source object's cursor moves forward (never back) to cursor_after (the source's own cursor
-- or the newest source_updated_at). Returns a JSON summary with the first rejection reasons;
-- applied/rejected count every record the run delivered (a replay re-delivers them), while
-- new_applied/new_rejected count only the versions this run landed first, and unchanged the
-- records identical to a version already landed (a replay: everything unchanged).
-- A run is finished once: a run that is no longer running (succeeded, partial or failed) is
-- refused, so a failure can never be turned into a success after the fact (freshness and the
-- digest keep showing it).
-- Errors: P0002 unknown run; 55000 run already finished.
CREATE OR REPLACE FUNCTION crm_raw.finish_run(p_run_id bigint, p_error text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_run     crm_raw.sync_runs%ROWTYPE;
    v_counts  record;
    v_reasons jsonb;
    v_new_applied  bigint := 0;
    v_new_rejected bigint := 0;
BEGIN
    SELECT * INTO v_run FROM crm_raw.sync_runs r WHERE r.id = p_run_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'sync run % does not exist', p_run_id USING ERRCODE = 'P0002';
    END IF;
    IF v_run.status <> 'running' THEN
        RAISE EXCEPTION 'sync run % is already finished (%)', p_run_id, v_run.status
              USING ERRCODE = '55000',
                    HINT = 'A run is finished once; start a new run (crm_raw.start_run) to deliver the records again.';
    END IF;
    IF p_error IS NOT NULL THEN
        UPDATE crm_raw.sync_runs r SET status = 'failed', error = p_error, finished_at = now()
         WHERE r.id = p_run_id
        RETURNING * INTO v_run;
    ELSE
        SELECT count(*) FILTER (WHERE x.status = 'applied') AS applied,
               count(*) FILTER (WHERE x.status = 'orphan') AS orphans,
               count(*) FILTER (WHERE x.status = 'rejected') AS rejected,
               max(x.source_updated_at) AS newest,
               count(*) FILTER (WHERE x.landed_by_run_id = p_run_id AND x.status = 'applied') AS new_applied,
               count(*) FILTER (WHERE x.landed_by_run_id = p_run_id AND x.status = 'rejected') AS new_rejected
          INTO v_counts
          FROM crm_raw.run_records x
         WHERE x.run_id = p_run_id AND x.source = v_run.source AND x.object = v_run.object;
        v_new_applied := v_counts.new_applied;
        v_new_rejected := v_counts.new_rejected;
        -- what the run delivered: the versions it landed or (a full refresh) marked seen, and the
        -- unchanged ones an incremental run only counted (crm_raw.land_staged)
        UPDATE crm_raw.sync_runs r
           SET applied = v_counts.applied + r.unchanged_applied, orphans = v_counts.orphans + r.unchanged_orphans,
               rejected = greatest(r.rejected, v_counts.rejected + r.unchanged_rejected),
               status = CASE WHEN greatest(r.rejected, v_counts.rejected + r.unchanged_rejected) > 0
                             THEN 'partial' ELSE 'succeeded' END,
               cursor_after = coalesce(r.cursor_after,
                                       to_char(v_counts.newest AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
               finished_at = now()
         WHERE r.id = p_run_id
        RETURNING * INTO v_run;
        IF v_run.cursor_after IS NOT NULL THEN
            INSERT INTO crm_raw.cursors AS c (source, object, cursor_value, source_updated_at, run_id)
            VALUES (v_run.source, v_run.object, v_run.cursor_after, v_counts.newest, p_run_id)
            ON CONFLICT (source, object) DO UPDATE
               SET cursor_value = EXCLUDED.cursor_value, source_updated_at = EXCLUDED.source_updated_at,
                   run_id = EXCLUDED.run_id, updated_at = now()
             WHERE c.source_updated_at IS NULL OR EXCLUDED.source_updated_at IS NULL
                OR EXCLUDED.source_updated_at >= c.source_updated_at;
        END IF;
    END IF;
    SELECT jsonb_agg(jsonb_build_object('external_id', x.external_id, 'reason', x.reason) ORDER BY x.id)
      INTO v_reasons
      FROM (SELECT r.record_id AS id, r.external_id, r.reason FROM crm_raw.run_records r
             WHERE r.run_id = p_run_id AND r.source = v_run.source AND r.object = v_run.object
               AND r.status = 'rejected' ORDER BY r.record_id LIMIT 5) x;
    RETURN jsonb_build_object(
        'run_id', v_run.id, 'source', v_run.source, 'object', v_run.object, 'status', v_run.status,
        'full_refresh', v_run.full_refresh, 'received', v_run.received, 'landed', v_run.landed,
        'duplicates', v_run.duplicates, 'rejected', v_run.rejected, 'applied', v_run.applied,
        'orphans', v_run.orphans, 'cursor_before', v_run.cursor_before, 'cursor_after', v_run.cursor_after,
        'new_applied', v_new_applied, 'new_rejected', v_new_rejected,
        'unchanged', coalesce(v_run.duplicates, 0),
        'error', v_run.error, 'first_rejections', coalesce(v_reasons, '[]'));
END;
$$;

COMMENT ON FUNCTION crm_raw.finish_run(bigint, text) IS
$c$Close a sync run: failed with p_error, else succeeded (partial when records were rejected) with counts recounted from its records, and move the object's cursor forward. Returns a JSON summary (counts incl. new_applied/new_rejected/unchanged, status, cursor, first rejection reasons). Errors: P0002 unknown run; 55000 run already finished. Example: SELECT crm_raw.finish_run(42);$c$;
