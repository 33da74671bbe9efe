-- crm.bulk_untag(p_ids, p_tag) — Bulk untag: take a tag off every node of p_ids, all or nothing.
-- Guarantees: those of crm_private.tag_nodes (scope checked for every id as the caller; bot:
-- tags only by system roles; history rows never overwritten; one event per change).
CREATE OR REPLACE FUNCTION crm.bulk_untag(p_ids uuid[], p_tag text)
RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.tag_nodes(p_ids, p_tag, false, true) 
$$;

COMMENT ON FUNCTION crm.bulk_untag(uuid[], text) IS
$c$Bulk untag: take a tag off every node of p_ids, all or nothing. Returns how many nodes had it. Errors: CR055 refused ids (listed in DETAIL; nothing changed), CR052 bot: tag by an ordinary role, P0002 unknown tag, 22023 empty array. Example: SELECT crm.bulk_untag(ARRAY['<uuid>']::uuid[], 'webinar-2026');$c$;
