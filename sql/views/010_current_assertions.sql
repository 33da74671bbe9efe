-- crm.current_assertions — the current claim per (subject, assertion_type, assertion_key).
CREATE OR REPLACE VIEW crm.current_assertions
WITH (security_invoker = true) AS
SELECT a.id, a.assertion_type, a.subject_node_id, a.subject_edge_id, a.assertion_key,
       a.claim, a.confidence, a.asserted_at, a.source_event_id
  FROM crm.assertions a
 WHERE a.superseded_at IS NULL;

COMMENT ON VIEW crm.current_assertions IS
    'Current assertions only (superseded_at IS NULL): exactly one per (subject, assertion_type, assertion_key).';
