-- crm.set_contact_info(p_person_id, p_info) — how to reach a person now (seed 001 §2.3
-- contact_info assertion).
-- Guarantees: the person exists and is live; p_info is a non-empty object whose keys are
-- among phone, email, address, preferred_contact (22023 names unknown keys); when
-- preferred_contact is given it names one of the other keys; a new contact_info assertion
-- supersedes the current one, keeping history.
CREATE OR REPLACE FUNCTION crm.set_contact_info(p_person_id uuid, p_info jsonb)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_person record;
    v_bad    text;
BEGIN
    SELECT n.node_type, n.archived_at INTO v_person FROM crm.nodes n WHERE n.id = p_person_id;
    IF NOT FOUND OR v_person.node_type <> 'person' THEN
        RAISE EXCEPTION 'person % does not exist', p_person_id USING ERRCODE = 'P0002';
    END IF;
    IF v_person.archived_at IS NOT NULL THEN
        RAISE EXCEPTION 'person % is archived', p_person_id USING ERRCODE = 'CR020';
    END IF;
    IF p_info IS NULL OR jsonb_typeof(p_info) <> 'object' OR p_info = '{}'::jsonb THEN
        RAISE EXCEPTION 'p_info must be a non-empty JSON object' USING ERRCODE = '22023',
            HINT = 'keys: phone, email, address, preferred_contact';
    END IF;
    SELECT string_agg(k, ', ' ORDER BY k) INTO v_bad
      FROM jsonb_object_keys(p_info) AS k
     WHERE k NOT IN ('phone', 'email', 'address', 'preferred_contact');
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'unknown contact_info keys: %', v_bad USING ERRCODE = '22023',
            HINT = 'keys: phone, email, address, preferred_contact';
    END IF;
    IF p_info ? 'preferred_contact' AND jsonb_typeof(p_info -> 'preferred_contact') <> 'null'
       AND (p_info ->> 'preferred_contact') NOT IN ('phone', 'email', 'address') THEN
        RAISE EXCEPTION 'preferred_contact must be phone, email or address' USING ERRCODE = '22023';
    END IF;
    RETURN crm.supersede_assertion(NULL, 'contact_info', p_person_id, NULL, p_info, NULL, 1.0);
END;
$$;

COMMENT ON FUNCTION crm.set_contact_info(uuid, jsonb) IS
$c$Record how to reach a person as a new contact_info assertion {phone, email, address, preferred_contact} superseding the current one (history kept); returns the assertion id. Errors: P0002 unknown person, CR020 archived, 22023 empty/unknown keys or bad preferred_contact, CR013 wrong JSON types. Example: SELECT crm.set_contact_info('<person uuid>', '{"email":"ana@acme.example","phone":"+49 30 1234","preferred_contact":"email"}');$c$;
