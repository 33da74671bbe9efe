-- crm.refresh_segments(p_segment_ids) — recompute the members of dynamic segments (all live
-- ones, or the given ones), set-based, diffing in both directions.
-- Guarantees:
-- * per segment one statement: the people (live persons) its compiled filter matches now —
--   for purpose outreach minus the suppressed (do_not_contact) — are compared with its current
--   members: new matches get a membership row entered_at = the refresh time (reason rule),
--   members no longer matching get left_at = the refresh time (reason rule; archived when the
--   customer was archived); members that still match are untouched (their entered_at stays);
--   history rows are never rewritten; crm360 logs segment_joined / segment_left per change;
-- * the refresh time is one clock_timestamp() taken when the call starts (distinct calls in one
--   transaction get distinct times);
-- * filters are compiled by crm_private.compile_segment_filter: values are bound parameters,
--   never SQL (every stored definition was validated and capped when written:
--   crm_private.check_segment_properties);
-- * only admins' segments (unclaimed) are refreshed: a dynamic segment a member owns (made
--   before dynamic segments became admins' only) is skipped with a WARNING and NULL counts —
--   its filter would read customers, companies and events its owner cannot see;
-- * each segment is refreshed in its own subtransaction: one that fails (a filter that no
--   longer compiles, e.g. a field retired since; any error) is skipped — its members stay as
--   they were, a WARNING names it, and its row has entered/exited NULL —
--   and the other segments are refreshed all the same;
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
    v_seg  record;
    v_c    record;
    v_now  timestamptz := clock_timestamp();
    v_j    integer;
    v_l    integer;
BEGIN
    FOR v_seg IN
        SELECT s.id, s.label, s.properties, s.claimed_by FROM crm.nodes s
         WHERE s.node_type = 'segment' AND s.archived_at IS NULL AND s.properties ->> 'kind' = 'dynamic'
           AND (p_segment_ids IS NULL OR s.id = ANY (p_segment_ids))
         ORDER BY s.id
         FOR NO KEY UPDATE
    LOOP
        segment_id := v_seg.id;
        segment := v_seg.label;
        entered := NULL;
        exited := NULL;
        IF v_seg.claimed_by IS NOT NULL THEN
            -- a member's dynamic segment (made before they became admins' only): its filter
            -- would be evaluated over customers, companies and events its owner cannot see
            RAISE WARNING 'segment % (%) was not refreshed: dynamic segments are admins'' (it is claimed by a member)',
                          v_seg.label, v_seg.id USING HINT = 'an admin recreates it, or releases it (crm.release)';
            RETURN NEXT;
            CONTINUE;
        END IF;
        BEGIN
            SELECT * INTO v_c FROM crm_private.compile_segment_filter(v_seg.properties -> 'definition', '$1', '[]');
            EXECUTE format($q$
                WITH want AS MATERIALIZED (
                    SELECT n.id FROM crm.nodes n
                     WHERE n.node_type = 'person' AND n.archived_at IS NULL AND %s %s
                ), gone AS (
                    UPDATE crm.segment_memberships m
                       SET left_at = $3, left_reason = CASE WHEN p.archived_at IS NULL THEN 'rule' ELSE 'archived' END
                      FROM crm.nodes p
                     WHERE m.segment_id = $2 AND m.left_at IS NULL AND p.id = m.node_id
                       AND NOT EXISTS (SELECT 1 FROM want w WHERE w.id = m.node_id)
                    RETURNING 1
                ), came AS (
                    INSERT INTO crm.segment_memberships (segment_id, node_id, entered_at, entered_reason)
                    SELECT $2, w.id, $3, 'rule' FROM want w
                     WHERE NOT EXISTS (SELECT 1 FROM crm.segment_memberships m
                                        WHERE m.segment_id = $2 AND m.node_id = w.id AND m.left_at IS NULL)
                    RETURNING 1
                )
                SELECT (SELECT count(*) FROM came)::integer, (SELECT count(*) FROM gone)::integer$q$,
                v_c.p_sql,
                CASE WHEN coalesce(v_seg.properties ->> 'purpose', 'outreach') = 'outreach' THEN
                    'AND n.id NOT IN (SELECT a.subject_node_id FROM crm.assertions a WHERE a.assertion_type = ''do_not_contact'' '
                    || 'AND a.assertion_key = '''' AND a.superseded_at IS NULL AND NOT coalesce((a.claim ->> ''lifted'')::boolean, false) '
                    || 'AND (a.claim ->> ''expires'' IS NULL OR (a.claim ->> ''expires'')::date > ($3 AT TIME ZONE ''UTC'')::date))'
                ELSE '' END)
            INTO v_j, v_l
            USING v_c.p_params, v_seg.id, v_now;
            entered := v_j;
            exited := v_l;
        EXCEPTION WHEN OTHERS THEN
            entered := NULL;
            exited := NULL;
            RAISE WARNING 'segment % (%) was not refreshed: %: %', v_seg.label, v_seg.id, SQLSTATE, SQLERRM
                USING HINT = 'fix its filter with crm.set_segment_filter';
        END;
        RETURN NEXT;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION crm.refresh_segments(uuid[]) IS
$c$Recompute dynamic segments (all, or the given ids), set-based: new matches join (entered_at = refresh time), members that no longer match leave (left_at = refresh time), the rest are untouched; outreach segments exclude suppressed customers; segment_joined / segment_left events are logged. History is never rewritten ("who was in X on D": crm.segment_members_at). Admins and connectors; dynamic segments are admins' (unclaimed) — one a member owns is skipped. Returns entered/exited counts per segment; a segment that cannot be refreshed (e.g. its filter no longer compiles) is skipped with a WARNING, its row has NULL counts, and the others are refreshed. Example: SELECT * FROM crm.refresh_segments();$c$;
