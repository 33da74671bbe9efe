-- crm.log_note(...) — log a free-form note (seed 001 §2.4 event type note).
-- Guarantees: the body is not blank and is stored as a note artifact of the event
-- (properties.body_ref = its id, plus category when given); the summary is the body's first
-- 200 characters; every participant gets role 'subject'; validation as in
-- crm.log_crm_activity.
CREATE OR REPLACE FUNCTION crm.log_note(
    p_body            text,
    p_participant_ids uuid[],
    p_category        text DEFAULT NULL,
    p_occurred_at     timestamptz DEFAULT now(),
    p_actor           text DEFAULT NULL
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_event    uuid;
    v_body_ref uuid := gen_random_uuid();
BEGIN
    IF p_body IS NULL OR btrim(p_body) = '' THEN
        RAISE EXCEPTION 'p_body must not be blank' USING ERRCODE = '22023';
    END IF;
    v_event := crm.log_crm_activity(
        'note', left(btrim(p_body), 200),
        jsonb_strip_nulls(jsonb_build_object('category', nullif(btrim(p_category), ''), 'body_ref', v_body_ref)),
        p_actor, p_participant_ids,
        array_fill('subject'::text, ARRAY[coalesce(cardinality(p_participant_ids), 0)]),
        p_occurred_at);
    PERFORM crm_private.attach_event_body(v_body_ref, v_event, 'note', left(btrim(p_body), 200), p_body);
    RETURN v_event;
END;
$$;

COMMENT ON FUNCTION crm.log_note(text, uuid[], text, timestamptz, text) IS
$c$Log a free-form note about one or more nodes (event type note, properties category/body_ref); the body is stored as a note artifact of the event. Every participant gets role subject. Returns the event id. Errors: 22023 blank body or empty participants; P0002 unknown participant. Example: SELECT crm.log_note('Prefers email after 5pm', ARRAY['<person uuid>']::uuid[], 'preference');$c$;
