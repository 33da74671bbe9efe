-- crm.set_segment_filter(p_segment, p_definition) — change a dynamic segment's filter.
-- Guarantees: the segment exists and is visible (P0002) and dynamic (CR054); the definition is
-- valid and within the caps (CR053: 16 kB, 200 conditions); the caller is an admin (42501
-- otherwise: dynamic segments are admins', crm_private.tg_nodes_customer__guard). Members change at the next crm.refresh_segments
-- (joins and leaves then logged as usual); history is kept.
CREATE OR REPLACE FUNCTION crm.set_segment_filter(p_segment uuid, p_definition jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_kind text;
BEGIN
    SELECT n.properties ->> 'kind' INTO v_kind FROM crm.nodes n WHERE n.id = p_segment AND n.node_type = 'segment';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'segment % not found', p_segment USING ERRCODE = 'P0002';
    END IF;
    IF v_kind <> 'dynamic' THEN
        RAISE EXCEPTION 'segment % is static: it has no filter', p_segment USING ERRCODE = 'CR054';
    END IF;
    PERFORM crm_private.compile_segment_filter(p_definition, '$1', '[]');
    UPDATE crm.nodes SET properties = properties || jsonb_build_object('definition', p_definition) WHERE id = p_segment;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'you may not change segment %', p_segment USING ERRCODE = '42501',
              HINT = 'dynamic segments are admins''';
    END IF;
END;
$$;

COMMENT ON FUNCTION crm.set_segment_filter(uuid, jsonb) IS
$c$Replace the filter of a dynamic segment (validated; members change at the next crm.refresh_segments). Admins only (dynamic segments are admins'). Errors: P0002 unknown segment, CR054 static segment, CR053 invalid filter or too large (16 kB, 200 conditions), 42501 not an admin. Example: SELECT crm.set_segment_filter('<segment uuid>', '{"field": "fit", "product": "<product uuid>", "op": "gte", "value": 70}');$c$;
