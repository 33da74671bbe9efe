-- crm_private.caller_identity(p_role, p_store) — who p_role acts as in this statement: the
-- actor (crm.act_as proof, else login mapping), whether through act_as, its principals and
-- grants. The one place identity is resolved; crm.current_actor, actor_principals,
-- actor_grants, actor_is_admin, actor_of, caller_principals and caller_grants read it.
-- Guarantees:
-- * answers only for a role the session may become (crm_private.role_trusted, checked on
--   every call, never cached): anything else gets no identity;
-- * a cached identity is used only when it carries a valid keyed hash — a MAC over
--   crm_private.instance_secret (crm_owner-only) of: the role, session_user, the backend pid,
--   the statement's start (statement_timestamp(): the cache lives for one client statement —
--   one API call — so a change committed by another session applies at the next statement,
--   as it did before the cache, whoever primed it), the value of crm_private.identity_epoch
--   (0 until its first nextval: a fresh sequence's last_value is 1 both before and after
--   the first change), the act_as
--   settings (crm.act_as_user, crm.act_as_token) and the cached identity itself. A caller can
--   read and set the cache setting (crm.identity_cache) but cannot compute the MAC: a planted
--   or edited value, one from another transaction, backend, role or act_as state, or one
--   computed before a login, membership, user/team or grant change (the epoch moved) is
--   ignored and the identity is computed afresh. An acting identity is used only while the
--   role is still in crm_service and has not gained crm_admin's privileges;
-- * it is stored (set_config, transaction-local) only when p_store: callers of the write API
--   and crm.act_as prime it at the start of a call, in statements that never run in parallel
--   mode (set_config cannot); lookups from policies only read it. Without a valid cache the
--   result is computed exactly as before (acting_user, login_user, principals_of, grants_of);
-- * what a caller can learn from it is their own identity (as crm_private.caller_principals
--   always answered).
-- SECURITY DEFINER: reads the secret and the identity tables without re-entering policies.
CREATE OR REPLACE FUNCTION crm_private.caller_identity(p_role name, p_store boolean DEFAULT false)
RETURNS crm_private.identity
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_act_user  text;
    v_key       text;
    v_cached    text;
    v_payload   text;
    v_id        crm_private.identity;
BEGIN
    -- crm_private.role_trusted, inlined (this runs for every lookup)
    IF p_role IS NULL OR pg_catalog.to_regrole(pg_catalog.quote_ident(p_role)) IS NULL
       OR NOT pg_catalog.pg_has_role(session_user, p_role, 'SET') THEN
        RETURN ROW(NULL, false, '{}', '[]')::crm_private.identity;
    END IF;
    v_act_user := coalesce(pg_catalog.current_setting('crm.act_as_user', true), '');
    v_cached := pg_catalog.current_setting('crm.identity_cache', true);
    -- the key is needed only to check a cached value or to store one (a plain read with no
    -- cache — every statement of a psql or BI session — skips reading the secret and epoch)
    IF p_store OR length(v_cached) > 64 THEN
        SELECT s.secret || '/identity/' || p_role || '/' || session_user || '/' || pg_catalog.pg_backend_pid()::text
               || '/' || EXTRACT(epoch FROM pg_catalog.statement_timestamp())::text
               || '/' || (SELECT CASE WHEN e.is_called THEN e.last_value ELSE 0 END
                            FROM crm_private.identity_epoch e)::text
               || '/' || v_act_user || '/' || coalesce(pg_catalog.current_setting('crm.act_as_token', true), '') || '/'
          INTO v_key
          FROM crm_private.instance_secret s;
    END IF;
    IF length(v_cached) > 64 THEN
        v_payload := substr(v_cached, 65);
        -- the secret on both sides of the message (no length extension)
        IF left(v_cached, 64) = pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
               v_key || v_payload || v_key, 'UTF8')), 'hex') THEN
            v_id := v_payload::crm_private.identity;
            IF NOT v_id.acting OR (pg_catalog.pg_has_role(p_role, 'crm_service', 'USAGE')
                                   AND NOT pg_catalog.pg_has_role(p_role, 'crm_admin', 'USAGE')) THEN
                RETURN v_id;
            END IF;
        END IF;
    END IF;

    v_id.acting := false;
    IF v_act_user <> '' THEN
        v_id.actor := crm_private.acting_user(p_role);
        v_id.acting := v_id.actor IS NOT NULL;
    END IF;
    IF v_id.actor IS NULL THEN
        v_id.actor := crm_private.login_user(p_role);
    END IF;
    v_id.principals := crm_private.principals_of(v_id.actor);
    v_id.grants := crm_private.grants_of(v_id.principals);
    IF p_store THEN
        v_payload := v_id::text;
        PERFORM pg_catalog.set_config('crm.identity_cache',
            pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(v_key || v_payload || v_key, 'UTF8')), 'hex')
            || v_payload,
            true);
    END IF;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm_private.caller_identity(name, boolean) IS
    'The identity p_role acts as in this statement (actor, acting, principals, grants), from a statement-bound MAC-checked cache when valid; p_store primes the cache. Only for a role the session may become.';
