-- crm.add_to_segment(p_segment, p_person) — Add a customer to a static segment (history kept; logs segment_joined).
-- Guarantees: those of crm_private.segment_change (static segments only; scope checked for
-- every id as the caller; history rows never overwritten; one event per change).
CREATE OR REPLACE FUNCTION crm.add_to_segment(p_segment uuid, p_person uuid)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.segment_change(p_segment, ARRAY[p_person], true, false) > 0
$$;

COMMENT ON FUNCTION crm.add_to_segment(uuid, uuid) IS
$c$Add a customer to a static segment (history kept; logs segment_joined). Returns false when already a member. Errors: P0002 unknown segment, CR054 dynamic segment, CR020 archived segment, 42501 customer hidden/missing or not writable for you. Example: SELECT crm.add_to_segment('<segment uuid>', '<person uuid>');$c$;
