-- crm_private.is_system_role() — is the caller a system role (docs/customers.md "System
-- roles"): crm360's own code (current_user crm_owner, its SECURITY DEFINER functions) or a
-- role with crm_admin's privileges that is not acting for a user (the DBA, admin logins,
-- automation run as an admin login). Ordinary writers, services acting for a user and admins
-- acting for a user are not. Only system roles create, set or remove bot: tags (autoreply
-- control, CR052). Nothing a caller can set makes it true: crm.act_as proofs only ever make an
-- admin an ordinary user, never the reverse.
CREATE OR REPLACE FUNCTION crm_private.is_system_role()
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT current_user = 'crm_owner' OR crm_private.actor_is_admin()
$$;

COMMENT ON FUNCTION crm_private.is_system_role() IS
    'True for crm360''s own code and admins not acting for a user: the roles that may handle bot: system tags.';
