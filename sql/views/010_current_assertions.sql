-- crm.current_assertions — the current claim per (subject, assertion_type, assertion_key).
CREATE OR REPLACE VIEW crm.current_assertions
WITH (security_invoker = true) AS
SELECT a.id, a.assertion_type, a.subject_node_id, a.subject_edge_id, a.assertion_key,
       a.claim, a.confidence, a.asserted_at, a.source_event_id
  FROM crm.assertions a
 WHERE a.superseded_at IS NULL;

COMMENT ON VIEW crm.current_assertions IS
    'Current assertions only (superseded_at IS NULL): exactly one per (subject, assertion_type, assertion_key).';
COMMENT ON COLUMN crm.current_assertions.id IS 'The assertion id';
COMMENT ON COLUMN crm.current_assertions.assertion_type IS 'Type of the claim (crm.assertion_types: ticket_status, deal_stage, deal_value, contact_info, ...)';
COMMENT ON COLUMN crm.current_assertions.subject_node_id IS 'The node the claim is about (NULL for a claim about an edge)';
COMMENT ON COLUMN crm.current_assertions.subject_edge_id IS 'The edge the claim is about (NULL for a claim about a node)';
COMMENT ON COLUMN crm.current_assertions.assertion_key IS 'Distinguishes several current claims of one type about one subject ('''' for the single one)';
COMMENT ON COLUMN crm.current_assertions.claim IS 'The claim, a JSON object shaped by crm.assertion_types.claim_properties. Generic by design; the flat analytics views (crm.tickets, crm.invoices, crm.contracts, crm.opportunities, crm.contacts_directory) carry each current-state claim as typed columns';
COMMENT ON COLUMN crm.current_assertions.confidence IS 'Confidence of the claim, 0..1';
COMMENT ON COLUMN crm.current_assertions.asserted_at IS 'When the claim was recorded';
COMMENT ON COLUMN crm.current_assertions.source_event_id IS 'The event the claim came from (e.g. the stage_change), when there is one';
