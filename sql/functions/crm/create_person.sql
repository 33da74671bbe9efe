-- crm.create_person(p_first_name, p_last_name, p_properties) — a new contact (seed 001 §2.1).
-- Guarantees: first and last name are not blank; the person gets a fresh CON code in
-- properties.code and as external_id with external_source 'internal'; p_properties (an
-- object) may add email, phone, title, ...; the names and code always win over it.
CREATE OR REPLACE FUNCTION crm.create_person(
    p_first_name text,
    p_last_name  text,
    p_properties jsonb DEFAULT '{}'
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_code text;
    v_id   uuid;
BEGIN
    IF p_first_name IS NULL OR btrim(p_first_name) = '' OR p_last_name IS NULL OR btrim(p_last_name) = '' THEN
        RAISE EXCEPTION 'first and last name must not be blank' USING ERRCODE = '22023';
    END IF;
    IF p_properties IS NOT NULL AND jsonb_typeof(p_properties) <> 'object' THEN
        RAISE EXCEPTION 'p_properties must be a JSON object' USING ERRCODE = '22023';
    END IF;
    v_code := crm.generate_crm_code('CON');
    INSERT INTO crm.nodes (node_type, label, properties, external_id, external_source)
    VALUES ('person', btrim(p_first_name) || ' ' || btrim(p_last_name),
            coalesce(p_properties, '{}')
              || jsonb_build_object('first_name', btrim(p_first_name), 'last_name', btrim(p_last_name),
                                    'code', v_code),
            v_code, 'internal')
    RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm.create_person(text, text, jsonb) IS
$c$Create a person (contact) with a CON code (properties.code and external_id/internal); p_properties may add email, phone, title, source, ... Returns the node id. Errors: 22023 blank name or properties not an object. Example: SELECT crm.create_person('Ana', 'Silva', '{"email":"ana@acme.example","title":"CTO"}');$c$;
