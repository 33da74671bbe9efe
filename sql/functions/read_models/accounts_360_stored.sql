-- crm_private.accounts_360_stored(p_role) — the stored Account 360 rows p_role may be shown
-- as they are: exactly the rows whose aggregates equal what crm.accounts_360_live computes
-- for p_role (the caller's current_user, passed by crm.accounts_360; trusted only when the
-- session may become it).
-- Guarantees: an admin role not acting for a user gets every stored row (it sees every
-- child) but those of accounts changed since the row was stored (crm_private.changed_accounts:
-- an incremental reconciliation touched them); any other role only the rows of live accounts it sees through the account's acl
-- (its principals overlap it), whose acl — and whose children's and events' acl
-- (crm_private.changed_accounts) — has not changed since the row was stored, and whose
-- counted children are all visible to everyone who sees the account that way (uniform) —
-- the same children its row-level security would let it count; its duplicate_candidates count
-- only the pairs whose other account it can see. Everything else the caller
-- can see is left to the live computation. SECURITY DEFINER: the materialized view is granted
-- to nobody; the acl overlap uses the GIN index on nodes.acl.
CREATE OR REPLACE FUNCTION crm_private.accounts_360_stored(p_role name)
RETURNS SETOF crm_private.accounts_360_mv
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
        -- every stored row but those of accounts changed since (an incremental batch)
        RETURN QUERY SELECT b.* FROM crm_private.accounts_360_mv b
                      WHERE NOT EXISTS (SELECT 1 FROM crm_private.changed_accounts c
                                         WHERE c.account_id = b.account_id AND c.changed_at >= b.as_of);
        RETURN;
    END IF;
    v_principals := crm_private.caller_principals(p_role);
    IF cardinality(v_principals) = 0 THEN
        RETURN;
    END IF;
    v_grants := crm_private.grants_of(v_principals);
    -- duplicate candidates: only the pairs whose other account the caller can see
    RETURN QUERY
        SELECT r.*
          FROM crm.nodes a
          JOIN crm_private.accounts_360_mv b ON b.account_id = a.id
         CROSS JOIN LATERAL jsonb_populate_record(b, jsonb_build_object(
                    'duplicate_candidates', crm_private.visible_among(b.duplicate_others, v_principals, v_grants))) AS r
         WHERE a.node_type = 'org' AND a.archived_at IS NULL
           AND a.acl && v_principals
           AND b.uniform AND b.account_acl = a.acl
           AND NOT EXISTS (SELECT 1 FROM crm_private.changed_accounts c
                            WHERE c.account_id = a.id AND c.changed_at >= b.as_of);
END;
$$;

COMMENT ON FUNCTION crm_private.accounts_360_stored(name) IS
    'Stored Account 360 rows equal to the live computation for the caller role: all for admins; for others the accounts seen through their acl, unchanged since stored, with every counted child visible (uniform).';
