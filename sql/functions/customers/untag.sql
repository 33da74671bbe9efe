-- crm.untag(p_node, p_tag) — Take a tag off a node (the history row is closed, never deleted); logs tag_removed.
-- Guarantees: those of crm_private.tag_nodes (scope checked for every id as the caller; bot:
-- tags only by system roles; history rows never overwritten; one event per change).
CREATE OR REPLACE FUNCTION crm.untag(p_node uuid, p_tag text)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.tag_nodes(ARRAY[p_node], p_tag, false, false) > 0
$$;

COMMENT ON FUNCTION crm.untag(uuid, text) IS
$c$Take a tag off a node (the history row is closed, never deleted); logs tag_removed. Returns false when it was not on. Errors: 42501 node hidden/missing or not writable for you, CR052 bot: tag by an ordinary role, P0002 unknown tag. Example: SELECT crm.untag('<person uuid>', 'vip');$c$;
