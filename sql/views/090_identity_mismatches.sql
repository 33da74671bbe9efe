-- crm.identity_mismatches — cross-system identity drift, surfaced (seed 000: "the #1
-- operational pain"): (1) crm_id_vs_domain: the newest applied version of a record stores
-- a CRM account id that resolves to one account while its domain points (uniquely) to
-- another; (2) account_changed: a source record whose account changed between syncs
-- (its newest applied version resolved to a different account than the version before).
CREATE OR REPLACE VIEW crm.identity_mismatches
WITH (security_invoker = true) AS
WITH applied AS (
    SELECT r.id, r.source, r.object, r.external_id, r.account_id, r.match, r.applied_at,
           lag(r.account_id) OVER w AS previous_account_id,
           lag(r.id) OVER w AS previous_record_id,
           row_number() OVER (PARTITION BY r.source, r.object, r.external_id
                              ORDER BY r.source_updated_at DESC NULLS LAST, r.id DESC) AS rn_desc
      FROM crm_raw.records r
     WHERE r.status = 'applied' AND r.account_id IS NOT NULL AND r.external_id IS NOT NULL
       AND (r.reason IS NULL OR r.reason NOT LIKE 'superseded%')
    WINDOW w AS (PARTITION BY r.source, r.object, r.external_id ORDER BY r.source_updated_at NULLS FIRST, r.id)
)
SELECT a.account_id, a.applied_at AS detected_at, a.source, a.object, a.external_id,
       'crm_id_vs_domain' AS kind,
       jsonb_build_object('record_id', a.id, 'crm_id', a.match ->> 'crm_id',
                          'crm_account_id', a.match -> 'crm_account_id',
                          'domains', a.match -> 'domains', 'domain_account_id', a.match -> 'domain_account_id') AS evidence
  FROM applied a
 WHERE a.rn_desc = 1 AND a.match ? 'crm_account_id' AND a.match ? 'domain_account_id'
   AND a.match ->> 'crm_account_id' <> a.match ->> 'domain_account_id'
UNION ALL
SELECT a.account_id, a.applied_at, a.source, a.object, a.external_id,
       'account_changed',
       jsonb_build_object('record_id', a.id, 'previous_record_id', a.previous_record_id,
                          'previous_account_id', a.previous_account_id, 'account_id', a.account_id,
                          'match', a.match)
  FROM applied a
 WHERE a.rn_desc = 1 AND a.previous_account_id IS NOT NULL AND a.previous_account_id <> a.account_id;

COMMENT ON VIEW crm.identity_mismatches IS
    'Identity drift between systems, surfaced not guessed: crm_id_vs_domain (a record''s stored CRM id and its domain point to different accounts; the CRM id wins) and account_changed (a source record resolved to a different account than in the previous sync). Connectors and admins only (reads crm_raw).';
COMMENT ON COLUMN crm.identity_mismatches.account_id IS 'The account the record is attached to now';
COMMENT ON COLUMN crm.identity_mismatches.detected_at IS 'When the newest version was applied';
COMMENT ON COLUMN crm.identity_mismatches.kind IS 'crm_id_vs_domain or account_changed';
COMMENT ON COLUMN crm.identity_mismatches.evidence IS 'Record ids and the accounts each signal points to';
COMMENT ON COLUMN crm.identity_mismatches.source IS 'Source system of the record';
COMMENT ON COLUMN crm.identity_mismatches.object IS 'Source object of the record';
COMMENT ON COLUMN crm.identity_mismatches.external_id IS 'The record''s key in its source';
