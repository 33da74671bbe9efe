-- crm_private.tg_nodes__audit() — AFTER UPDATE (statement, transition tables) on crm.nodes,
-- for every statement that is not crm360's own (crm360's code logs what it does itself:
-- nodes_merged, node_archived by reconciliation, node_purged).
-- Guarantees: the audit events of the changes the statement really made, derived from the
-- old and new rows — node_archived / node_restored when archived_at was set / cleared
-- (reason: the setting crm.change_reason, which crm.archive_node / crm.restore_node set),
-- owner_released / owner_claimed when claimed_by changed (the previous and the new owner as
-- they were in the rows) — so no caller can log a change that did not happen. SECURITY
-- DEFINER (a trigger function cannot be called directly; these event types have write scope
-- system); the actor is the CRM user of the session's login (crm_private.actor_of
-- (session_user): a pooled service's act_as user), else the login.
CREATE OR REPLACE FUNCTION crm_private.tg_nodes__audit()
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
    v_actor  uuid := crm_private.actor_of(session_user);
    v_reason text := nullif(pg_catalog.current_setting('crm.change_reason', true), '');
BEGIN
    WITH changes AS MATERIALIZED (
        SELECT n.id, n.node_type, n.label, x.event_type, x.owner
          FROM new_rows n
          JOIN old_rows o ON o.id = n.id
         CROSS JOIN LATERAL (VALUES
             (CASE WHEN o.archived_at IS NULL AND n.archived_at IS NOT NULL THEN 'node_archived'
                   WHEN o.archived_at IS NOT NULL AND n.archived_at IS NULL THEN 'node_restored' END, NULL::uuid),
             (CASE WHEN o.claimed_by IS NOT NULL AND o.claimed_by IS DISTINCT FROM n.claimed_by THEN 'owner_released' END,
              o.claimed_by),
             (CASE WHEN n.claimed_by IS NOT NULL AND o.claimed_by IS DISTINCT FROM n.claimed_by THEN 'owner_claimed' END,
              n.claimed_by)) AS x(event_type, owner)
         WHERE x.event_type IS NOT NULL
    ), ev AS MATERIALIZED (
        SELECT crm_private.new_id() AS event_id, c.* FROM changes c
    ), ins AS (
        INSERT INTO crm.events (id, event_type, occurred_at, summary, properties, actor_system, recorded_by)
        SELECT ev.event_id, ev.event_type, now(),
               CASE ev.event_type
                   WHEN 'node_archived' THEN format('Archived %s %s', ev.node_type, ev.label)
                   WHEN 'node_restored' THEN format('Restored %s %s', ev.node_type, ev.label)
                   WHEN 'owner_claimed' THEN format('Claimed %s', ev.label)
                   ELSE format('Released %s', ev.label) END,
               CASE WHEN ev.event_type IN ('node_archived', 'node_restored')
                    THEN jsonb_strip_nulls(jsonb_build_object('reason', v_reason))
                    ELSE jsonb_build_object('owner', ev.owner) END,
               coalesce(v_actor::text, session_user::text), v_actor
          FROM ev
        RETURNING 1
    )
    INSERT INTO crm.event_participants (event_id, node_id, role)
    SELECT DISTINCT ev.event_id, x, 'subject'
      FROM ev CROSS JOIN LATERAL unnest(ARRAY[ev.id, ev.owner]) AS x
     WHERE x IS NOT NULL;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_nodes__audit() IS
    'Trigger: logs node_archived/node_restored and owner_claimed/owner_released for the changes a statement (not crm360''s own) made, derived from the old and new rows.';

CREATE OR REPLACE TRIGGER tg_nodes__audit
    AFTER UPDATE ON crm.nodes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_user <> 'crm_owner')
    EXECUTE FUNCTION crm_private.tg_nodes__audit();
