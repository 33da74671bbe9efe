-- crm_private.login_user(p_role) — the CRM user mapped to a login role (or NULL).
-- SECURITY DEFINER so that identity resolution does not depend on the caller's view of
-- crm.logins (whose own policy needs the identity: no recursion). Reveals only the mapping
-- of the role asked about.
CREATE OR REPLACE FUNCTION crm_private.login_user(p_role name)
RETURNS uuid
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    SELECT l.user_id
      FROM crm.logins l
      JOIN crm.nodes u ON u.id = l.user_id AND u.archived_at IS NULL
     WHERE l.login_role = p_role
$$;

COMMENT ON FUNCTION crm_private.login_user(name) IS
    'The live CRM user node mapped to a PostgreSQL role in crm.logins, or NULL.';
