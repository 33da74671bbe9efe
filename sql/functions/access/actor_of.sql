-- crm_private.actor_of(p_role) — the CRM user a role acts as, for code that cannot see the
-- caller's current_user (SECURITY DEFINER helpers are passed it by the caller).
-- Guarantees: NULL unless the session may become p_role (crm_private.role_trusted) — so
-- nobody learns another login's mapping; otherwise the user p_role acts for through
-- crm.act_as in this very transaction (crm_private.acting_user), else the live user mapped to
-- p_role in crm.logins, else NULL. crm.current_actor() is actor_of(current_user). Resolved
-- by crm_private.caller_identity (once per transaction when primed).
CREATE OR REPLACE FUNCTION crm_private.actor_of(p_role name)
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    SELECT (crm_private.caller_identity(p_role)).actor
$$;

COMMENT ON FUNCTION crm_private.actor_of(name) IS
    'The CRM user p_role acts as (act_as in this transaction, else its login mapping), or NULL; only for a role the session may become.';
