-- crm.opportunities_active — the materialized read model of seed 001 §6.1 (refreshed by
-- crm.refresh_crm_views()), and crm.opportunities_active_live — the same rows computed from
-- the base tables on every read (seed 001 §6.3: "start with regular views").
-- Both read the one definition, crm_private.opportunities_active_rows (0020): the stored
-- copy as crm_owner, the live twin as the caller. Flat and typed for BI (issue 12): no jsonb or arrays, ids also as text,
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
), who AS MATERIALIZED (
    SELECT i.principals, i.grants FROM adm, crm_private.caller_identity(current_user) AS i WHERE NOT adm.is_admin
), untrusted AS MATERIALIZED (
    SELECT EXISTS (SELECT 1 FROM crm_private.read_model_acl_changes c
                    WHERE c.node_id IS NULL AND c.node_type = 'opportunity') AS all_live
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
       x.assigned_to_email, x.assigned_to_id::text AS assigned_to_id_text,
       (SELECT r.refreshed_at FROM crm_private.view_refreshes r
         WHERE r.view_name = 'crm_private.opportunities_active_mv') AS as_of
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
          FROM (-- admins: the whole stored copy
                  SELECT m.* FROM crm_private.opportunities_active_mv m WHERE (SELECT is_admin FROM adm)
                  UNION ALL
                  -- everyone else, by the nodes policy's read rule for their
                  -- identity (crm_private.caller_identity: only for a role the session may become):
                  -- (1) a node whose acl has not changed since the refresh (no row in
                  --     crm_private.read_model_acl_changes): its stored acl is its live acl, so the rows come
                  --     from the GIN index on row_acl and a page stops after its rows (the rep's cost follows
                  --     what they read, not what they can see);
                  SELECT m.* FROM crm_private.opportunities_active_mv m
                   WHERE NOT (SELECT is_admin FROM adm) AND NOT (SELECT all_live FROM untrusted)
                     AND (m.row_acl IS NULL OR m.row_acl && (SELECT principals FROM who))
                     AND NOT EXISTS (SELECT 1 FROM crm_private.read_model_acl_changes c WHERE c.node_id = m.node_id)
                  UNION ALL
                  -- (2) a node whose acl, type or existence changed since the refresh: the live node decides
                  --     (crm_private.visible_changed_node_ids: the read rule on the live row, for the caller);
                  SELECT m.* FROM crm_private.opportunities_active_mv m
                   WHERE NOT (SELECT is_admin FROM adm) AND NOT (SELECT all_live FROM untrusted)
                     AND m.node_id IN (SELECT v.id FROM crm_private.visible_changed_node_ids('opportunity', current_user) AS v(id))
                  UNION ALL
                  -- (3) an unchanged node its acl does not show, visible through a node grant (callers without
                  --     grants skip this arm; those with grants compute what they can see once);
                  SELECT m.* FROM crm_private.opportunities_active_mv m
                   WHERE NOT (SELECT is_admin FROM adm) AND NOT (SELECT all_live FROM untrusted)
                     AND (SELECT grants FROM who) <> '[]'::jsonb
                     AND NOT (m.row_acl IS NULL OR coalesce(m.row_acl && (SELECT principals FROM who), false))
                     AND NOT EXISTS (SELECT 1 FROM crm_private.read_model_acl_changes c WHERE c.node_id = m.node_id)
                     AND m.node_id IN (SELECT v.id FROM crm_private.visible_node_ids('opportunity', current_user) AS v(id))
                  UNION ALL
                  -- (4) until the first refresh after the change log existed (a row with node_id NULL): every
                  --     row by its live node.
                  SELECT m.* FROM crm_private.opportunities_active_mv m
                   WHERE NOT (SELECT is_admin FROM adm) AND (SELECT all_live FROM untrusted)
                     AND m.node_id IN (SELECT v.id FROM crm_private.visible_node_ids('opportunity', current_user) AS v(id))) mv) x;

COMMENT ON VIEW crm.opportunities_active IS
    'Active opportunities as a flat CRM table (seed 001 §6.1): one row per live opportunity not closed (Salesforce IsClosed) and not in a terminal stage, with account, stage, value, win probability, close date, primary contact and owner. Flat and typed for BI; jsonb in crm.opportunities_detail. Materialized: as of the last refresh (column as_of; crm.refresh_read_models() after every ingest or reconcile); crm.opportunities_active_live is always current; crm.opportunities lists every opportunity live.';

CREATE OR REPLACE VIEW crm.opportunities_active_live
WITH (security_invoker = true) AS
SELECT r.node_id, r.label, r.code, r.name, r.estimated_value, r.teams, r.stage, r.pipeline, r.stage_since,
       r.current_value, r.win_probability, r.primary_contact_name, r.primary_contact_id, r.assigned_to_name,
       r.assigned_to_id, r.created_at,
       r.node_id::text AS node_id_text,
       r.account_id, r.account_id::text AS account_id_text, r.account_name, r.close_date, r.currency,
       r.primary_contact_id::text AS primary_contact_id_text,
       r.assigned_to_email, r.assigned_to_id::text AS assigned_to_id_text,
       now() AS as_of
  FROM crm_private.opportunities_active_rows r;

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
COMMENT ON COLUMN %1$s.as_of IS 'When the row was computed: the start of the last refresh (crm.opportunities_active; crm.read_models tells whether changes arrived since) or now (crm.opportunities_active_live)';
$f$, v_view);
    END LOOP;
END
$$;
