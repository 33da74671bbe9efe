-- 0017 one definition of the Account 360, exact for every caller (issue 11, finding 12).
-- crm_private.accounts_360_facts is THE query of the Account 360 aggregates (open tickets,
-- active opportunities and pipeline, ARR and renewals, invoices, last touch): a
-- security_invoker view, so the live twin crm.accounts_360_live computes it as the caller
-- (row-level security on every child) and the materialized view computes it as crm_owner
-- (every row) from the same text. The materialized view adds what lets crm.accounts_360
-- serve a stored row only where it equals the live one for the caller:
--   account_acl — the account's acl when the row was stored;
--   uniform     — every child the row counts (tickets, opportunities, contracts, invoices,
--                 touch events) is visible to everyone who sees the account through its acl
--                 (its acl contains the account's). For a caller who sees the account through
--                 its acl, the stored aggregates are then exactly the live ones; for anyone
--                 else (a grant-only reader, a child restricted elsewhere, an account whose
--                 acl changed since) crm.accounts_360 computes the row live.
-- crm_private.acl_changed_accounts records the accounts whose own acl, or the acl of a child
-- or of an event they take part in, changed (ACL maintenance writes it): a stored row older
-- than such a change is not served either — access changes apply at once, data changes at the
-- next refresh.
-- Sections: tables, views, materialized view, indexes, grants.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- tables
CREATE TABLE IF NOT EXISTS crm_private.acl_changed_accounts (
    account_id uuid PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE crm_private.acl_changed_accounts IS
    'Accounts whose acl, or the acl of one of their children or events, changed (written by ACL maintenance: crm_private.propagate_acl, refresh_event_acl); crm_private.accounts_360_stored does not serve a stored row older than the change. Pruned by crm.refresh_account_views().';

-- the duplicate partners of each account (not only their number): a caller is shown only the
-- pairs whose other account they can see (a count of hidden look-alikes would tell them that a
-- hidden account exists)
ALTER TABLE crm_private.account_quality ADD COLUMN IF NOT EXISTS duplicate_others uuid[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN crm_private.account_quality.duplicate_others IS 'The other accounts of the duplicate-candidate pairs naming this account';

-- ---------------------------------------------------------------- views
-- the materialized view of 0011 (no account_acl/uniform) is replaced; running this file
-- again changes nothing (its wrapper view is re-created by sql/views)
DO $$
BEGIN
    IF to_regclass('crm_private.accounts_360_mv') IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = 'crm_private.accounts_360_mv'::regclass AND a.attname = 'uniform') THEN
        DROP MATERIALIZED VIEW crm_private.accounts_360_mv CASCADE;
    END IF;
END
$$;

CREATE OR REPLACE VIEW crm_private.accounts_360_facts
WITH (security_invoker = true) AS
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
    lt.last_touch_at
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
     WHERE e.target_id = a.id AND e.edge_type = 'owned_by' AND e.archived_at IS NULL AND e.effective_to IS NULL
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
     WHERE e.target_id = a.id AND e.edge_type = 'owned_by' AND e.archived_at IS NULL AND e.effective_to IS NULL
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
     WHERE e.target_id = a.id AND e.edge_type = 'owned_by' AND e.archived_at IS NULL AND e.effective_to IS NULL
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
     WHERE e.target_id = a.id AND e.edge_type = 'owned_by' AND e.archived_at IS NULL AND e.effective_to IS NULL
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
  AND a.archived_at IS NULL;

COMMENT ON VIEW crm_private.accounts_360_facts IS
    'The Account 360 aggregates per live account, computed as whoever reads it (security_invoker): the one definition shared by crm.accounts_360_live (as the caller) and crm_private.accounts_360_mv (as crm_owner). Not granted: read crm.accounts_360 / crm.accounts_360_live.';

-- ---------------------------------------------------------------- materialized view
-- computed as the tables' owner with row-level security not forced for this transaction, so
-- the stored rows hold every child whatever policies exist while migrating (0016 drops some
-- until sql/rls re-creates them); nobody else sees the tables in this state
ALTER TABLE crm.nodes NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.edges NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.assertions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.events NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.event_participants NO FORCE ROW LEVEL SECURITY;
CREATE MATERIALIZED VIEW IF NOT EXISTS crm_private.accounts_360_mv AS
SELECT f.*,
       coalesce(q.orphans, 0)                        AS orphans,
       coalesce(q.identity_mismatches, 0)            AS identity_mismatches,
       coalesce(q.duplicate_candidates, 0)           AS duplicate_candidates,
       coalesce(q.duplicate_others, '{}')            AS duplicate_others,
       now()                                         AS as_of,
       a.acl                                         AS account_acl,
       NOT EXISTS (SELECT 1
                     FROM crm.edges e
                     JOIN crm.nodes c ON c.id = e.source_id
                    WHERE e.target_id = a.id AND e.edge_type = 'owned_by' AND e.archived_at IS NULL AND e.effective_to IS NULL
                      AND c.archived_at IS NULL AND c.node_type IN ('ticket', 'opportunity', 'contract', 'invoice')
                      AND c.acl IS NOT NULL AND NOT (c.acl @> coalesce(a.acl, '{}')))
       AND NOT EXISTS (SELECT 1
                         FROM crm.event_participants p
                         JOIN crm.events ev ON ev.id = p.event_id
                        WHERE p.node_id = a.id
                          AND ev.event_type IN ('meeting', 'phone_call', 'email')
                          AND ev.occurred_at <= now()
                          AND NOT (ev.acl @> coalesce(a.acl, '{}')))  AS uniform
  FROM crm_private.accounts_360_facts f
  JOIN crm.nodes a ON a.id = f.account_id
  LEFT JOIN crm_private.account_quality q ON q.account_id = f.account_id
WITH DATA;
ALTER TABLE crm.nodes FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.edges FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.assertions FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.events FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.event_participants FORCE ROW LEVEL SECURITY;

COMMENT ON MATERIALIZED VIEW crm_private.accounts_360_mv IS
    'Storage of crm.accounts_360: crm_private.accounts_360_facts for every live account (as crm_owner) with its data-quality counts, as of the last crm.refresh_account_views(), plus account_acl and uniform (whether the stored aggregates equal the live ones for a caller who sees the account through its acl). Never granted: read it through crm.accounts_360.';
COMMENT ON COLUMN crm_private.accounts_360_mv.account_acl IS 'The account''s effective acl when the row was stored (a changed acl sends crm.accounts_360 to the live row)';
COMMENT ON COLUMN crm_private.accounts_360_mv.uniform IS 'true when every child the row counts is visible to everyone who sees the account through its acl';

-- ---------------------------------------------------------------- indexes
CREATE UNIQUE INDEX IF NOT EXISTS idx_a360_account ON crm_private.accounts_360_mv (account_id);
CREATE INDEX IF NOT EXISTS idx_a360_crm_id ON crm_private.accounts_360_mv (crm_id);

-- ---------------------------------------------------------------- grants
REVOKE ALL ON crm_private.accounts_360_facts, crm_private.accounts_360_mv, crm_private.acl_changed_accounts FROM PUBLIC;
-- the facts view is security_invoker (row-level security as the reader): crm.accounts_360_live
-- reads it as the caller (granted in sql/rls/000_privileges.sql)
