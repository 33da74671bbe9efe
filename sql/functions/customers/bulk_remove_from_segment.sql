-- crm.bulk_remove_from_segment(p_segment, p_ids) — Bulk remove customers from a static segment, all or nothing.
-- Guarantees: those of crm_private.segment_change (static segments only; scope checked for
-- every id as the caller; history rows never overwritten; one event per change).
CREATE OR REPLACE FUNCTION crm.bulk_remove_from_segment(p_segment uuid, p_ids uuid[])
RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.segment_change(p_segment, p_ids, false, true) 
$$;

COMMENT ON FUNCTION crm.bulk_remove_from_segment(uuid, uuid[]) IS
$c$Bulk remove customers from a static segment, all or nothing. Returns how many left. Errors: CR055 refused ids (listed in DETAIL; nothing changed), P0002 unknown segment, CR054 dynamic segment, 22023 empty array. Example: SELECT crm.bulk_remove_from_segment('<segment uuid>', ARRAY['<uuid>']::uuid[]);$c$;
