-- crm.end_edge(p_edge_id, p_effective_to) — end a temporal relationship (seed 001 §2.2).
-- Guarantees: sets effective_to on a live, open edge of a temporal type (employs,
-- affiliated_with, assigned_to, member_of) and never deletes it; the edge row is locked
-- so two callers cannot both end it; errors leave the edge unchanged.
CREATE OR REPLACE FUNCTION crm.end_edge(p_edge_id uuid, p_effective_to timestamptz DEFAULT now())
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_edge     record;
    v_temporal boolean;
BEGIN
    IF p_effective_to IS NULL THEN
        RAISE EXCEPTION 'p_effective_to must not be NULL' USING ERRCODE = '22023';
    END IF;
    SELECT e.id, e.edge_type, e.effective_from, e.effective_to, e.archived_at INTO v_edge
      FROM crm.edges e WHERE e.id = p_edge_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'edge % does not exist', p_edge_id USING ERRCODE = 'P0002';
    END IF;
    SELECT t.temporal INTO v_temporal FROM crm.edge_types t WHERE t.edge_type = v_edge.edge_type;
    IF NOT v_temporal THEN
        RAISE EXCEPTION 'a % edge is not temporal and cannot be ended', v_edge.edge_type
            USING ERRCODE = '22023',
                  HINT = 'temporal edge types: ' ||
                         (SELECT string_agg(t.edge_type, ', ' ORDER BY t.edge_type) FROM crm.edge_types t WHERE t.temporal)
                         || '; archive other edges instead (archived_at)';
    END IF;
    IF v_edge.archived_at IS NOT NULL THEN
        RAISE EXCEPTION 'edge % is archived', p_edge_id USING ERRCODE = 'CR020';
    END IF;
    IF v_edge.effective_to IS NOT NULL THEN
        RAISE EXCEPTION 'edge % already ended at %', p_edge_id, v_edge.effective_to
            USING ERRCODE = '55000', HINT = 'create a new edge if the relationship started again';
    END IF;
    IF v_edge.effective_from IS NOT NULL AND p_effective_to < v_edge.effective_from THEN
        RAISE EXCEPTION 'p_effective_to % is before the edge started (%)', p_effective_to, v_edge.effective_from
            USING ERRCODE = '22023';
    END IF;
    UPDATE crm.edges SET effective_to = p_effective_to WHERE id = p_edge_id;
    RETURN p_edge_id;
END;
$$;

COMMENT ON FUNCTION crm.end_edge(uuid, timestamptz) IS
$c$End a temporal relationship (employs, affiliated_with, assigned_to, member_of) by setting effective_to; the edge is kept as history. Returns the edge id. Errors: P0002 unknown edge, 22023 not a temporal edge type / NULL or too early p_effective_to, CR020 archived edge, 55000 already ended. Example: SELECT crm.end_edge('<edge uuid>', '2024-06-30');$c$;
