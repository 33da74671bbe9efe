-- 0004 crm layer (seed 001 §2-§6): code counters, the default sales pipeline (data),
-- materialized read models with their refresh log, and the error codes the CRM functions
-- add. Functions and views that use these objects live in sql/functions and sql/views.
-- Never calls a repeatable function; safe to run twice. Sections: registry, tables, data,
-- materialized views.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- registry
-- Generated codes are stored in properties->>'code' (seed 001 §3): document the key.
UPDATE crm.node_types
   SET optional_properties = optional_properties || ARRAY['code']
 WHERE code_prefix IS NOT NULL
   AND NOT ('code' = ANY (required_properties || optional_properties));

INSERT INTO crm.error_codes (sqlstate, name, meaning, hint) VALUES
 ('55000', 'object_not_in_prerequisite_state', 'The object is not in a state that allows the operation (e.g. the edge has already ended)', 'read the current state first'),
 ('23503', 'foreign_key_violation', 'A referenced node or edge does not exist', 'create the referenced row first')
ON CONFLICT (sqlstate) DO NOTHING;

-- ---------------------------------------------------------------- tables
CREATE TABLE IF NOT EXISTS crm_private.code_counters (
    prefix     text NOT NULL CHECK (prefix ~ '^[A-Z]{2,5}$'),
    yymm       text NOT NULL CHECK (yymm ~ '^[0-9]{4}$'),
    n          bigint NOT NULL CHECK (n > 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (prefix, yymm)
);
COMMENT ON TABLE crm_private.code_counters IS
    'One counter row per code prefix and UTC month for crm.generate_crm_code: n is the last number handed out. Incremented with INSERT ... ON CONFLICT DO UPDATE, so numbers are gap-free and a rolled-back call burns nothing.';
COMMENT ON COLUMN crm_private.code_counters.yymm IS 'UTC year and month of the codes (YYMM), as in OPP-2403-0042';
COMMENT ON COLUMN crm_private.code_counters.n IS 'The last sequence number issued for this prefix and month';

CREATE TABLE IF NOT EXISTS crm_private.view_refreshes (
    view_name    text PRIMARY KEY,
    refreshed_at timestamptz NOT NULL,
    duration_ms  numeric NOT NULL CHECK (duration_ms >= 0)
);
COMMENT ON TABLE crm_private.view_refreshes IS
    'When each materialized read model was last refreshed by crm.refresh_crm_views and how long it took (one row per materialized view).';
COMMENT ON COLUMN crm_private.view_refreshes.view_name IS 'Schema-qualified name of the materialized view';
COMMENT ON COLUMN crm_private.view_refreshes.refreshed_at IS 'When the last refresh started: the data is as of this moment';
COMMENT ON COLUMN crm_private.view_refreshes.duration_ms IS 'Wall-clock duration of the last refresh in milliseconds';

-- ---------------------------------------------------------------- data
-- The seed's default pipeline (seed 001 §4.1). Plain SQL on purpose: migrations never call
-- repeatable functions. label is given because the node triggers may not exist yet on a
-- fresh database. Its code doubles as the internal external_id, which makes it unique.
INSERT INTO crm.nodes (node_type, label, properties, external_id, external_source)
SELECT 'pipeline', 'Sales Pipeline',
       '{
         "name": "Sales Pipeline",
         "code": "PL-SALES",
         "stages": [
           {"key": "prospecting",   "label": "Prospecting",   "order": 1, "terminal": false},
           {"key": "qualification", "label": "Qualification", "order": 2, "terminal": false},
           {"key": "proposal",      "label": "Proposal",      "order": 3, "terminal": false},
           {"key": "negotiation",   "label": "Negotiation",   "order": 4, "terminal": false},
           {"key": "closed_won",    "label": "Closed Won",    "order": 5, "terminal": true},
           {"key": "closed_lost",   "label": "Closed Lost",   "order": 6, "terminal": true}
         ],
         "default_stage": "prospecting"
       }'::jsonb,
       'PL-SALES', 'internal'
 WHERE NOT EXISTS (SELECT 1 FROM crm.nodes n
                    WHERE n.node_type = 'pipeline' AND n.properties ->> 'code' = 'PL-SALES')
ON CONFLICT DO NOTHING;

-- ---------------------------------------------------------------- materialized views
-- Read models of seed 001 §6, stored privately and exposed only through the views
-- crm.opportunities_active / crm.contacts_directory (sql/views). They reference base
-- tables only (never repeatable views), so re-applying views can never drop them.
-- Current assertions are joined with assertion_key = '' and superseded_at IS NULL: the
-- partial unique index assertions_current_node guarantees at most one row per join, and
-- contacts/owners/employers are picked with LATERAL ... LIMIT 1, so nothing fans out.
CREATE MATERIALIZED VIEW IF NOT EXISTS crm_private.opportunities_active_mv AS
SELECT
    n.id                                   AS node_id,
    n.label,
    n.properties ->> 'code'                AS code,
    n.properties ->> 'name'                AS name,
    CASE WHEN pg_input_is_valid(n.properties ->> 'estimated_value', 'numeric')
         THEN (n.properties ->> 'estimated_value')::numeric END AS estimated_value,
    n.attrs -> 'teams'                     AS teams,
    stg.claim ->> 'stage'                  AS stage,
    stg.claim ->> 'pipeline'               AS pipeline,
    stg.asserted_at                        AS stage_since,
    (val.claim ->> 'amount')::numeric      AS current_value,
    wp_a.probability                       AS win_probability,
    pc.label                               AS primary_contact_name,
    pc.id                                  AS primary_contact_id,
    owner.label                            AS assigned_to_name,
    owner.id                               AS assigned_to_id,
    n.created_at
FROM crm.nodes n
LEFT JOIN crm.assertions stg
       ON stg.subject_node_id = n.id AND stg.assertion_type = 'deal_stage'
      AND stg.assertion_key = '' AND stg.superseded_at IS NULL
LEFT JOIN crm.assertions val
       ON val.subject_node_id = n.id AND val.assertion_type = 'deal_value'
      AND val.assertion_key = '' AND val.superseded_at IS NULL
LEFT JOIN LATERAL (
    SELECT (wp.claim ->> 'probability')::numeric AS probability
      FROM crm.assertions wp
     WHERE wp.subject_node_id = n.id AND wp.assertion_type = 'win_probability'
       AND wp.assertion_key = '' AND wp.superseded_at IS NULL
) wp_a ON true
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
    SELECT own_n.id, own_n.label
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
WHERE n.node_type = 'opportunity'
  AND n.archived_at IS NULL
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
            stg.claim ->> 'stage' IN ('closed_won', 'closed_lost', 'dead')))
WITH DATA;

COMMENT ON MATERIALIZED VIEW crm_private.opportunities_active_mv IS
    'Storage of crm.opportunities_active (seed 001 §6.1): one row per live opportunity not in a terminal stage. Refreshed by crm.refresh_crm_views(); never granted: read it through crm.opportunities_active.';
COMMENT ON COLUMN crm_private.opportunities_active_mv.estimated_value IS 'properties.estimated_value as numeric (NULL when absent or not a number)';
COMMENT ON COLUMN crm_private.opportunities_active_mv.stage_since IS 'When the current deal_stage assertion was made';
COMMENT ON COLUMN crm_private.opportunities_active_mv.current_value IS 'Amount of the current deal_value assertion';
COMMENT ON COLUMN crm_private.opportunities_active_mv.win_probability IS 'Probability (0..1) of the current win_probability assertion';
COMMENT ON COLUMN crm_private.opportunities_active_mv.primary_contact_id IS 'The earliest live primary_contact edge''s person';
COMMENT ON COLUMN crm_private.opportunities_active_mv.assigned_to_id IS 'The most recent open assigned_to edge with role owner';

CREATE UNIQUE INDEX IF NOT EXISTS idx_oa_node ON crm_private.opportunities_active_mv (node_id);
CREATE INDEX IF NOT EXISTS idx_oa_code ON crm_private.opportunities_active_mv (code);
CREATE INDEX IF NOT EXISTS idx_oa_stage ON crm_private.opportunities_active_mv (stage);
CREATE INDEX IF NOT EXISTS idx_oa_owner ON crm_private.opportunities_active_mv (assigned_to_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS crm_private.contacts_directory_mv AS
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
    ci.claim                      AS current_contact_info,
    sent.claim                    AS current_sentiment,
    n.created_at
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
  AND n.archived_at IS NULL
WITH DATA;

COMMENT ON MATERIALIZED VIEW crm_private.contacts_directory_mv IS
    'Storage of crm.contacts_directory (seed 001 §6.2): one row per live person with the current employer and current contact_info/sentiment claims. Refreshed by crm.refresh_crm_views(); never granted: read it through crm.contacts_directory.';
COMMENT ON COLUMN crm_private.contacts_directory_mv.organization IS 'Label of the current employer (most recent open employs edge from a live org)';
COMMENT ON COLUMN crm_private.contacts_directory_mv.current_contact_info IS 'Claim of the current contact_info assertion';
COMMENT ON COLUMN crm_private.contacts_directory_mv.current_sentiment IS 'Claim of the current sentiment assertion';

CREATE UNIQUE INDEX IF NOT EXISTS idx_cd_node ON crm_private.contacts_directory_mv (node_id);
CREATE INDEX IF NOT EXISTS idx_cd_code ON crm_private.contacts_directory_mv (code);
CREATE INDEX IF NOT EXISTS idx_cd_name ON crm_private.contacts_directory_mv (last_name, first_name);
CREATE INDEX IF NOT EXISTS idx_cd_org ON crm_private.contacts_directory_mv (org_id);

REVOKE ALL ON crm_private.code_counters, crm_private.view_refreshes,
              crm_private.opportunities_active_mv, crm_private.contacts_directory_mv FROM PUBLIC;
