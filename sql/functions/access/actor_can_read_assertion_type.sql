-- crm_private.actor_can_read_assertion_type(p_type) — may the caller read claims of this
-- assertion type? Admins: always; non-sensitive types: yes; sensitive types (deal_value,
-- negotiation_stance): only with an assertion grant covering the type (seed 001 §7.1
-- "role-based for sensitive data").
CREATE OR REPLACE FUNCTION crm_private.actor_can_read_assertion_type(p_type text)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.actor_is_admin()
        OR NOT coalesce((SELECT t.sensitive FROM crm.assertion_types t WHERE t.assertion_type = p_type), true)
        OR crm_private.type_grant_match(crm_private.actor_grants(), 'assertion', 'read', p_type)
$$;

COMMENT ON FUNCTION crm_private.actor_can_read_assertion_type(text) IS
    'True when the caller may read assertions of the type: admin, non-sensitive type, or a matching assertion grant.';
