-- crm.log_meeting(...) — log a meeting (seed 001 §2.4 event type meeting).
-- Guarantees: the title is not blank; duration (minutes) is >= 0 when given; the event has
-- properties title, location, duration, outcome (and body_ref when notes are given: stored
-- as a meeting_notes artifact of the event); every participant gets role 'attendee';
-- validation as in crm.log_crm_activity.
CREATE OR REPLACE FUNCTION crm.log_meeting(
    p_title            text,
    p_participant_ids  uuid[],
    p_location         text DEFAULT NULL,
    p_duration_minutes integer DEFAULT NULL,
    p_outcome          text DEFAULT NULL,
    p_notes            text DEFAULT NULL,
    p_occurred_at      timestamptz DEFAULT now(),
    p_actor            text DEFAULT NULL
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_event    uuid;
    v_body_ref uuid := CASE WHEN btrim(p_notes) <> '' THEN gen_random_uuid() END;
BEGIN
    IF p_title IS NULL OR btrim(p_title) = '' THEN
        RAISE EXCEPTION 'p_title must not be blank' USING ERRCODE = '22023';
    END IF;
    IF p_duration_minutes < 0 THEN
        RAISE EXCEPTION 'p_duration_minutes must be >= 0' USING ERRCODE = '22023';
    END IF;
    v_event := crm.log_crm_activity(
        'meeting', btrim(p_title),
        jsonb_strip_nulls(jsonb_build_object('title', btrim(p_title), 'location', nullif(btrim(p_location), ''),
                                             'duration', p_duration_minutes,
                                             'outcome', nullif(btrim(p_outcome), ''), 'body_ref', v_body_ref)),
        p_actor, p_participant_ids,
        array_fill('attendee'::text, ARRAY[coalesce(cardinality(p_participant_ids), 0)]),
        p_occurred_at);
    PERFORM crm_private.attach_event_body(v_body_ref, v_event, 'meeting_notes', btrim(p_title), p_notes);
    RETURN v_event;
END;
$$;

COMMENT ON FUNCTION crm.log_meeting(text, uuid[], text, integer, text, text, timestamptz, text) IS
$c$Log a meeting (event type meeting, properties title/location/duration in minutes/outcome/body_ref); notes, when given, are stored as a meeting_notes artifact of the event. Every participant gets role attendee. Returns the event id. Errors: 22023 blank title, negative duration, empty participants; P0002 unknown participant. Example: SELECT crm.log_meeting('QBR', ARRAY['<person uuid>','<org uuid>']::uuid[], 'Berlin office', 60, 'renewal agreed', 'Notes ...');$c$;
