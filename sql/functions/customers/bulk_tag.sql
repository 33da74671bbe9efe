-- crm.bulk_tag(p_ids, p_tag) — Bulk tag (seed 002 Bulk operations): put a tag on every node of p_ids in one set-based statement, all or nothing.
-- Guarantees: those of crm_private.tag_nodes (scope checked for every id as the caller; bot:
-- tags only by system roles; history rows never overwritten; one event per change).
CREATE OR REPLACE FUNCTION crm.bulk_tag(p_ids uuid[], p_tag text)
RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.tag_nodes(p_ids, p_tag, true, true) 
$$;

COMMENT ON FUNCTION crm.bulk_tag(uuid[], text) IS
$c$Bulk tag (seed 002 Bulk operations): put a tag on every node of p_ids in one set-based statement, all or nothing. Returns how many nodes got it (those that had it already are skipped). Errors: CR055 some ids are hidden, missing or outside your write scope (listed in DETAIL; nothing changed), CR052 bot: tag by an ordinary role, 22023 empty array. Example: SELECT crm.bulk_tag(ARRAY['<uuid>','<uuid>']::uuid[], 'webinar-2026');$c$;
