-- crm_private.rc_refresh_stats(p_min_fraction) — ANALYZE the graph tables reconciliation and
-- the read models join against when they changed a lot since their statistics were taken.
-- Why: a bulk load grows crm.nodes / crm.node_sources / crm.edges by thousands of rows per
-- source object, in the same transaction or seconds apart — faster than autovacuum
-- analyses them. With statistics saying "1 row", the planner picks nested loops over
-- what are really thousands of rows (one measured statement: 4,800 contacts x 1,200
-- accounts = 5.7M join-filter rows, 2.2 s instead of 20 ms).
-- Guarantees: a table is analysed when its rows changed since the last ANALYZE —
-- committed changes (pg_stat_user_tables.n_mod_since_analyze) plus this transaction's own
-- (pg_stat_get_xact_tuples_*) — exceed 1,000 and p_min_fraction of the rows its statistics
-- describe (pg_class.reltuples, which an ANALYZE inside this transaction sets counting the
-- transaction's own rows; 0 when never analysed) — default 1: the statistics may be
-- off by more than a factor of two; a table growing within one transaction (a whole ELT
-- load reconciled by one crm.reconcile) is analysed O(log size) times, not every 1,000 rows;
-- each ANALYZE samples ~30k rows, 0.1-0.4 s. The activity statistics are read afresh on
-- every call (pg_stat_clear_snapshot): by default they are cached for the transaction, and
-- the counters an ANALYZE of this transaction reset would otherwise look unchanged.
-- A read-model refresh passes 0.1: a load that adds a new kind of row (5,000 tickets to
-- 7,000 nodes) leaves the total within 2x while the statistics of node_type say "no tickets",
-- and the refresh would loop over an index of every ticket per account (measured: 3.4 s
-- instead of 0.1 s at 200 accounts). Smaller drift is left to autovacuum.
-- ANALYZE inside the transaction includes its own uncommitted rows. Runs as the caller,
-- which is the owner inside crm.reconcile (SECURITY DEFINER); returns the tables analysed.
CREATE OR REPLACE FUNCTION crm_private.rc_refresh_stats(p_min_fraction numeric DEFAULT 1)
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rel  record;
    v_done text[] := '{}';
BEGIN
    PERFORM pg_catalog.pg_stat_clear_snapshot();
    FOR v_rel IN
        SELECT x.*
          FROM (SELECT s.schemaname, s.relname, s.n_mod_since_analyze,
                       greatest(c.reltuples, 0)::bigint AS n_rows, x.xact_mods,
                       -- this transaction's changes already covered by an ANALYZE it ran
                       -- (a value the caller set is bounded to what this transaction changed: it can
                       -- only delay an ANALYZE of its own load, never fail the call)
                       CASE WHEN pg_catalog.pg_input_is_valid(v.setting, 'bigint')
                            THEN least(greatest(v.setting::bigint, 0),
                                       x.xact_mods) ELSE 0 END AS covered
                  FROM pg_catalog.pg_stat_user_tables s
                  JOIN pg_catalog.pg_class c ON c.oid = s.relid
                 CROSS JOIN LATERAL (SELECT pg_catalog.current_setting(
                                                format('crm.rc_stats_%s_%s', s.schemaname, s.relname), true) AS setting) v
                 CROSS JOIN LATERAL (SELECT pg_catalog.pg_stat_get_xact_tuples_inserted(s.relid)
                                            + pg_catalog.pg_stat_get_xact_tuples_updated(s.relid)
                                            + pg_catalog.pg_stat_get_xact_tuples_deleted(s.relid) AS xact_mods) x
                 WHERE (s.schemaname, s.relname) IN (('crm', 'nodes'), ('crm', 'edges'), ('crm', 'node_sources'),
                                                     ('crm', 'assertions'), ('crm', 'events'),
                                                     ('crm', 'event_participants'), ('crm_raw', 'records'))) x
         WHERE x.n_mod_since_analyze + x.xact_mods - x.covered > greatest(1000, x.n_rows * p_min_fraction)
    LOOP
        -- a parallel reconciliation run that analysed the same table inside its open
        -- transaction holds the lock ANALYZE takes until it commits: waiting would serialise the
        -- runs (and two runs each waiting for the other's table would deadlock) — the table is
        -- skipped (its statistics are recent) and not counted as covered
        BEGIN
            EXECUTE format('LOCK TABLE %I.%I IN SHARE UPDATE EXCLUSIVE MODE NOWAIT', v_rel.schemaname, v_rel.relname);
        EXCEPTION WHEN lock_not_available THEN
            CONTINUE;
        END;
        EXECUTE format('ANALYZE %I.%I', v_rel.schemaname, v_rel.relname);
        PERFORM pg_catalog.set_config(format('crm.rc_stats_%s_%s', v_rel.schemaname, v_rel.relname),
                                      v_rel.xact_mods::text, true);
        v_done := v_done || format('%s.%s', v_rel.schemaname, v_rel.relname);
    END LOOP;
    RETURN v_done;
END;
$$;

COMMENT ON FUNCTION crm_private.rc_refresh_stats(numeric) IS
    'Reconciliation and read-model refreshes: ANALYZEs the graph tables whose rows changed by more than 1,000 and by more than p_min_fraction of their committed live rows since their last statistics (including this transaction''s own changes); returns the tables analysed.';
