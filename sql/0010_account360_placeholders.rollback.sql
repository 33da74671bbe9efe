-- Undo 0010 (Account 360 placeholders). Event types are removed only while unused.
SET LOCAL lock_timeout = '5s';
DELETE FROM crm.event_types t
 WHERE t.event_type IN ('opportunity_created', 'ticket_opened', 'ticket_status_changed', 'ticket_solved',
                        'ticket_comment', 'contract_signed', 'contract_renewed', 'contract_expired',
                        'contract_terminated', 'invoice_issued', 'invoice_paid', 'invoice_voided')
   AND NOT EXISTS (SELECT 1 FROM crm.events e WHERE e.event_type = t.event_type);
DROP TABLE IF EXISTS crm.duplicate_candidates CASCADE;
DROP TABLE IF EXISTS crm.identity_mismatches CASCADE;
DROP TABLE IF EXISTS crm.orphans CASCADE;
DROP TABLE IF EXISTS crm_raw.source_schedules CASCADE;
DROP TABLE IF EXISTS crm_raw.sync_runs CASCADE;
