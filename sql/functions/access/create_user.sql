-- crm.create_user(p_name, p_email, p_login) — a CRM user (an employee who signs in).
-- Guarantees: one live user per email (case-insensitive; 23505 otherwise); when p_login is
-- given the PostgreSQL role is mapped to the user (crm.map_login) in the same transaction.
-- Admin only (42501): users and logins decide who sees what.
CREATE OR REPLACE FUNCTION crm.create_user(p_name text, p_email text DEFAULT NULL, p_login name DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id    uuid;
    v_email text := lower(nullif(btrim(p_email), ''));
BEGIN
    PERFORM crm_private.require_admin('create users');
    IF p_name IS NULL OR btrim(p_name) = '' THEN
        RAISE EXCEPTION 'p_name is required' USING ERRCODE = '22023';
    END IF;
    IF v_email IS NOT NULL AND v_email !~ '^[^@\s]+@[^@\s]+$' THEN
        RAISE EXCEPTION 'invalid email "%"', p_email USING ERRCODE = '22023';
    END IF;
    INSERT INTO crm.nodes (node_type, label, properties, external_id, external_source)
    VALUES ('user', btrim(p_name),
            jsonb_strip_nulls(jsonb_build_object('name', btrim(p_name), 'email', v_email, 'login', p_login)),
            coalesce(v_email, gen_random_uuid()::text), 'crm360_user')
    RETURNING id INTO v_id;
    IF p_login IS NOT NULL THEN
        PERFORM crm.map_login(p_login, v_id);
    END IF;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm.create_user(text, text, name) IS
$c$Create a CRM user node (and map a PostgreSQL login role to it when p_login is given). Admin only. Errors: 42501 not admin, 22023 bad name/email, 23505 a live user with that email exists, P0002 login role does not exist. Example: SELECT crm.create_user('Ada Lovelace', 'ada@example.com', 'ada');$c$;
