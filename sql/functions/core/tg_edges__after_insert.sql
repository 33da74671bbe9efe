-- crm_private.tg_edges__after_insert() — AFTER INSERT (statement) on crm.edges.
-- Guarantees: children gaining an owned_by parent get their ACL recomputed in the same
-- transaction (inheritance); every new member_of edge is logged as membership_added.
-- SECURITY DEFINER (a trigger function cannot be called directly): the audit events describe
-- the rows the statement wrote; the actor is the CRM user of the session's login.
CREATE OR REPLACE FUNCTION crm_private.tg_edges__after_insert()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_ids uuid[];
BEGIN
    SELECT array_agg(DISTINCT n.source_id) INTO v_ids
      FROM new_rows n WHERE n.edge_type = 'owned_by' AND n.archived_at IS NULL AND n.effective_to IS NULL;
    IF v_ids IS NOT NULL THEN
        PERFORM crm_private.recompute_acl(v_ids);
    END IF;
    -- (member_of edges are written by admins and crm360 only: the EXECUTE check of the audit
    -- writer must not fire for a member's edges, hence the guard)
    IF NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.edge_type = 'member_of') THEN
        RETURN NULL;
    END IF;
    PERFORM crm_private.log_access_event('membership_added',
                format('%s joined %s', m.label, t.label),
                jsonb_build_object('member', n.source_id, 'team', n.target_id, 'edge_id', n.id),
                ARRAY[n.source_id, n.target_id], session_user)
       FROM new_rows n
       JOIN crm.nodes m ON m.id = n.source_id
       JOIN crm.nodes t ON t.id = n.target_id
      WHERE n.edge_type = 'member_of';
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_edges__after_insert() IS
    'Trigger: recomputes inherited ACLs for new owned_by edges; logs new team memberships.';

-- skipped (WHEN) only for crm360's own statements (current_user crm_owner) in rc_apply's bulk
-- mode, which does this work set-based; every SECURITY DEFINER function pins crm.bulk_apply off,
-- so no caller's setting reaches crm_owner's code, and a caller's own statements never skip it
CREATE OR REPLACE TRIGGER tg_edges__after_insert
    AFTER INSERT ON crm.edges
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_user <> 'crm_owner' OR pg_catalog.current_setting('crm.bulk_apply', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION crm_private.tg_edges__after_insert();
