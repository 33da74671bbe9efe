-- crm_private.role_is_operator(p_role) — may this role see operational detail (connector
-- errors, raw evidence of data-quality issues)? True for admins (crm_private.role_is_admin)
-- and for trusted roles with crm_connector's privileges that are not acting for a user.
CREATE OR REPLACE FUNCTION crm_private.role_is_operator(p_role name)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.role_trusted(p_role)
       AND (pg_catalog.pg_has_role(p_role, 'crm_admin', 'USAGE')
            OR pg_catalog.pg_has_role(p_role, 'crm_connector', 'USAGE'))
       AND crm_private.acting_user(p_role) IS NULL
$$;

COMMENT ON FUNCTION crm_private.role_is_operator(name) IS
    'True when the session may become p_role and p_role is an admin or a connector not acting for a user (sees connector errors and raw evidence).';
