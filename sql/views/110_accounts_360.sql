-- crm.accounts_360 — one row per account for BI (issue 6, seed 000 "GetAccountSummary"):
-- flat, typed columns (no jsonb or arrays; ids also as text; numeric, never float).
-- Exactly what crm.accounts_360_live shows the same caller — never a count or sum over
-- children the caller cannot see — but read from the materialized view where that is the
-- same thing: crm_private.accounts_360_stored(current_user) returns the stored rows of the
-- accounts the caller sees through their acl and whose counted children are all visible to
-- such a caller (every stored row for admins not acting for a user); every other account the
-- caller can see (through a grant, with a child restricted elsewhere, or new since the last
-- refresh) is computed live, as the caller. Stored rows are as of the last
-- crm.refresh_account_views() (column as_of; live rows: now). The sensitive deal values
-- (pipeline and weighted value) only with a grant for deal_value.
-- crm.accounts_360_live — the same columns computed from the base tables as the caller
-- (security_invoker: row-level security applies to every child), always current. Both read
-- the one definition of the aggregates, crm_private.accounts_360_facts (migration 0017).
CREATE OR REPLACE VIEW crm.accounts_360_live
WITH (security_invoker = true) AS
SELECT b.account_id, b.account_id_text, b.crm_id, b.name, b.domain, b.owner_name, b.owner_email, b.team,
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
       coalesce(dq.orphans, 0) AS orphans,
       coalesce(dq.identity_mismatches, 0) AS identity_mismatches,
       coalesce(dq.duplicate_candidates, 0) AS duplicate_candidates,
       now() AS as_of
  FROM crm_private.accounts_360_facts b
  LEFT JOIN LATERAL crm_private.account_quality_of(b.account_id, current_user) dq ON true;

CREATE OR REPLACE VIEW crm.accounts_360
WITH (security_invoker = true) AS
WITH stored AS MATERIALIZED (
    SELECT * FROM crm_private.accounts_360_stored(current_user)
), dv AS MATERIALIZED (
    SELECT crm_private.actor_can_read_assertion_type('deal_value') AS ok
), orgs AS MATERIALIZED (
    -- every account the caller can see (row-level security: read as the caller), and whether
    -- its stored row is not to be shown (computed live instead)
    SELECT x.id, x.id NOT IN (SELECT s.account_id FROM stored s) AS live
      FROM crm.nodes x
     WHERE x.node_type = 'org' AND x.archived_at IS NULL
), few AS MATERIALIZED (
    -- a few live accounts (at most a quarter of those the caller sees) are computed one by one,
    -- more in one grouped pass (crm_private.accounts_360_facts groups every account's children:
    -- ~0.2 ms an account in one pass at 6,000 accounts, ~0.8 ms one at a time)
    SELECT count(*) FILTER (WHERE o.live) * 4 <= count(*) AS yes FROM orgs o
)
SELECT b.account_id, b.account_id_text, b.crm_id, b.name, b.domain, b.owner_name, b.owner_email, b.team,
       b.open_tickets, b.oldest_open_ticket_at,
       round((extract(epoch FROM now() - b.oldest_open_ticket_at) / 86400)::numeric, 1) AS oldest_open_ticket_age_days,
       b.high_priority_open_tickets,
       b.active_opportunities,
       CASE WHEN (SELECT ok FROM dv) THEN b.pipeline_value END AS pipeline_value,
       CASE WHEN (SELECT ok FROM dv) THEN b.weighted_pipeline_value END AS weighted_pipeline_value,
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
  FROM stored b
UNION ALL
-- the same columns, in the same order, for every other account the caller can see, computed
-- live. The aggregates are grouped over all accounts (crm_private.accounts_360_facts, migration
-- 0036): an account id given per row (a LATERAL kept apart by OFFSET 0) is pushed into the
-- groupings, a NOT IN or IN filter is not — so a few live accounts are computed one by one
-- (account_id comes from orgs: a filter on it reaches the CTE scan, not every lateral call) ...
SELECT o.id, l.account_id_text, l.crm_id, l.name, l.domain, l.owner_name, l.owner_email, l.team,
       l.open_tickets, l.oldest_open_ticket_at, l.oldest_open_ticket_age_days, l.high_priority_open_tickets,
       l.active_opportunities, l.pipeline_value, l.weighted_pipeline_value, l.arr, l.active_contracts,
       l.next_renewal_date, l.open_invoices, l.open_invoice_amount, l.overdue_invoices, l.overdue_invoice_amount,
       l.last_touch_at, l.days_since_last_touch, l.last_synced_crm, l.last_synced_tickets, l.last_synced_clm,
       l.last_synced_billing, l.orphans, l.identity_mismatches, l.duplicate_candidates, l.as_of
  FROM orgs o
 CROSS JOIN LATERAL (SELECT * FROM crm.accounts_360_live v WHERE v.account_id = o.id OFFSET 0) l
 WHERE o.live AND (SELECT f.yes FROM few f)
UNION ALL
-- ... and many in one grouped pass
SELECT l.*
  FROM crm.accounts_360_live l
 WHERE NOT (SELECT f.yes FROM few f)
   AND l.account_id IN (SELECT o.id FROM orgs o WHERE o.live);

COMMENT ON VIEW crm.accounts_360 IS
    'Account 360 for BI: one row per live account visible to the caller — owner, team, open tickets, active opportunities and pipeline, ARR, next renewal, open and overdue invoices, last touch, last sync per source, open data-quality issues. Exactly what crm.accounts_360_live shows the same caller; rows the caller sees through the account''s own acl come from the materialized copy, as of the last crm.refresh_account_views() (column as_of), the others are computed live (as_of = now).';

COMMENT ON VIEW crm.accounts_360_live IS
    'Same columns as crm.accounts_360 computed from the base tables as the caller on every read (always current; every child filtered by row-level security; slower at scale).';
COMMENT ON COLUMN crm.accounts_360.account_id IS 'The account (org node) id';
COMMENT ON COLUMN crm.accounts_360.account_id_text IS 'account_id as text (for BI tools without a uuid type)';
COMMENT ON COLUMN crm.accounts_360.crm_id IS 'The Salesforce Account Id (nodes.external_id when external_source = salesforce)';
COMMENT ON COLUMN crm.accounts_360.name IS 'Account name';
COMMENT ON COLUMN crm.accounts_360.domain IS 'Lower-case web domain of the account (no www.)';
COMMENT ON COLUMN crm.accounts_360.owner_name IS 'Name of the account''s owner: its owner in the CRM (Salesforce OwnerId -> user), else the user who claimed it in crm360';
COMMENT ON COLUMN crm.accounts_360.owner_email IS 'Email of the owner (owner_name)';
COMMENT ON COLUMN crm.accounts_360.team IS 'Names of the teams the account is restricted to, comma-separated, sorted';
COMMENT ON COLUMN crm.accounts_360.open_tickets IS 'Tickets owned by the account whose current ticket_status is new, open, pending or hold';
COMMENT ON COLUMN crm.accounts_360.oldest_open_ticket_at IS 'When the oldest open ticket was opened (properties.opened_at, else created_at)';
COMMENT ON COLUMN crm.accounts_360.oldest_open_ticket_age_days IS 'Age in days (1 decimal) of the oldest open ticket, computed at read time';
COMMENT ON COLUMN crm.accounts_360.high_priority_open_tickets IS 'Open tickets with priority high or urgent';
COMMENT ON COLUMN crm.accounts_360.active_opportunities IS 'Live opportunities of the account not closed (is_closed false, stage not closed*/dead)';
COMMENT ON COLUMN crm.accounts_360.pipeline_value IS 'Sum of the current deal_value amounts of the active opportunities, 2 decimals (no currency conversion); 0 when there are none; NULL only when the caller may not read deal_value (sensitive)';
COMMENT ON COLUMN crm.accounts_360.weighted_pipeline_value IS 'Sum of deal_value amount x current win_probability over active opportunities (no probability = 0), 2 decimals; 0 when there are none; NULL only when the caller may not read deal_value';
COMMENT ON COLUMN crm.accounts_360.arr IS 'Annual recurring revenue: sum of annual_value (claim, else properties) of the account''s contracts whose current contract_status is active AND effective_date <= today <= end_date (missing dates are open-ended). No currency conversion.';
COMMENT ON COLUMN crm.accounts_360.active_contracts IS 'Number of contracts counted in arr';
COMMENT ON COLUMN crm.accounts_360.next_renewal_date IS 'Earliest end_date >= today among the active contracts';
COMMENT ON COLUMN crm.accounts_360.open_invoices IS 'Invoices whose current invoice_status is open';
COMMENT ON COLUMN crm.accounts_360.open_invoice_amount IS 'Sum of amount_remaining of the open invoices (major units)';
COMMENT ON COLUMN crm.accounts_360.overdue_invoices IS 'Open invoices whose due moment has passed (properties.due_at: Stripe due_date is a moment; else the end of due_date, UTC)';
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
COMMENT ON COLUMN crm.accounts_360_live.owner_name IS 'Name of the account''s owner: its owner in the CRM (Salesforce OwnerId -> user), else the user who claimed it in crm360';
COMMENT ON COLUMN crm.accounts_360_live.owner_email IS 'Email of the owner (owner_name)';
COMMENT ON COLUMN crm.accounts_360_live.team IS 'Names of the teams the account is restricted to, comma-separated, sorted';
COMMENT ON COLUMN crm.accounts_360_live.open_tickets IS 'Tickets owned by the account whose current ticket_status is new, open, pending or hold';
COMMENT ON COLUMN crm.accounts_360_live.oldest_open_ticket_at IS 'When the oldest open ticket was opened (properties.opened_at, else created_at)';
COMMENT ON COLUMN crm.accounts_360_live.oldest_open_ticket_age_days IS 'Age in days (1 decimal) of the oldest open ticket, computed at read time';
COMMENT ON COLUMN crm.accounts_360_live.high_priority_open_tickets IS 'Open tickets with priority high or urgent';
COMMENT ON COLUMN crm.accounts_360_live.active_opportunities IS 'Live opportunities of the account not closed (is_closed false, stage not closed*/dead)';
COMMENT ON COLUMN crm.accounts_360_live.pipeline_value IS 'Sum of the current deal_value amounts of the active opportunities, 2 decimals (no currency conversion); 0 when there are none; NULL only when the caller may not read deal_value (sensitive)';
COMMENT ON COLUMN crm.accounts_360_live.weighted_pipeline_value IS 'Sum of deal_value amount x current win_probability over active opportunities (no probability = 0), 2 decimals; 0 when there are none; NULL only when the caller may not read deal_value';
COMMENT ON COLUMN crm.accounts_360_live.arr IS 'Annual recurring revenue: sum of annual_value (claim, else properties) of the account''s contracts whose current contract_status is active AND effective_date <= today <= end_date (missing dates are open-ended). No currency conversion.';
COMMENT ON COLUMN crm.accounts_360_live.active_contracts IS 'Number of contracts counted in arr';
COMMENT ON COLUMN crm.accounts_360_live.next_renewal_date IS 'Earliest end_date >= today among the active contracts';
COMMENT ON COLUMN crm.accounts_360_live.open_invoices IS 'Invoices whose current invoice_status is open';
COMMENT ON COLUMN crm.accounts_360_live.open_invoice_amount IS 'Sum of amount_remaining of the open invoices (major units)';
COMMENT ON COLUMN crm.accounts_360_live.overdue_invoices IS 'Open invoices whose due moment has passed (properties.due_at: Stripe due_date is a moment; else the end of due_date, UTC)';
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
