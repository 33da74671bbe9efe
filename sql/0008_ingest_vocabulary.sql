-- 0008 ingestion vocabulary (issue 5, docs/graph_contract.md): the event types source
-- changes become, the error codes of ingestion, and the PL-SFDC pipeline whose stages are
-- Salesforce's standard StageName values (key = lower snake case of StageName).
-- Plain SQL (migrations never call repeatable functions); safe to run twice.
SET LOCAL lock_timeout = '5s';

INSERT INTO crm.event_types (event_type, description, event_group, key_properties) VALUES
 ('opportunity_created',   'An opportunity was first seen in the CRM', 'crm', '{stage,source}'),
 ('ticket_opened',         'A support ticket was first seen', 'support', '{status,priority,source}'),
 ('ticket_status_changed', 'A support ticket changed status', 'support', '{from_status,to_status}'),
 ('ticket_solved',         'A support ticket became solved or closed', 'support', '{from_status,to_status}'),
 ('ticket_comment',        'A comment on a support ticket (body in crm.artifacts)', 'support', '{public,author_id}'),
 ('contract_signed',       'A contract became active', 'contracts', '{from_status,to_status,annual_value}'),
 ('contract_renewed',      'A contract''s end date moved later', 'contracts', '{from_end_date,to_end_date}'),
 ('contract_expired',      'A contract expired', 'contracts', '{from_status,to_status}'),
 ('contract_terminated',   'A contract was terminated', 'contracts', '{from_status,to_status}'),
 ('invoice_issued',        'An invoice was first seen open', 'billing', '{amount_due,currency}'),
 ('invoice_paid',          'An invoice was paid', 'billing', '{amount_paid,currency}'),
 ('invoice_voided',        'An invoice was voided', 'billing', '{amount_due,currency}'),
 ('nodes_merged',          'Two nodes were merged (crm.merge_nodes): the dropped one points to the kept one', 'system', '{kept,dropped,reason}')
ON CONFLICT (event_type) DO NOTHING;

INSERT INTO crm.error_codes (sqlstate, name, meaning, hint) VALUES
 ('CR040', 'unreadable_source_file', 'An ingest file cannot be read or parsed at all: the run failed and nothing of it was landed', 'check the path, the compression and the format of the file; see crm_raw.sync_runs.error'),
 ('CR041', 'records_rejected', 'Some ingested records were rejected (kept in crm_raw.records with their reason); the rest were applied', 'SELECT reason, payload FROM crm_raw.records WHERE status = ''rejected'''),
 ('CR042', 'unknown_source_object', 'The source/object pair is not registered for ingestion', 'see crm_raw.source_objects')
ON CONFLICT (sqlstate) DO NOTHING;

-- The Salesforce pipeline: opportunities from the CRM carry deal_stage {stage, pipeline: PL-SFDC}.
INSERT INTO crm.nodes (node_type, label, properties, external_id, external_source)
SELECT 'pipeline', 'Salesforce Pipeline',
       '{
         "name": "Salesforce Pipeline",
         "code": "PL-SFDC",
         "stages": [
           {"key": "prospecting",          "label": "Prospecting",          "order": 1,  "terminal": false},
           {"key": "qualification",        "label": "Qualification",        "order": 2,  "terminal": false},
           {"key": "needs_analysis",       "label": "Needs Analysis",       "order": 3,  "terminal": false},
           {"key": "value_proposition",    "label": "Value Proposition",    "order": 4,  "terminal": false},
           {"key": "id_decision_makers",   "label": "Id. Decision Makers",  "order": 5,  "terminal": false},
           {"key": "perception_analysis",  "label": "Perception Analysis",  "order": 6,  "terminal": false},
           {"key": "proposal_price_quote", "label": "Proposal/Price Quote", "order": 7,  "terminal": false},
           {"key": "negotiation_review",   "label": "Negotiation/Review",   "order": 8,  "terminal": false},
           {"key": "closed_won",           "label": "Closed Won",           "order": 9,  "terminal": true},
           {"key": "closed_lost",          "label": "Closed Lost",          "order": 10, "terminal": true}
         ],
         "default_stage": "prospecting"
       }'::jsonb,
       'PL-SFDC', 'internal'
 WHERE NOT EXISTS (SELECT 1 FROM crm.nodes n
                    WHERE n.node_type = 'pipeline' AND n.properties ->> 'code' = 'PL-SFDC')
ON CONFLICT DO NOTHING;
