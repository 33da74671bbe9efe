-- crm_private.actor_is_admin() — whether the caller sees and writes every row.
-- True for superusers and roles with the privileges of crm_admin (crm_owner, running
-- crm360's SECURITY DEFINER code, is one) — unless the role is acting for a user through
-- crm.act_as in this transaction: then it is that user and sees exactly what the user sees,
-- in every table, view and function. Used in every policy as (select ...), once per
-- statement.
CREATE OR REPLACE FUNCTION crm_private.actor_is_admin()
RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.pg_has_role(current_user, 'crm_admin', 'USAGE')
       AND (coalesce(pg_catalog.current_setting('crm.act_as_user', true), '') = ''
            OR NOT (crm_private.caller_identity(current_user)).acting)
$$;

COMMENT ON FUNCTION crm_private.actor_is_admin() IS
    'True when the current role has crm_admin''s privileges (or is a superuser) and is not acting for a user: all rows are visible and writable through the policies.';
