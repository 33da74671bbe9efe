-- crm.segment_members_at(p_segment, p_at) — who was in a segment at a moment ("who was in
-- segment X on date D").
-- Guarantees: the customers whose membership row covers p_at (entered_at <= p_at and left_at
-- NULL or after p_at) — one row each, with the stay that covered it; read as the caller
-- (row-level security: only customers the caller can see); P0002 for a segment that does not
-- exist; 22023 for a NULL time. For a date, pass the end of the day you mean
-- (e.g. '2026-03-01 23:59:59+00') or its start.
CREATE OR REPLACE FUNCTION crm.segment_members_at(p_segment uuid, p_at timestamptz)
RETURNS TABLE (node_id uuid, label text, entered_at timestamptz, left_at timestamptz)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF p_at IS NULL THEN
        RAISE EXCEPTION 'p_at must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM crm.nodes s WHERE s.id = p_segment AND s.node_type = 'segment') THEN
        RAISE EXCEPTION 'segment % not found', p_segment USING ERRCODE = 'P0002';
    END IF;
    RETURN QUERY
    SELECT m.node_id, n.label, m.entered_at, m.left_at
      FROM crm.segment_memberships m
      JOIN crm.nodes n ON n.id = m.node_id
     WHERE m.segment_id = p_segment AND m.entered_at <= p_at AND (m.left_at IS NULL OR m.left_at > p_at)
     ORDER BY n.label, m.node_id;
END;
$$;

COMMENT ON FUNCTION crm.segment_members_at(uuid, timestamptz) IS
$c$Who was in a segment at a moment: the customers (visible to you) whose membership covered p_at, with that stay's entered_at/left_at. Errors: P0002 unknown segment, 22023 NULL time. Example: SELECT * FROM crm.segment_members_at('<segment uuid>', '2026-03-01 12:00+00');$c$;
