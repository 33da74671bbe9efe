-- crm_private.act_as_token(p_role, p_user) — validate an act_as request and return its proof.
-- Guarantees: p_role must be a role the session may become (crm_private.role_trusted), a
-- member of crm_service, and neither a superuser nor BYPASSRLS (row-level security would not
-- apply to it, so acting as a user would be a lie) — 42501 otherwise; p_user must be a live
-- user node (P0002). Returns crm_private.act_as_mac(p_role, p_user), which crm.act_as stores
-- transaction-locally. SECURITY DEFINER (reads the secret); EXECUTE for crm_service.
CREATE OR REPLACE FUNCTION crm_private.act_as_token(p_role name, p_user uuid)
RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_role record;
BEGIN
    SELECT r.rolsuper, r.rolbypassrls INTO v_role FROM pg_catalog.pg_roles r WHERE r.rolname = p_role;
    IF NOT FOUND OR NOT crm_private.role_trusted(p_role)
       OR NOT pg_catalog.pg_has_role(p_role, 'crm_service', 'USAGE') THEN
        RAISE EXCEPTION 'only a crm_service role may act for another user'
            USING ERRCODE = '42501',
                  HINT = 'map your login to a CRM user (crm.map_login) instead, or GRANT crm_service to the pooled service role';
    END IF;
    IF v_role.rolsuper OR v_role.rolbypassrls THEN
        RAISE EXCEPTION 'role % bypasses row-level security: acting as a user would not restrict what it sees', p_role
            USING ERRCODE = '42501',
                  HINT = 'SET LOCAL ROLE crm_service first (as crm360 account --as does), then call crm.act_as';
    END IF;
    IF p_user IS NULL OR NOT EXISTS (SELECT 1 FROM crm.nodes n
                                      WHERE n.id = p_user AND n.node_type = 'user' AND n.archived_at IS NULL) THEN
        RAISE EXCEPTION 'user % does not exist or is archived', p_user USING ERRCODE = 'P0002';
    END IF;
    RETURN crm_private.act_as_mac(p_role, p_user);
END;
$$;

COMMENT ON FUNCTION crm_private.act_as_token(name, uuid) IS
    'Validates an act_as request (trusted crm_service role that does not bypass RLS, live user) and returns its transaction-bound proof.';
