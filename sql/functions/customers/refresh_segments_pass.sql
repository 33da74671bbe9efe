-- crm_private.refresh_segments_pass(p_ids, p_defs, p_outreach, p_now) — recompute the members
-- of the given dynamic segments in ONE statement: one pass over the live persons evaluates
-- every segment's compiled filter, and one full join of those matches against the segments'
-- open memberships yields the joins and the leaves of all of them.
-- Guarantees:
-- * p_ids, p_defs and p_outreach are parallel arrays (segment id, its definition, whether it is
--   an outreach segment); the definitions are compiled here by crm_private.compile_segment_filter
--   with segment i's values under $1 -> i: every value is a bound parameter, never SQL;
-- * a person matches segment i when its filter is true (and, for an outreach segment, the person
--   is not suppressed — do_not_contact in force at p_now); new matches get a membership row
--   entered_at = p_now (reason rule); members no longer matching get left_at = p_now (reason
--   rule, or archived when the customer was archived); members that still match are untouched;
--   history rows are never rewritten; crm360's statement triggers log segment_joined /
--   segment_left from the rows changed;
-- * the overall fit per customer and product (segment_fit) and each customer's last activity
--   (segment_activity) are computed once, for every filter that reads them (the names
--   crm_private.compile_segment_filter's fit and last_activity conditions refer to);
-- * every filter sees the database as it was when the statement started (a filter over another
--   segment's members reads that segment's members before this refresh);
-- * all or nothing: an error in any filter fails the whole pass (crm.refresh_segments then
--   refreshes the segments one by one, so that one bad segment is skipped alone);
-- * at most 62 segments per pass (crm.refresh_segments passes them in groups): a customer's
--   matches and memberships are each one bigint bit set, so comparing them is exact and cheap;
-- * cost: one scan of the persons, one aggregate of the open memberships per customer, one hash
--   join of the two (customers whose set of segments is unchanged stop there); then the changes
--   alone are written, found through segment_memberships_current;
-- * invoker: called only by crm.refresh_segments (SECURITY DEFINER, which pins work_mem and the
--   planner settings); EXECUTE is nobody's.
-- Returns one row per segment that changed: entered and exited counts.
CREATE OR REPLACE FUNCTION crm_private.refresh_segments_pass(
    p_ids      uuid[],
    p_defs     jsonb[],
    p_outreach boolean[],
    p_now      timestamptz)
RETURNS TABLE (segment_id uuid, entered integer, exited integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- finding the changes reads whole tables: hashed, and the open memberships aggregated by hashing
-- (an index scan in node order reads the heap at random: 2x slower); writing them probes by key
-- (both are SET here so that switching them back on for the writes ends with this function)
SET enable_indexscan = off
SET enable_nestloop = off
AS $$
DECLARE
    v_params    jsonb := '[]';
    v_arms      text[] := '{}';
    v_c         record;
    v_i         integer;
    v_gone_seg  uuid[];
    v_gone_node uuid[];
    v_came_seg  uuid[];
    v_came_node uuid[];
BEGIN
    IF coalesce(cardinality(p_ids), 0) = 0 THEN
        RETURN;
    END IF;
    IF cardinality(p_ids) <> cardinality(p_defs) OR cardinality(p_ids) <> cardinality(p_outreach) THEN
        RAISE EXCEPTION 'refresh_segments_pass: arrays of different lengths' USING ERRCODE = '22023';
    END IF;
    IF cardinality(p_ids) > 62 THEN
        RAISE EXCEPTION 'refresh_segments_pass: at most 62 segments per pass' USING ERRCODE = '22023';
    END IF;
    FOR v_i IN 1 .. cardinality(p_ids) LOOP
        SELECT * INTO v_c FROM crm_private.compile_segment_filter(p_defs[v_i], format('$1 -> %s', v_i - 1), '[]');
        v_params := v_params || jsonb_build_array(v_c.p_params);
        -- the arm yields the segment's bit (1 << (i - 1)) when the person matches it
        v_arms := v_arms || format('CASE WHEN coalesce(%s, false)%s THEN %s::bigint ELSE 0 END', v_c.p_sql,
                                   CASE WHEN p_outreach[v_i] THEN ' AND sup.id IS NULL' ELSE '' END,
                                   (1::bigint << (v_i - 1)));
    END LOOP;

    -- 1. what changed: (segment, customer) pairs to close and to open
    EXECUTE format($q$
        WITH segment_fit AS MATERIALIZED (
            -- the overall fit per customer and product (weighted mean of the current assessments
            -- of the product's live criteria): fit conditions read it (computed only if one does)
            SELECT a.subject_node_id AS node_id, c.product_id,
                   sum((a.claim ->> 'score')::numeric * c.weight) / sum(c.weight) AS score
              FROM crm.assertions a JOIN crm.fit_criteria c ON c.id::text = a.assertion_key AND c.archived_at IS NULL
             WHERE a.assertion_type = 'fit_assessment' AND a.superseded_at IS NULL
             GROUP BY a.subject_node_id, c.product_id
        ), segment_activity AS MATERIALIZED (
            -- each participant's last activity event (the registry's counts_as_activity types, a
            -- literal so the (event_type, occurred_at) index is used): last_activity conditions
            SELECT p.node_id, max(e.occurred_at) AS last_at
              FROM crm.events e JOIN crm.event_participants p ON p.event_id = e.id
             WHERE e.event_type = ANY (%L::text[])
             GROUP BY p.node_id
        ), sup AS MATERIALIZED (
            -- customers suppressed now (do_not_contact in force): outreach segments leave them out
            SELECT DISTINCT a.subject_node_id AS id FROM crm.assertions a
             WHERE a.assertion_type = 'do_not_contact' AND a.assertion_key = '' AND a.superseded_at IS NULL
               AND NOT coalesce((a.claim ->> 'lifted')::boolean, false)
               AND (a.claim ->> 'expires' IS NULL OR (a.claim ->> 'expires')::date > ($3 AT TIME ZONE 'UTC')::date)
        ), want AS (
            -- each live person once, every filter evaluated on it: the segments it matches now,
            -- as a bit set (bit i - 1 for segment i; at most 62 segments per pass)
            SELECT n.id, %s AS mask, n.ctid AS o
              FROM crm.nodes n %s
             WHERE n.node_type = 'person' AND n.archived_at IS NULL
        ), cur AS (
            -- each customer's open memberships of these segments, as the same bit set
            SELECT m.node_id AS id, bit_or(1::bigint << (s.ord - 1)::integer) AS mask
              FROM crm.segment_memberships m JOIN unnest($2) WITH ORDINALITY AS s(id, ord) ON s.id = m.segment_id
             WHERE m.left_at IS NULL
             GROUP BY m.node_id
        ), diff AS MATERIALIZED (
            -- the customers whose set of segments changed
            SELECT coalesce(w.id, c.id) AS node_id, coalesce(w.mask, 0) AS want, coalesce(c.mask, 0) AS have,
                   w.o
              FROM want w FULL JOIN cur c ON c.id = w.id
             WHERE coalesce(w.mask, 0) <> coalesce(c.mask, 0)
        ), bits AS MATERIALIZED (
            SELECT d.node_id, $2[b + 1] AS seg, (d.want >> b) & 1 = 1 AS joins, d.o
              FROM diff d CROSS JOIN generate_series(0, cardinality($2) - 1) AS b
             WHERE ((d.want # d.have) >> b) & 1 = 1
        )
        SELECT (SELECT array_agg(x.seg ORDER BY x.o, x.seg) FROM bits x WHERE NOT x.joins),
               (SELECT array_agg(x.node_id ORDER BY x.o, x.seg) FROM bits x WHERE NOT x.joins),
               (SELECT array_agg(x.seg ORDER BY x.o, x.seg) FROM bits x WHERE x.joins),
               (SELECT array_agg(x.node_id ORDER BY x.o, x.seg) FROM bits x WHERE x.joins)$q$,
        (SELECT coalesce(array_agg(et.event_type ORDER BY et.event_type), '{}') FROM crm.event_types et
          WHERE et.counts_as_activity),
        array_to_string(v_arms, ' | '),
        -- the suppressed are read only when an outreach segment needs them
        CASE WHEN true = ANY (p_outreach) THEN 'LEFT JOIN sup ON sup.id = n.id' ELSE '' END)
    INTO v_gone_seg, v_gone_node, v_came_seg, v_came_node
    USING v_params, p_ids, p_now;

    -- 2. write them: the planner now knows how few (or how many) there are
    PERFORM set_config('enable_indexscan', 'on', true);
    PERFORM set_config('enable_nestloop', 'on', true);
    UPDATE crm.segment_memberships m
       SET left_at = p_now, left_reason = CASE WHEN p.archived_at IS NULL THEN 'rule' ELSE 'archived' END
      FROM unnest(v_gone_seg, v_gone_node) AS g(seg, node_id) JOIN crm.nodes p ON p.id = g.node_id
     WHERE m.segment_id = g.seg AND m.node_id = g.node_id AND m.left_at IS NULL;
    -- (the triggers of the insert — events written for every join, hundreds of thousands at a
    -- first refresh — run under the refresh's own settings again)
    PERFORM set_config('enable_nestloop', 'off', true);
    INSERT INTO crm.segment_memberships (segment_id, node_id, entered_at, entered_reason)
    SELECT g.seg, g.node_id, p_now, 'rule' FROM unnest(v_came_seg, v_came_node) AS g(seg, node_id);

    RETURN QUERY
        SELECT x.seg, (count(*) FILTER (WHERE x.came))::integer, (count(*) FILTER (WHERE NOT x.came))::integer
          FROM (SELECT g.seg, true AS came FROM unnest(v_came_seg) AS g(seg)
                UNION ALL SELECT g.seg, false FROM unnest(v_gone_seg) AS g(seg)) x
         GROUP BY x.seg;
END;
$$;

COMMENT ON FUNCTION crm_private.refresh_segments_pass(uuid[], jsonb[], boolean[], timestamptz) IS
    'Recomputes the members of the given dynamic segments in one pass (one scan of the persons evaluating every filter, one diff against the open memberships per customer, then only the changes written); called by crm.refresh_segments only.';
