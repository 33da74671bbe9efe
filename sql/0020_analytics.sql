-- 0020 analytics for BI (issue 12, item 5): flat read models, events at their source time,
-- the invoice due moment.
--   1. crm_private.opportunities_active_mv is rebuilt flat and typed for BI: the account
--      (id, name) and the close date, the deal currency and the owner's email are stored;
--      money is numeric(18,2), the probability numeric(5,4), the team tags text (no jsonb);
--      closed opportunities (Salesforce IsClosed) are no longer active. The views over it
--      and the live twins whose columns change are dropped here and re-created by
--      sql/views (crm.opportunities_active, crm.contacts_directory and their _live twins).
--   2. Existing data, corrected from the raw records it came from (set-based; rows whose raw
--      record was purged keep what they have):
--      * invoices get properties.due_at, Stripe's due moment (ISO 8601 UTC, from the raw
--        payload's due_date unix seconds) where the stored due_date is that moment's date;
--      * events reconciliation dated at the record's modification time are re-dated at the
--        time the source gives for them, as crm_private.rc_apply now does for new ones:
--        ticket_opened at the Zendesk ticket's created_at, opportunity_created at the
--        Opportunity's CreatedDate, invoice_issued/paid/voided at Stripe's
--        status_transitions (issued: else created), contract_signed at signed_at or the start
--        of effective_date, contract_expired at the end of end_date (both never later than the
--        record's updated_at).
--   3. The node type registry lists the properties reconciliation writes (due_at, issued_at,
--      stripe_id; opened_at; created_at, is_closed, is_won).
-- Safe to run twice: the rebuild happens only while the stored shape is the old one, the
-- data fixes only change rows that differ.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- registry
UPDATE crm.node_types t
   SET optional_properties = t.optional_properties || ARRAY(
           SELECT k FROM unnest(x.props) k
            WHERE NOT (k = ANY (t.optional_properties || t.required_properties)))
  FROM (VALUES ('invoice', ARRAY['due_at', 'issued_at', 'stripe_id']),
               ('ticket', ARRAY['opened_at']),
               ('opportunity', ARRAY['created_at', 'is_closed', 'is_won'])) AS x(node_type, props)
 WHERE t.node_type = x.node_type
   AND EXISTS (SELECT 1 FROM unnest(x.props) k WHERE NOT (k = ANY (t.optional_properties || t.required_properties)));

-- ---------------------------------------------------------------- data fixes, read models
-- as the tables' owner with row-level security not forced for this transaction (the
-- owner's policies may not exist yet while migrating: sql/rls re-creates them), so every
-- row is corrected and the materialized view holds every row; nobody else sees the tables
-- in this state (ALTER TABLE locks them until commit)
ALTER TABLE crm.nodes NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.edges NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.assertions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.events NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.node_sources NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.records NO FORCE ROW LEVEL SECURITY;

-- invoices: the due moment
UPDATE crm.nodes n
   SET properties = n.properties || jsonb_build_object('due_at', to_char(x.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
  FROM (SELECT ns.node_id,
               CASE WHEN jsonb_typeof(r.payload -> 'due_date') = 'number'
                    THEN to_timestamp((r.payload ->> 'due_date')::double precision)
                    WHEN jsonb_typeof(r.payload -> 'due_date') = 'string'
                         AND pg_input_is_valid(btrim(r.payload ->> 'due_date'), 'bigint')
                    THEN to_timestamp(btrim(r.payload ->> 'due_date')::bigint) END AS due_at
          FROM crm.node_sources ns
          JOIN crm_raw.records r ON r.id = ns.last_record_id
         WHERE ns.source = 'stripe' AND ns.object = 'invoices') x
 WHERE n.id = x.node_id AND n.node_type = 'invoice'
   AND x.due_at IS NOT NULL
   AND n.properties ->> 'due_date' = (x.due_at AT TIME ZONE 'UTC')::date::text
   AND n.properties ->> 'due_at' IS DISTINCT FROM to_char(x.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');

-- events: the source's time (external_id = '<object>/<raw record id>/<event_type>')
WITH src AS (
    SELECT e.id, e.occurred_at,
           CASE e.event_type
               WHEN 'ticket_opened' THEN
                   CASE WHEN pg_input_is_valid(btrim(r.payload ->> 'created_at'), 'timestamptz')
                        THEN btrim(r.payload ->> 'created_at')::timestamptz END
               WHEN 'opportunity_created' THEN
                   CASE WHEN pg_input_is_valid(btrim(r.payload ->> 'CreatedDate'), 'timestamptz')
                        THEN btrim(r.payload ->> 'CreatedDate')::timestamptz END
               WHEN 'invoice_issued' THEN
                   coalesce(CASE WHEN jsonb_typeof(r.payload -> 'status_transitions' -> 'finalized_at') = 'number'
                                 THEN to_timestamp((r.payload -> 'status_transitions' ->> 'finalized_at')::double precision) END,
                            CASE WHEN jsonb_typeof(r.payload -> 'created') = 'number'
                                 THEN to_timestamp((r.payload ->> 'created')::double precision) END)
               WHEN 'invoice_paid' THEN
                   CASE WHEN jsonb_typeof(r.payload -> 'status_transitions' -> 'paid_at') = 'number'
                        THEN to_timestamp((r.payload -> 'status_transitions' ->> 'paid_at')::double precision) END
               WHEN 'invoice_voided' THEN
                   CASE WHEN jsonb_typeof(r.payload -> 'status_transitions' -> 'voided_at') = 'number'
                        THEN to_timestamp((r.payload -> 'status_transitions' ->> 'voided_at')::double precision) END
               WHEN 'contract_signed' THEN
                   coalesce(CASE WHEN pg_input_is_valid(btrim(r.payload ->> 'signed_at'), 'timestamptz')
                                 THEN btrim(r.payload ->> 'signed_at')::timestamptz END,
                            least(CASE WHEN pg_input_is_valid(r.payload ->> 'effective_date', 'date')
                                       THEN (r.payload ->> 'effective_date')::date::timestamp AT TIME ZONE 'UTC' END,
                                  r.source_updated_at))
               WHEN 'contract_expired' THEN
                   least(CASE WHEN pg_input_is_valid(r.payload ->> 'end_date', 'date')
                              THEN ((r.payload ->> 'end_date')::date + 1)::timestamp AT TIME ZONE 'UTC' END,
                         r.source_updated_at)
           END AS at
      FROM crm.events e
      JOIN crm_raw.records r
        ON r.id = CASE WHEN e.external_id ~ '^[A-Za-z_]+/[0-9]{1,18}/[a-z_]+$'
                       THEN split_part(e.external_id, '/', 2)::bigint END
       AND r.source = e.external_source AND r.object = split_part(e.external_id, '/', 1)
     WHERE e.external_id IS NOT NULL
       AND (e.external_source, e.event_type) IN (('zendesk', 'ticket_opened'), ('salesforce', 'opportunity_created'),
                                                 ('stripe', 'invoice_issued'), ('stripe', 'invoice_paid'),
                                                 ('stripe', 'invoice_voided'), ('clm', 'contract_signed'),
                                                 ('clm', 'contract_expired'))
       AND e.external_id LIKE '%/' || e.event_type
)
UPDATE crm.events e
   SET occurred_at = src.at
  FROM src
 WHERE e.id = src.id AND src.at IS NOT NULL AND src.at IS DISTINCT FROM src.occurred_at;

-- The read models get one definition each, a private security_invoker view that the
-- materialized view stores (as crm_owner: every row) and the live twin reads (as the caller:
-- row-level security filters every input): crm_private.opportunities_active_rows and
-- crm_private.contacts_directory_rows. The stored shapes before 0020 (no account_id; the
-- claims as jsonb) are dropped with the views over them (sql/views re-creates those).
DO $$
BEGIN
    IF to_regclass('crm_private.opportunities_active_mv') IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                        JOIN pg_catalog.pg_rewrite w ON w.oid = d.objid
                       WHERE w.ev_class = 'crm_private.opportunities_active_mv'::regclass
                         AND d.refobjid = to_regclass('crm_private.opportunities_active_rows')) THEN
        DROP MATERIALIZED VIEW crm_private.opportunities_active_mv CASCADE;
        DROP VIEW IF EXISTS crm.opportunities_active_live;
    END IF;
    IF to_regclass('crm_private.contacts_directory_mv') IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                        JOIN pg_catalog.pg_rewrite w ON w.oid = d.objid
                       WHERE w.ev_class = 'crm_private.contacts_directory_mv'::regclass
                         AND d.refobjid = to_regclass('crm_private.contacts_directory_rows')) THEN
        DROP MATERIALIZED VIEW crm_private.contacts_directory_mv CASCADE;
        DROP VIEW IF EXISTS crm.contacts_directory_live;
    END IF;
END
$$;

CREATE OR REPLACE VIEW crm_private.opportunities_active_rows
WITH (security_invoker = true) AS
SELECT
    n.id                                   AS node_id,
    n.label,
    n.properties ->> 'code'                AS code,
    n.properties ->> 'name'                AS name,
    (CASE WHEN pg_input_is_valid(n.properties ->> 'estimated_value', 'numeric(18,2)')
          THEN n.properties ->> 'estimated_value' END)::numeric(18,2) AS estimated_value,
    (SELECT string_agg(tg.tag, ', ' ORDER BY tg.tag)
       FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(n.attrs -> 'teams') = 'array'
                                           THEN n.attrs -> 'teams' END) AS tg(tag)) AS teams,
    stg.claim ->> 'stage'                  AS stage,
    stg.claim ->> 'pipeline'               AS pipeline,
    stg.asserted_at                        AS stage_since,
    (CASE WHEN pg_input_is_valid(val.claim ->> 'amount', 'numeric(18,2)')
          THEN val.claim ->> 'amount' END)::numeric(18,2) AS current_value,
    (CASE WHEN pg_input_is_valid(wp.claim ->> 'probability', 'numeric(5,4)')
          THEN wp.claim ->> 'probability' END)::numeric(5,4) AS win_probability,
    pc.label                               AS primary_contact_name,
    pc.id                                  AS primary_contact_id,
    owner.label                            AS assigned_to_name,
    owner.id                               AS assigned_to_id,
    n.created_at,
    acct.id                                AS account_id,
    acct.name                              AS account_name,
    CASE WHEN pg_input_is_valid(n.properties ->> 'close_date', 'date')
         THEN (n.properties ->> 'close_date')::date END AS close_date,
    val.claim ->> 'currency'               AS currency,
    owner.email                            AS assigned_to_email
FROM crm.nodes n
LEFT JOIN crm.assertions stg
       ON stg.subject_node_id = n.id AND stg.assertion_type = 'deal_stage'
      AND stg.assertion_key = '' AND stg.superseded_at IS NULL
LEFT JOIN crm.assertions val
       ON val.subject_node_id = n.id AND val.assertion_type = 'deal_value'
      AND val.assertion_key = '' AND val.superseded_at IS NULL
LEFT JOIN crm.assertions wp
       ON wp.subject_node_id = n.id AND wp.assertion_type = 'win_probability'
      AND wp.assertion_key = '' AND wp.superseded_at IS NULL
LEFT JOIN LATERAL (
    SELECT pc_n.id, pc_n.label
      FROM crm.edges pc_e
      JOIN crm.nodes pc_n ON pc_n.id = pc_e.target_id
     WHERE pc_e.source_id = n.id
       AND pc_e.edge_type = 'primary_contact'
       AND pc_e.archived_at IS NULL
       AND pc_n.archived_at IS NULL
     ORDER BY pc_e.created_at, pc_e.id
     LIMIT 1
) pc ON true
LEFT JOIN LATERAL (
    SELECT own_n.id, own_n.label, own_n.properties ->> 'email' AS email
      FROM crm.edges own_e
      JOIN crm.nodes own_n ON own_n.id = own_e.target_id
     WHERE own_e.source_id = n.id
       AND own_e.edge_type = 'assigned_to'
       AND own_e.properties ->> 'role' = 'owner'
       AND own_e.archived_at IS NULL
       AND own_e.effective_to IS NULL
       AND own_n.archived_at IS NULL
     ORDER BY own_e.effective_from DESC, own_e.id
     LIMIT 1
) owner ON true
LEFT JOIN LATERAL (
    SELECT a.id, coalesce(a.properties ->> 'name', a.label) AS name
      FROM crm.edges ob
      JOIN crm.nodes a ON a.id = ob.target_id
     WHERE ob.source_id = n.id
       AND ob.edge_type = 'owned_by'
       AND ob.archived_at IS NULL
       AND ob.effective_to IS NULL
       AND a.node_type = 'org'
     ORDER BY coalesce(ob.effective_from, ob.created_at) DESC, ob.id DESC
     LIMIT 1
) acct ON true
WHERE n.node_type = 'opportunity'
  AND n.archived_at IS NULL
  AND coalesce(n.properties ->> 'is_closed', 'false') NOT IN ('true', '1')
  AND (stg.claim ->> 'stage' IS NULL
       OR NOT coalesce(
            (SELECT coalesce(s -> 'terminal' = 'true'::jsonb, false)
               FROM crm.nodes p
               CROSS JOIN LATERAL jsonb_array_elements(p.properties -> 'stages') AS s
              WHERE p.node_type = 'pipeline'
                AND p.properties ->> 'code' = stg.claim ->> 'pipeline'
                AND s ->> 'key' = stg.claim ->> 'stage'
              ORDER BY p.archived_at NULLS FIRST, p.created_at
              LIMIT 1),
            stg.claim ->> 'stage' IN ('closed_won', 'closed_lost', 'dead')));

COMMENT ON VIEW crm_private.opportunities_active_rows IS
    'The one definition of crm.opportunities_active (seed 001 §6.1): one row per live opportunity not closed (Salesforce IsClosed) and not in a terminal stage, flat and typed. Stored by crm_private.opportunities_active_mv (as crm_owner), read live by crm.opportunities_active_live (as the caller: row-level security applies to every input).';

CREATE MATERIALIZED VIEW IF NOT EXISTS crm_private.opportunities_active_mv AS
SELECT * FROM crm_private.opportunities_active_rows
WITH DATA;

CREATE OR REPLACE VIEW crm_private.contacts_directory_rows
WITH (security_invoker = true) AS
SELECT
    n.id                          AS node_id,
    n.label,
    n.properties ->> 'code'       AS code,
    n.properties ->> 'first_name' AS first_name,
    n.properties ->> 'last_name'  AS last_name,
    n.properties ->> 'email'      AS email,
    n.properties ->> 'phone'      AS phone,
    n.properties ->> 'title'      AS title,
    org.label                     AS organization,
    org.id                        AS org_id,
    n.created_at,
    ci.claim ->> 'email'          AS contact_info_email,
    ci.claim ->> 'phone'          AS contact_info_phone,
    CASE jsonb_typeof(ci.claim -> 'address')
         WHEN 'object' THEN (SELECT string_agg(a.value, ', ' ORDER BY a.key)
                               FROM jsonb_each_text(ci.claim -> 'address') AS a
                              WHERE nullif(btrim(a.value), '') IS NOT NULL)
         ELSE ci.claim -> 'address' #>> '{}' END AS contact_info_address,
    ci.claim ->> 'preferred_contact' AS preferred_contact,
    sent.claim ->> 'stance'       AS sentiment,
    (CASE WHEN pg_input_is_valid(sent.claim ->> 'confidence', 'numeric(5,4)')
          THEN sent.claim ->> 'confidence' END)::numeric(5,4) AS sentiment_confidence,
    sent.claim ->> 'notes'        AS sentiment_notes,
    ci.claim                      AS current_contact_info,
    sent.claim                    AS current_sentiment
FROM crm.nodes n
LEFT JOIN LATERAL (
    SELECT o.id, o.label
      FROM crm.edges emp
      JOIN crm.nodes o ON o.id = emp.source_id
     WHERE emp.target_id = n.id
       AND emp.edge_type = 'employs'
       AND emp.archived_at IS NULL
       AND emp.effective_to IS NULL
       AND o.archived_at IS NULL
     ORDER BY emp.effective_from DESC, emp.id
     LIMIT 1
) org ON true
LEFT JOIN crm.assertions ci
       ON ci.subject_node_id = n.id AND ci.assertion_type = 'contact_info'
      AND ci.assertion_key = '' AND ci.superseded_at IS NULL
LEFT JOIN crm.assertions sent
       ON sent.subject_node_id = n.id AND sent.assertion_type = 'sentiment'
      AND sent.assertion_key = '' AND sent.superseded_at IS NULL
WHERE n.node_type = 'person'
  AND n.archived_at IS NULL;

COMMENT ON VIEW crm_private.contacts_directory_rows IS
    'The one definition of crm.contacts_directory (seed 001 §6.2): one row per live person with the current employer and the current contact_info and sentiment claims spread into columns (and the claims themselves, as 0004 stored them). Stored by crm_private.contacts_directory_mv (as crm_owner), read live by crm.contacts_directory_live (as the caller).';

CREATE MATERIALIZED VIEW IF NOT EXISTS crm_private.contacts_directory_mv AS
SELECT * FROM crm_private.contacts_directory_rows
WITH DATA;

-- the stored copies are as of now (crm.opportunities_active.as_of, crm.read_models)
INSERT INTO crm_private.view_refreshes AS v (view_name, refreshed_at, duration_ms, refreshed_seq)
SELECT m.read_model, now(), 0, m.change_seq
  FROM crm_private.read_models m
 WHERE m.read_model IN ('crm_private.opportunities_active_mv', 'crm_private.contacts_directory_mv')
ON CONFLICT (view_name) DO UPDATE
   SET refreshed_at = EXCLUDED.refreshed_at, duration_ms = EXCLUDED.duration_ms,
       refreshed_seq = greatest(v.refreshed_seq, EXCLUDED.refreshed_seq);
-- (the Account 360's copy, built by 0019 and maybe refreshed since: recorded if it never was)
INSERT INTO crm_private.view_refreshes (view_name, refreshed_at, duration_ms, refreshed_seq)
SELECT m.read_model, now(), 0, m.change_seq
  FROM crm_private.read_models m
 WHERE m.read_model = 'crm_private.accounts_360_mv'
ON CONFLICT (view_name) DO NOTHING;

ALTER TABLE crm.nodes FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.edges FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.assertions FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.events FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.node_sources FORCE ROW LEVEL SECURITY;
ALTER TABLE crm_raw.records FORCE ROW LEVEL SECURITY;

-- (the comments of 0004, unchanged: 0004 re-run on this shape writes the same)
COMMENT ON MATERIALIZED VIEW crm_private.opportunities_active_mv IS
    'Storage of crm.opportunities_active (seed 001 §6.1): one row per live opportunity not in a terminal stage. Refreshed by crm.refresh_crm_views(); never granted: read it through crm.opportunities_active.';
COMMENT ON COLUMN crm_private.opportunities_active_mv.estimated_value IS 'properties.estimated_value as numeric (NULL when absent or not a number)';
COMMENT ON COLUMN crm_private.opportunities_active_mv.stage_since IS 'When the current deal_stage assertion was made';
COMMENT ON COLUMN crm_private.opportunities_active_mv.current_value IS 'Amount of the current deal_value assertion';
COMMENT ON COLUMN crm_private.opportunities_active_mv.win_probability IS 'Probability (0..1) of the current win_probability assertion';
COMMENT ON COLUMN crm_private.opportunities_active_mv.primary_contact_id IS 'The earliest live primary_contact edge''s person';
COMMENT ON COLUMN crm_private.opportunities_active_mv.assigned_to_id IS 'The most recent open assigned_to edge with role owner';
COMMENT ON COLUMN crm_private.opportunities_active_mv.teams IS 'attrs.teams (the team tags) as text, comma-separated, sorted';
COMMENT ON COLUMN crm_private.opportunities_active_mv.account_id IS 'The account (org) of the live owned_by edge';
COMMENT ON COLUMN crm_private.opportunities_active_mv.close_date IS 'properties.close_date as a date (Salesforce CloseDate)';
COMMENT ON COLUMN crm_private.opportunities_active_mv.currency IS 'Currency of the current deal_value assertion (sensitive with it)';
COMMENT ON COLUMN crm_private.opportunities_active_mv.assigned_to_email IS 'Email of the owner user';

CREATE UNIQUE INDEX IF NOT EXISTS idx_oa_node ON crm_private.opportunities_active_mv (node_id);
CREATE INDEX IF NOT EXISTS idx_oa_code ON crm_private.opportunities_active_mv (code);
CREATE INDEX IF NOT EXISTS idx_oa_stage ON crm_private.opportunities_active_mv (stage);
CREATE INDEX IF NOT EXISTS idx_oa_owner ON crm_private.opportunities_active_mv (assigned_to_id);
CREATE INDEX IF NOT EXISTS idx_oa_account ON crm_private.opportunities_active_mv (account_id);

REVOKE ALL ON crm_private.opportunities_active_mv FROM PUBLIC;

-- (the comments of 0004, unchanged: 0004 re-run on this shape writes the same)
COMMENT ON MATERIALIZED VIEW crm_private.contacts_directory_mv IS
    'Storage of crm.contacts_directory (seed 001 §6.2): one row per live person with the current employer and current contact_info/sentiment claims. Refreshed by crm.refresh_crm_views(); never granted: read it through crm.contacts_directory.';
COMMENT ON COLUMN crm_private.contacts_directory_mv.organization IS 'Label of the current employer (most recent open employs edge from a live org)';
COMMENT ON COLUMN crm_private.contacts_directory_mv.current_contact_info IS 'Claim of the current contact_info assertion';
COMMENT ON COLUMN crm_private.contacts_directory_mv.current_sentiment IS 'Claim of the current sentiment assertion';
CREATE UNIQUE INDEX IF NOT EXISTS idx_cd_node ON crm_private.contacts_directory_mv (node_id);
CREATE INDEX IF NOT EXISTS idx_cd_code ON crm_private.contacts_directory_mv (code);
CREATE INDEX IF NOT EXISTS idx_cd_name ON crm_private.contacts_directory_mv (last_name, first_name);
CREATE INDEX IF NOT EXISTS idx_cd_org ON crm_private.contacts_directory_mv (org_id);

REVOKE ALL ON crm_private.contacts_directory_mv, crm_private.opportunities_active_rows,
    crm_private.contacts_directory_rows FROM PUBLIC;
