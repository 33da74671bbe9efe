-- 0019 owners and read models that are never silently stale (issue 12).
-- * Owners: assigned_to (role owner) now also links an account and a contact to the user
--   who owns it in the CRM (Salesforce OwnerId, kept by ingestion). The last applied
--   Salesforce User, Account, Contact and Opportunity records are queued again (status
--   pending) so that the next `crm360 reconcile` writes the owners and team memberships of
--   data ingested before this migration; a replay changes nothing else.
-- * Read models: crm_private.read_models registers the materialized read models: what feeds
--   each one (inputs: source objects; NULL = all) and a change counter bumped by
--   reconciliation when it applied something they read (change_seq); view_refreshes records
--   the counter each refresh covered (refreshed_seq): a read model is stale while
--   change_seq > refreshed_seq. crm.refresh_read_models() refreshes the stale ones.
-- * The Account 360 (crm_private.accounts_360_facts, its materialized view): owner_name and
--   owner_email (the CRM owner, else the claimer) replace owner; money as numeric(38,2) (sums of
--   amounts that each fit numeric(18,2): no overflow however many; a larger amount is not
--   counted — one absurd value must not stop every refresh);
--   pipeline_value and weighted_pipeline_value are 0 without active deals (the wrappers show
--   NULL only to callers who may not read deal values); an invoice is overdue once its due
--   moment has passed (properties.due_at, else the end of due_date in UTC).
-- Sections: types, tables, data, views, materialized view, indexes, grants.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- types
UPDATE crm.edge_types
   SET source_types = '{opportunity,org,person}',
       description = 'A record is assigned to a user or person: role owner = its owner in the CRM (accounts, contacts, opportunities: Salesforce OwnerId), backup = a second owner'
 WHERE edge_type = 'assigned_to' AND NOT (source_types @> '{org,person}');

-- ---------------------------------------------------------------- tables
CREATE TABLE IF NOT EXISTS crm_private.read_models (
    read_model      text PRIMARY KEY,
    public_view     text NOT NULL,
    inputs          text[],
    refresh_order   integer NOT NULL DEFAULT 100,
    change_seq      bigint NOT NULL DEFAULT 0,
    data_changed_at timestamptz
);
COMMENT ON TABLE crm_private.read_models IS
    'The materialized read models: what feeds each one and a counter of the changes reconciliation applied to it (a read model is stale while change_seq > crm_private.view_refreshes.refreshed_seq). Written by crm_private.mark_read_models_changed (under the reconcile lock); refreshes write crm_private.view_refreshes, so the two never wait for each other. Read through crm.read_models.';
COMMENT ON COLUMN crm_private.read_models.read_model IS 'Schema-qualified name of the materialized view';
COMMENT ON COLUMN crm_private.read_models.public_view IS 'The view users read it through';
COMMENT ON COLUMN crm_private.read_models.inputs IS 'The source objects (source/object) whose reconciliation changes what it shows; NULL = every source object';
COMMENT ON COLUMN crm_private.read_models.refresh_order IS 'crm.refresh_read_models refreshes in this order';
COMMENT ON COLUMN crm_private.read_models.change_seq IS 'Bumped each time reconciliation (or a merge) applied something this read model reads';
COMMENT ON COLUMN crm_private.read_models.data_changed_at IS 'When reconciliation last applied something this read model reads';

ALTER TABLE crm_private.view_refreshes ADD COLUMN IF NOT EXISTS refreshed_seq bigint NOT NULL DEFAULT 0;
COMMENT ON COLUMN crm_private.view_refreshes.refreshed_seq IS 'crm_private.read_models.change_seq read just before the last refresh started: the changes it covers';

-- (crm_private.rc_refresh_stats gained a parameter with a default: the old signature would make
-- calls ambiguous; sql/functions re-creates it)
DROP FUNCTION IF EXISTS crm_private.rc_refresh_stats();

-- ---------------------------------------------------------------- data
INSERT INTO crm_private.read_models AS r (read_model, public_view, inputs, refresh_order)
VALUES ('crm_private.opportunities_active_mv', 'crm.opportunities_active',
        '{salesforce/User,salesforce/Account,salesforce/Opportunity}', 10),
       ('crm_private.contacts_directory_mv', 'crm.contacts_directory',
        '{salesforce/Account,salesforce/Contact,zendesk/organizations,zendesk/users,stripe/customers}', 20),
       ('crm_private.accounts_360_mv', 'crm.accounts_360', NULL, 30)
ON CONFLICT (read_model) DO UPDATE
   SET public_view = EXCLUDED.public_view, inputs = EXCLUDED.inputs, refresh_order = EXCLUDED.refresh_order;

-- the teams ingestion created for the ownership mapping (before 0019 they were recognisable
-- only by their description): crm_private.sync_owner_teams maintains the members of these only
UPDATE crm.nodes n
   SET attrs = n.attrs || '{"ownership_mapping": "per_owner"}'
 WHERE n.node_type = 'team' AND n.external_source = 'crm360_team'
   AND n.properties ->> 'description' = 'created by ingestion (ownership mapping)'
   AND NOT n.attrs ? 'ownership_mapping';
-- ... and each such team is its owner's: attrs.salesforce_owner_id, the one Salesforce OwnerId
-- of the accounts it restricts (a team two owners shared because they had the same name gets
-- none: sync_owner_teams then maintains nobody's membership of it, and the next sync of those
-- accounts moves each to its owner's own team)
UPDATE crm.nodes t
   SET attrs = t.attrs || jsonb_build_object('salesforce_owner_id', x.owner_id)
  FROM (SELECT (a.attrs ->> 'ingest_team')::uuid AS team_id,
               min(btrim(r.payload ->> 'OwnerId')) AS owner_id,
               count(DISTINCT btrim(r.payload ->> 'OwnerId')) AS owners
          FROM crm.nodes a
          JOIN crm.node_sources ns ON ns.node_id = a.id AND ns.source = 'salesforce' AND ns.object = 'Account'
          JOIN crm_raw.records r ON r.id = ns.last_record_id
         WHERE a.node_type = 'org' AND a.attrs ? 'ingest_team'
           AND nullif(btrim(r.payload ->> 'OwnerId'), '') IS NOT NULL
         GROUP BY 1) x
 WHERE t.id = x.team_id AND x.owners = 1 AND t.node_type = 'team'
   AND t.attrs ->> 'ownership_mapping' = 'per_owner' AND NOT t.attrs ? 'salesforce_owner_id';

-- data ingested before owners were kept: its last applied Salesforce versions are applied
-- again by the next reconcile (owner edges, owner-team memberships; nothing else changes)
UPDATE crm_raw.records r
   SET status = 'pending', reason = 'queued again by migration 0019 (owners)'
  FROM crm.node_sources ns
 WHERE ns.source = 'salesforce' AND ns.object IN ('User', 'Account', 'Contact', 'Opportunity')
   AND r.id = ns.last_record_id AND r.status = 'applied'
   AND NOT EXISTS (SELECT 1 FROM crm.edges e
                    WHERE e.source_id = ns.node_id AND e.edge_type = 'assigned_to' AND e.archived_at IS NULL
                      AND e.effective_to IS NULL)
   AND nullif(btrim(r.payload ->> 'OwnerId'), '') IS NOT NULL;

-- ---------------------------------------------------------------- views
-- the materialized view of 0017 (owner column) is replaced; running this file again changes
-- nothing (the wrapper views and crm_private.accounts_360_stored are re-created by sql/)
DO $$
BEGIN
    IF to_regclass('crm_private.accounts_360_mv') IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = to_regclass('crm_private.accounts_360_mv') AND a.attname = 'owner_name') THEN
        DROP MATERIALIZED VIEW crm_private.accounts_360_mv CASCADE;
        DROP VIEW crm_private.accounts_360_facts CASCADE;
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
    coalesce(k.uniform, true) AND coalesce(lt.uniform, true) AS counted_rows_uniform
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
-- the account's children, ONE pass over its owned_by edges (index edges_target) with each
-- child's current state claim (index assertions_current_node), every measure a FILTER:
--   open ticket      — ticket_status new, open, pending or hold;
--   active deal      — not is_closed, deal_stage not closed* or dead (none = active);
--   ARR              — contract_status active and effective_date <= today <= end_date
--                      (missing dates are open-ended); next renewal = earliest end_date
--                      >= today among active-status contracts;
--   open invoice     — invoice_status open; overdue once its due moment has passed
--                      (properties.due_at, else the end of due_date in UTC: the rule of
--                      crm_private.invoice_due_at, written here because a materialized view
--                      may not depend on a repeatable function)
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE x.open_ticket)                                  AS open_tickets,
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
           bool_and(x.counted IS NOT TRUE OR x.acl IS NULL OR x.acl @> coalesce(a.acl, '{}')) AS uniform
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
     WHERE e.target_id = a.id AND e.edge_type = 'owned_by' AND e.archived_at IS NULL AND e.effective_to IS NULL
       AND c.archived_at IS NULL AND c.node_type IN ('ticket', 'opportunity', 'contract', 'invoice')
) k ON true
LEFT JOIN LATERAL (
    SELECT max(ev.occurred_at) AS last_touch_at,
           bool_and(ev.acl @> coalesce(a.acl, '{}')) AS uniform
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
-- computed as the tables' owner with row-level security not forced for this transaction (as
-- in 0017); nobody else sees the tables in this state
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
       f.counted_rows_uniform                        AS uniform
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
REVOKE ALL ON crm_private.accounts_360_facts, crm_private.accounts_360_mv, crm_private.read_models FROM PUBLIC;
