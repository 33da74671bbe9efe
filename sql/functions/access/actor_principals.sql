-- crm_private.actor_principals() — principals of crm.current_actor(): used by every policy as
-- (select crm_private.actor_principals()), i.e. computed once per statement, so membership
-- changes take effect at the next statement (crm_private.caller_identity: its cache is
-- invalidated by every identity change).
CREATE OR REPLACE FUNCTION crm_private.actor_principals()
RETURNS uuid[]
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (crm_private.caller_identity(current_user)).principals
$$;

COMMENT ON FUNCTION crm_private.actor_principals() IS
    'The current actor''s user id and transitive team ids (empty without identity).';
