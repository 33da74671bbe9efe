-- crm.accounts_360 — one row per account for BI (issue 6, seed 000 "GetAccountSummary"):
-- flat, typed columns (no jsonb or arrays; ids also as text; numeric, never float). Reads the
-- private materialized view crm_private.accounts_360_mv (refreshed CONCURRENTLY by
-- crm.refresh_account_views()) as its owner and re-applies the access rules itself:
-- rows only for accounts the caller can see now; the sensitive deal values (pipeline and
-- weighted value) only with a grant for deal_value. Known limit: aggregates over children
-- (counts, sums) include children that carry their own narrower restriction; the live twin
-- counts only what the caller can see.
-- crm.accounts_360_live — the same columns computed from the base tables as the caller
-- (security_invoker: row-level security applies to every child), always current.
CREATE OR REPLACE VIEW crm.accounts_360
WITH (security_invoker = false, security_barrier = true) AS
SELECT b.account_id, b.account_id_text, b.crm_id, b.name, b.domain, b.owner, b.team,
       b.open_tickets, b.oldest_open_ticket_at,
       round((extract(epoch FROM now() - b.oldest_open_ticket_at) / 86400)::numeric, 1) AS oldest_open_ticket_age_days,
       b.high_priority_open_tickets,
       b.active_opportunities,
       CASE WHEN (SELECT crm_private.actor_can_read_assertion_type('deal_value')) THEN b.pipeline_value END AS pipeline_value,
       CASE WHEN (SELECT crm_private.actor_can_read_assertion_type('deal_value')) THEN b.weighted_pipeline_value END AS weighted_pipeline_value,
       b.arr, b.active_contracts, b.next_renewal_date,
       b.open_invoices, b.open_invoice_amount, b.overdue_invoices, b.overdue_invoice_amount,
       b.last_touch_at,
       round((extract(epoch FROM now() - b.last_touch_at) / 86400)::numeric, 1) AS days_since_last_touch,
       (SELECT min(f.last_success_at) FROM crm_private.source_freshness_at(now(), current_user) f WHERE f.freshness_group = 'crm') AS last_synced_crm,
       (SELECT min(f.last_success_at) FROM crm_private.source_freshness_at(now(), current_user) f WHERE f.freshness_group = 'tickets') AS last_synced_tickets,
       (SELECT min(f.last_success_at) FROM crm_private.source_freshness_at(now(), current_user) f WHERE f.freshness_group = 'clm') AS last_synced_clm,
       (SELECT min(f.last_success_at) FROM crm_private.source_freshness_at(now(), current_user) f WHERE f.freshness_group = 'billing') AS last_synced_billing,
       b.orphans, b.identity_mismatches, b.duplicate_candidates,
       b.as_of
  FROM crm_private.accounts_360_mv b
 WHERE (SELECT crm_private.actor_is_admin())
    OR b.account_id IN (SELECT crm_private.visible_node_ids('org', current_user));

COMMENT ON VIEW crm.accounts_360 IS
    'Account 360 for BI: one row per live account visible to the caller — owner, team, open tickets, active opportunities and pipeline, ARR, next renewal, open and overdue invoices, last touch, last sync per source, open data-quality issues. Materialized: as of the last crm.refresh_account_views() (column as_of); crm.accounts_360_live is always current.';

CREATE OR REPLACE VIEW crm.accounts_360_live
WITH (security_invoker = true) AS
SELECT b.account_id, b.account_id_text, b.crm_id, b.name, b.domain, b.owner, b.team,
       b.open_tickets, b.oldest_open_ticket_at,
       round((extract(epoch FROM now() - b.oldest_open_ticket_at) / 86400)::numeric, 1) AS oldest_open_ticket_age_days,
       b.high_priority_open_tickets,
       b.active_opportunities,
       b.pipeline_value AS pipeline_value,
       b.weighted_pipeline_value AS weighted_pipeline_value,
       b.arr, b.active_contracts, b.next_renewal_date,
       b.open_invoices, b.open_invoice_amount, b.overdue_invoices, b.overdue_invoice_amount,
       b.last_touch_at,
       round((extract(epoch FROM now() - b.last_touch_at) / 86400)::numeric, 1) AS days_since_last_touch,
       (SELECT min(f.last_success_at) FROM crm_private.source_freshness_at(now(), current_user) f WHERE f.freshness_group = 'crm') AS last_synced_crm,
       (SELECT min(f.last_success_at) FROM crm_private.source_freshness_at(now(), current_user) f WHERE f.freshness_group = 'tickets') AS last_synced_tickets,
       (SELECT min(f.last_success_at) FROM crm_private.source_freshness_at(now(), current_user) f WHERE f.freshness_group = 'clm') AS last_synced_clm,
       (SELECT min(f.last_success_at) FROM crm_private.source_freshness_at(now(), current_user) f WHERE f.freshness_group = 'billing') AS last_synced_billing,
       b.orphans, b.identity_mismatches, b.duplicate_candidates,
       b.as_of
  FROM (
SELECT
    a.id                                             AS account_id,
    a.id::text                                       AS account_id_text,
    CASE WHEN a.external_source = 'salesforce' THEN a.external_id END AS crm_id,
    coalesce(a.properties ->> 'name', a.label)       AS name,
    a.properties ->> 'domain'                        AS domain,
    own.label                                        AS owner,
    tm.team                                          AS team,
    coalesce(tk.open_tickets, 0)                     AS open_tickets,
    tk.oldest_open_at                                AS oldest_open_ticket_at,
    coalesce(tk.high_priority, 0)                    AS high_priority_open_tickets,
    coalesce(op.active_opportunities, 0)             AS active_opportunities,
    op.pipeline_value,
    op.weighted_pipeline_value,
    coalesce(ct.arr, 0)                              AS arr,
    coalesce(ct.active_contracts, 0)                 AS active_contracts,
    ct.next_renewal_date,
    coalesce(iv.open_invoices, 0)                    AS open_invoices,
    coalesce(iv.open_amount, 0)                      AS open_invoice_amount,
    coalesce(iv.overdue_invoices, 0)                 AS overdue_invoices,
    coalesce(iv.overdue_amount, 0)                   AS overdue_invoice_amount,
    lt.last_touch_at,
    coalesce(dq.orphans, 0)                          AS orphans,
    coalesce(dq.identity_mismatches, 0)              AS identity_mismatches,
    coalesce(dq.duplicate_candidates, 0)             AS duplicate_candidates,
    now()                                            AS as_of
FROM crm.nodes a
LEFT JOIN crm.nodes own ON own.id = a.claimed_by
LEFT JOIN LATERAL crm_private.account_quality_of(a.id, current_user) dq ON true
LEFT JOIN LATERAL (
    SELECT string_agg(t.label, ', ' ORDER BY t.label) AS team
      FROM crm.nodes t
     WHERE t.id = ANY (a.restricted_to) AND t.node_type = 'team'
) tm ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS open_tickets,
           min(CASE WHEN pg_input_is_valid(c.properties ->> 'opened_at', 'timestamptz')
                    THEN (c.properties ->> 'opened_at')::timestamptz ELSE c.created_at END) AS oldest_open_at,
           count(*) FILTER (WHERE lower(coalesce(s.claim ->> 'priority', c.properties ->> 'priority'))
                                  IN ('high', 'urgent')) AS high_priority
      FROM crm.edges e
      JOIN crm.nodes c ON c.id = e.source_id
      JOIN crm.assertions s ON s.subject_node_id = c.id AND s.assertion_type = 'ticket_status'
                           AND s.assertion_key = '' AND s.superseded_at IS NULL
     WHERE e.target_id = a.id AND e.edge_type = 'owned_by' AND e.archived_at IS NULL
       AND c.node_type = 'ticket' AND c.archived_at IS NULL
       AND s.claim ->> 'status' IN ('new', 'open', 'pending', 'hold')
) tk ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS active_opportunities,
           sum((v.claim ->> 'amount')::numeric) AS pipeline_value,
           sum((v.claim ->> 'amount')::numeric * (w.claim ->> 'probability')::numeric) AS weighted_pipeline_value
      FROM crm.edges e
      JOIN crm.nodes c ON c.id = e.source_id
      LEFT JOIN crm.assertions s ON s.subject_node_id = c.id AND s.assertion_type = 'deal_stage'
                                AND s.assertion_key = '' AND s.superseded_at IS NULL
      LEFT JOIN crm.assertions v ON v.subject_node_id = c.id AND v.assertion_type = 'deal_value'
                                AND v.assertion_key = '' AND v.superseded_at IS NULL
      LEFT JOIN crm.assertions w ON w.subject_node_id = c.id AND w.assertion_type = 'win_probability'
                                AND w.assertion_key = '' AND w.superseded_at IS NULL
     WHERE e.target_id = a.id AND e.edge_type = 'owned_by' AND e.archived_at IS NULL
       AND c.node_type = 'opportunity' AND c.archived_at IS NULL
       AND coalesce(c.properties ->> 'is_closed', 'false') NOT IN ('true', '1')
       AND NOT (coalesce(lower(s.claim ->> 'stage'), '') LIKE 'closed%'
                OR coalesce(s.claim ->> 'stage', '') = 'dead')
) op ON true
LEFT JOIN LATERAL (
    SELECT sum(x.annual_value) FILTER (WHERE x.in_term) AS arr,
           count(*) FILTER (WHERE x.in_term) AS active_contracts,
           min(x.end_date) FILTER (WHERE x.end_date >= current_date) AS next_renewal_date
      FROM crm.edges e
      JOIN crm.nodes c ON c.id = e.source_id
      JOIN crm.assertions s ON s.subject_node_id = c.id AND s.assertion_type = 'contract_status'
                           AND s.assertion_key = '' AND s.superseded_at IS NULL
      CROSS JOIN LATERAL (
          SELECT d.end_date,
                 coalesce((s.claim ->> 'annual_value')::numeric,
                          CASE WHEN pg_input_is_valid(c.properties ->> 'annual_value', 'numeric')
                               THEN (c.properties ->> 'annual_value')::numeric END) AS annual_value,
                 (d.effective_date IS NULL OR d.effective_date <= current_date)
                 AND (d.end_date IS NULL OR d.end_date >= current_date) AS in_term
            FROM (SELECT CASE WHEN pg_input_is_valid(c.properties ->> 'effective_date', 'date')
                              THEN (c.properties ->> 'effective_date')::date END AS effective_date,
                         CASE WHEN pg_input_is_valid(c.properties ->> 'end_date', 'date')
                              THEN (c.properties ->> 'end_date')::date END AS end_date) d
      ) x
     WHERE e.target_id = a.id AND e.edge_type = 'owned_by' AND e.archived_at IS NULL
       AND c.node_type = 'contract' AND c.archived_at IS NULL
       AND s.claim ->> 'status' = 'active'
) ct ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS open_invoices,
           sum(x.remaining) AS open_amount,
           count(*) FILTER (WHERE x.due_date < current_date) AS overdue_invoices,
           coalesce(sum(x.remaining) FILTER (WHERE x.due_date < current_date), 0) AS overdue_amount
      FROM crm.edges e
      JOIN crm.nodes c ON c.id = e.source_id
      JOIN crm.assertions s ON s.subject_node_id = c.id AND s.assertion_type = 'invoice_status'
                           AND s.assertion_key = '' AND s.superseded_at IS NULL
      CROSS JOIN LATERAL (
          SELECT coalesce((s.claim ->> 'amount_remaining')::numeric,
                          CASE WHEN pg_input_is_valid(c.properties ->> 'amount_remaining', 'numeric')
                               THEN (c.properties ->> 'amount_remaining')::numeric END, 0) AS remaining,
                 CASE WHEN pg_input_is_valid(c.properties ->> 'due_date', 'date')
                      THEN (c.properties ->> 'due_date')::date END AS due_date
      ) x
     WHERE e.target_id = a.id AND e.edge_type = 'owned_by' AND e.archived_at IS NULL
       AND c.node_type = 'invoice' AND c.archived_at IS NULL
       AND s.claim ->> 'status' = 'open'
) iv ON true
LEFT JOIN LATERAL (
    SELECT max(ev.occurred_at) AS last_touch_at
      FROM crm.event_participants p
      JOIN crm.events ev ON ev.id = p.event_id
     WHERE p.node_id = a.id
       AND ev.event_type IN ('meeting', 'phone_call', 'email')
       AND ev.occurred_at <= now()
) lt ON true
WHERE a.node_type = 'org'
  AND a.archived_at IS NULL
) b;

COMMENT ON VIEW crm.accounts_360_live IS
    'Same columns as crm.accounts_360 computed from the base tables as the caller on every read (always current; every child filtered by row-level security; slower at scale).';
COMMENT ON COLUMN crm.accounts_360.account_id IS 'The account (org node) id';
COMMENT ON COLUMN crm.accounts_360.account_id_text IS 'account_id as text (for BI tools without a uuid type)';
COMMENT ON COLUMN crm.accounts_360.crm_id IS 'The Salesforce Account Id (nodes.external_id when external_source = salesforce)';
COMMENT ON COLUMN crm.accounts_360.name IS 'Account name';
COMMENT ON COLUMN crm.accounts_360.domain IS 'Lower-case web domain of the account (no www.)';
COMMENT ON COLUMN crm.accounts_360.owner IS 'Name of the user who owns (claimed) the account';
COMMENT ON COLUMN crm.accounts_360.team IS 'Names of the teams the account is restricted to, comma-separated, sorted';
COMMENT ON COLUMN crm.accounts_360.open_tickets IS 'Tickets owned by the account whose current ticket_status is new, open, pending or hold';
COMMENT ON COLUMN crm.accounts_360.oldest_open_ticket_at IS 'When the oldest open ticket was opened (properties.opened_at, else created_at)';
COMMENT ON COLUMN crm.accounts_360.oldest_open_ticket_age_days IS 'Age in days (1 decimal) of the oldest open ticket, computed at read time';
COMMENT ON COLUMN crm.accounts_360.high_priority_open_tickets IS 'Open tickets with priority high or urgent';
COMMENT ON COLUMN crm.accounts_360.active_opportunities IS 'Live opportunities of the account not closed (is_closed false, stage not closed*/dead)';
COMMENT ON COLUMN crm.accounts_360.pipeline_value IS 'Sum of the current deal_value amounts of the active opportunities (no currency conversion); NULL unless the caller may read deal_value (sensitive)';
COMMENT ON COLUMN crm.accounts_360.weighted_pipeline_value IS 'Sum of deal_value amount x current win_probability over active opportunities (no probability = 0); NULL unless the caller may read deal_value';
COMMENT ON COLUMN crm.accounts_360.arr IS 'Annual recurring revenue: sum of annual_value (claim, else properties) of the account''s contracts whose current contract_status is active AND effective_date <= today <= end_date (missing dates are open-ended). No currency conversion.';
COMMENT ON COLUMN crm.accounts_360.active_contracts IS 'Number of contracts counted in arr';
COMMENT ON COLUMN crm.accounts_360.next_renewal_date IS 'Earliest end_date >= today among the active contracts';
COMMENT ON COLUMN crm.accounts_360.open_invoices IS 'Invoices whose current invoice_status is open';
COMMENT ON COLUMN crm.accounts_360.open_invoice_amount IS 'Sum of amount_remaining of the open invoices (major units)';
COMMENT ON COLUMN crm.accounts_360.overdue_invoices IS 'Open invoices with due_date < today';
COMMENT ON COLUMN crm.accounts_360.overdue_invoice_amount IS 'Sum of amount_remaining of the overdue invoices';
COMMENT ON COLUMN crm.accounts_360.last_touch_at IS 'Latest meeting, phone_call or email event in the past the account took part in (ticket comments and notes do not count)';
COMMENT ON COLUMN crm.accounts_360.days_since_last_touch IS 'Days (1 decimal) since last_touch_at, computed at read time';
COMMENT ON COLUMN crm.accounts_360.last_synced_crm IS 'Oldest last successful sync among the Salesforce objects (crm_raw.sync_runs)';
COMMENT ON COLUMN crm.accounts_360.last_synced_tickets IS 'Oldest last successful sync among the Zendesk objects';
COMMENT ON COLUMN crm.accounts_360.last_synced_clm IS 'Oldest last successful sync among the CLM objects';
COMMENT ON COLUMN crm.accounts_360.last_synced_billing IS 'Oldest last successful sync among the Stripe objects';
COMMENT ON COLUMN crm.accounts_360.orphans IS 'Open orphan records naming this account (crm.orphans)';
COMMENT ON COLUMN crm.accounts_360.identity_mismatches IS 'Open identity mismatches naming this account (crm.identity_mismatches)';
COMMENT ON COLUMN crm.accounts_360.duplicate_candidates IS 'Duplicate-candidate pairs this account is part of (crm.duplicate_candidates)';
COMMENT ON COLUMN crm.accounts_360.as_of IS 'When the row was computed: the last refresh (crm.accounts_360) or now (crm.accounts_360_live); dated columns (arr, overdue) are as of that day';
COMMENT ON COLUMN crm.accounts_360_live.account_id IS 'The account (org node) id';
COMMENT ON COLUMN crm.accounts_360_live.account_id_text IS 'account_id as text (for BI tools without a uuid type)';
COMMENT ON COLUMN crm.accounts_360_live.crm_id IS 'The Salesforce Account Id (nodes.external_id when external_source = salesforce)';
COMMENT ON COLUMN crm.accounts_360_live.name IS 'Account name';
COMMENT ON COLUMN crm.accounts_360_live.domain IS 'Lower-case web domain of the account (no www.)';
COMMENT ON COLUMN crm.accounts_360_live.owner IS 'Name of the user who owns (claimed) the account';
COMMENT ON COLUMN crm.accounts_360_live.team IS 'Names of the teams the account is restricted to, comma-separated, sorted';
COMMENT ON COLUMN crm.accounts_360_live.open_tickets IS 'Tickets owned by the account whose current ticket_status is new, open, pending or hold';
COMMENT ON COLUMN crm.accounts_360_live.oldest_open_ticket_at IS 'When the oldest open ticket was opened (properties.opened_at, else created_at)';
COMMENT ON COLUMN crm.accounts_360_live.oldest_open_ticket_age_days IS 'Age in days (1 decimal) of the oldest open ticket, computed at read time';
COMMENT ON COLUMN crm.accounts_360_live.high_priority_open_tickets IS 'Open tickets with priority high or urgent';
COMMENT ON COLUMN crm.accounts_360_live.active_opportunities IS 'Live opportunities of the account not closed (is_closed false, stage not closed*/dead)';
COMMENT ON COLUMN crm.accounts_360_live.pipeline_value IS 'Sum of the current deal_value amounts of the active opportunities (no currency conversion); NULL unless the caller may read deal_value (sensitive)';
COMMENT ON COLUMN crm.accounts_360_live.weighted_pipeline_value IS 'Sum of deal_value amount x current win_probability over active opportunities (no probability = 0); NULL unless the caller may read deal_value';
COMMENT ON COLUMN crm.accounts_360_live.arr IS 'Annual recurring revenue: sum of annual_value (claim, else properties) of the account''s contracts whose current contract_status is active AND effective_date <= today <= end_date (missing dates are open-ended). No currency conversion.';
COMMENT ON COLUMN crm.accounts_360_live.active_contracts IS 'Number of contracts counted in arr';
COMMENT ON COLUMN crm.accounts_360_live.next_renewal_date IS 'Earliest end_date >= today among the active contracts';
COMMENT ON COLUMN crm.accounts_360_live.open_invoices IS 'Invoices whose current invoice_status is open';
COMMENT ON COLUMN crm.accounts_360_live.open_invoice_amount IS 'Sum of amount_remaining of the open invoices (major units)';
COMMENT ON COLUMN crm.accounts_360_live.overdue_invoices IS 'Open invoices with due_date < today';
COMMENT ON COLUMN crm.accounts_360_live.overdue_invoice_amount IS 'Sum of amount_remaining of the overdue invoices';
COMMENT ON COLUMN crm.accounts_360_live.last_touch_at IS 'Latest meeting, phone_call or email event in the past the account took part in (ticket comments and notes do not count)';
COMMENT ON COLUMN crm.accounts_360_live.days_since_last_touch IS 'Days (1 decimal) since last_touch_at, computed at read time';
COMMENT ON COLUMN crm.accounts_360_live.last_synced_crm IS 'Oldest last successful sync among the Salesforce objects (crm_raw.sync_runs)';
COMMENT ON COLUMN crm.accounts_360_live.last_synced_tickets IS 'Oldest last successful sync among the Zendesk objects';
COMMENT ON COLUMN crm.accounts_360_live.last_synced_clm IS 'Oldest last successful sync among the CLM objects';
COMMENT ON COLUMN crm.accounts_360_live.last_synced_billing IS 'Oldest last successful sync among the Stripe objects';
COMMENT ON COLUMN crm.accounts_360_live.orphans IS 'Orphan records naming this account, as of the last crm.refresh_account_views() (orphans by definition name no account: 0)';
COMMENT ON COLUMN crm.accounts_360_live.identity_mismatches IS 'Identity mismatches naming this account, as of the last crm.refresh_account_views()';
COMMENT ON COLUMN crm.accounts_360_live.duplicate_candidates IS 'Duplicate-candidate pairs this account is part of, as of the last crm.refresh_account_views()';
COMMENT ON COLUMN crm.accounts_360_live.as_of IS 'When the row was computed: the last refresh (crm.accounts_360) or now (crm.accounts_360_live); dated columns (arr, overdue) are as of that day';
