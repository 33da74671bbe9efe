-- crm_private.role_is_admin(p_role) — crm_private.actor_is_admin() for a role passed in by
-- the caller (SECURITY DEFINER helpers, which cannot see the caller's current_user).
-- Guarantees: true only for a role the session may become (crm_private.role_trusted) that
-- has crm_admin's privileges and is not acting for a user in this transaction.
CREATE OR REPLACE FUNCTION crm_private.role_is_admin(p_role name)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.role_trusted(p_role)
       AND pg_catalog.pg_has_role(p_role, 'crm_admin', 'USAGE')
       AND crm_private.acting_user(p_role) IS NULL
$$;

COMMENT ON FUNCTION crm_private.role_is_admin(name) IS
    'True when the session may become p_role, p_role has crm_admin''s privileges and is not acting for a user.';
