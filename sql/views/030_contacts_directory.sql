-- crm.contacts_directory — the materialized read model of seed 001 §6.2 (refreshed by
-- crm.refresh_crm_views()), and crm.contacts_directory_live — the same rows computed from
-- the base tables on every read. Both read the one definition,
-- crm_private.contacts_directory_rows (0020): the stored copy as crm_owner, the live twin as
-- the caller. Flat and typed for BI (issue 12): the current contact_info and sentiment claims
-- are spread into columns (the jsonb itself is in
-- crm.contacts_directory_detail), ids also as text, every column commented. Columns after
-- created_at were added by issue 12 (new columns go at the end).
CREATE OR REPLACE VIEW crm.contacts_directory
WITH (security_invoker = false, security_barrier = true) AS
-- Reads the private materialized view as its owner and re-applies the access rules of the
-- live tables (DESIGN §6): rows only for people the caller can see now; the employer only
-- when the caller can see it. Each visible-id set is computed once per query.
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), who AS MATERIALIZED (
    SELECT i.principals, i.grants FROM adm, crm_private.caller_identity(current_user) AS i WHERE NOT adm.is_admin
), untrusted AS MATERIALIZED (
    SELECT EXISTS (SELECT 1 FROM crm_private.read_model_acl_changes c
                    WHERE c.node_id IS NULL AND c.node_type = 'person') AS all_live
), vis_org AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('org', current_user) AS v(id) WHERE NOT adm.is_admin
)
SELECT mv.node_id, mv.label, mv.code, mv.first_name, mv.last_name, mv.email, mv.phone, mv.title,
       CASE WHEN (SELECT is_admin FROM adm) OR mv.org_id IN (SELECT id FROM vis_org)
            THEN mv.organization END AS organization,
       CASE WHEN (SELECT is_admin FROM adm) OR mv.org_id IN (SELECT id FROM vis_org)
            THEN mv.org_id END AS org_id,
       mv.created_at,
       mv.node_id::text AS node_id_text,
       CASE WHEN (SELECT is_admin FROM adm) OR mv.org_id IN (SELECT id FROM vis_org)
            THEN mv.org_id::text END AS org_id_text,
       mv.contact_info_email, mv.contact_info_phone, mv.contact_info_address, mv.preferred_contact,
       mv.sentiment, mv.sentiment_confidence, mv.sentiment_notes,
       (SELECT r.refreshed_at FROM crm_private.view_refreshes r
         WHERE r.view_name = 'crm_private.contacts_directory_mv') AS as_of
  FROM (-- admins: the whole stored copy
          SELECT m.* FROM crm_private.contacts_directory_mv m WHERE (SELECT is_admin FROM adm)
          UNION ALL
          -- everyone else, by the nodes policy's read rule for their
          -- identity (crm_private.caller_identity: only for a role the session may become):
          -- (1) a node whose acl has not changed since the refresh (no row in
          --     crm_private.read_model_acl_changes): its stored acl is its live acl, so the rows come
          --     from the GIN index on row_acl and a page stops after its rows (the rep's cost follows
          --     what they read, not what they can see);
          SELECT m.* FROM crm_private.contacts_directory_mv m
           WHERE NOT (SELECT is_admin FROM adm) AND NOT (SELECT all_live FROM untrusted)
             AND (m.row_acl IS NULL OR m.row_acl && (SELECT principals FROM who))
             AND NOT EXISTS (SELECT 1 FROM crm_private.read_model_acl_changes c WHERE c.node_id = m.node_id)
          UNION ALL
          -- (2) a node whose acl, type or existence changed since the refresh: the live node decides
          --     (crm_private.visible_changed_node_ids: the read rule on the live row, for the caller);
          SELECT m.* FROM crm_private.contacts_directory_mv m
           WHERE NOT (SELECT is_admin FROM adm) AND NOT (SELECT all_live FROM untrusted)
             AND m.node_id IN (SELECT v.id FROM crm_private.visible_changed_node_ids('person', current_user) AS v(id))
          UNION ALL
          -- (3) an unchanged node its acl does not show, visible through a node grant (callers without
          --     grants skip this arm; those with grants compute what they can see once);
          SELECT m.* FROM crm_private.contacts_directory_mv m
           WHERE NOT (SELECT is_admin FROM adm) AND NOT (SELECT all_live FROM untrusted)
             AND (SELECT grants FROM who) <> '[]'::jsonb
             AND NOT (m.row_acl IS NULL OR coalesce(m.row_acl && (SELECT principals FROM who), false))
             AND NOT EXISTS (SELECT 1 FROM crm_private.read_model_acl_changes c WHERE c.node_id = m.node_id)
             AND m.node_id IN (SELECT v.id FROM crm_private.visible_node_ids('person', current_user) AS v(id))
          UNION ALL
          -- (4) until the first refresh after the change log existed (a row with node_id NULL): every
          --     row by its live node.
          SELECT m.* FROM crm_private.contacts_directory_mv m
           WHERE NOT (SELECT is_admin FROM adm) AND (SELECT all_live FROM untrusted)
             AND m.node_id IN (SELECT v.id FROM crm_private.visible_node_ids('person', current_user) AS v(id))) mv;

COMMENT ON VIEW crm.contacts_directory IS
    'Contacts directory (seed 001 §6.2): one row per live person with code, names, email, phone, title, current employer and the current contact_info and sentiment claims as columns. Flat and typed for BI; the claims as jsonb: crm.contacts_directory_detail. Materialized: as of the last refresh (column as_of); crm.contacts_directory_live is always current.';

CREATE OR REPLACE VIEW crm.contacts_directory_live
WITH (security_invoker = true) AS
SELECT r.node_id, r.label, r.code, r.first_name, r.last_name, r.email, r.phone, r.title,
       r.organization, r.org_id, r.created_at,
       r.node_id::text AS node_id_text, r.org_id::text AS org_id_text,
       r.contact_info_email, r.contact_info_phone, r.contact_info_address, r.preferred_contact,
       r.sentiment, r.sentiment_confidence, r.sentiment_notes,
       now() AS as_of
  FROM crm_private.contacts_directory_rows r;

COMMENT ON VIEW crm.contacts_directory_live IS
    'Same rows and columns as crm.contacts_directory, computed from the base tables as the caller on every read (always current).';

DO $$
DECLARE
    v_view text;
BEGIN
    FOREACH v_view IN ARRAY ARRAY['crm.contacts_directory', 'crm.contacts_directory_live'] LOOP
        EXECUTE format($f$
COMMENT ON COLUMN %1$s.node_id IS 'The person (node) id';
COMMENT ON COLUMN %1$s.label IS 'Display name of the person';
COMMENT ON COLUMN %1$s.code IS 'Contact code CON-YYMM-NNNN';
COMMENT ON COLUMN %1$s.first_name IS 'First name';
COMMENT ON COLUMN %1$s.last_name IS 'Last name';
COMMENT ON COLUMN %1$s.email IS 'Email address (properties.email: normalized, lower-case)';
COMMENT ON COLUMN %1$s.phone IS 'Phone number (properties.phone)';
COMMENT ON COLUMN %1$s.title IS 'Job title';
COMMENT ON COLUMN %1$s.organization IS 'Current employer: the most recent open employs edge from a live org (NULL when the caller cannot see it)';
COMMENT ON COLUMN %1$s.org_id IS 'Id of the current employer (NULL when the caller cannot see it)';
COMMENT ON COLUMN %1$s.created_at IS 'When crm360 first stored the person';
COMMENT ON COLUMN %1$s.node_id_text IS 'node_id as text (for BI tools without a uuid type)';
COMMENT ON COLUMN %1$s.org_id_text IS 'org_id as text';
COMMENT ON COLUMN %1$s.contact_info_email IS 'email of the current contact_info claim';
COMMENT ON COLUMN %1$s.contact_info_phone IS 'phone of the current contact_info claim';
COMMENT ON COLUMN %1$s.contact_info_address IS 'address of the current contact_info claim as text (an address object: its non-empty parts, comma-separated, by key)';
COMMENT ON COLUMN %1$s.preferred_contact IS 'preferred_contact of the current contact_info claim (email, phone, ...)';
COMMENT ON COLUMN %1$s.sentiment IS 'stance of the current sentiment claim (e.g. positive, neutral, negative)';
COMMENT ON COLUMN %1$s.sentiment_confidence IS 'confidence (0..1) of the current sentiment claim';
COMMENT ON COLUMN %1$s.sentiment_notes IS 'notes of the current sentiment claim';
COMMENT ON COLUMN %1$s.as_of IS 'When the row was computed: the start of the last refresh (crm.contacts_directory; crm.read_models tells whether changes arrived since) or now (crm.contacts_directory_live)';
$f$, v_view);
    END LOOP;
END
$$;

-- crm.contacts_directory_detail — the claims of crm.contacts_directory as jsonb, live (as the
-- caller, row-level security), for analysts and tools that read JSON.
CREATE OR REPLACE VIEW crm.contacts_directory_detail
WITH (security_invoker = true) AS
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), vis AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('person', current_user) AS v(id) WHERE NOT adm.is_admin
)
SELECT n.id AS node_id, n.id::text AS node_id_text,
       ci.claim AS current_contact_info,
       sent.claim AS current_sentiment,
       n.properties
  FROM (SELECT x.* FROM crm.nodes x
         WHERE (SELECT is_admin FROM adm) AND x.node_type = 'person' AND x.archived_at IS NULL
        UNION ALL
        SELECT x.* FROM vis JOIN crm.nodes x ON x.id = vis.id
         WHERE NOT (SELECT is_admin FROM adm) AND x.node_type = 'person' AND x.archived_at IS NULL) n
  LEFT JOIN crm.assertions ci
         ON ci.subject_node_id = n.id AND ci.assertion_type = 'contact_info'
        AND ci.assertion_key = '' AND ci.superseded_at IS NULL
  LEFT JOIN crm.assertions sent
         ON sent.subject_node_id = n.id AND sent.assertion_type = 'sentiment'
        AND sent.assertion_key = '' AND sent.superseded_at IS NULL;

COMMENT ON VIEW crm.contacts_directory_detail IS
    'The JSON side of crm.contacts_directory (join on node_id), live as the caller: the current contact_info and sentiment claims and the person''s properties.';
COMMENT ON COLUMN crm.contacts_directory_detail.node_id IS 'The person (node) id';
COMMENT ON COLUMN crm.contacts_directory_detail.node_id_text IS 'node_id as text';
COMMENT ON COLUMN crm.contacts_directory_detail.current_contact_info IS 'Claim of the current contact_info assertion {phone, email, address, preferred_contact}';
COMMENT ON COLUMN crm.contacts_directory_detail.current_sentiment IS 'Claim of the current sentiment assertion {stance, confidence, notes}';
COMMENT ON COLUMN crm.contacts_directory_detail.properties IS 'All properties of the person node';
