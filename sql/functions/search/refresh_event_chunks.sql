-- crm_private.refresh_event_chunks(p_event_id, p_role) — bring the search chunks of one event's
-- texts in line right after crm360's write API stored them (crm_private.attach_event_body:
-- notes, calls, emails, meetings logged with crm.log_*), so they are searchable at once.
-- Guarantees: the work of crm_private.refresh_chunks(ARRAY[p_event_id]) — rebuilds from the
-- graph as it is, so it can change nothing the graph does not say — but only for an event
-- p_role may have written that text on: p_role (the caller's current_user, trusted only when
-- the session may become it) is an admin, or the events update policy would let p_role write
-- the event: a member event type, recorded by the CRM user p_role acts as, still visible to
-- them (or about nothing). Anything else is a
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
    v_admin boolean;
    v_id    crm_private.identity;
BEGIN
    IF p_event_id IS NULL THEN
        RETURN;
    END IF;
    v_admin := crm_private.role_is_admin(p_role);
    IF NOT v_admin THEN
        v_id := crm_private.caller_identity(p_role);
        IF v_id.actor IS NULL THEN
            RETURN;
        END IF;
    END IF;
    -- events only (not any node or account id a writer passes: no rebuild of another team's
    -- account on demand), and for a member only one the events update policy lets them write:
    -- a member type, recorded by them, and still visible to them (or about nothing) — not one
    -- of theirs that became hidden (third review, F2)
    IF EXISTS (SELECT 1 FROM crm.events e JOIN crm.event_types t ON t.event_type = e.event_type
                WHERE e.id = p_event_id
                  AND (v_admin
                       OR (t.write_scope = 'member' AND e.recorded_by = v_id.actor
                           AND (e.acl && v_id.principals OR e.about = '{}')))) THEN
        PERFORM crm_private.refresh_chunks(ARRAY[p_event_id]);
    END IF;
END;
$$;

COMMENT ON FUNCTION crm_private.refresh_event_chunks(uuid, name) IS
    'Internal: rebuild the search chunks of one event''s texts (called by crm_private.attach_event_body), for an admin or the event''s recorder only. Example: SELECT crm_private.refresh_event_chunks(''<event uuid>'', current_user);';
