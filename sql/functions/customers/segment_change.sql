-- crm_private.segment_change(p_segment, p_ids, p_add, p_bulk) — the one implementation behind
-- crm.add_to_segment, crm.remove_from_segment and their bulk versions (seed 002 Segments,
-- Bulk operations).
-- Guarantees, evaluated as the caller (row-level security on every read and write):
-- * the segment exists and is visible (P0002), is live (CR020) and static (CR054: the members
--   of a dynamic segment come from its filter);
-- * scope: every customer id must be a person visible and writable for the caller (seed 002:
--   own or unclaimed; admins all): in bulk mode all-or-nothing with CR055 listing the refused
--   ids; for one customer 42501 (the same whether hidden or missing);
-- * history: adding opens a membership row (nothing when already a member), removing closes
--   the open one (left_at, reason manual) — never deleted or rewritten; crm360 logs
--   segment_joined / segment_left per change (trigger). One statement, one transaction.
-- Returns the number of customers changed.
CREATE OR REPLACE FUNCTION crm_private.segment_change(p_segment uuid, p_ids uuid[], p_add boolean, p_bulk boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_seg record;
    v_ids uuid[];
    v_n   integer;
BEGIN
    SELECT s.properties ->> 'kind' AS kind, s.archived_at INTO v_seg
      FROM crm.nodes s WHERE s.id = p_segment AND s.node_type = 'segment';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'segment % not found', p_segment USING ERRCODE = 'P0002';
    END IF;
    IF v_seg.archived_at IS NOT NULL THEN
        RAISE EXCEPTION 'segment % is archived', p_segment USING ERRCODE = 'CR020';
    END IF;
    IF v_seg.kind <> 'static' THEN
        RAISE EXCEPTION 'segment % is dynamic: its members come from its filter', p_segment
            USING ERRCODE = 'CR054', HINT = 'change the filter (crm.set_segment_filter), or use a static segment';
    END IF;
    IF p_bulk THEN
        v_ids := crm_private.require_writable(p_ids, ARRAY['person'],
                                              CASE WHEN p_add THEN 'bulk add to segment' ELSE 'bulk remove from segment' END);
    ELSE
        IF p_ids[1] IS NULL OR NOT crm_private.can_write_node(p_ids[1])
           OR NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_ids[1] AND n.node_type = 'person') THEN
            RAISE EXCEPTION 'customer % does not exist or you may not write it', p_ids[1]
                USING ERRCODE = '42501', HINT = 'you write your own and unclaimed customers (seed 002 scoping)';
        END IF;
        v_ids := p_ids[1:1];
    END IF;
    IF p_add THEN
        INSERT INTO crm.segment_memberships (segment_id, node_id)
        SELECT p_segment, i FROM unnest(v_ids) AS i
         WHERE NOT EXISTS (SELECT 1 FROM crm.segment_memberships m
                            WHERE m.segment_id = p_segment AND m.node_id = i AND m.left_at IS NULL);
    ELSE
        UPDATE crm.segment_memberships m SET left_at = now(), left_reason = 'manual'
         WHERE m.segment_id = p_segment AND m.node_id = ANY (v_ids) AND m.left_at IS NULL;
    END IF;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.segment_change(uuid, uuid[], boolean, boolean) IS
    'Internal: adds customers to / removes them from a static segment as the caller (scope checked for every id, history rows, events by trigger).';
