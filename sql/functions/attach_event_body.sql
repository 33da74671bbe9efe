-- crm_private.attach_event_body(p_artifact_id, p_event_id, p_artifact_type, p_title, p_body)
-- — store the text of an activity as an artifact of its event.
-- Guarantees: nothing happens for a NULL p_artifact_id or a blank body; otherwise one
-- artifact row with the given id (the caller put it in the event's properties.body_ref
-- before inserting the event, so events are never updated) and the sha256 of the body in
-- content_hash.
CREATE OR REPLACE FUNCTION crm_private.attach_event_body(
    p_artifact_id   uuid,
    p_event_id      uuid,
    p_artifact_type text,
    p_title         text,
    p_body          text
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF p_artifact_id IS NULL OR p_body IS NULL OR btrim(p_body) = '' THEN
        RETURN NULL;
    END IF;
    INSERT INTO crm.artifacts (id, artifact_type, event_id, title, body, mime_type, content_hash)
    VALUES (p_artifact_id, p_artifact_type, p_event_id, p_title, p_body, 'text/plain',
            encode(sha256(convert_to(p_body, 'UTF8')), 'hex'));
    RETURN p_artifact_id;
END;
$$;

COMMENT ON FUNCTION crm_private.attach_event_body(uuid, uuid, text, text, text) IS
$c$Internal: store an activity's text as an artifact (given id) of its event; no-op for a blank body or NULL id.$c$;
