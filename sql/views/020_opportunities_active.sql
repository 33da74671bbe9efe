-- crm.opportunities_active — the materialized read model of seed 001 §6.1 (refreshed by
-- crm.refresh_crm_views()), and crm.opportunities_active_live — the same rows computed from
-- the base tables on every read (seed 001 §6.3: "start with regular views").
-- The live query must stay identical to crm_private.opportunities_active_mv (0020); a test
-- compares them. Flat and typed for BI (issue 12): no jsonb or arrays, ids also as text,
-- money numeric(18,2), probability numeric(5,4), every column commented; the opportunity's
-- jsonb (properties, attrs, claims) is in crm.opportunities_detail. Columns after created_at
-- were added by 0020 (new columns go at the end: CREATE OR REPLACE VIEW only appends).
CREATE OR REPLACE VIEW crm.opportunities_active
WITH (security_invoker = false, security_barrier = true) AS
-- Reads the private materialized view as its owner and re-applies the access rules of the
-- live tables itself (DESIGN §6: a materialized view is never a way around access control):
-- rows only for opportunities the caller can see now, the sensitive deal value (and its
-- currency) only with a grant for deal_value, contact/owner names only when the caller can
-- see those people, the account only when the caller can see it.
-- Each visible-id set is computed once per query (materialized CTEs; none for admins).
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), vis_opp AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('opportunity', current_user) AS v(id) WHERE NOT adm.is_admin
), vis_person AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('person', current_user) AS v(id) WHERE NOT adm.is_admin
    UNION ALL
    SELECT v.id FROM adm, crm_private.visible_node_ids('user', current_user) AS v(id) WHERE NOT adm.is_admin
), vis_org AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('org', current_user) AS v(id) WHERE NOT adm.is_admin
), dv AS MATERIALIZED (
    SELECT crm_private.actor_can_read_assertion_type('deal_value') AS ok
)
SELECT x.node_id, x.label, x.code, x.name, x.estimated_value, x.teams, x.stage, x.pipeline, x.stage_since,
       x.current_value, x.win_probability, x.primary_contact_name, x.primary_contact_id, x.assigned_to_name,
       x.assigned_to_id, x.created_at,
       x.node_id::text AS node_id_text,
       x.account_id, x.account_id::text AS account_id_text, x.account_name, x.close_date, x.currency,
       x.primary_contact_id::text AS primary_contact_id_text,
       x.assigned_to_email, x.assigned_to_id::text AS assigned_to_id_text
  FROM (SELECT mv.node_id, mv.label, mv.code, mv.name, mv.estimated_value, mv.teams, mv.stage, mv.pipeline,
               mv.stage_since,
               (CASE WHEN (SELECT ok FROM dv) THEN mv.current_value END)::numeric(18,2) AS current_value,
               mv.win_probability,
               CASE WHEN (SELECT is_admin FROM adm) OR mv.primary_contact_id IN (SELECT id FROM vis_person)
                    THEN mv.primary_contact_name END AS primary_contact_name,
               CASE WHEN (SELECT is_admin FROM adm) OR mv.primary_contact_id IN (SELECT id FROM vis_person)
                    THEN mv.primary_contact_id END AS primary_contact_id,
               CASE WHEN (SELECT is_admin FROM adm) OR mv.assigned_to_id IN (SELECT id FROM vis_person)
                    THEN mv.assigned_to_name END AS assigned_to_name,
               CASE WHEN (SELECT is_admin FROM adm) OR mv.assigned_to_id IN (SELECT id FROM vis_person)
                    THEN mv.assigned_to_id END AS assigned_to_id,
               mv.created_at,
               CASE WHEN (SELECT is_admin FROM adm) OR mv.account_id IN (SELECT id FROM vis_org)
                    THEN mv.account_id END AS account_id,
               CASE WHEN (SELECT is_admin FROM adm) OR mv.account_id IN (SELECT id FROM vis_org)
                    THEN mv.account_name END AS account_name,
               mv.close_date,
               CASE WHEN (SELECT ok FROM dv) THEN mv.currency END AS currency,
               CASE WHEN (SELECT is_admin FROM adm) OR mv.assigned_to_id IN (SELECT id FROM vis_person)
                    THEN mv.assigned_to_email END AS assigned_to_email
          FROM (-- admins: the whole stored copy; everyone else: only their visible rows, fetched
                -- through the unique index on node_id (a rep's cost follows what they can see)
                SELECT m.* FROM crm_private.opportunities_active_mv m WHERE (SELECT is_admin FROM adm)
                UNION ALL
                SELECT m.* FROM vis_opp v JOIN crm_private.opportunities_active_mv m ON m.node_id = v.id
                 WHERE NOT (SELECT is_admin FROM adm)) mv) x;

COMMENT ON VIEW crm.opportunities_active IS
    'Active opportunities as a flat CRM table (seed 001 §6.1): one row per live opportunity not closed (Salesforce IsClosed) and not in a terminal stage, with account, stage, value, win probability, close date, primary contact and owner. Flat and typed for BI; jsonb in crm.opportunities_detail. Materialized: as of the last crm.refresh_crm_views(); crm.opportunities_active_live is always current; crm.opportunities lists every opportunity live.';

CREATE OR REPLACE VIEW crm.opportunities_active_live
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
    n.id::text                             AS node_id_text,
    acct.id                                AS account_id,
    acct.id::text                          AS account_id_text,
    acct.name                              AS account_name,
    CASE WHEN pg_input_is_valid(n.properties ->> 'close_date', 'date')
         THEN (n.properties ->> 'close_date')::date END AS close_date,
    val.claim ->> 'currency'               AS currency,
    pc.id::text                            AS primary_contact_id_text,
    owner.email                            AS assigned_to_email,
    owner.id::text                         AS assigned_to_id_text
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

COMMENT ON VIEW crm.opportunities_active_live IS
    'Same rows and columns as crm.opportunities_active, computed from the base tables as the caller on every read (always current, slower at scale).';

DO $$
DECLARE
    v_view text;
BEGIN
    FOREACH v_view IN ARRAY ARRAY['crm.opportunities_active', 'crm.opportunities_active_live'] LOOP
        EXECUTE format($f$
COMMENT ON COLUMN %1$s.node_id IS 'The opportunity (node) id';
COMMENT ON COLUMN %1$s.label IS 'Display label of the opportunity node';
COMMENT ON COLUMN %1$s.code IS 'Opportunity code OPP-YYMM-NNNN';
COMMENT ON COLUMN %1$s.name IS 'Opportunity name (properties.name)';
COMMENT ON COLUMN %1$s.estimated_value IS 'properties.estimated_value (crm360-native estimate, not the deal value), numeric(18,2); NULL when absent or not a number';
COMMENT ON COLUMN %1$s.teams IS 'Team tags of the opportunity (attrs.teams), comma-separated, sorted; NULL when none';
COMMENT ON COLUMN %1$s.stage IS 'Current deal_stage (a stage key of the pipeline, e.g. negotiation_review)';
COMMENT ON COLUMN %1$s.pipeline IS 'Code of the pipeline of the current stage (PL-SFDC for Salesforce opportunities, PL-SALES native)';
COMMENT ON COLUMN %1$s.stage_since IS 'When the deal entered its current stage (when crm360 recorded it)';
COMMENT ON COLUMN %1$s.current_value IS 'Amount of the current deal_value, numeric(18,2); NULL unless the caller may read deal_value (sensitive) or when there is none';
COMMENT ON COLUMN %1$s.win_probability IS 'Current win probability, 0..1 (numeric(5,4))';
COMMENT ON COLUMN %1$s.primary_contact_name IS 'Name of the primary contact (NULL when the caller cannot see that person)';
COMMENT ON COLUMN %1$s.primary_contact_id IS 'The earliest live primary_contact person (NULL when the caller cannot see that person)';
COMMENT ON COLUMN %1$s.assigned_to_name IS 'Name of the owner user (the most recent open assigned_to edge with role owner)';
COMMENT ON COLUMN %1$s.assigned_to_id IS 'The owner: the user of the most recent open assigned_to edge with role owner';
COMMENT ON COLUMN %1$s.created_at IS 'When crm360 first stored the opportunity';
COMMENT ON COLUMN %1$s.node_id_text IS 'node_id as text (for BI tools without a uuid type)';
COMMENT ON COLUMN %1$s.account_id IS 'The account (org) the opportunity is owned_by (NULL when the caller cannot see it)';
COMMENT ON COLUMN %1$s.account_id_text IS 'account_id as text';
COMMENT ON COLUMN %1$s.account_name IS 'Account name (NULL when the caller cannot see the account)';
COMMENT ON COLUMN %1$s.close_date IS 'Expected or actual close date (Salesforce CloseDate)';
COMMENT ON COLUMN %1$s.currency IS 'ISO currency of current_value (NULL with it)';
COMMENT ON COLUMN %1$s.primary_contact_id_text IS 'primary_contact_id as text';
COMMENT ON COLUMN %1$s.assigned_to_email IS 'Email of the owner user';
COMMENT ON COLUMN %1$s.assigned_to_id_text IS 'assigned_to_id as text';
$f$, v_view);
    END LOOP;
END
$$;
