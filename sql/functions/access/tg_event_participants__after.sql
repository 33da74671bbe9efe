-- crm_private.tg_event_participants__after() — AFTER INSERT/UPDATE (statement) on
-- crm.event_participants. Guarantees: what every event that gained (or moved) a participant
-- is about, and its acl, are recomputed in the same statement (crm_private.refresh_event_acl),
-- so the event becomes visible exactly to those who can see a node it is about. Skipped for
-- crm360's own statements that compute this themselves (reconciliation's bulk mode, ACL
-- maintenance: the WHEN clauses, evaluated as the statement's role). SECURITY DEFINER (a
-- trigger function cannot be called directly; the recomputation is crm360's).
CREATE OR REPLACE FUNCTION crm_private.tg_event_participants__after()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_events uuid[];
BEGIN
    SELECT array_agg(DISTINCT n.event_id) INTO v_events FROM new_rows n;
    IF v_events IS NOT NULL THEN
        PERFORM crm_private.refresh_event_acl(v_events);
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_event_participants__after() IS
    'Trigger: recomputes what events are about (and their acl) when their participants were added or changed.';

-- skipped only for crm360's own statements (current_user crm_owner) in reconciliation's bulk
-- mode or in ACL maintenance, which compute the same set-based; a caller's setting of those
-- flags never reaches crm_owner's code (every SECURITY DEFINER function pins them off)
CREATE OR REPLACE TRIGGER tg_event_participants__after_insert
    AFTER INSERT ON crm.event_participants
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_user <> 'crm_owner'
          OR (pg_catalog.current_setting('crm.bulk_apply', true) IS DISTINCT FROM 'on'
              AND pg_catalog.current_setting('crm.acl_maintenance', true) IS DISTINCT FROM 'on'))
    EXECUTE FUNCTION crm_private.tg_event_participants__after();
CREATE OR REPLACE TRIGGER tg_event_participants__after_update
    AFTER UPDATE ON crm.event_participants
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_user <> 'crm_owner'
          OR (pg_catalog.current_setting('crm.bulk_apply', true) IS DISTINCT FROM 'on'
              AND pg_catalog.current_setting('crm.acl_maintenance', true) IS DISTINCT FROM 'on'))
    EXECUTE FUNCTION crm_private.tg_event_participants__after();
