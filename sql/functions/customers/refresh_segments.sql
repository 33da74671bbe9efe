-- crm.refresh_segments(p_segment_ids) — recompute the members of dynamic segments (all live
-- ones, or the given ones), set-based, diffing in both directions.
-- Guarantees:
-- * one pass for all of them (crm_private.refresh_segments_pass, up to 62 segments a pass: one
--   scan of the live persons evaluating every filter, one diff against the open memberships,
--   then only the changes written): the people its
--   compiled filter matches now — for purpose outreach minus the suppressed (do_not_contact) —
--   are compared with each segment's current members: new matches get a membership row
--   entered_at = the refresh time (reason rule), members no longer matching get left_at = the
--   refresh time (reason rule; archived when the customer was archived); members that still
--   match are untouched (their entered_at stays); history rows are never rewritten; crm360 logs
--   segment_joined / segment_left per change; a filter over another segment's members reads
--   them as they were before this refresh;
-- * the refresh time is one clock_timestamp() taken when the call starts (distinct calls in one
--   transaction get distinct times);
-- * filters are compiled by crm_private.compile_segment_filter: values are bound parameters,
--   never SQL (every stored definition was validated and capped when written:
--   crm_private.check_segment_properties);
-- * only admins' segments (unclaimed) are refreshed: a dynamic segment a member owns (made
--   before dynamic segments became admins' only) is skipped with a WARNING and NULL counts —
--   its filter would read customers, companies and events its owner cannot see;
-- * a segment whose filter no longer compiles (e.g. a field retired since) is skipped — its
--   members stay as they were, a WARNING names it, and its row has entered/exited NULL — and
--   the others are refreshed all the same; when a pass fails at run time, every
--   segment is refreshed on its own in a subtransaction, so only the failing one is skipped;
-- * SECURITY DEFINER: memberships are computed over every customer (the same answer whoever
--   runs it; readers see only the members they may see). EXECUTE for admins and connectors
--   (a scheduled job).
-- Returns one row per segment: how many entered and how many exited (NULL: skipped).
CREATE OR REPLACE FUNCTION crm.refresh_segments(p_segment_ids uuid[] DEFAULT NULL)
RETURNS TABLE (segment_id uuid, segment text, entered integer, exited integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
-- the filters' set conditions (IN / NOT IN over tags, activity, fit) run as hashed subplans:
-- with the default 4MB the planner may not hash a large one and re-scans it per customer
SET work_mem = '64MB'
-- every join here is set against set (a segment's matches against its members): a nested loop
-- over a materialized CTE (no statistics) was measured at 100M comparisons for a 10k segment
SET enable_nestloop = off
AS $$
#variable_conflict use_column
DECLARE
    v_seg      record;
    v_r        record;
    v_now      timestamptz := clock_timestamp();
    v_ids      uuid[] := '{}';
    v_labels   text[] := '{}';
    v_defs     jsonb[] := '{}';
    v_outreach boolean[] := '{}';
    v_skip     uuid[] := '{}';
    v_entered  integer[];
    v_exited   integer[];
    v_i        integer;
    v_one_pass boolean := true;
BEGIN
    -- the segments to refresh, locked; a member's one or one whose filter no longer compiles is
    -- skipped (a WARNING names it, its row has NULL counts)
    FOR v_seg IN
        SELECT s.id, s.label, s.properties, s.claimed_by FROM crm.nodes s
         WHERE s.node_type = 'segment' AND s.archived_at IS NULL AND s.properties ->> 'kind' = 'dynamic'
           AND (p_segment_ids IS NULL OR s.id = ANY (p_segment_ids))
         ORDER BY s.id
         FOR NO KEY UPDATE
    LOOP
        v_ids := v_ids || v_seg.id;
        v_labels := v_labels || v_seg.label;
        v_defs := v_defs || (v_seg.properties -> 'definition');
        v_outreach := v_outreach || (coalesce(v_seg.properties ->> 'purpose', 'outreach') = 'outreach');
        IF v_seg.claimed_by IS NOT NULL THEN
            -- a member's dynamic segment (made before they became admins' only): its filter
            -- would be evaluated over customers, companies and events its owner cannot see
            RAISE WARNING 'segment % (%) was not refreshed: dynamic segments are admins'' (it is claimed by a member)',
                          v_seg.label, v_seg.id USING HINT = 'an admin recreates it, or releases it (crm.release)';
            v_skip := v_skip || v_seg.id;
            CONTINUE;
        END IF;
        BEGIN
            PERFORM crm_private.compile_segment_filter(v_seg.properties -> 'definition', '$1', '[]');
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'segment % (%) was not refreshed: %: %', v_seg.label, v_seg.id, SQLSTATE, SQLERRM
                USING HINT = 'fix its filter with crm.set_segment_filter';
            v_skip := v_skip || v_seg.id;
        END;
    END LOOP;
    v_entered := array_fill(0, ARRAY[cardinality(v_ids)]);
    v_exited := array_fill(0, ARRAY[cardinality(v_ids)]);

    -- every segment in one pass (crm_private.refresh_segments_pass; up to 62 segments a pass) ...
    BEGIN
        FOR v_r IN
            WITH todo AS (
                SELECT x.id, x.d, x.o, (row_number() OVER (ORDER BY x.i) - 1) / 62 AS grp
                  FROM unnest(v_ids, v_defs, v_outreach) WITH ORDINALITY AS x(id, d, o, i)
                 WHERE x.id <> ALL (v_skip)
            ), grps AS (
                SELECT array_agg(t.id ORDER BY t.id) AS ids, array_agg(t.d ORDER BY t.id) AS defs,
                       array_agg(t.o ORDER BY t.id) AS outreach
                  FROM todo t GROUP BY t.grp
            )
            SELECT r.* FROM grps g CROSS JOIN LATERAL crm_private.refresh_segments_pass(g.ids, g.defs, g.outreach, v_now) r
        LOOP
            v_i := array_position(v_ids, v_r.segment_id);
            v_entered[v_i] := v_r.entered;
            v_exited[v_i] := v_r.exited;
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'the one-pass segment refresh failed (%: %); refreshing the segments one by one', SQLSTATE, SQLERRM;
        v_one_pass := false;
        v_entered := array_fill(0, ARRAY[cardinality(v_ids)]);
        v_exited := array_fill(0, ARRAY[cardinality(v_ids)]);
    END;
    -- ... or, when that failed (a filter that fails at run time), one by one, each in its own
    -- subtransaction, so that only the failing one is skipped
    IF NOT v_one_pass THEN
        FOR v_i IN 1 .. coalesce(cardinality(v_ids), 0) LOOP
            CONTINUE WHEN v_ids[v_i] = ANY (v_skip);
            BEGIN
                FOR v_r IN SELECT * FROM crm_private.refresh_segments_pass(ARRAY[v_ids[v_i]], ARRAY[v_defs[v_i]],
                                                                         ARRAY[v_outreach[v_i]], v_now) LOOP
                    v_entered[v_i] := v_r.entered;
                    v_exited[v_i] := v_r.exited;
                END LOOP;
            EXCEPTION WHEN OTHERS THEN
                RAISE WARNING 'segment % (%) was not refreshed: %: %', v_labels[v_i], v_ids[v_i], SQLSTATE, SQLERRM
                    USING HINT = 'fix its filter with crm.set_segment_filter';
                v_skip := v_skip || v_ids[v_i];
            END;
        END LOOP;
    END IF;

    FOR v_i IN 1 .. coalesce(cardinality(v_ids), 0) LOOP
        segment_id := v_ids[v_i];
        segment := v_labels[v_i];
        entered := CASE WHEN v_ids[v_i] = ANY (v_skip) THEN NULL ELSE v_entered[v_i] END;
        exited := CASE WHEN v_ids[v_i] = ANY (v_skip) THEN NULL ELSE v_exited[v_i] END;
        RETURN NEXT;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION crm.refresh_segments(uuid[]) IS
$c$Recompute dynamic segments (all, or the given ids), set-based: new matches join (entered_at = refresh time), members that no longer match leave (left_at = refresh time), the rest are untouched; outreach segments exclude suppressed customers; segment_joined / segment_left events are logged. History is never rewritten ("who was in X on D": crm.segment_members_at). Admins and connectors; dynamic segments are admins' (unclaimed) — one a member owns is skipped. Returns entered/exited counts per segment; a segment that cannot be refreshed (e.g. its filter no longer compiles) is skipped with a WARNING, its row has NULL counts, and the others are refreshed. Example: SELECT * FROM crm.refresh_segments();$c$;
