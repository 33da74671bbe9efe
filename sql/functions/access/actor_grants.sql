-- crm_private.actor_grants() — the current actor's grants (see grants_of); used in policies as
-- (select crm_private.actor_grants()), once per statement.
CREATE OR REPLACE FUNCTION crm_private.actor_grants()
RETURNS jsonb
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (crm_private.caller_identity(current_user)).grants
$$;

COMMENT ON FUNCTION crm_private.actor_grants() IS
    'The live access grants that apply to the current actor (directly or through its teams).';
