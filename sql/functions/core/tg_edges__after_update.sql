-- crm_private.tg_edges__after_update() — AFTER UPDATE (statement) on crm.edges.
-- Guarantees: ending or archiving (or restoring) an owned_by edge recomputes the child's ACL
-- in the same transaction (re-parenting); ending a member_of edge is logged as
-- membership_removed. SECURITY DEFINER (a trigger function cannot be called directly): the
-- audit events describe the rows the statement changed; the actor is the session login's user.
CREATE OR REPLACE FUNCTION crm_private.tg_edges__after_update()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
-- transition tables carry no statistics: never let old_rows x new_rows become a nested loop
SET enable_nestloop = off
AS $$
DECLARE
    v_ids uuid[];
BEGIN
    SELECT array_agg(DISTINCT n.source_id) INTO v_ids
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.edge_type = 'owned_by'
       AND (n.archived_at IS DISTINCT FROM o.archived_at OR n.effective_to IS DISTINCT FROM o.effective_to);
    IF v_ids IS NOT NULL THEN
        PERFORM crm_private.recompute_acl(v_ids);
        -- the account a child left no longer counts it: its stored Account 360 row (which
        -- does) is not served any more (crm_private.accounts_360_stored)
        INSERT INTO crm_private.changed_accounts (account_id, changed_at)
        SELECT DISTINCT n.target_id, now()
          FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE n.edge_type = 'owned_by'
           AND (n.archived_at IS DISTINCT FROM o.archived_at OR n.effective_to IS DISTINCT FROM o.effective_to);
    END IF;
    -- (member_of edges are changed by admins and crm360 only: see tg_edges__after_insert)
    IF NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.edge_type = 'member_of') THEN
        RETURN NULL;
    END IF;
    PERFORM crm_private.log_access_event('membership_removed',
                format('%s left %s', m.label, t.label),
                jsonb_build_object('member', n.source_id, 'team', n.target_id, 'edge_id', n.id),
                ARRAY[n.source_id, n.target_id], session_user)
       FROM new_rows n
       JOIN old_rows o ON o.id = n.id
       JOIN crm.nodes m ON m.id = n.source_id
       JOIN crm.nodes t ON t.id = n.target_id
      WHERE n.edge_type = 'member_of'
        AND ((o.effective_to IS NULL AND n.effective_to IS NOT NULL)
             OR (o.archived_at IS NULL AND n.archived_at IS NOT NULL));
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_edges__after_update() IS
    'Trigger: recomputes ACLs when owned_by edges end/are archived; logs ended team memberships.';

CREATE OR REPLACE TRIGGER tg_edges__after_update
    AFTER UPDATE ON crm.edges
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_edges__after_update();
