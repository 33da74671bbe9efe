-- crm.create_org(p_name, p_properties) — a new organization (account; seed 001 §2.1).
-- Guarantees: the name is not blank; the org gets a fresh ORG code in properties.code and
-- as external_id with external_source 'internal'; p_properties (an object) may add
-- industry, website, domain, ...; name and code always win over it.
CREATE OR REPLACE FUNCTION crm.create_org(p_name text, p_properties jsonb DEFAULT '{}')
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_code text;
    v_id   uuid;
BEGIN
    IF p_name IS NULL OR btrim(p_name) = '' THEN
        RAISE EXCEPTION 'p_name must not be blank' USING ERRCODE = '22023';
    END IF;
    IF p_properties IS NOT NULL AND jsonb_typeof(p_properties) <> 'object' THEN
        RAISE EXCEPTION 'p_properties must be a JSON object' USING ERRCODE = '22023';
    END IF;
    v_code := crm.generate_crm_code('ORG');
    INSERT INTO crm.nodes (node_type, label, properties, external_id, external_source)
    VALUES ('org', btrim(p_name),
            coalesce(p_properties, '{}') || jsonb_build_object('name', btrim(p_name), 'code', v_code),
            v_code, 'internal')
    RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm.create_org(text, jsonb) IS
$c$Create an organization (account) with an ORG code (properties.code and external_id/internal); p_properties may add industry, website, domain, ... Returns the node id. Errors: 22023 blank name or properties not an object. Example: SELECT crm.create_org('Acme GmbH', '{"industry":"manufacturing","domain":"acme.example"}');$c$;
