-- crm_private.acting_user(p_role) — the user p_role acts for in this transaction, or NULL.
-- Guarantees: non-NULL only when crm.act_as_user holds a user id and crm.act_as_token holds
-- the proof crm.act_as computed for exactly (p_role, that user, this backend, this
-- transaction) — a setting copied from an earlier transaction, planted at session level by
-- a previous client of a pooled connection, or set by anyone without calling crm.act_as is
-- ignored — and p_role is a trusted role (crm_private.role_trusted) in crm_service that does
-- not have crm_admin's privileges (any more).
-- Answers only about the calling session's own settings.
CREATE OR REPLACE FUNCTION crm_private.acting_user(p_role name)
RETURNS uuid
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_user  text := pg_catalog.current_setting('crm.act_as_user', true);
    v_token text := pg_catalog.current_setting('crm.act_as_token', true);
BEGIN
    IF v_user IS NULL OR v_user = '' OR v_token IS NULL OR v_token = ''
       OR NOT pg_catalog.pg_input_is_valid(v_user, 'uuid')
       OR NOT crm_private.role_trusted(p_role)
       OR NOT pg_catalog.pg_has_role(p_role, 'crm_service', 'USAGE')
       -- a role with crm_admin's privileges never acts (crm.act_as refuses it; one that gained
       -- them after act_as — a membership granted mid-transaction — stops acting: admins read
       -- through policies of their own, and "acting" must mean exactly the user's rows)
       OR pg_catalog.pg_has_role(p_role, 'crm_admin', 'USAGE') THEN
        RETURN NULL;
    END IF;
    IF v_token = crm_private.act_as_mac(p_role, v_user::uuid) THEN
        RETURN v_user::uuid;
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.acting_user(name) IS
    'The user a crm_service role acts for in this transaction (valid crm.act_as proof), else NULL.';
