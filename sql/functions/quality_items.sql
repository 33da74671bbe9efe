-- crm_private.quality_items(p_from, p_to) — open data-quality issues per account, for the
-- session's user: orphans, identity mismatches and duplicate candidates detected in
-- [p_from, p_to) (NULL bounds = unbounded). A duplicate pair yields one row for each of its two
-- accounts. Admin and connector sessions get every row with its evidence; other sessions only
-- rows about accounts they can see (crm_private.visible_node_ids), without the raw evidence
-- (which may quote source payloads) — orphans have no account, so members never see them.
-- SECURITY DEFINER because crm.orphans / crm.identity_mismatches read crm_raw.
CREATE OR REPLACE FUNCTION crm_private.quality_items(p_from timestamptz DEFAULT NULL, p_to timestamptz DEFAULT NULL)
RETURNS TABLE (kind text, account_id uuid, detected_at timestamptz, source text, evidence jsonb)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    v_full boolean := pg_catalog.pg_has_role(session_user, 'crm_admin', 'MEMBER')
                      OR pg_catalog.pg_has_role(session_user, 'crm_connector', 'MEMBER');
BEGIN
    RETURN QUERY
    WITH items AS (
        SELECT 'orphan'::text AS kind, o.account_id, o.detected_at, o.source, o.evidence FROM crm.orphans o
        UNION ALL
        SELECT 'identity_mismatch', m.account_id, m.detected_at, m.source, m.evidence FROM crm.identity_mismatches m
        UNION ALL
        SELECT 'duplicate_candidate', d.account_id, d.detected_at, d.source, d.evidence FROM crm.duplicate_candidates d
        UNION ALL
        SELECT 'duplicate_candidate', d.other_account_id, d.detected_at, d.source, d.evidence FROM crm.duplicate_candidates d
    )
    SELECT i.kind, i.account_id, i.detected_at, i.source, CASE WHEN v_full THEN i.evidence END
      FROM items i
     WHERE (p_from IS NULL OR i.detected_at >= p_from)
       AND (p_to IS NULL OR i.detected_at < p_to)
       AND (v_full OR i.account_id IN (SELECT crm_private.visible_node_ids('org')));
END;
$$;

COMMENT ON FUNCTION crm_private.quality_items(timestamptz, timestamptz) IS
    'Data-quality issues (orphan, identity_mismatch, duplicate_candidate) per account detected in a time window; full rows for admin/connector sessions, visible accounts without evidence for others.';
