-- crm.opportunities_active — the materialized read model of seed 001 §6.1 (refreshed by
-- crm.refresh_crm_views()), and crm.opportunities_active_live — the same rows computed from
-- the base tables on every read (seed 001 §6.3: "start with regular views").
-- The live query must stay identical to crm_private.opportunities_active_mv (0004); a test
-- compares them.
CREATE OR REPLACE VIEW crm.opportunities_active
WITH (security_invoker = false, security_barrier = true) AS
-- Reads the private materialized view as its owner and re-applies the access rules of the
-- live tables itself (DESIGN §6: a materialized view is never a way around access control):
-- rows only for opportunities the caller can see now, the sensitive deal value only with a
-- grant for deal_value, contact/owner names only when the caller can see those people.
-- Each visible-id set is computed once per query (materialized CTEs; none for admins).
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), vis_opp AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('opportunity', current_user) AS v(id) WHERE NOT adm.is_admin
), vis_person AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('person', current_user) AS v(id) WHERE NOT adm.is_admin
    UNION ALL
    SELECT v.id FROM adm, crm_private.visible_node_ids('user', current_user) AS v(id) WHERE NOT adm.is_admin
)
SELECT mv.node_id, mv.label, mv.code, mv.name, mv.estimated_value, mv.teams, mv.stage, mv.pipeline,
       mv.stage_since,
       CASE WHEN (SELECT crm_private.actor_can_read_assertion_type('deal_value')) THEN mv.current_value END
           AS current_value,
       mv.win_probability,
       CASE WHEN (SELECT is_admin FROM adm) OR mv.primary_contact_id IN (SELECT id FROM vis_person)
            THEN mv.primary_contact_name END AS primary_contact_name,
       CASE WHEN (SELECT is_admin FROM adm) OR mv.primary_contact_id IN (SELECT id FROM vis_person)
            THEN mv.primary_contact_id END AS primary_contact_id,
       CASE WHEN (SELECT is_admin FROM adm) OR mv.assigned_to_id IN (SELECT id FROM vis_person)
            THEN mv.assigned_to_name END AS assigned_to_name,
       CASE WHEN (SELECT is_admin FROM adm) OR mv.assigned_to_id IN (SELECT id FROM vis_person)
            THEN mv.assigned_to_id END AS assigned_to_id,
       mv.created_at
  FROM (-- admins: the whole stored copy; everyone else: only their visible rows, fetched
        -- through the unique index on node_id (a rep's cost follows what they can see)
        SELECT m.* FROM crm_private.opportunities_active_mv m WHERE (SELECT is_admin FROM adm)
        UNION ALL
        SELECT m.* FROM vis_opp v JOIN crm_private.opportunities_active_mv m ON m.node_id = v.id
         WHERE NOT (SELECT is_admin FROM adm)) mv;

COMMENT ON VIEW crm.opportunities_active IS
    'Active opportunities as a flat CRM table (seed 001 §6.1): one row per live opportunity not in a terminal stage, with stage, value, win probability, primary contact and owner. Materialized: as of the last crm.refresh_crm_views() (see crm_private.view_refreshes); crm.opportunities_active_live is always current.';

CREATE OR REPLACE VIEW crm.opportunities_active_live
WITH (security_invoker = true) AS
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
            stg.claim ->> 'stage' IN ('closed_won', 'closed_lost', 'dead')));

COMMENT ON VIEW crm.opportunities_active_live IS
    'Same rows and columns as crm.opportunities_active, computed from the base tables on every read (always current, slower at scale).';

COMMENT ON COLUMN crm.opportunities_active.code IS 'Opportunity code OPP-YYMM-NNNN';
COMMENT ON COLUMN crm.opportunities_active.estimated_value IS 'properties.estimated_value as numeric (NULL when absent or not a number)';
COMMENT ON COLUMN crm.opportunities_active.teams IS 'attrs.teams: the teams the opportunity is tagged with (JSON array)';
COMMENT ON COLUMN crm.opportunities_active.stage IS 'Current deal_stage (a stage key of the pipeline)';
COMMENT ON COLUMN crm.opportunities_active.pipeline IS 'Code of the pipeline (e.g. PL-SALES)';
COMMENT ON COLUMN crm.opportunities_active.stage_since IS 'When the deal entered its current stage';
COMMENT ON COLUMN crm.opportunities_active.current_value IS 'Amount of the current deal_value assertion';
COMMENT ON COLUMN crm.opportunities_active.win_probability IS 'Current win probability, 0..1';
COMMENT ON COLUMN crm.opportunities_active.primary_contact_id IS 'The earliest live primary_contact person';
COMMENT ON COLUMN crm.opportunities_active.assigned_to_id IS 'The owner: the most recent open assigned_to edge with role owner';
