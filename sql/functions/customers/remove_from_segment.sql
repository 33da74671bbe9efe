-- crm.remove_from_segment(p_segment, p_person) — Remove a customer from a static segment (the membership row is closed with left_at, never deleted; logs segment_left).
-- Guarantees: those of crm_private.segment_change (static segments only; scope checked for
-- every id as the caller; history rows never overwritten; one event per change).
CREATE OR REPLACE FUNCTION crm.remove_from_segment(p_segment uuid, p_person uuid)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.segment_change(p_segment, ARRAY[p_person], false, false) > 0
$$;

COMMENT ON FUNCTION crm.remove_from_segment(uuid, uuid) IS
$c$Remove a customer from a static segment (the membership row is closed with left_at, never deleted; logs segment_left). Returns false when not a member. Errors: P0002 unknown segment, CR054 dynamic segment, 42501 customer hidden/missing or not writable for you. Example: SELECT crm.remove_from_segment('<segment uuid>', '<person uuid>');$c$;
