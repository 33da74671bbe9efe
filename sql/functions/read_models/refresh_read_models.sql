-- crm.refresh_read_models(p_all, p_max_age) — bring the materialized read models up to date.
-- Guarantees: refreshes, in crm_private.read_models.refresh_order, every read model that is
-- stale — reconciliation applied data it reads since its last refresh started
-- (change_seq > refreshed_seq) — or was never refreshed, or (p_max_age) was refreshed longer
-- ago than p_max_age (writes made through crm360's functions are not counted as changes:
-- schedule `SELECT crm.refresh_read_models(p_max_age => '15 minutes')` to bound their delay),
-- or every one with p_all. Each refresh is CONCURRENTLY (crm_private.refresh_read_model):
-- readers are never blocked. One row per read model: refreshed or not, its as_of, the
-- duration and why. Call it after crm.reconcile() (the CLI does: `crm360 ingest`,
-- `crm360 reconcile`, `crm360 refresh`). SECURITY DEFINER (crm_owner owns the materialized
-- views); EXECUTE for crm_admin and crm_connector.
-- Each read model is refreshed in a subtransaction: one that fails (e.g. 55P03 when a lock
-- is not granted within lock_timeout, pinned here to 2 minutes so a scheduled call never
-- waits forever) is rolled back alone, reported with refreshed = false and reason
-- 'failed (SQLSTATE): message', stays stale, and the others are still refreshed.
-- Errors: 22023 negative p_max_age.
CREATE OR REPLACE FUNCTION crm.refresh_read_models(p_all boolean DEFAULT false, p_max_age interval DEFAULT NULL)
RETURNS TABLE (read_model text, public_view text, refreshed boolean, as_of timestamptz,
               duration_ms numeric, reason text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
SET lock_timeout = '2min'
AS $$
#variable_conflict use_column
DECLARE
    v_r record;
    v_f record;
BEGIN
    IF p_max_age < interval '0' THEN
        RAISE EXCEPTION 'p_max_age must not be negative' USING ERRCODE = '22023', HINT = 'e.g. interval ''15 minutes''';
    END IF;
    FOR v_r IN
        SELECT m.read_model, m.public_view, v.refreshed_at,
               CASE WHEN coalesce(p_all, false) THEN 'requested (all)'
                    WHEN v.refreshed_at IS NULL THEN 'never refreshed'
                    WHEN m.change_seq > v.refreshed_seq
                        THEN format('data applied at %s after its last refresh', m.data_changed_at)
                    WHEN p_max_age IS NOT NULL AND v.refreshed_at < now() - p_max_age
                        THEN format('older than %s', p_max_age) END AS why
          FROM crm_private.read_models m
          LEFT JOIN crm_private.view_refreshes v ON v.view_name = m.read_model
         ORDER BY m.refresh_order, m.read_model
    LOOP
        read_model := v_r.read_model;
        public_view := v_r.public_view;
        IF v_r.why IS NULL THEN
            refreshed := false;
            as_of := v_r.refreshed_at;
            duration_ms := NULL;
            reason := 'up to date';
        ELSE
            BEGIN
                SELECT * INTO v_f FROM crm_private.refresh_read_model(v_r.read_model);
                refreshed := true;
                as_of := v_f.as_of;
                duration_ms := v_f.duration_ms;
                reason := v_r.why;
            EXCEPTION WHEN OTHERS THEN
                refreshed := false;
                as_of := v_r.refreshed_at;
                duration_ms := NULL;
                reason := format('failed (%s): %s', SQLSTATE, SQLERRM);
                RAISE WARNING 'refresh of % failed (%): %', v_r.read_model, SQLSTATE, SQLERRM;
            END;
        END IF;
        RETURN NEXT;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION crm.refresh_read_models(boolean, interval) IS
$c$Refresh the materialized read models (crm.accounts_360, crm.opportunities_active, crm.contacts_directory) that are stale: reconciliation applied data they read since their last refresh, never refreshed, older than p_max_age, or all with p_all. CONCURRENTLY: readers are never blocked. Returns one row per read model (refreshed, as_of, duration_ms, reason). Admins and connectors. A read model whose refresh fails (e.g. 55P03 after a 2-minute lock wait) is rolled back alone and reported with refreshed = false, reason 'failed (SQLSTATE): message'; the others are refreshed. Errors: 22023 negative p_max_age. Examples: SELECT * FROM crm.refresh_read_models(); SELECT * FROM crm.refresh_read_models(p_max_age => '15 minutes');$c$;
