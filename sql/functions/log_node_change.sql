-- crm_private.log_node_change(p_node_id, p_reason, p_role) — the node_archived / node_restored
-- event of an archive or restore the caller has just made (crm.archive_node /
-- crm.restore_node).
-- Guarantees: writes nothing unless the node's row was written in this transaction
-- (updated_at = the transaction's start time); node_archived when it is now archived,
-- node_restored when it is live; one event per node, type and transaction; the actor is the
-- user p_role acts as (else the login). Runs as crm_owner (these events have write scope
-- 'system'); EXECUTE for crm_writer. Returns the event id, or NULL.
CREATE OR REPLACE FUNCTION crm_private.log_node_change(p_node_id uuid, p_reason text, p_role name)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_node record;
    v_type text;
    v_id   uuid := gen_random_uuid();
BEGIN
    SELECT n.id, n.node_type, n.label, n.archived_at, n.updated_at INTO v_node FROM crm.nodes n WHERE n.id = p_node_id;
    IF NOT FOUND OR v_node.updated_at <> now() THEN
        RETURN NULL;
    END IF;
    v_type := CASE WHEN v_node.archived_at IS NOT NULL THEN 'node_archived' ELSE 'node_restored' END;
    IF EXISTS (SELECT 1 FROM crm.event_participants p JOIN crm.events e ON e.id = p.event_id
                WHERE p.node_id = p_node_id AND e.event_type = v_type AND e.recorded_at = now()) THEN
        RETURN NULL;
    END IF;
    INSERT INTO crm.events (id, event_type, occurred_at, summary, properties, actor_system)
    VALUES (v_id, v_type, now(),
            format('%s %s %s', CASE v_type WHEN 'node_archived' THEN 'Archived' ELSE 'Restored' END,
                   v_node.node_type, v_node.label),
            jsonb_build_object('reason', p_reason),
            coalesce(crm_private.actor_of(p_role)::text, session_user::text));
    INSERT INTO crm.event_participants (event_id, node_id, role) VALUES (v_id, p_node_id, 'subject');
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm_private.log_node_change(uuid, text, name) IS
    'Logs node_archived/node_restored for an archive or restore made in this transaction (verified against the node, never forged).';
