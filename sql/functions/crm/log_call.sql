-- crm.log_call(...) — log a phone call (seed 001 §2.4 event type phone_call).
-- Guarantees: direction is inbound or outbound; duration (seconds) is >= 0 when given; the
-- event has properties direction, duration, outcome (and body_ref when notes are given:
-- stored as a call_notes artifact of the event); every participant gets role
-- 'participant'; validation as in crm.log_crm_activity.
CREATE OR REPLACE FUNCTION crm.log_call(
    p_direction        text,
    p_participant_ids  uuid[],
    p_duration_seconds integer DEFAULT NULL,
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
    v_summary  text;
BEGIN
    IF p_direction IS NULL OR p_direction NOT IN ('inbound', 'outbound') THEN
        RAISE EXCEPTION 'p_direction must be inbound or outbound, got %', coalesce(p_direction, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF p_duration_seconds < 0 THEN
        RAISE EXCEPTION 'p_duration_seconds must be >= 0' USING ERRCODE = '22023';
    END IF;
    v_summary := format('%s call', initcap(p_direction)) || coalesce(': ' || nullif(btrim(p_outcome), ''), '');
    v_event := crm.log_crm_activity(
        'phone_call', v_summary,
        jsonb_strip_nulls(jsonb_build_object('direction', p_direction, 'duration', p_duration_seconds,
                                             'outcome', nullif(btrim(p_outcome), ''), 'body_ref', v_body_ref)),
        p_actor, p_participant_ids,
        array_fill('participant'::text, ARRAY[coalesce(cardinality(p_participant_ids), 0)]),
        p_occurred_at);
    PERFORM crm_private.attach_event_body(v_body_ref, v_event, 'call_notes', v_summary, p_notes);
    RETURN v_event;
END;
$$;

COMMENT ON FUNCTION crm.log_call(text, uuid[], integer, text, text, timestamptz, text) IS
$c$Log a phone call (event type phone_call, properties direction/duration in seconds/outcome/body_ref); notes, when given, are stored as a call_notes artifact of the event. Every participant gets role participant. Returns the event id. Errors: 22023 direction not inbound/outbound, negative duration, empty participants; P0002 unknown participant. Example: SELECT crm.log_call('outbound', ARRAY['<person uuid>']::uuid[], 900, 'demo booked', 'Wants SSO');$c$;
