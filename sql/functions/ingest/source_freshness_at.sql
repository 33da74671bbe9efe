-- crm_private.source_freshness_at(p_at, p_role) — connector health per source object as of a moment
-- (seed 000 "Stale data feeling fresh", "Deployment": a connector that silently stopped is a
-- failure too).
-- Guarantees: one row per (source, object) that has a schedule in crm_raw.source_schedules or
-- a run in crm_raw.sync_runs started at or before p_at; only runs visible at p_at count (a
-- run finishing later is still "running"). A sync is a run that succeeded or was partial
-- (it applied what it could and kept the rejected rows with their reasons: real exports keep
-- a bad row); only failed runs are failures. last_success_at = finished_at of the latest sync.
-- status:
--   failed  — the latest finished run failed;
--   never   — no run ever synced;
--   stale   — overdue: a schedule exists and the last sync is older than
--             expected_interval × 1.5 (the tolerance);
--   partial — the latest finished run was partial (rows_rejected says how many were rejected);
--   fresh   — otherwise.
-- overdue is also true when a scheduled object never synced. SECURITY DEFINER (readers
-- have no access to crm_raw; sync-run metadata is not account data); the error text (it may
-- quote source data) only when p_role (the caller's current_user, trusted only when the
-- session may become it) is an admin or a connector not acting for a user
-- (crm_private.role_is_operator). Reads the index sync_runs (source, object, started_at).
CREATE OR REPLACE FUNCTION crm_private.source_freshness_at(p_at timestamptz, p_role name)
RETURNS TABLE (source text, object text, freshness_group text, last_success_at timestamptz,
               last_attempt_at timestamptz, last_run_status text, status text, last_error text,
               rows_received bigint, rows_applied bigint, rows_rejected bigint,
               expected_interval interval, overdue boolean)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    WITH keys AS (
        SELECT s.source, s.object FROM crm_raw.source_schedules s
        UNION
        SELECT r.source, r.object FROM crm_raw.sync_runs r WHERE r.started_at <= p_at
    )
    SELECT k.source, k.object,
           crm_private.source_group(k.source),
           ls.finished_at,
           la.started_at,
           CASE WHEN la.finished_at IS NULL OR la.finished_at > p_at THEN 'running' ELSE la.status END,
           CASE WHEN lf.status = 'failed' THEN 'failed'
                WHEN ls.finished_at IS NULL THEN 'never'
                WHEN sch.expected_interval IS NOT NULL
                     AND ls.finished_at < p_at - sch.expected_interval * 1.5 THEN 'stale'
                WHEN lf.status = 'partial' THEN 'partial'
                ELSE 'fresh' END,
           CASE WHEN crm_private.role_is_operator(p_role) THEN lf.error END,
           lf.rows_received::bigint, lf.rows_applied::bigint, lf.rows_rejected::bigint,
           sch.expected_interval,
           sch.expected_interval IS NOT NULL
             AND (ls.finished_at IS NULL OR ls.finished_at < p_at - sch.expected_interval * 1.5)
      FROM keys k
      LEFT JOIN crm_raw.source_schedules sch ON sch.source = k.source AND sch.object = k.object
      LEFT JOIN LATERAL (
          SELECT r.finished_at FROM crm_raw.sync_runs r
           WHERE r.source = k.source AND r.object = k.object AND r.status IN ('succeeded', 'partial')
             AND r.finished_at <= p_at
           ORDER BY r.finished_at DESC LIMIT 1) ls ON true
      LEFT JOIN LATERAL (
          SELECT r.started_at, r.finished_at, r.status FROM crm_raw.sync_runs r
           WHERE r.source = k.source AND r.object = k.object AND r.started_at <= p_at
           ORDER BY r.started_at DESC LIMIT 1) la ON true
      LEFT JOIN LATERAL (
          SELECT r.status, r.error, r.received AS rows_received, r.applied AS rows_applied, r.rejected AS rows_rejected FROM crm_raw.sync_runs r
           WHERE r.source = k.source AND r.object = k.object AND r.status <> 'running'
             AND r.finished_at <= p_at
           ORDER BY r.finished_at DESC LIMIT 1) lf ON true
$$;

COMMENT ON FUNCTION crm_private.source_freshness_at(timestamptz, name) IS
    'Connector health per source object as of p_at (status fresh|partial|stale|failed|never; a partial run is a sync; overdue = last sync older than expected_interval x 1.5). Read it through crm.source_freshness.';
