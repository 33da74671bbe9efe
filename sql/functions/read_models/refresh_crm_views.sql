-- crm.refresh_crm_views() — refresh the CRM read models of seed 001 §6.3 now (compatibility
-- name; crm.refresh_read_models() refreshes every stale read model).
-- Guarantees: crm_private.opportunities_active_mv and crm_private.contacts_directory_mv are
-- each refreshed CONCURRENTLY by crm_private.refresh_read_model (readers of the views over
-- them are never blocked and keep seeing the previous contents until commit), recorded in
-- crm_private.view_refreshes and returned. SECURITY DEFINER (crm_owner owns the views),
-- search_path pinned; EXECUTE for crm_admin and crm_connector only.
CREATE OR REPLACE FUNCTION crm.refresh_crm_views()
RETURNS TABLE (view_name text, refreshed_at timestamptz, duration_ms numeric)
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    SELECT f.read_model, f.as_of, f.duration_ms
      FROM unnest(ARRAY['crm_private.opportunities_active_mv', 'crm_private.contacts_directory_mv']) WITH ORDINALITY AS v(name, ord)
     CROSS JOIN LATERAL crm_private.refresh_read_model(v.name) f
     ORDER BY v.ord
$$;

REVOKE EXECUTE ON FUNCTION crm.refresh_crm_views() FROM PUBLIC;

COMMENT ON FUNCTION crm.refresh_crm_views() IS
$c$Refresh the materialized read models behind crm.opportunities_active and crm.contacts_directory now, CONCURRENTLY (readers are not blocked); returns (view_name, refreshed_at, duration_ms). crm.refresh_read_models() refreshes every stale read model. Errors: 55P03 lock timeout if another refresh holds the view. Example: SELECT * FROM crm.refresh_crm_views();$c$;
