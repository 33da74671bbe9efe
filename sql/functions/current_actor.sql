-- crm.current_actor() — the CRM user this statement runs as, or NULL.
-- Guarantees:
-- * a role that is a member of crm_service and called crm.act_as(user) IN THIS TRANSACTION
--   acts as that user; the setting is bound to the transaction id, so it is gone in the
--   next transaction of a pooled connection even if someone used SET instead of act_as;
-- * otherwise the user mapped to current_user in crm.logins;
-- * any other role setting crm.act_as_user gets nothing from it (spoofing does not work);
-- * no identity → NULL (such a session sees nothing restricted).
CREATE OR REPLACE FUNCTION crm.current_actor()
RETURNS uuid
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
SET search_path = ''
AS $$
DECLARE
    v_user text := current_setting('crm.act_as_user', true);
    v_xid  text;
BEGIN
    IF v_user IS NOT NULL AND v_user <> ''
       AND pg_catalog.pg_has_role(current_user, 'crm_service', 'MEMBER') THEN
        v_xid := current_setting('crm.act_as_xid', true);
        IF v_xid IS NOT NULL AND v_xid = pg_catalog.pg_current_xact_id_if_assigned()::text THEN
            RETURN v_user::uuid;
        END IF;
    END IF;
    RETURN crm_private.login_user(current_user);
END;
$$;

COMMENT ON FUNCTION crm.current_actor() IS
$c$The CRM user (user node id) the current statement acts as: the user a crm_service role chose with crm.act_as() in this transaction, else the user mapped to the login role in crm.logins, else NULL (no identity: nothing restricted is visible). Example: SELECT crm.current_actor();$c$;
