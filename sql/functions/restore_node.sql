-- crm.restore_node(p_node_id, p_reason) — undo archive_node.
-- Guarantees: archived_at is cleared and a node_restored event is logged; restoring a live
-- node returns false; P0002 for an unknown node; 23505 when a live node has taken the same
-- (external_source, external_id) meanwhile (nothing changed).
CREATE OR REPLACE FUNCTION crm.restore_node(p_node_id uuid, p_reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_node  record;
    v_other uuid;
    v_event uuid := gen_random_uuid();
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
         WHERE n.external_source = v_node.external_source AND n.external_id = v_node.external_id
           AND n.archived_at IS NULL;
        IF FOUND THEN
            RAISE EXCEPTION 'cannot restore node %: live node % has the same key %/%', p_node_id, v_other,
                            v_node.external_source, v_node.external_id
                USING ERRCODE = '23505', HINT = 'merge the two nodes, or archive the other one first';
        END IF;
    END IF;
    UPDATE crm.nodes SET archived_at = NULL WHERE id = p_node_id;
    INSERT INTO crm.events (id, event_type, occurred_at, summary, properties, actor_system)
    VALUES (v_event, 'node_restored', now(), format('Restored %s %s', v_node.node_type, v_node.label),
            jsonb_build_object('reason', p_reason), coalesce(crm.current_actor()::text, session_user::text));
    INSERT INTO crm.event_participants (event_id, node_id, role) VALUES (v_event, p_node_id, 'subject');
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm.restore_node(uuid, text) IS
$c$Restore an archived node and log a node_restored event. Returns false if it was live. Errors: P0002 unknown node, 23505 a live node now holds the same external key. Example: SELECT crm.restore_node('<uuid>');$c$;
