-- crm_private.event_recorded_by(p_event_id) — who recorded an event (events.recorded_by),
-- read regardless of the event's visibility: the recorder may add participants to a new
-- event that nobody can see yet. Reveals nothing but that id.
CREATE OR REPLACE FUNCTION crm_private.event_recorded_by(p_event_id uuid)
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT e.recorded_by FROM crm.events e WHERE e.id = p_event_id
$$;

COMMENT ON FUNCTION crm_private.event_recorded_by(uuid) IS
    'The CRM user who recorded the event (used by the event_participants insert policy).';
