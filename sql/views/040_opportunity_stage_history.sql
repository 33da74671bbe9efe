-- crm.opportunity_stage_history — every stage an opportunity has been in, like
-- Salesforce's OpportunityHistory: one row per deal_stage assertion (current and
-- superseded), numbered along the supersession chain.
CREATE OR REPLACE VIEW crm.opportunity_stage_history
WITH (security_invoker = true) AS
SELECT
    o.id                                            AS opportunity_id,
    o.properties ->> 'code'                         AS opportunity_code,
    o.properties ->> 'name'                         AS opportunity_name,
    row_number() OVER (PARTITION BY a.subject_node_id
                       ORDER BY a.asserted_at, a.superseded_at NULLS LAST, a.id) AS sequence,
    a.claim ->> 'pipeline'                          AS pipeline,
    a.claim ->> 'stage'                             AS stage,
    a.claim ->> 'moved_from'                        AS moved_from,
    a.claim ->> 'reason'                            AS reason,
    a.asserted_at                                   AS entered_at,
    a.superseded_at                                 AS left_at,
    coalesce(a.superseded_at, now()) - a.asserted_at AS time_in_stage,
    a.superseded_at IS NULL                         AS is_current,
    ev.actor_system                                 AS changed_by,
    a.id                                            AS assertion_id,
    a.source_event_id
FROM crm.assertions a
JOIN crm.nodes o ON o.id = a.subject_node_id AND o.node_type = 'opportunity'
LEFT JOIN crm.events ev ON ev.id = a.source_event_id
WHERE a.assertion_type = 'deal_stage'
  AND a.assertion_key = '';

COMMENT ON VIEW crm.opportunity_stage_history IS
    'Stage history of every opportunity (like Salesforce OpportunityHistory): one row per deal_stage assertion with entered_at/left_at, time in stage and who changed it. sequence 1 is the initial stage; is_current marks the present one.';
COMMENT ON COLUMN crm.opportunity_stage_history.sequence IS 'Position in the supersession chain, 1 = first stage (asserted_at increases strictly along the chain)';
COMMENT ON COLUMN crm.opportunity_stage_history.moved_from IS 'The stage before this one (NULL for the initial stage)';
COMMENT ON COLUMN crm.opportunity_stage_history.entered_at IS 'When the deal entered the stage (asserted_at)';
COMMENT ON COLUMN crm.opportunity_stage_history.left_at IS 'When the deal left the stage (superseded_at); NULL for the current stage';
COMMENT ON COLUMN crm.opportunity_stage_history.time_in_stage IS 'left_at (or now() for the current stage) minus entered_at';
COMMENT ON COLUMN crm.opportunity_stage_history.changed_by IS 'actor_system of the stage_change event (NULL for the initial stage)';
COMMENT ON COLUMN crm.opportunity_stage_history.opportunity_id IS 'The opportunity (node) id';
COMMENT ON COLUMN crm.opportunity_stage_history.opportunity_code IS 'Opportunity code OPP-YYMM-NNNN';
COMMENT ON COLUMN crm.opportunity_stage_history.opportunity_name IS 'Opportunity name';
COMMENT ON COLUMN crm.opportunity_stage_history.pipeline IS 'Code of the pipeline of the stage';
COMMENT ON COLUMN crm.opportunity_stage_history.stage IS 'The stage key';
COMMENT ON COLUMN crm.opportunity_stage_history.reason IS 'Reason given for the stage change, when any';
COMMENT ON COLUMN crm.opportunity_stage_history.is_current IS 'true for the stage the deal is in now';
COMMENT ON COLUMN crm.opportunity_stage_history.assertion_id IS 'The deal_stage assertion of this row';
COMMENT ON COLUMN crm.opportunity_stage_history.source_event_id IS 'The stage_change event that recorded the stage (NULL for the initial stage)';
