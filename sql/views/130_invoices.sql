-- crm.invoices — one row per live invoice the caller can see, flat and typed for BI (issue
-- 12): the current invoice_status, amounts in major units as numeric(18,2), the due moment
-- and whether it has passed, the account it is owned_by. crm.invoices_detail has the jsonb.
-- Due moment: properties.due_at (Stripe's due_date, a moment, ISO 8601 UTC); invoices
-- without it (created in crm360, or never re-read from Stripe since) are due at the end of
-- their due_date, i.e. the start of the next day in UTC. Overdue = open and the due moment
-- has passed (due_at <= now()).
-- Visibility: security_invoker (row-level security as the caller; see crm.tickets).
CREATE OR REPLACE VIEW crm.invoices
WITH (security_invoker = true) AS
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), vis AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('invoice', current_user) AS v(id) WHERE NOT adm.is_admin
)
SELECT c.id                                             AS invoice_id,
       c.id::text                                       AS invoice_id_text,
       coalesce(c.properties ->> 'number', c.label)     AS number,
       c.external_source                                AS source,
       c.external_id,
       c.properties ->> 'stripe_id'                     AS stripe_id,
       st.claim ->> 'status'                            AS status,
       coalesce(st.claim ->> 'status' = 'open', false)  AS is_open,
       coalesce(st.claim ->> 'status' = 'open' AND x.due_at <= now(), false) AS is_overdue,
       CASE WHEN st.claim ->> 'status' = 'open' AND x.due_at <= now()
            THEN floor(extract(epoch FROM now() - x.due_at) / 86400)::integer END AS days_overdue,
       c.properties ->> 'currency'                      AS currency,
       (CASE WHEN pg_input_is_valid(c.properties ->> 'amount_due', 'numeric(18,2)')
             THEN c.properties ->> 'amount_due' END)::numeric(18,2) AS amount_due,
       (CASE WHEN pg_input_is_valid(c.properties ->> 'amount_paid', 'numeric(18,2)')
             THEN c.properties ->> 'amount_paid' END)::numeric(18,2) AS amount_paid,
       (CASE WHEN pg_input_is_valid(x.remaining, 'numeric(18,2)') THEN x.remaining END)::numeric(18,2) AS amount_remaining,
       CASE WHEN pg_input_is_valid(c.properties ->> 'issued_at', 'timestamptz')
            THEN (c.properties ->> 'issued_at')::timestamptz ELSE c.created_at END AS issued_at,
       CASE WHEN pg_input_is_valid(c.properties ->> 'due_date', 'date')
            THEN (c.properties ->> 'due_date')::date END AS due_date,
       x.due_at,
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
         WHERE (SELECT is_admin FROM adm) AND n.node_type = 'invoice' AND n.archived_at IS NULL
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
         WHERE NOT (SELECT is_admin FROM adm) AND n.node_type = 'invoice' AND n.archived_at IS NULL) c
  LEFT JOIN crm.assertions st
         ON st.subject_node_id = c.id AND st.assertion_type = 'invoice_status'
        AND st.assertion_key = '' AND st.superseded_at IS NULL
 CROSS JOIN LATERAL (
      SELECT CASE WHEN pg_input_is_valid(c.properties ->> 'due_at', 'timestamptz')
                  THEN (c.properties ->> 'due_at')::timestamptz
                  WHEN pg_input_is_valid(c.properties ->> 'due_date', 'date')
                  THEN ((c.properties ->> 'due_date')::date + 1)::timestamp AT TIME ZONE 'UTC' END AS due_at,
             coalesce(st.claim ->> 'amount_remaining', c.properties ->> 'amount_remaining') AS remaining) x;

COMMENT ON VIEW crm.invoices IS
    'Invoices for BI: one row per live invoice visible to the caller (void invoices are archived, so not listed), with its current status, amounts (major units), due moment, overdue flag and account. Overdue = open and due_at <= now(). Flat and typed; jsonb in crm.invoices_detail. Live (no refresh needed).';
COMMENT ON COLUMN crm.invoices.invoice_id IS 'The invoice (node) id';
COMMENT ON COLUMN crm.invoices.invoice_id_text IS 'invoice_id as text (for BI tools without a uuid type)';
COMMENT ON COLUMN crm.invoices.number IS 'Invoice number (the Stripe invoice number, its key)';
COMMENT ON COLUMN crm.invoices.source IS 'Source system (stripe), NULL for invoices created in crm360';
COMMENT ON COLUMN crm.invoices.external_id IS 'The invoice''s key in its source (the Stripe invoice number)';
COMMENT ON COLUMN crm.invoices.stripe_id IS 'The Stripe invoice id (in_...)';
COMMENT ON COLUMN crm.invoices.status IS 'Current invoice_status: draft, open, paid or uncollectible (void invoices are archived)';
COMMENT ON COLUMN crm.invoices.is_open IS 'true when the current status is open';
COMMENT ON COLUMN crm.invoices.is_overdue IS 'true when open and the due moment has passed (due_at <= now(), evaluated at read time)';
COMMENT ON COLUMN crm.invoices.days_overdue IS 'Whole days since the due moment for an overdue invoice (0 during its first day past due); NULL otherwise';
COMMENT ON COLUMN crm.invoices.currency IS 'ISO currency, upper case';
COMMENT ON COLUMN crm.invoices.amount_due IS 'Amount due in major units (Stripe amount_due / 100, or / 1 for zero-decimal currencies)';
COMMENT ON COLUMN crm.invoices.amount_paid IS 'Amount paid in major units';
COMMENT ON COLUMN crm.invoices.amount_remaining IS 'Amount remaining in major units (from the current invoice_status claim, else the invoice)';
COMMENT ON COLUMN crm.invoices.issued_at IS 'When the invoice was created at the source (Stripe created; crm360-created: its created_at)';
COMMENT ON COLUMN crm.invoices.due_date IS 'The UTC date of the due moment';
COMMENT ON COLUMN crm.invoices.due_at IS 'The due moment (Stripe due_date, properties.due_at); without one, the end of due_date (the next day 00:00 UTC)';
COMMENT ON COLUMN crm.invoices.status_since IS 'When crm360 recorded the current status';
COMMENT ON COLUMN crm.invoices.account_id IS 'The account (org) the invoice is owned_by; NULL when the caller cannot see it';
COMMENT ON COLUMN crm.invoices.account_id_text IS 'account_id as text';
COMMENT ON COLUMN crm.invoices.account_name IS 'Account name';
COMMENT ON COLUMN crm.invoices.account_crm_id IS 'The account''s Salesforce Account Id';
COMMENT ON COLUMN crm.invoices.created_at IS 'When crm360 first stored the invoice';
COMMENT ON COLUMN crm.invoices.updated_at IS 'When crm360 last changed the invoice node';

CREATE OR REPLACE VIEW crm.invoices_detail
WITH (security_invoker = true) AS
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), vis AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('invoice', current_user) AS v(id) WHERE NOT adm.is_admin
)
SELECT c.id AS invoice_id, c.id::text AS invoice_id_text,
       st.claim AS status_claim,
       c.properties,
       c.attrs
  FROM (SELECT n.* FROM crm.nodes n
         WHERE (SELECT is_admin FROM adm) AND n.node_type = 'invoice' AND n.archived_at IS NULL
        UNION ALL
        SELECT n.* FROM vis JOIN crm.nodes n ON n.id = vis.id
         WHERE NOT (SELECT is_admin FROM adm) AND n.node_type = 'invoice' AND n.archived_at IS NULL) c
  LEFT JOIN crm.assertions st
         ON st.subject_node_id = c.id AND st.assertion_type = 'invoice_status'
        AND st.assertion_key = '' AND st.superseded_at IS NULL;

COMMENT ON VIEW crm.invoices_detail IS
    'The JSON side of crm.invoices (same rows, join on invoice_id): the current invoice_status claim, the node''s properties and attrs.';
COMMENT ON COLUMN crm.invoices_detail.invoice_id IS 'The invoice (node) id (crm.invoices.invoice_id)';
COMMENT ON COLUMN crm.invoices_detail.invoice_id_text IS 'invoice_id as text';
COMMENT ON COLUMN crm.invoices_detail.status_claim IS 'The current invoice_status claim {status, amount_remaining}';
COMMENT ON COLUMN crm.invoices_detail.properties IS 'All properties of the invoice node (docs/graph_contract.md), incl. due_at';
COMMENT ON COLUMN crm.invoices_detail.attrs IS 'Attributes of the invoice node (removed-at-source markers, ...)';
