-- crm.contacts_directory — the materialized read model of seed 001 §6.2 (refreshed by
-- crm.refresh_crm_views()), and crm.contacts_directory_live — the same rows computed from
-- the base tables on every read. The live query must stay identical to
-- crm_private.contacts_directory_mv (0004); a test compares them.
CREATE OR REPLACE VIEW crm.contacts_directory
WITH (security_invoker = false, security_barrier = true) AS
-- Reads the private materialized view as its owner and re-applies the access rules of the
-- live tables (DESIGN §6): rows only for people the caller can see now; the employer only
-- when the caller can see it. Each visible-id set is computed once per query.
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), vis_person AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('person', current_user) AS v(id) WHERE NOT adm.is_admin
), vis_org AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('org', current_user) AS v(id) WHERE NOT adm.is_admin
)
SELECT mv.node_id, mv.label, mv.code, mv.first_name, mv.last_name, mv.email, mv.phone, mv.title,
       CASE WHEN (SELECT is_admin FROM adm) OR mv.org_id IN (SELECT id FROM vis_org)
            THEN mv.organization END AS organization,
       CASE WHEN (SELECT is_admin FROM adm) OR mv.org_id IN (SELECT id FROM vis_org)
            THEN mv.org_id END AS org_id,
       mv.current_contact_info, mv.current_sentiment, mv.created_at
  FROM (-- admins: the whole stored copy; everyone else: only their visible rows, fetched
        -- through the unique index on node_id (a rep's cost follows what they can see)
        SELECT m.* FROM crm_private.contacts_directory_mv m WHERE (SELECT is_admin FROM adm)
        UNION ALL
        SELECT m.* FROM vis_person v JOIN crm_private.contacts_directory_mv m ON m.node_id = v.id
         WHERE NOT (SELECT is_admin FROM adm)) mv;

COMMENT ON VIEW crm.contacts_directory IS
    'Contacts directory (seed 001 §6.2): one row per live person with code, names, email, phone, title, current employer and the current contact_info and sentiment claims. Materialized: as of the last crm.refresh_crm_views(); crm.contacts_directory_live is always current.';

CREATE OR REPLACE VIEW crm.contacts_directory_live
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
  AND n.archived_at IS NULL;

COMMENT ON VIEW crm.contacts_directory_live IS
    'Same rows and columns as crm.contacts_directory, computed from the base tables on every read (always current).';

COMMENT ON COLUMN crm.contacts_directory.code IS 'Contact code CON-YYMM-NNNN';
COMMENT ON COLUMN crm.contacts_directory.organization IS 'Current employer: the most recent open employs edge from a live org';
COMMENT ON COLUMN crm.contacts_directory.current_contact_info IS 'Claim of the current contact_info assertion {phone, email, address, preferred_contact}';
COMMENT ON COLUMN crm.contacts_directory.current_sentiment IS 'Claim of the current sentiment assertion {stance, confidence, notes}';
