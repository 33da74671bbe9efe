-- crm.contracts — one row per live contract the caller can see, flat and typed for BI (issue
-- 12): the current contract_status, term, annual value as numeric(18,2), whether it counts
-- in the ARR (the Account 360 definition), the account it is owned_by. crm.contracts_detail
-- has the jsonb. Visibility: security_invoker (row-level security as the caller; see
-- crm.tickets).
CREATE OR REPLACE VIEW crm.contracts
WITH (security_invoker = true) AS
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), vis AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('contract', current_user) AS v(id) WHERE NOT adm.is_admin
)
SELECT c.id                                             AS contract_id,
       c.id::text                                       AS contract_id_text,
       coalesce(c.properties ->> 'title', c.label)      AS title,
       c.external_source                                AS source,
       c.external_id,
       c.properties ->> 'counterparty_name'             AS counterparty_name,
       st.claim ->> 'status'                            AS status,
       coalesce(st.claim ->> 'status' = 'active', false) AS is_active,
       coalesce(st.claim ->> 'status' = 'active'
                AND (x.effective_date IS NULL OR x.effective_date <= current_date)
                AND (x.end_date IS NULL OR x.end_date >= current_date), false) AS is_in_term,
       (CASE WHEN pg_input_is_valid(x.annual_value, 'numeric(18,2)') THEN x.annual_value END)::numeric(18,2) AS annual_value,
       c.properties ->> 'currency'                      AS currency,
       x.effective_date,
       x.end_date,
       x.end_date - current_date                        AS days_to_end,
       CASE WHEN c.properties ->> 'auto_renew' IN ('true', 'false')
            THEN (c.properties ->> 'auto_renew')::boolean END AS auto_renew,
       st.asserted_at                                   AS status_since,
       c.acct_id                                        AS account_id,
       c.acct_id::text                                  AS account_id_text,
       c.acct_name                                      AS account_name,
       c.acct_crm_id                                    AS account_crm_id,
       c.created_at,
       c.updated_at
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
         WHERE (SELECT is_admin FROM adm) AND n.node_type = 'contract' AND n.archived_at IS NULL
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
         WHERE NOT (SELECT is_admin FROM adm) AND n.node_type = 'contract' AND n.archived_at IS NULL) c
  LEFT JOIN crm.assertions st
         ON st.subject_node_id = c.id AND st.assertion_type = 'contract_status'
        AND st.assertion_key = '' AND st.superseded_at IS NULL
 CROSS JOIN LATERAL (
      SELECT CASE WHEN pg_input_is_valid(c.properties ->> 'effective_date', 'date')
                  THEN (c.properties ->> 'effective_date')::date END AS effective_date,
             CASE WHEN pg_input_is_valid(c.properties ->> 'end_date', 'date')
                  THEN (c.properties ->> 'end_date')::date END AS end_date,
             coalesce(st.claim ->> 'annual_value', c.properties ->> 'annual_value') AS annual_value) x;

COMMENT ON VIEW crm.contracts IS
    'Contracts for BI: one row per live contract visible to the caller (contracts removed at source are archived, so not listed), with its current status, term, annual value, whether it counts in the ARR (is_in_term) and account. Flat and typed; jsonb in crm.contracts_detail. Live (no refresh needed).';
COMMENT ON COLUMN crm.contracts.contract_id IS 'The contract (node) id';
COMMENT ON COLUMN crm.contracts.contract_id_text IS 'contract_id as text (for BI tools without a uuid type)';
COMMENT ON COLUMN crm.contracts.title IS 'Contract title';
COMMENT ON COLUMN crm.contracts.source IS 'Source system (clm), NULL for contracts created in crm360';
COMMENT ON COLUMN crm.contracts.external_id IS 'The contract''s id in its source (CLM contract_id)';
COMMENT ON COLUMN crm.contracts.counterparty_name IS 'Counterparty as named in the contract system';
COMMENT ON COLUMN crm.contracts.status IS 'Current contract_status: draft, active, expired, terminated';
COMMENT ON COLUMN crm.contracts.is_active IS 'true when the current status is active';
COMMENT ON COLUMN crm.contracts.is_in_term IS 'true when active and effective_date <= today <= end_date (missing dates are open-ended): the contracts the Account 360 ARR counts';
COMMENT ON COLUMN crm.contracts.annual_value IS 'Annual value (from the current contract_status claim, else the contract), numeric(18,2); no currency conversion';
COMMENT ON COLUMN crm.contracts.currency IS 'ISO currency of annual_value, upper case';
COMMENT ON COLUMN crm.contracts.effective_date IS 'First day of the term';
COMMENT ON COLUMN crm.contracts.end_date IS 'Last day of the term (the renewal date)';
COMMENT ON COLUMN crm.contracts.days_to_end IS 'end_date minus today in days (negative once ended), computed at read time';
COMMENT ON COLUMN crm.contracts.auto_renew IS 'Whether the contract renews automatically';
COMMENT ON COLUMN crm.contracts.status_since IS 'When crm360 recorded the current status';
COMMENT ON COLUMN crm.contracts.account_id IS 'The account (org) the contract is owned_by; NULL when the caller cannot see it';
COMMENT ON COLUMN crm.contracts.account_id_text IS 'account_id as text';
COMMENT ON COLUMN crm.contracts.account_name IS 'Account name';
COMMENT ON COLUMN crm.contracts.account_crm_id IS 'The account''s Salesforce Account Id';
COMMENT ON COLUMN crm.contracts.created_at IS 'When crm360 first stored the contract';
COMMENT ON COLUMN crm.contracts.updated_at IS 'When crm360 last changed the contract node';

CREATE OR REPLACE VIEW crm.contracts_detail
WITH (security_invoker = true) AS
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), vis AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('contract', current_user) AS v(id) WHERE NOT adm.is_admin
)
SELECT c.id AS contract_id, c.id::text AS contract_id_text,
       st.claim AS status_claim,
       c.properties,
       c.attrs
  FROM (SELECT n.* FROM crm.nodes n
         WHERE (SELECT is_admin FROM adm) AND n.node_type = 'contract' AND n.archived_at IS NULL
        UNION ALL
        SELECT n.* FROM vis JOIN crm.nodes n ON n.id = vis.id
         WHERE NOT (SELECT is_admin FROM adm) AND n.node_type = 'contract' AND n.archived_at IS NULL) c
  LEFT JOIN crm.assertions st
         ON st.subject_node_id = c.id AND st.assertion_type = 'contract_status'
        AND st.assertion_key = '' AND st.superseded_at IS NULL;

COMMENT ON VIEW crm.contracts_detail IS
    'The JSON side of crm.contracts (same rows, join on contract_id): the current contract_status claim, the node''s properties and attrs.';
COMMENT ON COLUMN crm.contracts_detail.contract_id IS 'The contract (node) id (crm.contracts.contract_id)';
COMMENT ON COLUMN crm.contracts_detail.contract_id_text IS 'contract_id as text';
COMMENT ON COLUMN crm.contracts_detail.status_claim IS 'The current contract_status claim {status, annual_value}';
COMMENT ON COLUMN crm.contracts_detail.properties IS 'All properties of the contract node (docs/graph_contract.md)';
COMMENT ON COLUMN crm.contracts_detail.attrs IS 'Attributes of the contract node';
