-- crm_private.quality_items_all(p_from, p_to) — every open data-quality issue per account:
-- orphans, identity mismatches and duplicate candidates detected in [p_from, p_to) (NULL
-- bounds = unbounded), with the raw evidence. A duplicate pair yields one row for each of
-- its two accounts (evidence.partner_account_id: the other one). crm360's own full view (the account-quality snapshot of
-- crm.refresh_account_views); EXECUTE for crm_owner only — callers use
-- crm_private.quality_items(p_from, p_to, current_user).
CREATE OR REPLACE FUNCTION crm_private.quality_items_all(p_from timestamptz DEFAULT NULL, p_to timestamptz DEFAULT NULL)
RETURNS TABLE (kind text, account_id uuid, detected_at timestamptz, source text, evidence jsonb)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH items AS (
        SELECT 'orphan'::text AS kind, o.account_id, o.detected_at, o.source, o.evidence FROM crm.orphans o
        UNION ALL
        SELECT 'identity_mismatch', m.account_id, m.detected_at, m.source, m.evidence FROM crm.identity_mismatches m
        UNION ALL
        SELECT 'duplicate_candidate', x.account_id, d.detected_at, d.source,
               d.evidence || jsonb_build_object('partner_account_id', x.partner_id)
          FROM crm.duplicate_candidates d       -- evaluated once, a row for each of the two accounts
          CROSS JOIN LATERAL (VALUES (d.account_id, d.other_account_id),
                                     (d.other_account_id, d.account_id)) AS x (account_id, partner_id)
    )
    SELECT i.kind, i.account_id, i.detected_at, i.source, i.evidence
      FROM items i
     WHERE (p_from IS NULL OR i.detected_at >= p_from)
       AND (p_to IS NULL OR i.detected_at < p_to)
$$;

COMMENT ON FUNCTION crm_private.quality_items_all(timestamptz, timestamptz) IS
    'Every data-quality issue (orphan, identity_mismatch, duplicate_candidate) per account detected in a time window, with evidence; crm360-internal.';
