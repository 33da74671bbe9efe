-- crm.restore_node(p_node_id, p_reason) — undo archive_node.
-- Guarantees: archived_at is cleared and a node_restored event is logged; restoring a live
-- node returns false; P0002 for an unknown node; 23505 when a live node has taken the same
-- (external_source, external_id) meanwhile (nothing changed).
CREATE OR REPLACE FUNCTION crm.restore_node(p_node_id uuid, p_reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_node  record;
    v_other uuid;
BEGIN
    SELECT n.id, n.node_type, n.label, n.archived_at, n.external_id, n.external_source INTO v_node
      FROM crm.nodes n WHERE n.id = p_node_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'node % does not exist', p_node_id USING ERRCODE = 'P0002';
    END IF;
    IF v_node.archived_at IS NULL THEN
        RETURN false;
    END IF;
    IF v_node.external_id IS NOT NULL THEN
        SELECT n.id INTO v_other FROM crm.nodes n
         WHERE ARRAY[n.external_source, n.external_id] = ARRAY[v_node.external_source, v_node.external_id]
           AND n.external_id IS NOT NULL AND n.external_source <> 'internal' AND n.archived_at IS NULL;
        IF FOUND THEN
            RAISE EXCEPTION 'cannot restore node %: a live node has the same key %/%', p_node_id,
                            v_node.external_source, v_node.external_id
                USING ERRCODE = '23505', HINT = 'merge the two nodes, or archive the other one first';
        END IF;
    END IF;
    -- the node_restored event is written by crm360 from the row this UPDATE changes
    -- (crm_private.tg_nodes__audit), with this reason
    PERFORM pg_catalog.set_config('crm.change_reason', coalesce(p_reason, ''), true);
    UPDATE crm.nodes SET archived_at = NULL WHERE id = p_node_id;
    PERFORM pg_catalog.set_config('crm.change_reason', '', true);
    IF NOT FOUND THEN   -- visible, but not writable for the caller (row policy)
        RAISE EXCEPTION 'you may not restore node %', p_node_id
            USING ERRCODE = '42501', HINT = 'only what you may write: unclaimed or your own customer data (ask an admin)';
    END IF;
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm.restore_node(uuid, text) IS
$c$Restore an archived node and log a node_restored event. Returns false if it was live. Errors: P0002 unknown node, 23505 a live node now holds the same external key. Example: SELECT crm.restore_node('<uuid>');$c$;
