-- crm_private.check_segment_properties(p_new, p_old) — the rules every segment node's
-- properties obey, whoever writes them (crm.create_segment, crm.set_segment_filter, a direct
-- INSERT or UPDATE of the node; called by crm_private.tg_nodes_customer__guard).
-- Guarantees: kind is static or dynamic (22023) and never changes once set (CR054); purpose is
-- absent, outreach or analysis (22023); a static segment has no definition (CR054); a dynamic
-- segment's definition is at most 16 kB of JSON, has at most 200 conditions (objects with a
-- field) and 400 filter objects in all, and compiles (crm_private.compile_segment_filter) —
-- otherwise CR053. So a stored definition always compiles and crm.refresh_segments stays
-- bounded. p_old NULL for a new segment.
CREATE OR REPLACE FUNCTION crm_private.check_segment_properties(p_new jsonb, p_old jsonb)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_kind text := p_new ->> 'kind';
    v_def  jsonb := p_new -> 'definition';
    v_n    integer;
BEGIN
    IF v_kind IS NULL OR v_kind NOT IN ('static', 'dynamic') THEN
        RAISE EXCEPTION 'segment kind must be static or dynamic, got %', coalesce(v_kind, 'NULL') USING ERRCODE = '22023';
    END IF;
    IF p_old IS NOT NULL AND (p_old ->> 'kind') IS DISTINCT FROM v_kind THEN
        RAISE EXCEPTION 'the kind of a segment cannot change' USING ERRCODE = 'CR054',
              HINT = 'create a new segment of the other kind';
    END IF;
    IF p_new ? 'purpose' AND (jsonb_typeof(p_new -> 'purpose') <> 'string'
                              OR (p_new ->> 'purpose') NOT IN ('outreach', 'analysis')) THEN
        RAISE EXCEPTION 'segment purpose must be outreach or analysis' USING ERRCODE = '22023';
    END IF;
    IF v_kind = 'static' THEN
        IF v_def IS NOT NULL AND jsonb_typeof(v_def) <> 'null' THEN
            RAISE EXCEPTION 'a static segment has no filter' USING ERRCODE = 'CR054';
        END IF;
        RETURN;
    END IF;
    IF v_def IS NULL OR jsonb_typeof(v_def) <> 'object' THEN
        RAISE EXCEPTION 'a dynamic segment needs a filter (a JSON object)' USING ERRCODE = 'CR053', DETAIL = '$';
    END IF;
    IF p_old IS NOT NULL AND (p_old -> 'definition') IS NOT DISTINCT FROM v_def THEN
        RETURN;     -- unchanged: it was checked when it was written
    END IF;
    IF octet_length(v_def::text) > 16384 THEN
        RAISE EXCEPTION 'segment filter too large (% bytes)', octet_length(v_def::text) USING ERRCODE = 'CR053',
              DETAIL = '$', HINT = 'at most 16 kB of JSON and 200 conditions';
    END IF;
    SELECT count(*) INTO v_n FROM jsonb_path_query(v_def, 'strict $.** ? (@.type() == "object" && exists(@.field))');
    IF v_n > 200 OR (SELECT count(*) FROM jsonb_path_query(v_def, 'strict $.** ? (@.type() == "object")')) > 400 THEN
        RAISE EXCEPTION 'segment filter too large (% conditions)', v_n USING ERRCODE = 'CR053',
              DETAIL = '$', HINT = 'at most 200 conditions';
    END IF;
    PERFORM crm_private.compile_segment_filter(v_def, '$1', '[]');
END;
$$;

COMMENT ON FUNCTION crm_private.check_segment_properties(jsonb, jsonb) IS
    'Internal: validates a segment node''s kind, purpose and definition (size caps, compiles) — CR053/CR054/22023.';
