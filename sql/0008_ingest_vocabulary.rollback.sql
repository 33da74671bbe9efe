-- Undo 0008: removes the ingestion event types and error codes (when no row uses them) and
-- the PL-SFDC pipeline when nothing refers to it (crm.nodes refuses DELETE except for an
-- owner purge).
SET LOCAL lock_timeout = '5s';
SET LOCAL crm.purge = 'on';
DELETE FROM crm.nodes p
 WHERE p.node_type = 'pipeline' AND p.external_source = 'internal' AND p.external_id = 'PL-SFDC'
   AND NOT EXISTS (SELECT 1 FROM crm.edges e WHERE p.id IN (e.source_id, e.target_id))
   AND NOT EXISTS (SELECT 1 FROM crm.event_participants ep WHERE ep.node_id = p.id)
   AND NOT EXISTS (SELECT 1 FROM crm.assertions a WHERE a.subject_node_id = p.id)
   AND NOT EXISTS (SELECT 1 FROM crm.artifacts r WHERE r.node_id = p.id)
   AND NOT EXISTS (SELECT 1 FROM crm.nodes c WHERE c.claimed_by = p.id);
SET LOCAL crm.purge = 'off';

DELETE FROM crm.error_codes WHERE sqlstate IN ('CR040', 'CR041', 'CR042');
DELETE FROM crm.event_types t
 WHERE t.event_type IN ('opportunity_created', 'ticket_opened', 'ticket_status_changed', 'ticket_solved',
                        'ticket_comment', 'contract_signed', 'contract_renewed', 'contract_expired',
                        'contract_terminated', 'invoice_issued', 'invoice_paid', 'invoice_voided', 'nodes_merged')
   AND NOT EXISTS (SELECT 1 FROM crm.events e WHERE e.event_type = t.event_type);
