-- crm.orphans — source records that could not be resolved to an account (kept, retried by
-- crm.reconcile_orphans): the newest orphan version per source record, with the evidence.
CREATE OR REPLACE VIEW crm.orphans
WITH (security_invoker = true) AS
SELECT DISTINCT ON (r.source, r.object, r.external_id)
       NULL::uuid                         AS account_id,
       coalesce(r.applied_at, r.received_at) AS detected_at,
       r.source,
       r.object,
       r.external_id,
       r.id                               AS record_id,
       r.reason,
       jsonb_build_object('reason', r.reason, 'match', r.match, 'run_id', r.run_id,
                          'received_at', r.received_at) AS evidence
  FROM crm_raw.records r
 WHERE r.status = 'orphan'
 ORDER BY r.source, r.object, r.external_id, r.source_updated_at DESC NULLS LAST, r.id DESC;

COMMENT ON VIEW crm.orphans IS
    'Source records that could not be resolved to an account (no known CRM id, no unique non-free-mail domain): one row per record (newest version) with the reason and match evidence. Retried by crm.reconcile_orphans(). Connectors and admins only (reads crm_raw).';
COMMENT ON COLUMN crm.orphans.account_id IS 'Always NULL: an orphan has no account yet (column shared with the other data-quality views)';
COMMENT ON COLUMN crm.orphans.detected_at IS 'When reconciliation last found the record unresolvable';
COMMENT ON COLUMN crm.orphans.evidence IS 'reason, match (CRM id tried, reference, domains and how many accounts they matched, free-mail domains ignored), run and receive time';
COMMENT ON COLUMN crm.orphans.source IS 'Source system (salesforce, zendesk, clm, stripe)';
COMMENT ON COLUMN crm.orphans.object IS 'Source object (tickets, invoices, ...)';
COMMENT ON COLUMN crm.orphans.external_id IS 'The record''s key in its source';
COMMENT ON COLUMN crm.orphans.record_id IS 'crm_raw.records id of the newest orphan version';
COMMENT ON COLUMN crm.orphans.reason IS 'Why no account could be resolved';
