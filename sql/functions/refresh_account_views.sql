-- crm.refresh_account_views() — refresh the Account 360 read model.
-- Guarantees: first rewrites the data-quality snapshot crm_private.account_quality from
-- crm.orphans, crm.identity_mismatches and crm.duplicate_candidates (rows naming an account),
-- then refreshes crm_private.accounts_360_mv CONCURRENTLY (readers of crm.accounts_360 are
-- never blocked and see the previous contents until commit); the start time and duration are
-- upserted into crm_private.view_refreshes and returned. SECURITY DEFINER (the migration owner
-- owns the view), search_path pinned; EXECUTE for crm_admin and crm_connector only.
CREATE OR REPLACE FUNCTION crm.refresh_account_views()
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
    v_view  constant text := 'crm_private.accounts_360_mv';
    v_start timestamptz := clock_timestamp();
    v_ms    numeric;
BEGIN
    DELETE FROM crm_private.account_quality;
    INSERT INTO crm_private.account_quality (account_id, orphans, identity_mismatches, duplicate_candidates, computed_at)
    SELECT x.account_id,
           count(*) FILTER (WHERE x.kind = 'orphan'),
           count(*) FILTER (WHERE x.kind = 'mismatch'),
           count(*) FILTER (WHERE x.kind = 'duplicate'),
           v_start
      FROM (SELECT q.account_id,
                   CASE q.kind WHEN 'identity_mismatch' THEN 'mismatch' WHEN 'duplicate_candidate' THEN 'duplicate'
                               ELSE q.kind END AS kind
              FROM crm_private.quality_items_all() q WHERE q.account_id IS NOT NULL) x
     GROUP BY x.account_id;
    -- the partners themselves: callers are shown only the pairs whose other account they see
    UPDATE crm_private.account_quality q SET duplicate_others = d.others
      FROM (SELECT p.account_id, array_agg(DISTINCT p.other ORDER BY p.other) AS others
              FROM (SELECT c.account_id, c.other_account_id AS other FROM crm.duplicate_candidates c
                    UNION ALL
                    SELECT c.other_account_id, c.account_id FROM crm.duplicate_candidates c) p
             GROUP BY p.account_id) d
     WHERE d.account_id = q.account_id;

    REFRESH MATERIALIZED VIEW CONCURRENTLY crm_private.accounts_360_mv;
    -- ACL changes the refreshed rows already reflect
    DELETE FROM crm_private.acl_changed_accounts c WHERE c.changed_at < v_start;
    v_ms := round((extract(epoch FROM clock_timestamp() - v_start) * 1000)::numeric, 3);
    INSERT INTO crm_private.view_refreshes AS r (view_name, refreshed_at, duration_ms)
    VALUES (v_view, v_start, v_ms)
    ON CONFLICT ON CONSTRAINT view_refreshes_pkey
    DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at, duration_ms = EXCLUDED.duration_ms;
    view_name := v_view;
    refreshed_at := v_start;
    duration_ms := v_ms;
    RETURN NEXT;
END;
$$;

COMMENT ON FUNCTION crm.refresh_account_views() IS
$c$Refresh the Account 360 read model: snapshot the data-quality counts per account, then REFRESH MATERIALIZED VIEW CONCURRENTLY crm_private.accounts_360_mv (readers of crm.accounts_360 are not blocked), record it in crm_private.view_refreshes and return (view_name, refreshed_at, duration_ms). Errors: 55P03 lock timeout if another refresh holds the view; 42501 without EXECUTE (admins and connectors only). Example: SELECT * FROM crm.refresh_account_views();$c$;
