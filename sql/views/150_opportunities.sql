-- crm.opportunities — one row per live opportunity the caller can see (open and closed),
-- flat and typed for BI (issue 12): account, stage, amount (numeric(18,2)), probability,
-- close date, owner, created/closed/won flags. crm.opportunities_detail has the jsonb.
-- The deal amount is sensitive: NULL (with its currency and expected_amount) unless the
-- caller may read deal_value — row-level security on crm.assertions hides the claim, and the
-- view says so itself (crm_private.actor_can_read_assertion_type), as crm.accounts_360 does.
-- Closed: Salesforce IsClosed, or a stage terminal in its pipeline (a stage the pipeline does
-- not list: closed_won, closed_lost, dead) — crm.opportunities_active lists the others.
-- Visibility: security_invoker (row-level security as the caller; see crm.tickets).
CREATE OR REPLACE VIEW crm.opportunities
WITH (security_invoker = true) AS
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), vis AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('opportunity', current_user) AS v(id) WHERE NOT adm.is_admin
), dv AS MATERIALIZED (
    SELECT crm_private.actor_can_read_assertion_type('deal_value') AS ok
), stages AS (   -- per pipeline code and stage key: terminal? (the first live pipeline with the code)
    SELECT DISTINCT ON (p.properties ->> 'code', s.value ->> 'key')
           p.properties ->> 'code' AS pipeline, s.value ->> 'key' AS stage,
           coalesce(s.value -> 'terminal' = 'true'::jsonb, false) AS terminal
      FROM crm.nodes p
     CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(p.properties -> 'stages') = 'array'
                                                  THEN p.properties -> 'stages' END) AS s
     WHERE p.node_type = 'pipeline'
     ORDER BY p.properties ->> 'code', s.value ->> 'key', p.archived_at NULLS FIRST, p.created_at
)
SELECT o.id                                             AS opportunity_id,
       o.id::text                                       AS opportunity_id_text,
       o.properties ->> 'code'                          AS code,
       coalesce(o.properties ->> 'name', o.label)       AS name,
       o.external_source                                AS source,
       o.external_id,
       o.acct_id                                        AS account_id,
       o.acct_id::text                                  AS account_id_text,
       o.acct_name                                      AS account_name,
       o.acct_crm_id                                    AS account_crm_id,
       stg.claim ->> 'stage'                            AS stage,
       stg.claim ->> 'pipeline'                         AS pipeline,
       stg.asserted_at                                  AS stage_since,
       x.amount,
       CASE WHEN (SELECT ok FROM dv) THEN val.claim ->> 'currency' END AS currency,
       x.probability,
       (x.amount * x.probability)::numeric(18,2)        AS expected_amount,
       CASE WHEN pg_input_is_valid(o.properties ->> 'close_date', 'date')
            THEN (o.properties ->> 'close_date')::date END AS close_date,
       x.is_closed,
       CASE WHEN o.properties ->> 'is_won' IN ('true', 'false') THEN (o.properties ->> 'is_won')::boolean
            ELSE coalesce(stg.claim ->> 'stage' = 'closed_won', false) END AS is_won,
       NOT x.is_closed                                  AS is_active,
       own.id                                           AS owner_id,
       own.id::text                                     AS owner_id_text,
       own.label                                        AS owner_name,
       own.email                                        AS owner_email,
       CASE WHEN pg_input_is_valid(o.properties ->> 'created_at', 'timestamptz')
            THEN (o.properties ->> 'created_at')::timestamptz ELSE o.created_at END AS created_at,
       o.updated_at
  FROM (-- admins: every row, its account joined set-based (a filter on account_id starts from the
        -- account); everyone else: their visible rows, each account looked up by index. Both
        -- take the latest live owned_by edge to an org (the one-hop path to the account).
        SELECT n.*, a.id AS acct_id, coalesce(a.properties ->> 'name', a.label) AS acct_name,
               CASE WHEN a.external_source = 'salesforce' THEN a.external_id END AS acct_crm_id
          FROM crm.nodes n
          LEFT JOIN (crm.edges ob JOIN crm.nodes a ON a.id = ob.target_id AND a.node_type = 'org')
                 ON ob.source_id = n.id AND ob.edge_type = 'owned_by'
                AND ob.archived_at IS NULL AND ob.effective_to IS NULL
                AND NOT EXISTS (SELECT 1 FROM crm.edges o2
                                 WHERE o2.source_id = ob.source_id AND o2.edge_type = 'owned_by'
                                   AND o2.archived_at IS NULL AND o2.effective_to IS NULL
                                   AND (coalesce(o2.effective_from, o2.created_at), o2.id)
                                       > (coalesce(ob.effective_from, ob.created_at), ob.id)
                                   AND EXISTS (SELECT 1 FROM crm.nodes a2
                                                WHERE a2.id = o2.target_id AND a2.node_type = 'org'))
         WHERE (SELECT is_admin FROM adm) AND n.node_type = 'opportunity' AND n.archived_at IS NULL
        UNION ALL
        SELECT n.*, acct.id, acct.name, acct.crm_id
          FROM vis JOIN crm.nodes n ON n.id = vis.id
          LEFT JOIN LATERAL (
              SELECT a.id, coalesce(a.properties ->> 'name', a.label) AS name,
                     CASE WHEN a.external_source = 'salesforce' THEN a.external_id END AS crm_id
                FROM crm.edges ob
                JOIN crm.nodes a ON a.id = ob.target_id
               WHERE ob.source_id = n.id AND ob.edge_type = 'owned_by'
                 AND ob.archived_at IS NULL AND ob.effective_to IS NULL AND a.node_type = 'org'
               ORDER BY coalesce(ob.effective_from, ob.created_at) DESC, ob.id DESC
               LIMIT 1) acct ON true
         WHERE NOT (SELECT is_admin FROM adm) AND n.node_type = 'opportunity' AND n.archived_at IS NULL) o
  LEFT JOIN crm.assertions stg
         ON stg.subject_node_id = o.id AND stg.assertion_type = 'deal_stage'
        AND stg.assertion_key = '' AND stg.superseded_at IS NULL
  LEFT JOIN crm.assertions val
         ON val.subject_node_id = o.id AND val.assertion_type = 'deal_value'
        AND val.assertion_key = '' AND val.superseded_at IS NULL
  LEFT JOIN crm.assertions wp
         ON wp.subject_node_id = o.id AND wp.assertion_type = 'win_probability'
        AND wp.assertion_key = '' AND wp.superseded_at IS NULL
  LEFT JOIN stages ps
         ON ps.pipeline = stg.claim ->> 'pipeline' AND ps.stage = stg.claim ->> 'stage'
 CROSS JOIN LATERAL (
      SELECT (CASE WHEN (SELECT ok FROM dv) AND pg_input_is_valid(val.claim ->> 'amount', 'numeric(18,2)')
                   THEN val.claim ->> 'amount' END)::numeric(18,2) AS amount,
             (CASE WHEN pg_input_is_valid(wp.claim ->> 'probability', 'numeric(5,4)')
                   THEN wp.claim ->> 'probability' END)::numeric(5,4) AS probability,
             coalesce(o.properties ->> 'is_closed', 'false') IN ('true', '1')
             OR coalesce(ps.terminal, stg.claim ->> 'stage' IN ('closed_won', 'closed_lost', 'dead'), false) AS is_closed) x
  LEFT JOIN LATERAL (
      SELECT u.id, u.label, u.properties ->> 'email' AS email
        FROM crm.edges ae
        JOIN crm.nodes u ON u.id = ae.target_id
       WHERE ae.source_id = o.id AND ae.edge_type = 'assigned_to' AND ae.properties ->> 'role' = 'owner'
         AND ae.archived_at IS NULL AND ae.effective_to IS NULL AND u.archived_at IS NULL
       ORDER BY ae.effective_from DESC, ae.id
       LIMIT 1) own ON true;

COMMENT ON VIEW crm.opportunities IS
    'Opportunities for BI: one row per live opportunity visible to the caller, open and closed, with account, stage, amount (NULL without a deal_value grant), probability, expected amount, close date, owner and the created/closed/won flags. Flat and typed; jsonb in crm.opportunities_detail. Live (no refresh needed); crm.opportunities_active is the stored list of the active ones.';
COMMENT ON COLUMN crm.opportunities.opportunity_id IS 'The opportunity (node) id';
COMMENT ON COLUMN crm.opportunities.opportunity_id_text IS 'opportunity_id as text (for BI tools without a uuid type)';
COMMENT ON COLUMN crm.opportunities.code IS 'Opportunity code OPP-YYMM-NNNN';
COMMENT ON COLUMN crm.opportunities.name IS 'Opportunity name';
COMMENT ON COLUMN crm.opportunities.source IS 'Source system (salesforce), internal for opportunities created in crm360';
COMMENT ON COLUMN crm.opportunities.external_id IS 'The opportunity''s id in its source (Salesforce Opportunity Id)';
COMMENT ON COLUMN crm.opportunities.account_id IS 'The account (org) the opportunity is owned_by; NULL when the caller cannot see it';
COMMENT ON COLUMN crm.opportunities.account_id_text IS 'account_id as text';
COMMENT ON COLUMN crm.opportunities.account_name IS 'Account name';
COMMENT ON COLUMN crm.opportunities.account_crm_id IS 'The account''s Salesforce Account Id';
COMMENT ON COLUMN crm.opportunities.stage IS 'Current deal_stage: a stage key of the pipeline (Salesforce StageName in lower snake case, e.g. negotiation_review, closed_won)';
COMMENT ON COLUMN crm.opportunities.pipeline IS 'Code of the pipeline of the current stage (PL-SFDC for Salesforce)';
COMMENT ON COLUMN crm.opportunities.stage_since IS 'When crm360 recorded the current stage';
COMMENT ON COLUMN crm.opportunities.amount IS 'Deal amount (current deal_value), numeric(18,2), no currency conversion; NULL unless the caller may read deal_value (sensitive), or when there is none';
COMMENT ON COLUMN crm.opportunities.currency IS 'ISO currency of amount (NULL with it)';
COMMENT ON COLUMN crm.opportunities.probability IS 'Current win probability, 0..1 (Salesforce Probability / 100)';
COMMENT ON COLUMN crm.opportunities.expected_amount IS 'amount x probability (NULL when either is)';
COMMENT ON COLUMN crm.opportunities.close_date IS 'Expected or actual close date (Salesforce CloseDate)';
COMMENT ON COLUMN crm.opportunities.is_closed IS 'true when closed: Salesforce IsClosed, or the stage is terminal in its pipeline (stages a pipeline does not list: closed_won, closed_lost and dead are terminal)';
COMMENT ON COLUMN crm.opportunities.is_won IS 'true when won: Salesforce IsWon, else stage closed_won';
COMMENT ON COLUMN crm.opportunities.is_active IS 'NOT is_closed: counted as active (crm.opportunities_active, Account 360)';
COMMENT ON COLUMN crm.opportunities.owner_id IS 'The owner user (the open assigned_to edge with role owner: Salesforce OwnerId)';
COMMENT ON COLUMN crm.opportunities.owner_id_text IS 'owner_id as text';
COMMENT ON COLUMN crm.opportunities.owner_name IS 'Name of the owner user';
COMMENT ON COLUMN crm.opportunities.owner_email IS 'Email of the owner user';
COMMENT ON COLUMN crm.opportunities.created_at IS 'When the opportunity was created at the source (Salesforce CreatedDate, when exported), else when crm360 first stored it';
COMMENT ON COLUMN crm.opportunities.updated_at IS 'When crm360 last changed the opportunity node';

CREATE OR REPLACE VIEW crm.opportunities_detail
WITH (security_invoker = true) AS
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), vis AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('opportunity', current_user) AS v(id) WHERE NOT adm.is_admin
)
SELECT o.id AS opportunity_id, o.id::text AS opportunity_id_text,
       stg.claim AS stage_claim,
       CASE WHEN (SELECT crm_private.actor_can_read_assertion_type('deal_value')) THEN val.claim END AS value_claim,
       wp.claim AS probability_claim,
       o.properties,
       o.attrs
  FROM (SELECT n.* FROM crm.nodes n
         WHERE (SELECT is_admin FROM adm) AND n.node_type = 'opportunity' AND n.archived_at IS NULL
        UNION ALL
        SELECT n.* FROM vis JOIN crm.nodes n ON n.id = vis.id
         WHERE NOT (SELECT is_admin FROM adm) AND n.node_type = 'opportunity' AND n.archived_at IS NULL) o
  LEFT JOIN crm.assertions stg
         ON stg.subject_node_id = o.id AND stg.assertion_type = 'deal_stage'
        AND stg.assertion_key = '' AND stg.superseded_at IS NULL
  LEFT JOIN crm.assertions val
         ON val.subject_node_id = o.id AND val.assertion_type = 'deal_value'
        AND val.assertion_key = '' AND val.superseded_at IS NULL
  LEFT JOIN crm.assertions wp
         ON wp.subject_node_id = o.id AND wp.assertion_type = 'win_probability'
        AND wp.assertion_key = '' AND wp.superseded_at IS NULL;

COMMENT ON VIEW crm.opportunities_detail IS
    'The JSON side of crm.opportunities (same rows, join on opportunity_id): the current deal_stage, deal_value (NULL without a deal_value grant) and win_probability claims, the node''s properties and attrs (team tags).';
COMMENT ON COLUMN crm.opportunities_detail.opportunity_id IS 'The opportunity (node) id (crm.opportunities.opportunity_id)';
COMMENT ON COLUMN crm.opportunities_detail.opportunity_id_text IS 'opportunity_id as text';
COMMENT ON COLUMN crm.opportunities_detail.stage_claim IS 'The current deal_stage claim {stage, pipeline, moved_from, reason}';
COMMENT ON COLUMN crm.opportunities_detail.value_claim IS 'The current deal_value claim {amount, currency, basis}; NULL unless the caller may read deal_value';
COMMENT ON COLUMN crm.opportunities_detail.probability_claim IS 'The current win_probability claim {probability, basis}';
COMMENT ON COLUMN crm.opportunities_detail.properties IS 'All properties of the opportunity node (docs/graph_contract.md)';
COMMENT ON COLUMN crm.opportunities_detail.attrs IS 'Attributes of the opportunity node (teams: the team tags array)';
