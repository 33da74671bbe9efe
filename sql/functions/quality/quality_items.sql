-- crm_private.quality_items(p_from, p_to, p_role) — open data-quality issues per account, for
-- p_role (the caller's current_user, trusted only when the session may become it): orphans, identity mismatches and duplicate candidates detected in
-- [p_from, p_to) (NULL bounds = unbounded). A duplicate pair yields one row for each of its two
-- accounts. Admin and connector sessions get every row with its evidence; other sessions only
-- rows about accounts they can see (crm_private.visible_node_ids), without the raw evidence
-- (which may quote source payloads) — orphans have no account, so members never see them,
-- and a duplicate pair only when they can see both accounts (as crm.duplicate_candidates
-- shows them: that an account has a look-alike they cannot see is not theirs to know).
-- An admin or connector role acting for a user through crm.act_as is that user here.
-- SECURITY DEFINER because crm.orphans / crm.identity_mismatches read crm_raw; the rows come
-- from crm_private.quality_items_all (crm360's own, full view).
CREATE OR REPLACE FUNCTION crm_private.quality_items(p_from timestamptz, p_to timestamptz, p_role name)
RETURNS TABLE (kind text, account_id uuid, detected_at timestamptz, source text, evidence jsonb)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_full boolean := crm_private.role_is_operator(p_role);
BEGIN
    RETURN QUERY
    WITH vis AS MATERIALIZED (
        SELECT v.id FROM crm_private.visible_node_ids('org', p_role) AS v(id) WHERE NOT v_full
    )
    SELECT i.kind, i.account_id, i.detected_at, i.source, CASE WHEN v_full THEN i.evidence END
      FROM crm_private.quality_items_all(p_from, p_to) i
     WHERE v_full
        OR (i.account_id IN (SELECT vis.id FROM vis)
            AND (i.kind <> 'duplicate_candidate'
                 OR (i.evidence ->> 'partner_account_id')::uuid IN (SELECT vis.id FROM vis)));
END;
$$;

COMMENT ON FUNCTION crm_private.quality_items(timestamptz, timestamptz, name) IS
    'Data-quality issues (orphan, identity_mismatch, duplicate_candidate) per account detected in a time window; full rows for admin/connector sessions, visible accounts without evidence for others.';
