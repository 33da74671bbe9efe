-- crm_private.attach_event_body(p_artifact_id, p_event_id, p_artifact_type, p_title, p_body)
-- — store the text of an activity as an artifact of its event.
-- Guarantees: nothing happens for a NULL p_artifact_id (the caller's "there is a body" marker;
-- the name is historical: the artifact's id is the database's)
-- or a blank body; otherwise one artifact row with the sha256 of the body in content_hash,
-- and the event's properties.body_ref set to the artifact's id; the text is chunked for
-- search (crm_private.refresh_event_chunks). The id is assigned by the
-- database (callers never choose ids: a primary-key conflict would tell them a hidden row
-- exists). Returns the artifact id.
CREATE OR REPLACE FUNCTION crm_private.attach_event_body(
    p_artifact_id   uuid,
    p_event_id      uuid,
    p_artifact_type text,
    p_title         text,
    p_body          text
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id uuid;
BEGIN
    IF p_artifact_id IS NULL OR p_body IS NULL OR btrim(p_body) = '' THEN
        RETURN NULL;
    END IF;
    INSERT INTO crm.artifacts (artifact_type, event_id, title, body, mime_type, content_hash)
    VALUES (p_artifact_type, p_event_id, p_title, p_body, 'text/plain',
            encode(sha256(convert_to(p_body, 'UTF8')), 'hex'))
    RETURNING id INTO v_id;
    UPDATE crm.events e SET properties = e.properties || jsonb_build_object('body_ref', v_id)
     WHERE e.id = p_event_id;
    PERFORM crm_private.refresh_event_chunks(p_event_id, current_user);   -- searchable at once (docs/search.md)
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm_private.attach_event_body(uuid, uuid, text, text, text) IS
$c$Internal: store an activity's text as an artifact of its event and point the event's properties.body_ref at it; no-op for a blank body or NULL marker.$c$;
