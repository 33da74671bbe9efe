-- crm.map_login(p_login, p_user_id | p_user) — a PostgreSQL login role IS this CRM user from now on.
-- Guarantees: the role exists (P0002), the user is a live user node (P0002); re-mapping a
-- role moves it; logged as login_mapped. The text form takes the user's id or email: an
-- email names exactly one live user (case-insensitive; P0002 none, 21000 several — map by
-- id then), so a rep's login maps to the Salesforce user ingestion created for them.
-- Admin only (42501).
CREATE OR REPLACE FUNCTION crm.map_login(p_login name, p_user_id uuid)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_private.require_admin('map logins');
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = p_login) THEN
        RAISE EXCEPTION 'role "%" does not exist', p_login
            USING ERRCODE = 'P0002', HINT = 'CREATE ROLE ... LOGIN first, then GRANT crm_reader or crm_writer to it';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_user_id AND n.node_type = 'user' AND n.archived_at IS NULL) THEN
        RAISE EXCEPTION 'user % does not exist or is archived', p_user_id USING ERRCODE = 'P0002';
    END IF;
    INSERT INTO crm.logins (login_role, user_id) VALUES (p_login, p_user_id)
    ON CONFLICT (login_role) DO UPDATE SET user_id = EXCLUDED.user_id, created_at = now(), created_by = current_user;
    PERFORM crm_private.log_access_event('login_mapped', format('Login %s mapped', p_login),
                                         jsonb_build_object('login_role', p_login), ARRAY[p_user_id], current_user);
END;
$$;

CREATE OR REPLACE FUNCTION crm.map_login(p_login name, p_user text)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ids uuid[];
BEGIN
    PERFORM crm_private.require_admin('map logins');
    IF p_user IS NULL OR btrim(p_user) = '' THEN
        RAISE EXCEPTION 'the user to map is empty' USING ERRCODE = '22023', HINT = 'pass the user''s email or id';
    END IF;
    IF pg_input_is_valid(btrim(p_user), 'uuid') THEN
        PERFORM crm.map_login(p_login, btrim(p_user)::uuid);
        RETURN btrim(p_user)::uuid;
    END IF;
    SELECT array_agg(n.id ORDER BY n.created_at, n.id) INTO v_ids
      FROM crm.nodes n
     WHERE n.node_type = 'user' AND n.archived_at IS NULL
       AND lower(n.properties ->> 'email') = lower(btrim(p_user));
    IF v_ids IS NULL THEN
        RAISE EXCEPTION 'no live CRM user has the email "%"', btrim(p_user)
            USING ERRCODE = 'P0002',
                  HINT = 'ingest the CRM users first (crm360 ingest salesforce User ...), or create one: crm.create_user(name, email, login)';
    END IF;
    IF cardinality(v_ids) > 1 THEN
        RAISE EXCEPTION '% live CRM users have the email "%"', cardinality(v_ids), btrim(p_user)
            USING ERRCODE = '21000', DETAIL = 'users: ' || array_to_string(v_ids, ', '),
                  HINT = 'map by id: SELECT crm.map_login(login, ''<user uuid>''::uuid)';
    END IF;
    PERFORM crm.map_login(p_login, v_ids[1]);
    RETURN v_ids[1];
END;
$$;

COMMENT ON FUNCTION crm.map_login(name, uuid) IS
$c$Map a PostgreSQL login role to a CRM user: connecting as that role (psql, BI tool) is acting as that user. Admin only. Errors: 42501 not admin, P0002 unknown role or user. Example: SELECT crm.map_login('ada', '<user uuid>'::uuid);$c$;
COMMENT ON FUNCTION crm.map_login(name, text) IS
$c$Map a PostgreSQL login role to the CRM user with this email (or id, as text), e.g. the Salesforce user ingestion created for a rep; returns the user id. Admin only. Errors: 42501 not admin, 22023 empty, P0002 unknown role or no user with that email, 21000 several users share the email. Example: SELECT crm.map_login('ana', 'ana.silva@example.com');$c$;
