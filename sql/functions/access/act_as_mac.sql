-- crm_private.act_as_mac(p_role, p_user) — the proof that crm.act_as(p_user) was called by
-- p_role in THIS transaction of THIS backend.
-- Guarantees: a keyed hash (sha256 over crm_private.instance_secret, which only crm_owner can
-- read) of the role, the user, the backend pid and the transaction's start time
-- (transaction_timestamp(), as a number: independent of TimeZone/DateStyle). Nobody without
-- the secret can compute it for another transaction, so a value planted with
-- set_config(..., false) in one transaction is worthless in the next one — and nothing
-- here needs a transaction id, so it works in read-only transactions and on a hot standby.
-- Internal: EXECUTE for crm_owner only (crm_private.act_as_token and acting_user call it).
CREATE OR REPLACE FUNCTION crm_private.act_as_mac(p_role name, p_user uuid)
RETURNS text
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
               s.secret || '/' || p_role || '/' || p_user::text || '/' || pg_catalog.pg_backend_pid()::text || '/'
               || EXTRACT(epoch FROM pg_catalog.transaction_timestamp())::text, 'UTF8')), 'hex')
      FROM crm_private.instance_secret s
$$;

COMMENT ON FUNCTION crm_private.act_as_mac(name, uuid) IS
    'Keyed hash binding an act_as identity to (role, user, backend, transaction start); internal.';
