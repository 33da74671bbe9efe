-- crm_private.account_quality_of(p_account_id) — the data-quality counts of one account from
-- the snapshot crm_private.account_quality (taken by crm.refresh_account_views), and when.
-- Only for an account the session's user can see (no row otherwise). SECURITY DEFINER: the
-- snapshot lives in crm_private, which is granted to nobody.
CREATE OR REPLACE FUNCTION crm_private.account_quality_of(p_account_id uuid)
RETURNS TABLE (orphans bigint, identity_mismatches bigint, duplicate_candidates bigint, computed_at timestamptz)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT q.orphans::bigint, q.identity_mismatches::bigint, q.duplicate_candidates::bigint, q.computed_at
      FROM crm_private.account_quality q
     WHERE q.account_id = p_account_id
       AND (pg_catalog.pg_has_role(session_user, 'crm_admin', 'MEMBER')
            OR EXISTS (SELECT 1 FROM crm.nodes n
                        WHERE n.id = p_account_id
                          AND (n.acl IS NULL OR n.acl && crm_private.principals_of(crm_private.session_actor()))))
$$;

COMMENT ON FUNCTION crm_private.account_quality_of(uuid) IS
    'Data-quality counts of one account as of the last crm.refresh_account_views(), for a session that can see the account.';
