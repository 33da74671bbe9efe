-- crm.archive_node(p_node_id, p_reason) — soft delete (seed 002: no hard delete).
-- Guarantees: the node gets archived_at = now() and a node_archived event (participant:
-- the node, role subject) records who and why; archiving an archived node changes nothing
-- and returns false; an unknown node raises P0002; a node the caller may see but not write raises 42501. Edges, events and assertions are kept.
CREATE OR REPLACE FUNCTION crm.archive_node(p_node_id uuid, p_reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_node  record;
BEGIN
    SELECT n.id, n.node_type, n.label, n.archived_at INTO v_node
      FROM crm.nodes n WHERE n.id = p_node_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'node % does not exist', p_node_id USING ERRCODE = 'P0002';
    END IF;
    IF v_node.archived_at IS NOT NULL THEN
        RETURN false;
    END IF;
    -- the node_archived event is written by crm360 from the row this UPDATE changes
    -- (crm_private.tg_nodes__audit), with this reason
    PERFORM pg_catalog.set_config('crm.change_reason', coalesce(p_reason, ''), true);
    UPDATE crm.nodes SET archived_at = now() WHERE id = p_node_id;
    PERFORM pg_catalog.set_config('crm.change_reason', '', true);
    IF NOT FOUND THEN   -- visible, but not writable for the caller (row policy)
        RAISE EXCEPTION 'you may not archive node %', p_node_id
            USING ERRCODE = '42501', HINT = 'only what you may write: unclaimed or your own customer data (ask an admin)';
    END IF;
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm.archive_node(uuid, text) IS
$c$Archive (soft-delete) a node: sets archived_at and logs a node_archived event. Returns false if it was already archived. Errors: P0002 unknown node. Example: SELECT crm.archive_node('<uuid>', 'duplicate of ACME');$c$;
