-- crm_private.tg_event_participants__after() — AFTER INSERT/UPDATE (statement) on
-- crm.event_participants. Guarantees: the acl of every event that gained (or moved) a
-- participant is recomputed in the same statement, so the event becomes visible exactly to
-- those who can see one of its access-checked participants.
CREATE OR REPLACE FUNCTION crm_private.tg_event_participants__after()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_events uuid[];
BEGIN
    IF crm_private.acl_maintenance() THEN
        RETURN NULL;
    END IF;
    SELECT array_agg(DISTINCT n.event_id) INTO v_events FROM new_rows n;
    IF v_events IS NOT NULL THEN
        PERFORM crm_private.refresh_event_acl(v_events);
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_event_participants__after() IS
    'Trigger: recomputes the acl of events whose participants were added or changed.';

-- skipped (WHEN) only for crm360's own statements (current_user crm_owner) in rc_apply's bulk
-- mode, which does this work set-based; every SECURITY DEFINER function pins crm.bulk_apply off,
-- so no caller's setting reaches crm_owner's code, and a caller's own statements never skip it
CREATE OR REPLACE TRIGGER tg_event_participants__after_insert
    AFTER INSERT ON crm.event_participants
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_user <> 'crm_owner' OR pg_catalog.current_setting('crm.bulk_apply', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION crm_private.tg_event_participants__after();
CREATE OR REPLACE TRIGGER tg_event_participants__after_update
    AFTER UPDATE ON crm.event_participants
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_event_participants__after();
