-- crm.log_crm_activity(...) — record an activity and who took part (seed 001 §5.3, corrected).
-- Guarantees: the event type is registered (CR010, by the events trigger); the participant
-- arrays are non-empty, of equal length and without NULLs or blank roles (22023); every
-- participant exists (P0002 naming the missing ids); participants are inserted set-based
-- and idempotently per (event, node, role) — duplicates in the arrays collapse. One
-- transaction: on any error nothing is recorded. Actor: the acting CRM user (crm.current_actor()), else the login role; p_actor may name another actor for admins only (for a writer, any other value is refused: 42501).
-- The work is crm_private.log_crm_activity_as's (SECURITY DEFINER: it checks the caller's
-- permission once and writes exactly what the caller may).
CREATE OR REPLACE FUNCTION crm.log_crm_activity(
    p_event_type        text,
    p_summary           text,
    p_properties        jsonb,
    p_actor             text,
    p_participant_ids   uuid[],
    p_participant_roles text[],
    p_occurred_at       timestamptz DEFAULT now()
)
RETURNS uuid
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.log_crm_activity_as(current_user, p_event_type, p_summary, p_properties, p_actor,
                                           p_participant_ids, p_participant_roles, p_occurred_at)
$$;

COMMENT ON FUNCTION crm.log_crm_activity(text, text, jsonb, text, uuid[], text[], timestamptz) IS
$c$Record an activity (email, phone_call, meeting, note, offer_sent, ...) with its participants and their roles; returns the event id. Guarantees: one transaction; participants set-based and unique per (event, node, role). Actor: the acting CRM user (crm.current_actor()), else the login role; p_actor may name another actor for admins only (for a writer, any other value is refused: 42501). Errors: 22023 empty/unequal/NULL participant arrays or bad properties, P0002 unknown participant ids (listed), CR010 unregistered event type. Example: SELECT crm.log_crm_activity('meeting', 'Kick-off', '{"location":"Zoom"}', NULL, ARRAY['<person uuid>','<opp uuid>']::uuid[], ARRAY['attendee','subject']);$c$;
