-- crm.unmap_login(p_login) — remove a login mapping (the role then has no CRM identity).
-- Returns false when the role was not mapped. Admin only (42501). Logged as login_unmapped.
CREATE OR REPLACE FUNCTION crm.unmap_login(p_login name)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_user uuid;
BEGIN
    PERFORM crm_private.require_admin('unmap logins');
    DELETE FROM crm.logins l WHERE l.login_role = p_login RETURNING l.user_id INTO v_user;
    IF v_user IS NULL THEN
        RETURN false;
    END IF;
    PERFORM crm_private.log_access_event('login_unmapped', format('Login %s unmapped', p_login),
                                         jsonb_build_object('login_role', p_login), ARRAY[v_user], current_user);
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm.unmap_login(name) IS
$c$Remove the mapping of a login role to its CRM user. Admin only. Returns false if it was not mapped. Example: SELECT crm.unmap_login('ada');$c$;
