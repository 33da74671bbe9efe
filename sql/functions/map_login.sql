-- crm.map_login(p_login, p_user_id) — a PostgreSQL login role IS this CRM user from now on.
-- Guarantees: the role exists (P0002), the user is a live user node (P0002); re-mapping a
-- role moves it; logged as login_mapped. Admin only (42501).
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

COMMENT ON FUNCTION crm.map_login(name, uuid) IS
$c$Map a PostgreSQL login role to a CRM user: connecting as that role (psql, BI tool) is acting as that user. Admin only. Errors: 42501 not admin, P0002 unknown role or user. Example: SELECT crm.map_login('ada', '<user uuid>');$c$;
