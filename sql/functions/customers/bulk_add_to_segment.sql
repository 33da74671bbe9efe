-- crm.bulk_add_to_segment(p_segment, p_ids) — Bulk add customers to a static segment (seed 002 Bulk operations), all or nothing.
-- Guarantees: those of crm_private.segment_change (static segments only; scope checked for
-- every id as the caller; history rows never overwritten; one event per change).
CREATE OR REPLACE FUNCTION crm.bulk_add_to_segment(p_segment uuid, p_ids uuid[])
RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.segment_change(p_segment, p_ids, true, true) 
$$;

COMMENT ON FUNCTION crm.bulk_add_to_segment(uuid, uuid[]) IS
$c$Bulk add customers to a static segment (seed 002 Bulk operations), all or nothing. Returns how many joined. Errors: CR055 some ids hidden, missing, not people or outside your write scope (listed in DETAIL; nothing changed), P0002 unknown segment, CR054 dynamic segment, 22023 empty array. Example: SELECT crm.bulk_add_to_segment('<segment uuid>', ARRAY['<uuid>','<uuid>']::uuid[]);$c$;
