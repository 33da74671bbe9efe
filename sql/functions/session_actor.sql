-- crm_private.session_actor() — the CRM user of this SESSION's login (session_user), for code
-- running as the owner (SECURITY DEFINER), where current_user is the owner.
-- Same rules as crm.current_actor(): a session_user in crm_service that called crm.act_as in
-- this transaction acts as that user; otherwise the user mapped to session_user; else NULL.
-- It can only ever name the caller's own identity, so definer code may rely on it.
CREATE OR REPLACE FUNCTION crm_private.session_actor()
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_user text := current_setting('crm.act_as_user', true);
BEGIN
    IF v_user IS NOT NULL AND v_user <> ''
       AND pg_catalog.pg_has_role(session_user, 'crm_service', 'MEMBER')
       AND current_setting('crm.act_as_xid', true) = pg_catalog.pg_current_xact_id_if_assigned()::text THEN
        RETURN v_user::uuid;
    END IF;
    RETURN crm_private.login_user(session_user);
END;
$$;

COMMENT ON FUNCTION crm_private.session_actor() IS
    'The CRM user of the session''s login (session_user) with the act_as rules of crm.current_actor(); for SECURITY DEFINER code, where current_user is the owner.';
