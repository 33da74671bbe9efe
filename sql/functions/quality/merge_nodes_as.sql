-- crm_private.merge_nodes_as(p_keep, p_drop, p_reason, p_role) — the work of crm.merge_nodes.
-- Guarantees, in one transaction: both nodes exist and have the same type (22023 otherwise,
-- P0002 unknown); the dropped node's live edges are re-created on the kept node (edges
-- between the two, and ones the keeper already has, are just archived); its event
-- participations move to the keeper (where the keeper already takes part in that role the
-- row stays on the dropped node); its current assertions the keeper lacks continue on the
-- keeper (copied, the dropped one superseded by the copy: one history chain); artifacts and
-- source links (crm.node_sources) move, so lookups by the dropped node's source ids find the
-- keeper; notes, tasks, open tags and segment memberships (the customer model) follow too; the dropped node is archived with a merged_into edge to the keeper (so
-- crm.resolve_node_id(old id) = keeper) and a nodes_merged event is logged. Idempotent:
-- merging again returns false. The search chunks of both follow (crm_private.refresh_chunks).
-- Who (p_role: the caller's current_user, passed by crm.merge_nodes; trusted only when the
-- session may become it): an admin (not acting for a user) merges any two customer-data nodes;
-- a connector only nodes that came from sources it is allowed (every crm.node_sources link of
-- both — so a ticketing connector cannot merge CRM accounts), 42501 otherwise. Only node types
-- with write scope member (customer data) can be merged: users, teams, pipelines, territories
-- and campaigns never (merging them would move team memberships and identities), 22023.
-- SECURITY DEFINER (as crm_owner); EXECUTE for crm_connector and crm_admin.
CREATE OR REPLACE FUNCTION crm_private.merge_nodes_as(p_keep uuid, p_drop uuid, p_reason text, p_role name)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_admin boolean;
    v_keep  record;
    v_drop  record;
    v_now   timestamptz := now();
    v_event uuid := crm_private.new_id();
BEGIN
    v_admin := crm_private.role_is_admin(p_role);
    IF NOT v_admin AND NOT crm_private.role_is_operator(p_role) THEN
        RAISE EXCEPTION 'only admins and connectors may merge nodes'
            USING ERRCODE = '42501', HINT = 'ask an admin (crm_admin) to merge the duplicates';
    END IF;
    IF p_keep IS NULL OR p_drop IS NULL OR p_keep = p_drop THEN
        RAISE EXCEPTION 'merge needs two different node ids' USING ERRCODE = '22023';
    END IF;
    SELECT n.id, n.node_type, n.label, n.archived_at INTO v_keep FROM crm.nodes n WHERE n.id = p_keep FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'node % does not exist', p_keep USING ERRCODE = 'P0002';
    END IF;
    SELECT n.id, n.node_type, n.label, n.archived_at INTO v_drop FROM crm.nodes n WHERE n.id = p_drop FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'node % does not exist', p_drop USING ERRCODE = 'P0002';
    END IF;
    IF v_keep.node_type <> v_drop.node_type THEN
        RAISE EXCEPTION 'cannot merge a % into a %', v_drop.node_type, v_keep.node_type
            USING ERRCODE = '22023', HINT = 'merge nodes of the same type';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM crm.node_types t WHERE t.node_type = v_keep.node_type AND t.write_scope = 'member') THEN
        RAISE EXCEPTION '% nodes cannot be merged', v_keep.node_type
            USING ERRCODE = '22023',
                  HINT = 'only customer data is merged; users, teams and pipelines are changed by an admin with their own functions';
    END IF;
    IF NOT v_admin AND (
           NOT EXISTS (SELECT 1 FROM crm.node_sources s WHERE s.node_id = p_keep)
        OR NOT EXISTS (SELECT 1 FROM crm.node_sources s WHERE s.node_id = p_drop)
        OR EXISTS (SELECT 1 FROM crm.node_sources s
                    WHERE s.node_id IN (p_keep, p_drop) AND NOT (s.source = ANY (crm_private.sources_of(p_role))))) THEN
        RAISE EXCEPTION 'a connector merges only nodes that came from the sources it is allowed'
            USING ERRCODE = '42501', HINT = 'ask an admin (crm_admin) to merge these nodes';
    END IF;
    IF EXISTS (SELECT 1 FROM crm.edges e WHERE e.source_id = p_drop AND e.target_id = p_keep
                  AND e.edge_type = 'merged_into' AND e.archived_at IS NULL) THEN
        RETURN false;
    END IF;
    IF v_keep.archived_at IS NOT NULL THEN
        RAISE EXCEPTION 'the node to keep (%) is archived', p_keep
            USING ERRCODE = 'CR020', HINT = 'keep a live node (crm.resolve_node_id gives the current one)';
    END IF;

    -- edges: re-create on the keeper what it does not have yet, archive the dropped node's ones
    -- (one statement: no temporary table, so nothing the caller prepared in its session is
    -- ever used by this SECURITY DEFINER function)
    WITH moved AS (
        UPDATE crm.edges e SET archived_at = v_now
         WHERE (e.source_id = p_drop OR e.target_id = p_drop) AND e.archived_at IS NULL AND e.effective_to IS NULL
        RETURNING e.id, e.edge_type,
                  CASE WHEN e.source_id = p_drop THEN p_keep ELSE e.source_id END AS source_id,
                  CASE WHEN e.target_id = p_drop THEN p_keep ELSE e.target_id END AS target_id,
                  e.properties, e.effective_from
    )
    INSERT INTO crm.edges (edge_type, source_id, target_id, properties, effective_from)
    SELECT DISTINCT ON (m.edge_type, m.source_id, m.target_id) m.edge_type, m.source_id, m.target_id, m.properties, m.effective_from
      FROM moved m
     WHERE m.source_id <> m.target_id
       AND NOT EXISTS (SELECT 1 FROM crm.nodes z WHERE z.id IN (m.source_id, m.target_id) AND z.archived_at IS NOT NULL)
       AND NOT (m.edge_type = 'owned_by' AND m.source_id = p_keep
                AND EXISTS (SELECT 1 FROM crm.edges o WHERE o.source_id = p_keep AND o.edge_type = 'owned_by'
                               AND o.archived_at IS NULL AND o.effective_to IS NULL))
       AND NOT EXISTS (SELECT 1 FROM crm.edges x WHERE x.edge_type = m.edge_type AND x.source_id = m.source_id
                          AND x.target_id = m.target_id AND x.archived_at IS NULL AND x.effective_to IS NULL)
     ORDER BY m.edge_type, m.source_id, m.target_id;

    -- events: the keeper takes the dropped node's place
    UPDATE crm.event_participants p SET node_id = p_keep
     WHERE p.node_id = p_drop
       AND NOT EXISTS (SELECT 1 FROM crm.event_participants k
                        WHERE k.event_id = p.event_id AND k.node_id = p_keep AND k.role = p.role);

    -- assertions: current claims the keeper lacks continue on the keeper (one statement)
    WITH m AS MATERIALIZED (
        SELECT a.id AS old_id, crm_private.new_id() AS new_id FROM crm.assertions a
         WHERE a.subject_node_id = p_drop AND a.superseded_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM crm.assertions k WHERE k.subject_node_id = p_keep AND k.superseded_at IS NULL
                              AND k.assertion_type = a.assertion_type AND k.assertion_key = a.assertion_key)
    ), superseded AS (
        UPDATE crm.assertions a SET superseded_at = v_now, superseded_by = m.new_id
          FROM m WHERE a.id = m.old_id
        RETURNING a.id
    )
    INSERT INTO crm.assertions (id, assertion_type, subject_node_id, assertion_key, claim, confidence, asserted_at, source_event_id)
    SELECT m.new_id, a.assertion_type, p_keep, a.assertion_key, a.claim, a.confidence, v_now, a.source_event_id
      FROM m JOIN crm.assertions a ON a.id = m.old_id
      JOIN superseded s ON s.id = m.old_id;   -- (reads the update: it runs first)

    UPDATE crm.artifacts a SET node_id = p_keep WHERE a.node_id = p_drop;
    -- the customer model (issue 15): notes and tasks move to the keeper; the dropped node's open
    -- tags and segment memberships are closed on it and opened on the keeper where it lacks
    -- them (history kept on both; the tag/segment events say so)
    UPDATE crm.notes t SET anchor_id = p_keep WHERE t.anchor_id = p_drop;
    UPDATE crm.task_items t SET anchor_id = p_keep WHERE t.anchor_id = p_drop;
    WITH closed AS (
        UPDATE crm.node_tags t SET removed_at = v_now WHERE t.node_id = p_drop AND t.removed_at IS NULL
        RETURNING t.tag_id, t.added_by
    )
    INSERT INTO crm.node_tags (node_id, tag_id, added_at, added_by)
    SELECT p_keep, c.tag_id, v_now, c.added_by FROM closed c
     WHERE NOT EXISTS (SELECT 1 FROM crm.node_tags k WHERE k.node_id = p_keep AND k.tag_id = c.tag_id AND k.removed_at IS NULL);
    WITH closed AS (
        UPDATE crm.segment_memberships m SET left_at = v_now, left_reason = 'merged'
         WHERE m.node_id = p_drop AND m.left_at IS NULL
        RETURNING m.segment_id, m.entered_reason
    )
    INSERT INTO crm.segment_memberships (segment_id, node_id, entered_at, entered_reason)
    SELECT c.segment_id, p_keep, v_now, c.entered_reason FROM closed c
     WHERE NOT EXISTS (SELECT 1 FROM crm.segment_memberships k
                        WHERE k.segment_id = c.segment_id AND k.node_id = p_keep AND k.left_at IS NULL);
    UPDATE crm.node_sources s SET node_id = p_keep WHERE s.node_id = p_drop;
    UPDATE crm.nodes n SET claimed_by = p_keep WHERE n.claimed_by = p_drop;

    UPDATE crm.nodes n SET archived_at = coalesce(n.archived_at, v_now),
                           attrs = n.attrs || jsonb_build_object('merged_into', p_keep)
     WHERE n.id = p_drop;
    INSERT INTO crm.edges (edge_type, source_id, target_id, properties)
    VALUES ('merged_into', p_drop, p_keep, jsonb_strip_nulls(jsonb_build_object('reason', p_reason)));

    INSERT INTO crm.events (id, event_type, occurred_at, summary, properties, actor_system)
    VALUES (v_event, 'nodes_merged', v_now, format('Merged %s %s into %s', v_drop.node_type, v_drop.label, v_keep.label),
            jsonb_strip_nulls(jsonb_build_object('kept', p_keep, 'dropped', p_drop, 'reason', p_reason)),
            coalesce(crm_private.actor_of(p_role)::text, session_user::text));
    INSERT INTO crm.event_participants (event_id, node_id, role) VALUES (v_event, p_keep, 'subject'), (v_event, p_drop, 'merged');
    PERFORM crm_private.recompute_acl(ARRAY[p_keep, p_drop]);
    -- every read model may count either node: stale until refreshed
    PERFORM crm_private.mark_read_models_changed(NULL);
    -- search chunks follow their texts to the keeper (account_id, node_id)
    PERFORM crm_private.refresh_chunks(ARRAY[p_keep, p_drop]);
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm_private.merge_nodes_as(uuid, uuid, text, name) IS
    'The work of crm.merge_nodes (as crm_owner), for an admin, or a connector on nodes of its allowed sources; customer data only.';
