-- crm_private.log_claim_change(p_node_id, p_role) — the owner_claimed / owner_released event
-- of a claim change the caller has just made (crm.claim / crm.release).
-- Guarantees: writes nothing unless the node's row was written in this transaction
-- (updated_at = the transaction's start time, which crm_private.tg_nodes__validate sets on
-- every change) — so it can only describe a real change, never forge one; owner_claimed when
-- the node is now claimed by the user p_role acts as, owner_released when it is unclaimed
-- (the previous owner is taken from the node's last owner_claimed event, not from the
-- caller); one event per node and transaction. Runs as crm_owner (ownership events have
-- write scope 'system'); EXECUTE for crm_writer. Returns the event id, or NULL.
CREATE OR REPLACE FUNCTION crm_private.log_claim_change(p_node_id uuid, p_role name)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_actor uuid := crm_private.actor_of(p_role);
    v_node  record;
    v_type  text;
    v_owner uuid;
    v_id    uuid := gen_random_uuid();
BEGIN
    SELECT n.id, n.label, n.claimed_by, n.updated_at INTO v_node FROM crm.nodes n WHERE n.id = p_node_id;
    IF NOT FOUND OR v_node.updated_at <> now() THEN
        RETURN NULL;
    END IF;
    IF v_node.claimed_by IS NOT NULL AND v_node.claimed_by = v_actor THEN
        v_type := 'owner_claimed';
        v_owner := v_actor;
    ELSIF v_node.claimed_by IS NULL THEN
        v_type := 'owner_released';
        SELECT (e.properties ->> 'owner')::uuid INTO v_owner
          FROM crm.event_participants p JOIN crm.events e ON e.id = p.event_id
         WHERE p.node_id = p_node_id AND e.event_type = 'owner_claimed'
         ORDER BY e.occurred_at DESC LIMIT 1;
    ELSE
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM crm.event_participants p JOIN crm.events e ON e.id = p.event_id
                WHERE p.node_id = p_node_id AND e.event_type = v_type AND e.recorded_at = now()) THEN
        RETURN NULL;
    END IF;
    INSERT INTO crm.events (id, event_type, occurred_at, summary, properties, actor_system)
    VALUES (v_id, v_type, now(),
            format('%s %s', CASE v_type WHEN 'owner_claimed' THEN 'Claimed' ELSE 'Released' END, v_node.label),
            jsonb_strip_nulls(jsonb_build_object('owner', v_owner)),
            coalesce(v_actor::text, session_user::text));
    INSERT INTO crm.event_participants (event_id, node_id, role)
    SELECT DISTINCT v_id, x, 'subject' FROM unnest(ARRAY[p_node_id, v_owner]) AS x
     WHERE x IS NOT NULL AND EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = x);
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm_private.log_claim_change(uuid, name) IS
    'Logs owner_claimed/owner_released for a claim change made in this transaction (verified against the node, never forged).';
