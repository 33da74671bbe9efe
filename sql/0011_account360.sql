-- 0011 Account 360 (issue 6, seed 000 "What this demonstrates", DESIGN §5): the timeline
-- channel of each event type, the trigram index behind crm.resolve_account, the per-account
-- data-quality snapshot, and the materialized view behind crm.accounts_360.
-- Never calls a repeatable function; safe to run twice. Sections: registry, indexes, tables,
-- materialized view.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- registry
-- Seed 002 timeline filter "channel": which channel an event type belongs to. Types without
-- a channel fall back to their event_group in crm.timeline.
ALTER TABLE crm.event_types ADD COLUMN IF NOT EXISTS channel text
    CHECK (channel ~ '^[a-z][a-z0-9_]*$');
COMMENT ON COLUMN crm.event_types.channel IS
    'Timeline channel (seed 002 filters): email, phone, meeting, note, ticket, billing, contract, deal, access, system; NULL = use event_group';
UPDATE crm.event_types t SET channel = v.channel
  FROM (VALUES ('email', 'email'), ('phone_call', 'phone'), ('meeting', 'meeting'), ('note', 'note'),
               ('offer_sent', 'deal'), ('stage_change', 'deal'), ('opportunity_created', 'deal'),
               ('owner_claimed', 'deal'), ('owner_released', 'deal'),
               ('ticket_opened', 'ticket'), ('ticket_status_changed', 'ticket'), ('ticket_solved', 'ticket'),
               ('ticket_comment', 'ticket'),
               ('contract_signed', 'contract'), ('contract_renewed', 'contract'),
               ('contract_expired', 'contract'), ('contract_terminated', 'contract'),
               ('invoice_issued', 'billing'), ('invoice_paid', 'billing'), ('invoice_voided', 'billing'),
               ('node_archived', 'system'), ('node_restored', 'system'), ('node_purged', 'system'))
       AS v (event_type, channel)
 WHERE t.event_type = v.event_type AND t.channel IS DISTINCT FROM v.channel;
UPDATE crm.event_types SET channel = 'access' WHERE event_group = 'access' AND channel IS NULL;
-- Derived, never stored: crm.timeline reports an open invoice past its due date as an event of
-- this type (registered so the type filter and the channel mapping treat it like the others).
INSERT INTO crm.event_types (event_type, description, event_group, key_properties, channel) VALUES
 ('invoice_overdue', 'Derived by crm.timeline (never stored): an open invoice passed its due date', 'billing',
  '{due_date,amount_remaining}', 'billing')
ON CONFLICT (event_type) DO NOTHING;

-- ---------------------------------------------------------------- indexes
-- crm.resolve_account: trigram similarity and case-insensitive exact name on account names
-- (always queried with node_type = 'org', which this partial index requires).
CREATE INDEX IF NOT EXISTS nodes_org_label_trgm
    ON crm.nodes USING gin (label extensions.gin_trgm_ops) WHERE node_type = 'org';

-- ---------------------------------------------------------------- tables
CREATE TABLE IF NOT EXISTS crm_private.account_quality (
    account_id           uuid PRIMARY KEY,
    orphans              bigint NOT NULL DEFAULT 0,
    identity_mismatches  bigint NOT NULL DEFAULT 0,
    duplicate_candidates bigint NOT NULL DEFAULT 0,
    computed_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE crm_private.account_quality IS
    'Snapshot of the open data-quality issues per account (counts of crm.orphans, crm.identity_mismatches, crm.duplicate_candidates rows naming the account), rewritten by crm.refresh_account_views() just before the accounts_360 materialized view, which joins it. A snapshot table (not a join on the views) so the materialized view depends on tables only.';
COMMENT ON COLUMN crm_private.account_quality.computed_at IS 'When the snapshot was taken';

-- ---------------------------------------------------------------- materialized view
-- One row per live account (org). Every aggregate follows one account's subgraph: children
-- through owned_by edges (edges_target index), events through event_participants (node index).
-- Current assertions are joined on (subject, type, '') with superseded_at IS NULL: at most one
-- row per child (partial unique index assertions_current_node), so nothing fans out.
-- Dates and numbers in properties are cast only when valid (pg_input_is_valid), so one bad
-- source value never breaks a refresh. The query must stay identical to crm.accounts_360_live
-- (sql/views/110_accounts_360.sql) except for the data-quality columns; a test compares them.
CREATE MATERIALIZED VIEW IF NOT EXISTS crm_private.accounts_360_mv AS
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
    coalesce(q.orphans, 0)                           AS orphans,
    coalesce(q.identity_mismatches, 0)               AS identity_mismatches,
    coalesce(q.duplicate_candidates, 0)              AS duplicate_candidates,
    now()                                            AS as_of
FROM crm.nodes a
LEFT JOIN crm.nodes own ON own.id = a.claimed_by
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
LEFT JOIN crm_private.account_quality q ON q.account_id = a.id
WHERE a.node_type = 'org'
  AND a.archived_at IS NULL
WITH DATA;

COMMENT ON MATERIALIZED VIEW crm_private.accounts_360_mv IS
    'Storage of crm.accounts_360: one row per live account with its open tickets, active opportunities, ARR, invoices, last touch and data-quality counts, as of the last crm.refresh_account_views(). Never granted: read it through crm.accounts_360.';

CREATE UNIQUE INDEX IF NOT EXISTS idx_a360_account ON crm_private.accounts_360_mv (account_id);
CREATE INDEX IF NOT EXISTS idx_a360_crm_id ON crm_private.accounts_360_mv (crm_id);

REVOKE ALL ON crm_private.account_quality, crm_private.accounts_360_mv FROM PUBLIC;
