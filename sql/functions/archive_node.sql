-- crm.archive_node(p_node_id, p_reason) — soft delete (seed 002: no hard delete).
-- Guarantees: the node gets archived_at = now() and a node_archived event (participant:
-- the node, role subject) records who and why; archiving an archived node changes nothing
-- and returns false; an unknown node raises P0002. Edges, events and assertions are kept.
CREATE OR REPLACE FUNCTION crm.archive_node(p_node_id uuid, p_reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_node  record;
    v_event uuid := gen_random_uuid();
BEGIN
    SELECT n.id, n.node_type, n.label, n.archived_at INTO v_node
      FROM crm.nodes n WHERE n.id = p_node_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'node % does not exist', p_node_id USING ERRCODE = 'P0002';
    END IF;
    IF v_node.archived_at IS NOT NULL THEN
        RETURN false;
    END IF;
    UPDATE crm.nodes SET archived_at = now() WHERE id = p_node_id;
    INSERT INTO crm.events (id, event_type, occurred_at, summary, properties, actor_system)
    VALUES (v_event, 'node_archived', now(), format('Archived %s %s', v_node.node_type, v_node.label),
            jsonb_build_object('reason', p_reason), coalesce(crm.current_actor()::text, session_user::text));
    INSERT INTO crm.event_participants (event_id, node_id, role) VALUES (v_event, p_node_id, 'subject');
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm.archive_node(uuid, text) IS
$c$Archive (soft-delete) a node: sets archived_at and logs a node_archived event. Returns false if it was already archived. Errors: P0002 unknown node. Example: SELECT crm.archive_node('<uuid>', 'duplicate of ACME');$c$;
