-- crm_private.caller_principals(p_role) — the principals (user + transitive teams) of the
-- user p_role acts as (crm_private.actor_of: '{}' for a role the session may not become).
-- SECURITY DEFINER (reads member_of edges without re-entering the edge policies); answers
-- only for the caller's own identity, so it is no oracle on other people's teams.
CREATE OR REPLACE FUNCTION crm_private.caller_principals(p_role name)
RETURNS uuid[]
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    SELECT (crm_private.caller_identity(p_role)).principals
$$;

COMMENT ON FUNCTION crm_private.caller_principals(name) IS
    'User id + transitive team ids of the user p_role acts as (only for a role the session may become).';
