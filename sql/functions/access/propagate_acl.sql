-- crm_private.propagate_acl(p_node_ids) — copy the nodes' current acl onto every row that
-- carries a copy: edges (source_acl/target_acl), assertions about them, artifacts attached to
-- them, their event_participants rows, the search chunks cut from their own text (ticket
-- descriptions: crm.chunks without event_id) — then refresh the acl of the affected events
-- (which copies the events' acl onto their chunks).
-- Caller must be in ACL maintenance (recompute_acl). Set-based; rows already equal are
-- not rewritten. The accounts concerned (the nodes themselves, or their owned_by parents) are
-- recorded in crm_private.changed_accounts.
CREATE OR REPLACE FUNCTION crm_private.propagate_acl(p_node_ids uuid[])
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_prev    text := coalesce(current_setting('crm.acl_maintenance', true), 'off');
    v_events uuid[];
BEGIN
    PERFORM set_config('crm.acl_maintenance', 'on', true);
    UPDATE crm.edges e SET source_acl = n.acl
      FROM crm.nodes n
     WHERE n.id = ANY (p_node_ids) AND e.source_id = n.id AND e.source_acl IS DISTINCT FROM n.acl;
    UPDATE crm.edges e SET target_acl = n.acl
      FROM crm.nodes n
     WHERE n.id = ANY (p_node_ids) AND e.target_id = n.id AND e.target_acl IS DISTINCT FROM n.acl;
    UPDATE crm.assertions a SET acl = n.acl
      FROM crm.nodes n
     WHERE n.id = ANY (p_node_ids) AND a.subject_node_id = n.id AND a.acl IS DISTINCT FROM n.acl;
    UPDATE crm.artifacts a SET acl = n.acl
      FROM crm.nodes n
     WHERE n.id = ANY (p_node_ids) AND a.node_id = n.id AND a.acl IS DISTINCT FROM n.acl;
    UPDATE crm.chunks c SET acl = x.acl
      FROM (SELECT k.id, crm_private.chunk_acl_of(NULL, k.node_id) AS acl
              FROM crm.chunks k WHERE k.node_id = ANY (p_node_ids) AND k.event_id IS NULL) x
     WHERE c.id = x.id AND c.acl IS DISTINCT FROM x.acl;
    WITH upd AS (
        UPDATE crm.event_participants p SET acl = n.acl
          FROM crm.nodes n
         WHERE n.id = ANY (p_node_ids) AND p.node_id = n.id AND p.acl IS DISTINCT FROM n.acl
        RETURNING p.event_id)
    SELECT array_agg(DISTINCT event_id) INTO v_events FROM upd;
    IF v_events IS NOT NULL THEN
        PERFORM crm_private.refresh_event_acl(v_events);
    END IF;
    -- the stored Account 360 rows of these accounts are no longer served (accounts_360_stored)
    INSERT INTO crm_private.changed_accounts (account_id, changed_at)
    SELECT DISTINCT x.account_id, now()
      FROM (SELECT n.id AS account_id FROM crm.nodes n WHERE n.id = ANY (p_node_ids) AND n.node_type = 'org'
            UNION ALL
            SELECT e.target_id FROM crm.edges e
             WHERE e.source_id = ANY (p_node_ids) AND e.edge_type = 'owned_by' AND e.archived_at IS NULL) x;
    PERFORM set_config('crm.acl_maintenance', v_prev, true);
END;
$$;

COMMENT ON FUNCTION crm_private.propagate_acl(uuid[]) IS
    'Copies the nodes'' acl onto their edges, assertions, artifacts, event participants and description chunks, then refreshes the affected events'' acl.';
