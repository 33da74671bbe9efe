-- crm_private.sync_runs_between(p_from, p_to) — the sync runs started in [p_from, p_to), for
-- the daily digest. SECURITY DEFINER: readers have no access to crm_raw; sync-run metadata is
-- not account data; the error text only for sessions logged in as an admin or a connector.
-- Ordered by started_at.
CREATE OR REPLACE FUNCTION crm_private.sync_runs_between(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (source text, object text, started_at timestamptz, finished_at timestamptz,
               status text, error text, rows_received bigint, rows_rejected bigint)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT r.source, r.object, r.started_at, r.finished_at, r.status,
           CASE WHEN pg_catalog.pg_has_role(session_user, 'crm_admin', 'MEMBER')
                     OR pg_catalog.pg_has_role(session_user, 'crm_connector', 'MEMBER')
                THEN r.error END,
           r.received::bigint, r.rejected::bigint
      FROM crm_raw.sync_runs r
     WHERE r.started_at >= p_from AND r.started_at < p_to
     ORDER BY r.started_at, r.source, r.object
$$;

COMMENT ON FUNCTION crm_private.sync_runs_between(timestamptz, timestamptz) IS
    'Sync runs started in [p_from, p_to) (source, object, times, status, error, counts), for crm.daily_digest.';
