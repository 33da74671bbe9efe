-- crm.create_segment(p_name, p_kind, p_definition, p_description, p_purpose) — a customer
-- segment (seed 002 Segments: static + dynamic; targets for campaigns).
-- Guarantees: name not blank (22023); kind static or dynamic (22023); a dynamic segment needs
-- a definition valid in the filter language (compiled once here, crm_private.
-- compile_segment_filter: CR053 with the path of the problem); a static one takes none
-- (CR054); purpose outreach (the default: suppressed customers never join and leave at the
-- next refresh) or analysis (everyone who matches). The segment is a node of type segment
-- (visible to every CRM role, like campaigns; a member who creates it owns it: others may not
-- change it, nor its members). Dynamic segments are admins' (42501 for a member: a filter is
-- evaluated over every customer). Kind, purpose and definition are checked again, with the
-- size caps (16 kB, 200 conditions), by the segment trigger (crm_private.
-- check_segment_properties). A dynamic segment has no members until crm.refresh_segments
-- runs. Returns the segment node id.
CREATE OR REPLACE FUNCTION crm.create_segment(
    p_name        text,
    p_kind        text DEFAULT 'static',
    p_definition  jsonb DEFAULT NULL,
    p_description text DEFAULT NULL,
    p_purpose     text DEFAULT 'outreach')
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id uuid;
BEGIN
    IF p_name IS NULL OR btrim(p_name) = '' THEN
        RAISE EXCEPTION 'a segment needs a name' USING ERRCODE = '22023';
    END IF;
    IF p_kind IS NULL OR p_kind NOT IN ('static', 'dynamic') THEN
        RAISE EXCEPTION 'segment kind must be static or dynamic, got %', coalesce(p_kind, 'NULL') USING ERRCODE = '22023';
    END IF;
    IF p_purpose IS NULL OR p_purpose NOT IN ('outreach', 'analysis') THEN
        RAISE EXCEPTION 'segment purpose must be outreach or analysis, got %', coalesce(p_purpose, 'NULL') USING ERRCODE = '22023';
    END IF;
    IF p_kind = 'static' AND p_definition IS NOT NULL THEN
        RAISE EXCEPTION 'a static segment has no filter' USING ERRCODE = 'CR054',
              HINT = 'create it as dynamic, or add members with crm.add_to_segment';
    END IF;
    IF p_kind = 'dynamic' THEN
        PERFORM crm_private.compile_segment_filter(p_definition, '$1', '[]');
    END IF;
    INSERT INTO crm.nodes (node_type, label, properties)
    VALUES ('segment', btrim(p_name),
            jsonb_strip_nulls(jsonb_build_object('name', btrim(p_name), 'kind', p_kind, 'definition', p_definition,
                                                 'description', p_description, 'purpose', p_purpose)))
    RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm.create_segment(text, text, jsonb, text, text) IS
$c$Create a customer segment: static (members added with crm.add_to_segment) or dynamic (p_definition in the JSON filter language of docs/customers.md; members computed by crm.refresh_segments). p_purpose outreach (default) excludes suppressed customers, analysis does not. Returns the segment node id. Dynamic segments: admins only. Errors: 22023 blank name / bad kind or purpose, CR053 invalid filter (DETAIL: the JSON path) or larger than 16 kB / 200 conditions, CR054 a filter on a static segment, 42501 a dynamic segment by a member. Example: SELECT crm.create_segment('Hot EU leads', 'dynamic', '{"all": [{"field": "country", "op": "in", "value": ["DE","FR"]}, {"field": "tag", "op": "has", "value": "hot"}]}');$c$;
