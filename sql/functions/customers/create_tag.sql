-- crm.create_tag(p_name, p_description, p_colour) — add a tag to the library (seed 002 Tags).
-- Guarantees: the name is trimmed, not blank, at most 64 characters and without commas
-- (22023); unique case-insensitively among live tags — creating an existing one returns it
-- unchanged (idempotent); bot: names are system tags that only system roles may create
-- (CR052, crm_private.is_system_role); the colour is #rrggbb (22023). Writers with a CRM
-- identity and admins. Returns the tag id.
CREATE OR REPLACE FUNCTION crm.create_tag(p_name text, p_description text DEFAULT NULL, p_colour text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_name text := btrim(p_name);
    v_id   uuid;
BEGIN
    IF v_name IS NULL OR v_name = '' OR length(v_name) > 64 OR v_name ~ '[[:cntrl:],]' THEN
        RAISE EXCEPTION 'invalid tag name %', coalesce(quote_literal(p_name), 'NULL')
            USING ERRCODE = '22023', HINT = '1-64 characters, no commas';
    END IF;
    IF p_colour IS NOT NULL AND lower(p_colour) !~ '^#[0-9a-f]{6}$' THEN
        RAISE EXCEPTION 'invalid colour %', p_colour USING ERRCODE = '22023', HINT = 'use #rrggbb';
    END IF;
    IF lower(v_name) LIKE 'bot:%' AND NOT crm_private.is_system_role() THEN
        RAISE EXCEPTION 'bot: tags are system tags' USING ERRCODE = 'CR052',
              HINT = 'only system roles (admins not acting for a user, crm360 itself) create them';
    END IF;
    SELECT t.id INTO v_id FROM crm.tags t WHERE lower(t.name) = lower(v_name) AND t.archived_at IS NULL;
    IF FOUND THEN
        RETURN v_id;
    END IF;
    INSERT INTO crm.tags (name, description, colour) VALUES (v_name, p_description, lower(p_colour))
    RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm.create_tag(text, text, text) IS
$c$Add a tag to the library (returns the existing one of the same name, case-insensitively). Names starting with bot: are system tags (autoreply control) only system roles create. Errors: 22023 bad name or colour, CR052 bot: tag by an ordinary role. Example: SELECT crm.create_tag('vip', 'Top accounts', '#ffaa00');$c$;
