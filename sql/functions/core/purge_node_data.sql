-- crm_private.purge_node_data(p_node_id, p_reason, p_actor) — the work of crm.purge_node.
-- SECURITY DEFINER as the table owner with crm.purge = 'on' for this transaction: the only
-- context in which crm_private.tg_refuse_delete lets a DELETE through. Not granted to
-- anyone but crm_admin; crm.purge_node checks the caller first. The materialized read
-- models (which copy names, emails and labels) are refreshed in the same transaction, so
-- the erased data is gone from them too when the purge commits — not at the next refresh.
CREATE OR REPLACE FUNCTION crm_private.purge_node_data(p_node_id uuid, p_reason text, p_actor text)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_node    record;
    v_targets uuid[];
    v_events  uuid[];
    v_edges   uuid[];
BEGIN
    SELECT n.id, n.node_type INTO v_node FROM crm.nodes n WHERE n.id = p_node_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'node % does not exist', p_node_id USING ERRCODE = 'P0002';
    END IF;
    SELECT array_agg(DISTINCT x) INTO v_targets FROM (
        SELECT p_node_id AS x
        UNION
        SELECT e.target_id FROM crm.edges e JOIN crm.nodes c ON c.id = e.target_id
         WHERE e.source_id = p_node_id AND e.edge_type = 'has_channel' AND c.node_type = 'channel') t;

    PERFORM set_config('crm.purge', 'on', true);
    PERFORM set_config('crm.acl_maintenance', 'on', true);

    SELECT array_agg(DISTINCT p.event_id) INTO v_events FROM crm.event_participants p WHERE p.node_id = ANY (v_targets);
    SELECT array_agg(e.id) INTO v_edges FROM crm.edges e WHERE e.source_id = ANY (v_targets) OR e.target_id = ANY (v_targets);

    DELETE FROM crm.artifacts a WHERE a.node_id = ANY (v_targets) OR a.event_id = ANY (coalesce(v_events, '{}'));
    UPDATE crm.events e SET summary = '[erased]', properties = '{}' WHERE e.id = ANY (coalesce(v_events, '{}'));
    DELETE FROM crm.event_participants p WHERE p.node_id = ANY (v_targets);
    UPDATE crm.assertions a SET superseded_by = NULL
     WHERE a.superseded_by IN (SELECT b.id FROM crm.assertions b
                                WHERE b.subject_node_id = ANY (v_targets) OR b.subject_edge_id = ANY (coalesce(v_edges, '{}')));
    DELETE FROM crm.assertions a WHERE a.subject_node_id = ANY (v_targets) OR a.subject_edge_id = ANY (coalesce(v_edges, '{}'));
    DELETE FROM crm.edges e WHERE e.id = ANY (coalesce(v_edges, '{}'));
    DELETE FROM crm.logins l WHERE l.user_id = ANY (v_targets);
    UPDATE crm.nodes n SET claimed_by = NULL WHERE n.claimed_by = ANY (v_targets);
    UPDATE crm.events e SET recorded_by = NULL WHERE e.recorded_by = ANY (v_targets);
    PERFORM crm_private.purge_raw(v_targets);
    DELETE FROM crm.nodes n WHERE n.id = ANY (v_targets);
    IF v_events IS NOT NULL THEN
        PERFORM crm_private.refresh_event_acl(v_events);
    END IF;

    INSERT INTO crm.events (event_type, occurred_at, summary, properties, actor_system)
    VALUES ('node_purged', now(), format('Erased a %s (legal erasure)', v_node.node_type),
            jsonb_build_object('node_id', p_node_id, 'node_type', v_node.node_type, 'reason', p_reason,
                               'erased_nodes', cardinality(v_targets)), p_actor);
    PERFORM set_config('crm.purge', 'off', true);
    PERFORM set_config('crm.acl_maintenance', 'off', true);
    -- the erased data must not survive in a stored copy (contacts directory, opportunities,
    -- Account 360): refreshed now, in this transaction
    PERFORM crm.refresh_crm_views();
    PERFORM crm.refresh_account_views();
    RETURN cardinality(v_targets);
END;
$$;

COMMENT ON FUNCTION crm_private.purge_node_data(uuid, text, text) IS
    'Implementation of crm.purge_node (runs as owner with the purge flag); not callable by non-admins.';
