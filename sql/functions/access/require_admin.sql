-- crm_private.require_admin(p_what) — raise 42501 unless the caller is an admin.
CREATE OR REPLACE FUNCTION crm_private.require_admin(p_what text)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT crm_private.actor_is_admin() THEN
        RAISE EXCEPTION 'only admins may %', p_what
            USING ERRCODE = '42501', HINT = 'run this as a member of crm_admin';
    END IF;
END;
$$;

COMMENT ON FUNCTION crm_private.require_admin(text) IS
    'Raises 42501 ("only admins may ...") unless the current role is a member of crm_admin.';
