-- Undo 0020: crm_private.opportunities_active_mv goes back to the shape of 0004 (the views
-- over it are dropped with it; `crm360 migrate` re-creates them — and re-applies 0020), and
-- the registry entries it added are removed. The data it corrected (invoice due_at, event
-- times taken from the raw records) is kept: it is what the sources say, and crm360 before
-- 0020 reads neither differently.
SET LOCAL lock_timeout = '5s';

UPDATE crm.node_types t
   SET optional_properties = ARRAY(SELECT k FROM unnest(t.optional_properties) WITH ORDINALITY AS o(k, i)
                                    WHERE NOT (k = ANY (x.props)) ORDER BY o.i)
  FROM (VALUES ('invoice', ARRAY['due_at', 'issued_at', 'stripe_id']),
               ('ticket', ARRAY['opened_at']),
               ('opportunity', ARRAY['created_at', 'is_closed', 'is_won'])) AS x(node_type, props)
 WHERE t.node_type = x.node_type AND t.optional_properties && x.props;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = to_regclass('crm_private.opportunities_active_mv')
                  AND a.attname = 'account_id' AND NOT a.attisdropped) THEN
        DROP MATERIALIZED VIEW crm_private.opportunities_active_mv CASCADE;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = to_regclass('crm_private.contacts_directory_mv')
                  AND a.attname = 'contact_info_email' AND NOT a.attisdropped) THEN
        DROP MATERIALIZED VIEW crm_private.contacts_directory_mv CASCADE;
    END IF;
END
$$;
DROP VIEW IF EXISTS crm_private.opportunities_active_rows, crm_private.contacts_directory_rows CASCADE;

ALTER TABLE crm.nodes NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.edges NO FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.assertions NO FORCE ROW LEVEL SECURITY;
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

-- crm_private.contacts_directory_mv as 0004 made it (the claims as jsonb)
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
ALTER TABLE crm.nodes FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.edges FORCE ROW LEVEL SECURITY;
ALTER TABLE crm.assertions FORCE ROW LEVEL SECURITY;

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
REVOKE ALL ON crm_private.opportunities_active_mv FROM PUBLIC;
REVOKE ALL ON crm_private.contacts_directory_mv FROM PUBLIC;
