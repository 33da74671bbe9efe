-- crm.current_actor() — the CRM user this statement runs as, or NULL.
-- Guarantees:
-- * a role that is a member of crm_service and called crm.act_as(user) IN THIS TRANSACTION
--   acts as that user; the proof is bound to the transaction (crm_private.act_as_mac), so
--   it is gone in the next transaction of a pooled connection even if someone copied the
--   settings with set_config(..., false) — and it works in read-only transactions and on a
--   hot standby (no transaction id involved);
-- * otherwise the user mapped to current_user in crm.logins;
-- * any role setting crm.act_as_user / crm.act_as_token itself gets nothing (spoofing does
--   not work);
-- * resolved once per transaction (crm_private.caller_identity: a MAC-checked cache bound
--   to the transaction, role, act_as state and identity epoch, primed by the write API);
-- * no identity → NULL (such a session sees nothing restricted). Inside crm360's own
--   SECURITY DEFINER code (current_user = crm_owner) it is NULL.
CREATE OR REPLACE FUNCTION crm.current_actor()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (crm_private.caller_identity(current_user)).actor
$$;

COMMENT ON FUNCTION crm.current_actor() IS
$c$The CRM user (user node id) the current statement acts as: the user a crm_service role chose with crm.act_as() in this transaction, else the user mapped to the login role in crm.logins, else NULL (no identity: nothing restricted is visible). Example: SELECT crm.current_actor();$c$;
