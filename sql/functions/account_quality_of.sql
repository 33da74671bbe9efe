-- crm_private.account_quality_of(p_account_id, p_role) — the data-quality counts of one
-- account from the snapshot crm_private.account_quality (taken by crm.refresh_account_views),
-- and when. Only for an account p_role (the caller's current_user, trusted only when the
-- session may become it) can see — no row otherwise. SECURITY DEFINER: the snapshot lives in
-- crm_private, which is granted to nobody.
CREATE OR REPLACE FUNCTION crm_private.account_quality_of(p_account_id uuid, p_role name)
RETURNS TABLE (orphans bigint, identity_mismatches bigint, duplicate_candidates bigint, computed_at timestamptz)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
    SELECT q.orphans::bigint, q.identity_mismatches::bigint, q.duplicate_candidates::bigint, q.computed_at
      FROM crm_private.account_quality q
     WHERE q.account_id = p_account_id
       AND (crm_private.role_is_admin(p_role)
            OR EXISTS (SELECT 1 FROM crm.nodes n
                        WHERE n.id = p_account_id
                          AND (n.acl IS NULL
                               OR n.acl && crm_private.caller_principals(p_role)
                               OR crm_private.node_grant_match(crm_private.caller_grants(p_role), 'read',
                                                               n.node_type, n.attrs, n.acl))))
$$;

COMMENT ON FUNCTION crm_private.account_quality_of(uuid, name) IS
    'Data-quality counts of one account as of the last crm.refresh_account_views(), for a caller role that can see the account.';
