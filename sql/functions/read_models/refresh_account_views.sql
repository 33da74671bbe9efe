-- crm.refresh_account_views() — refresh the Account 360 read model now (compatibility name;
-- crm.refresh_read_models() refreshes every stale read model).
-- Guarantees: exactly crm_private.refresh_read_model('crm_private.accounts_360_mv'): the
-- data-quality snapshot is rewritten, then crm_private.accounts_360_mv is refreshed
-- CONCURRENTLY (readers of crm.accounts_360 are never blocked and see the previous contents
-- until commit) and recorded in crm_private.view_refreshes. SECURITY DEFINER (crm_owner owns
-- the view), search_path pinned; EXECUTE for crm_admin and crm_connector only.
CREATE OR REPLACE FUNCTION crm.refresh_account_views()
RETURNS TABLE (view_name text, refreshed_at timestamptz, duration_ms numeric)
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    SELECT f.read_model, f.as_of, f.duration_ms
      FROM crm_private.refresh_read_model('crm_private.accounts_360_mv') f
$$;

COMMENT ON FUNCTION crm.refresh_account_views() IS
$c$Refresh the Account 360 read model now: snapshot the data-quality counts per account, then REFRESH MATERIALIZED VIEW CONCURRENTLY crm_private.accounts_360_mv (readers of crm.accounts_360 are not blocked); returns (view_name, refreshed_at, duration_ms). crm.refresh_read_models() refreshes every stale read model. Errors: 55P03 lock timeout if another refresh holds the view; 42501 without EXECUTE (admins and connectors only). Example: SELECT * FROM crm.refresh_account_views();$c$;
