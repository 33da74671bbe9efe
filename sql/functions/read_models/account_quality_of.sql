-- crm_private.account_quality_of(p_account_id, p_role) — the data-quality counts of one
-- account from the snapshot crm_private.account_quality (taken by crm.refresh_account_views),
-- and when. Only for an account p_role (the caller's current_user, trusted only when the
-- session may become it) can see — no row otherwise; and the duplicate candidates only
-- count pairs whose other account p_role can see (a count of hidden look-alikes would tell
-- that a hidden account exists). Admins get every count. SECURITY DEFINER: the snapshot
-- lives in crm_private, which is granted to nobody.
CREATE OR REPLACE FUNCTION crm_private.account_quality_of(p_account_id uuid, p_role name)
RETURNS TABLE (orphans bigint, identity_mismatches bigint, duplicate_candidates bigint, computed_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_principals uuid[];
    v_grants     jsonb;
BEGIN
    IF crm_private.role_is_admin(p_role) THEN
        RETURN QUERY
        SELECT q.orphans::bigint, q.identity_mismatches::bigint, q.duplicate_candidates::bigint, q.computed_at
          FROM crm_private.account_quality q WHERE q.account_id = p_account_id;
        RETURN;
    END IF;
    v_principals := crm_private.caller_principals(p_role);
    v_grants := crm_private.grants_of(v_principals);
    RETURN QUERY
    SELECT q.orphans::bigint, q.identity_mismatches::bigint,
           crm_private.visible_among(q.duplicate_others, v_principals, v_grants)::bigint, q.computed_at
      FROM crm_private.account_quality q
     WHERE q.account_id = p_account_id
       AND crm_private.visible_among(ARRAY[p_account_id], v_principals, v_grants) = 1;
END;
$$;

COMMENT ON FUNCTION crm_private.account_quality_of(uuid, name) IS
    'Data-quality counts of one account as of the last crm.refresh_account_views(), for a caller role that can see the account (duplicate pairs only with accounts it can see).';
