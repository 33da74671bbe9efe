-- crm_private.actor_is_admin() — whether the caller sees and writes every row.
-- True for superusers and members of crm_admin (the migration owner is one). Used in every
-- policy as (select crm_private.actor_is_admin()) so it runs once per statement.
CREATE OR REPLACE FUNCTION crm_private.actor_is_admin()
RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT pg_catalog.pg_has_role(current_user, 'crm_admin', 'MEMBER')
$$;

COMMENT ON FUNCTION crm_private.actor_is_admin() IS
    'True when the current role is a superuser or a member of crm_admin: all rows are visible and writable through the policies.';
