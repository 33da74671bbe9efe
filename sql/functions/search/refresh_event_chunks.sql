-- crm_private.refresh_event_chunks(p_event_id, p_role) — bring the search chunks of one event's
-- texts in line right after crm360's write API stored them (crm_private.attach_event_body:
-- notes, calls, emails, meetings logged with crm.log_*), so they are searchable at once.
-- Guarantees: the work of crm_private.refresh_chunks(ARRAY[p_event_id]) — rebuilds from the
-- graph as it is, so it can change nothing the graph does not say — but only for an event
-- p_role may have written that text on: p_role (the caller's current_user, trusted only when
-- the session may become it) is an admin, or the event was recorded by the CRM user p_role
-- acts as (the rule of the events update policy and of attach_event_body). Anything else is a
-- no-op: rebuilding locks the event's row (the chunk trigger reads its source FOR SHARE), and a
-- writer must not hold the rows of other people's events and stall their writes, access changes
-- and reconciliation (review of issue 11, N1). Returns nothing (no oracle on events the caller
-- cannot see). SECURITY DEFINER (crm_owner writes crm.chunks); crm360's flags pinned off;
-- EXECUTE for crm_writer (the write API runs as the caller). NULL or an id that is not an
-- event → no-op.
CREATE OR REPLACE FUNCTION crm_private.refresh_event_chunks(p_event_id uuid, p_role name DEFAULT current_user)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_actor uuid;
BEGIN
    IF p_event_id IS NULL THEN
        RETURN;
    END IF;
    IF NOT crm_private.role_is_admin(p_role) THEN
        v_actor := (crm_private.caller_identity(p_role)).actor;
        IF v_actor IS NULL THEN
            RETURN;
        END IF;
    END IF;
    -- events only (not any node or account id a writer passes: no rebuild of another
    -- team's account on demand), and only the caller's own
    IF EXISTS (SELECT 1 FROM crm.events e WHERE e.id = p_event_id AND (v_actor IS NULL OR e.recorded_by = v_actor)) THEN
        PERFORM crm_private.refresh_chunks(ARRAY[p_event_id]);
    END IF;
END;
$$;

COMMENT ON FUNCTION crm_private.refresh_event_chunks(uuid, name) IS
    'Internal: rebuild the search chunks of one event''s texts (called by crm_private.attach_event_body), for an admin or the event''s recorder only. Example: SELECT crm_private.refresh_event_chunks(''<event uuid>'', current_user);';
