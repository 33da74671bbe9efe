-- crm.tag(p_node, p_tag) — Put a tag on a node (created in the library when missing); logs tag_added.
-- Guarantees: those of crm_private.tag_nodes (scope checked for every id as the caller; bot:
-- tags only by system roles; history rows never overwritten; one event per change).
CREATE OR REPLACE FUNCTION crm.tag(p_node uuid, p_tag text)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.tag_nodes(ARRAY[p_node], p_tag, true, false) > 0
$$;

COMMENT ON FUNCTION crm.tag(uuid, text) IS
$c$Put a tag on a node (created in the library when missing); logs tag_added. Returns false when it was already on. Errors: 42501 node hidden/missing or not writable for you, CR052 bot: tag by an ordinary role, 22023 blank tag. Example: SELECT crm.tag('<person uuid>', 'vip');$c$;
