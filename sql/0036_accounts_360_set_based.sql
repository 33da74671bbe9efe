-- 0036 The Account 360 aggregates computed set-based (issue 16: the refresh after every load).
-- crm_private.accounts_360_facts — the one definition of the Account 360 aggregates, read by
-- its materialized view and by crm.accounts_360_live — computed each account's children and
-- last touch in LATERAL subqueries: a full computation (every refresh of the Account 360,
-- after every object of a load and every incremental sync) ran them as 6,000 nested loops
-- (2.5-2.8 s at 200k source records: children 1.83 s, last touch 0.81 s; 3.6-4.2 s for the
-- 10,000 accounts of benchmarks/refresh_bench.py). Each is now ONE grouped subquery over all
-- accounts, joined by account id; whether every counted child and touch is visible to whoever
-- sees the account (counted_rows_uniform) is decided outside the groupings from the distinct
-- acls they collect (joining the account inside made the planner expect 30 times fewer rows
-- and choose nested loops). The same rows (EXCEPT both ways, on a 200k-record load and on the
-- 10,000-account bench graph: none differ) in about a third of the time. A filter on one account
-- is pushed into the groupings, so one account's row stays a handful of index lookups, and
-- crm.accounts_360 computes its live rows account by account (sql/views/110_accounts_360.sql). The columns, their
-- order and types are unchanged (the materialized view depends on them; CREATE OR REPLACE).
-- Safe to run twice. Sections: views.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- views
CREATE OR REPLACE VIEW crm_private.accounts_360_facts
WITH (security_invoker = true) AS
SELECT
    a.id                                             AS account_id,
    a.id::text                                       AS account_id_text,
    CASE WHEN a.external_source = 'salesforce' THEN a.external_id END AS crm_id,
    coalesce(a.properties ->> 'name', a.label)       AS name,
    a.properties ->> 'domain'                        AS domain,
    coalesce(ow.owner_name, clm.label)               AS owner_name,
    CASE WHEN ow.owner_name IS NOT NULL THEN ow.owner_email ELSE clm.properties ->> 'email' END AS owner_email,
    tm.team                                          AS team,
    coalesce(k.open_tickets, 0)                      AS open_tickets,
    k.oldest_open_at                                 AS oldest_open_ticket_at,
    coalesce(k.high_priority, 0)                     AS high_priority_open_tickets,
    coalesce(k.active_opportunities, 0)              AS active_opportunities,
    coalesce(k.pipeline_value, 0)::numeric(38,2)     AS pipeline_value,
    coalesce(k.weighted_pipeline_value, 0)::numeric(38,2) AS weighted_pipeline_value,
    coalesce(k.arr, 0)::numeric(38,2)                AS arr,
    coalesce(k.active_contracts, 0)                  AS active_contracts,
    k.next_renewal_date,
    coalesce(k.open_invoices, 0)                     AS open_invoices,
    coalesce(k.open_amount, 0)::numeric(38,2)        AS open_invoice_amount,
    coalesce(k.overdue_invoices, 0)                  AS overdue_invoices,
    coalesce(k.overdue_amount, 0)::numeric(38,2)     AS overdue_invoice_amount,
    lt.last_touch_at,
    -- for the materialized view (crm_private.accounts_360_mv.uniform): every child and touch
    -- event counted above is visible to whoever sees the account through its acl
    NOT EXISTS (SELECT 1 FROM unnest(k.acls || lt.acls) AS u(acl)
                 WHERE NOT (u.acl::uuid[] @> coalesce(a.acl, '{}'))) AS counted_rows_uniform
FROM crm.nodes a
-- the owner: the CRM owner (assigned_to role owner, kept by ingestion from Salesforce OwnerId),
-- else whoever claimed the account in crm360
LEFT JOIN LATERAL (
    SELECT u.label AS owner_name, u.properties ->> 'email' AS owner_email
      FROM crm.edges e
      JOIN crm.nodes u ON u.id = e.target_id AND u.node_type = 'user'
     WHERE e.source_id = a.id AND e.edge_type = 'assigned_to' AND e.archived_at IS NULL
       AND e.effective_to IS NULL AND e.properties ->> 'role' = 'owner'
     ORDER BY e.effective_from DESC NULLS LAST, e.id
     LIMIT 1
) ow ON true
LEFT JOIN crm.nodes clm ON clm.id = a.claimed_by AND ow.owner_name IS NULL
LEFT JOIN LATERAL (
    SELECT string_agg(t.label, ', ' ORDER BY t.label) AS team
      FROM crm.nodes t
     WHERE t.id = ANY (a.restricted_to) AND t.node_type = 'team'
) tm ON true
-- the accounts' children, ONE pass over the owned_by edges with each child's current state
-- claim (index assertions_current_node), grouped by account, every measure a FILTER (set-based:
-- a full computation hash-joins every account's children at once; a filter on one account —
-- a constant, or an outer value in a LATERAL that is not flattened, OFFSET 0 — is pushed into
-- the grouping, so one account's row is still a handful of index lookups):
--   open ticket      — ticket_status new, open, pending or hold;
--   active deal      — not is_closed, deal_stage not closed* or dead (none = active);
--   ARR              — contract_status active and effective_date <= today <= end_date
--                      (missing dates are open-ended); next renewal = earliest end_date
--                      >= today among active-status contracts;
--   open invoice     — invoice_status open; overdue once its due moment has passed
--                      (properties.due_at, else the end of due_date in UTC: the rule of
--                      crm_private.invoice_due_at, written here because a materialized view
--                      may not depend on a repeatable function)
LEFT JOIN (
    SELECT e.target_id                                                            AS account_id,
           count(*) FILTER (WHERE x.open_ticket)                                  AS open_tickets,
           min(x.opened_at) FILTER (WHERE x.open_ticket)                          AS oldest_open_at,
           count(*) FILTER (WHERE x.open_ticket AND x.priority IN ('high', 'urgent')) AS high_priority,
           count(*) FILTER (WHERE x.active_deal)                                  AS active_opportunities,
           sum(x.amount) FILTER (WHERE x.active_deal)                             AS pipeline_value,
           sum(x.amount * x.probability) FILTER (WHERE x.active_deal)             AS weighted_pipeline_value,
           sum(x.annual_value) FILTER (WHERE x.in_term)                           AS arr,
           count(*) FILTER (WHERE x.in_term)                                      AS active_contracts,
           min(x.end_date) FILTER (WHERE x.active_contract AND x.end_date >= current_date) AS next_renewal_date,
           count(*) FILTER (WHERE x.open_invoice)                                 AS open_invoices,
           sum(x.remaining) FILTER (WHERE x.open_invoice)                         AS open_amount,
           count(*) FILTER (WHERE x.open_invoice AND x.due_at <= now())           AS overdue_invoices,
           sum(x.remaining) FILTER (WHERE x.open_invoice AND x.due_at <= now())   AS overdue_amount,
           -- the distinct acls of the counted children (a few per account), as text: whether
           -- the account's acl is in each of them is decided outside (counted_rows_uniform)
           array_agg(DISTINCT x.acl::text) FILTER (WHERE x.counted AND x.acl IS NOT NULL) AS acls
      FROM crm.edges e
      JOIN crm.nodes c ON c.id = e.source_id
      LEFT JOIN crm.assertions s ON s.subject_node_id = c.id AND s.assertion_key = '' AND s.superseded_at IS NULL
                                AND s.assertion_type = CASE c.node_type WHEN 'ticket' THEN 'ticket_status'
                                                                        WHEN 'opportunity' THEN 'deal_stage'
                                                                        WHEN 'contract' THEN 'contract_status'
                                                                        WHEN 'invoice' THEN 'invoice_status' END
      LEFT JOIN crm.assertions v ON c.node_type = 'opportunity' AND v.subject_node_id = c.id
                                AND v.assertion_type = 'deal_value' AND v.assertion_key = '' AND v.superseded_at IS NULL
      LEFT JOIN crm.assertions w ON c.node_type = 'opportunity' AND w.subject_node_id = c.id
                                AND w.assertion_type = 'win_probability' AND w.assertion_key = '' AND w.superseded_at IS NULL
      CROSS JOIN LATERAL (
          SELECT c.acl,
                 c.node_type IN ('ticket', 'opportunity', 'contract', 'invoice') AS counted,
                 c.node_type = 'ticket' AND s.claim ->> 'status' IN ('new', 'open', 'pending', 'hold') AS open_ticket,
                 CASE WHEN c.node_type = 'ticket'
                      THEN CASE WHEN pg_input_is_valid(c.properties ->> 'opened_at', 'timestamptz')
                                THEN (c.properties ->> 'opened_at')::timestamptz ELSE c.created_at END END AS opened_at,
                 lower(coalesce(s.claim ->> 'priority', c.properties ->> 'priority')) AS priority,
                 c.node_type = 'opportunity'
                   AND coalesce(c.properties ->> 'is_closed', 'false') NOT IN ('true', '1')
                   AND NOT (coalesce(lower(s.claim ->> 'stage'), '') LIKE 'closed%'
                            OR coalesce(s.claim ->> 'stage', '') = 'dead') AS active_deal,
                 CASE WHEN pg_input_is_valid(v.claim ->> 'amount', 'numeric(18,2)') THEN (v.claim ->> 'amount')::numeric END AS amount,
                 CASE WHEN pg_input_is_valid(w.claim ->> 'probability', 'numeric(5,4)') THEN (w.claim ->> 'probability')::numeric END AS probability,
                 c.node_type = 'contract' AND s.claim ->> 'status' = 'active' AS active_contract,
                 c.node_type = 'contract' AND s.claim ->> 'status' = 'active'
                   AND (d.effective_date IS NULL OR d.effective_date <= current_date)
                   AND (d.end_date IS NULL OR d.end_date >= current_date) AS in_term,
                 CASE WHEN c.node_type = 'contract'
                      THEN coalesce(CASE WHEN pg_input_is_valid(s.claim ->> 'annual_value', 'numeric(18,2)')
                                         THEN (s.claim ->> 'annual_value')::numeric END,
                                    CASE WHEN pg_input_is_valid(c.properties ->> 'annual_value', 'numeric(18,2)')
                                         THEN (c.properties ->> 'annual_value')::numeric END) END AS annual_value,
                 d.end_date,
                 c.node_type = 'invoice' AND s.claim ->> 'status' = 'open' AS open_invoice,
                 CASE WHEN c.node_type = 'invoice'
                      THEN coalesce(CASE WHEN pg_input_is_valid(s.claim ->> 'amount_remaining', 'numeric(18,2)')
                                         THEN (s.claim ->> 'amount_remaining')::numeric END,
                                    CASE WHEN pg_input_is_valid(c.properties ->> 'amount_remaining', 'numeric(18,2)')
                                         THEN (c.properties ->> 'amount_remaining')::numeric END, 0) END AS remaining,
                 CASE WHEN c.node_type <> 'invoice' THEN NULL
                      WHEN pg_input_is_valid(c.properties ->> 'due_at', 'timestamptz')
                      THEN (c.properties ->> 'due_at')::timestamptz
                      WHEN pg_input_is_valid(c.properties ->> 'due_date', 'date')
                      THEN ((c.properties ->> 'due_date')::date + 1)::timestamp AT TIME ZONE 'UTC' END AS due_at
            FROM (SELECT CASE WHEN c.node_type = 'contract' AND pg_input_is_valid(c.properties ->> 'effective_date', 'date')
                              THEN (c.properties ->> 'effective_date')::date END AS effective_date,
                         CASE WHEN c.node_type = 'contract' AND pg_input_is_valid(c.properties ->> 'end_date', 'date')
                              THEN (c.properties ->> 'end_date')::date END AS end_date) d
      ) x
     WHERE e.edge_type = 'owned_by' AND e.archived_at IS NULL AND e.effective_to IS NULL
       AND c.archived_at IS NULL AND c.node_type IN ('ticket', 'opportunity', 'contract', 'invoice')
     GROUP BY e.target_id
) k ON k.account_id = a.id
LEFT JOIN (
    SELECT p.node_id AS account_id,
           max(ev.occurred_at) AS last_touch_at,
           array_agg(DISTINCT ev.acl::text) AS acls
      FROM crm.event_participants p
      JOIN crm.events ev ON ev.id = p.event_id
     WHERE ev.event_type IN ('meeting', 'phone_call', 'email')
       AND ev.occurred_at <= now()
     GROUP BY p.node_id
) lt ON lt.account_id = a.id
WHERE a.node_type = 'org'
  AND a.archived_at IS NULL;


COMMENT ON VIEW crm_private.accounts_360_facts IS
    'The Account 360 aggregates per live account, computed as whoever reads it (security_invoker): the one definition shared by crm.accounts_360_live (as the caller) and crm_private.accounts_360_mv (as crm_owner). Not granted: read crm.accounts_360 / crm.accounts_360_live.';
