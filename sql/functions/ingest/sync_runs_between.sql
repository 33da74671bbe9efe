-- crm_private.sync_runs_between(p_from, p_to, p_role) — the sync runs started in [p_from, p_to),
-- for the daily digest. SECURITY DEFINER: readers have no access to crm_raw; sync-run metadata
-- is not account data; the error text only when p_role (the caller's current_user, trusted
-- only when the session may become it) is an admin or a connector not acting for a user.
-- Ordered by started_at.
CREATE OR REPLACE FUNCTION crm_private.sync_runs_between(p_from timestamptz, p_to timestamptz, p_role name)
RETURNS TABLE (source text, object text, started_at timestamptz, finished_at timestamptz,
               status text, error text, rows_received bigint, rows_rejected bigint)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    SELECT r.source, r.object, r.started_at, r.finished_at, r.status,
           CASE WHEN crm_private.role_is_operator(p_role) THEN r.error END,
           r.received::bigint, r.rejected::bigint
      FROM crm_raw.sync_runs r
     WHERE r.started_at >= p_from AND r.started_at < p_to
     ORDER BY r.started_at, r.source, r.object
$$;

COMMENT ON FUNCTION crm_private.sync_runs_between(timestamptz, timestamptz, name) IS
    'Sync runs started in [p_from, p_to) (source, object, times, status, error, counts), for crm.daily_digest.';
