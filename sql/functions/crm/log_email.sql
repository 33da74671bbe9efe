-- crm.log_email(...) — log an email (seed 001 §2.4 event type email).
-- Guarantees: direction is inbound or outbound; the event has properties subject,
-- direction and body_ref; a given body is stored as an email_body artifact attached to the
-- event (body_ref = its id); every participant gets role 'participant' (use
-- crm.log_crm_activity for finer roles); validation as in crm.log_crm_activity.
CREATE OR REPLACE FUNCTION crm.log_email(
    p_subject         text,
    p_direction       text,
    p_participant_ids uuid[],
    p_body            text DEFAULT NULL,
    p_occurred_at     timestamptz DEFAULT now(),
    p_actor           text DEFAULT NULL
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_event    uuid;
    v_body_ref uuid := CASE WHEN btrim(p_body) <> '' THEN gen_random_uuid() END;
BEGIN
    IF p_subject IS NULL OR btrim(p_subject) = '' THEN
        RAISE EXCEPTION 'p_subject must not be blank' USING ERRCODE = '22023';
    END IF;
    IF p_direction IS NULL OR p_direction NOT IN ('inbound', 'outbound') THEN
        RAISE EXCEPTION 'p_direction must be inbound or outbound, got %', coalesce(p_direction, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    v_event := crm.log_crm_activity(
        'email', btrim(p_subject),
        jsonb_strip_nulls(jsonb_build_object('subject', btrim(p_subject), 'direction', p_direction,
                                             'body_ref', v_body_ref)),
        p_actor, p_participant_ids,
        array_fill('participant'::text, ARRAY[coalesce(cardinality(p_participant_ids), 0)]),
        p_occurred_at);
    PERFORM crm_private.attach_event_body(v_body_ref, v_event, 'email_body', btrim(p_subject), p_body);
    RETURN v_event;
END;
$$;

COMMENT ON FUNCTION crm.log_email(text, text, uuid[], text, timestamptz, text) IS
$c$Log an email (event type email, properties subject/direction/body_ref); the body, when given, is stored as an email_body artifact of the event. Every participant gets role participant. Returns the event id. Errors: 22023 blank subject, direction not inbound/outbound, empty participants; P0002 unknown participant. Example: SELECT crm.log_email('Pricing follow-up', 'outbound', ARRAY['<person uuid>','<opp uuid>']::uuid[], 'Hi Ana, ...');$c$;
