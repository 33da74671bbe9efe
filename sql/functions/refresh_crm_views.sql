-- crm.refresh_crm_views() — refresh the CRM read models (seed 001 §6.3).
-- Guarantees: each materialized view (crm_private.opportunities_active_mv,
-- crm_private.contacts_directory_mv) is refreshed CONCURRENTLY, so readers of the views
-- over them are never blocked and keep seeing the previous contents until commit; the
-- start time and duration of each refresh are upserted into crm_private.view_refreshes
-- and returned. SECURITY DEFINER (the migration owner owns the views), search_path pinned,
-- EXECUTE revoked from PUBLIC.
CREATE OR REPLACE FUNCTION crm.refresh_crm_views()
RETURNS TABLE (view_name text, refreshed_at timestamptz, duration_ms numeric)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
#variable_conflict use_column
DECLARE
    v_view  text;
    v_start timestamptz;
    v_ms    numeric;
BEGIN
    FOREACH v_view IN ARRAY ARRAY['crm_private.opportunities_active_mv', 'crm_private.contacts_directory_mv'] LOOP
        v_start := clock_timestamp();
        EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', v_view);
        v_ms := round((extract(epoch FROM clock_timestamp() - v_start) * 1000)::numeric, 3);
        INSERT INTO crm_private.view_refreshes AS r (view_name, refreshed_at, duration_ms)
        VALUES (v_view, v_start, v_ms)
        ON CONFLICT ON CONSTRAINT view_refreshes_pkey
        DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at, duration_ms = EXCLUDED.duration_ms;
        view_name := v_view;
        refreshed_at := v_start;
        duration_ms := v_ms;
        RETURN NEXT;
    END LOOP;
END;
$$;

REVOKE EXECUTE ON FUNCTION crm.refresh_crm_views() FROM PUBLIC;

COMMENT ON FUNCTION crm.refresh_crm_views() IS
$c$Refresh the materialized read models behind crm.opportunities_active and crm.contacts_directory CONCURRENTLY (readers are not blocked), record each refresh in crm_private.view_refreshes and return (view_name, refreshed_at, duration_ms). Errors: 55P03 lock timeout if another refresh holds the view. Example: SELECT * FROM crm.refresh_crm_views();$c$;
