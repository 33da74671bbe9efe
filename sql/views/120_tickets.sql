-- crm.tickets — one row per live support ticket the caller can see, flat and typed for BI
-- (issue 12): the current ticket_status, the account it is owned_by, the requester, when it
-- was opened at the source. crm.tickets_detail has the jsonb (properties, attrs, claim).
-- Visibility: security_invoker — every table is read as the caller, row-level security
-- decides what they see (the account and requester columns are NULL when the caller cannot
-- see those nodes). crm_private.visible_node_ids only picks the candidate rows for
-- non-admins through the acl index (a rep's cost follows what they can see); admins scan.
CREATE OR REPLACE VIEW crm.tickets
WITH (security_invoker = true) AS
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), vis AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('ticket', current_user) AS v(id) WHERE NOT adm.is_admin
)
SELECT c.id                                             AS ticket_id,
       c.id::text                                       AS ticket_id_text,
       c.external_source                                AS source,
       c.external_id,
       coalesce(c.properties ->> 'subject', c.label)    AS subject,
       st.claim ->> 'status'                            AS status,
       lower(coalesce(st.claim ->> 'priority', c.properties ->> 'priority')) AS priority,
       c.properties ->> 'ticket_type'                   AS ticket_type,
       CASE WHEN jsonb_typeof(c.properties -> 'tags') = 'array'
            THEN (SELECT string_agg(tg.tag, ', ' ORDER BY tg.tag)
                    FROM jsonb_array_elements_text(c.properties -> 'tags') AS tg(tag)) END AS tags,
       coalesce(st.claim ->> 'status' IN ('new', 'open', 'pending', 'hold'), false) AS is_open,
       coalesce(lower(coalesce(st.claim ->> 'priority', c.properties ->> 'priority')) IN ('high', 'urgent'), false)
                                                        AS is_high_priority,
       CASE WHEN pg_input_is_valid(c.properties ->> 'opened_at', 'timestamptz')
            THEN (c.properties ->> 'opened_at')::timestamptz ELSE c.created_at END AS opened_at,
       st.asserted_at                                   AS status_since,
       c.acct_id                                        AS account_id,
       c.acct_id::text                                  AS account_id_text,
       c.acct_name                                      AS account_name,
       c.acct_crm_id                                    AS account_crm_id,
       req.id                                           AS requester_id,
       req.id::text                                     AS requester_id_text,
       req.label                                        AS requester_name,
       req.email                                        AS requester_email,
       c.created_at,
       c.updated_at
  FROM (-- admins: every row, its account joined set-based (a filter on account_id starts from the
        -- account); everyone else: their visible rows, each account looked up by index. Both
        -- take the latest live owned_by edge to an org (the one-hop path to the account).
        SELECT n.*, a.id AS acct_id, coalesce(a.properties ->> 'name', a.label) AS acct_name,
               CASE WHEN a.external_source = 'salesforce' THEN a.external_id END AS acct_crm_id
          FROM crm.nodes n
          LEFT JOIN (crm.edges ob JOIN crm.nodes a ON a.id = ob.target_id AND a.node_type = 'org')
                 ON ob.source_id = n.id AND ob.edge_type = 'owned_by'
                AND ob.archived_at IS NULL AND ob.effective_to IS NULL
                AND NOT EXISTS (SELECT 1 FROM crm.edges o2
                                 WHERE o2.source_id = ob.source_id AND o2.edge_type = 'owned_by'
                                   AND o2.archived_at IS NULL AND o2.effective_to IS NULL
                                   AND (coalesce(o2.effective_from, o2.created_at), o2.id)
                                       > (coalesce(ob.effective_from, ob.created_at), ob.id)
                                   AND EXISTS (SELECT 1 FROM crm.nodes a2
                                                WHERE a2.id = o2.target_id AND a2.node_type = 'org'))
         WHERE (SELECT is_admin FROM adm) AND n.node_type = 'ticket' AND n.archived_at IS NULL
        UNION ALL
        SELECT n.*, acct.id, acct.name, acct.crm_id
          FROM vis JOIN crm.nodes n ON n.id = vis.id
          LEFT JOIN LATERAL (
              SELECT a.id, coalesce(a.properties ->> 'name', a.label) AS name,
                     CASE WHEN a.external_source = 'salesforce' THEN a.external_id END AS crm_id
                FROM crm.edges ob
                JOIN crm.nodes a ON a.id = ob.target_id
               WHERE ob.source_id = n.id AND ob.edge_type = 'owned_by'
                 AND ob.archived_at IS NULL AND ob.effective_to IS NULL AND a.node_type = 'org'
               ORDER BY coalesce(ob.effective_from, ob.created_at) DESC, ob.id DESC
               LIMIT 1) acct ON true
         WHERE NOT (SELECT is_admin FROM adm) AND n.node_type = 'ticket' AND n.archived_at IS NULL) c
  LEFT JOIN crm.assertions st
         ON st.subject_node_id = c.id AND st.assertion_type = 'ticket_status'
        AND st.assertion_key = '' AND st.superseded_at IS NULL
  LEFT JOIN LATERAL (
      SELECT p.id, p.label, p.properties ->> 'email' AS email
        FROM crm.edges f
        JOIN crm.nodes p ON p.id = f.source_id
       WHERE f.target_id = c.id AND f.edge_type = 'filed'
         AND f.archived_at IS NULL AND f.effective_to IS NULL
       ORDER BY f.created_at DESC, f.id
       LIMIT 1) req ON true;

COMMENT ON VIEW crm.tickets IS
    'Support tickets for BI: one row per live ticket visible to the caller, with its current status and priority, account, requester and when it was opened at the source (Zendesk created_at). Flat and typed; jsonb in crm.tickets_detail. Live (no refresh needed).';
COMMENT ON COLUMN crm.tickets.ticket_id IS 'The ticket (node) id';
COMMENT ON COLUMN crm.tickets.ticket_id_text IS 'ticket_id as text (for BI tools without a uuid type)';
COMMENT ON COLUMN crm.tickets.source IS 'Source system of the ticket (zendesk), NULL for tickets created in crm360';
COMMENT ON COLUMN crm.tickets.external_id IS 'The ticket''s id in its source (the Zendesk ticket id)';
COMMENT ON COLUMN crm.tickets.subject IS 'Ticket subject';
COMMENT ON COLUMN crm.tickets.status IS 'Current ticket_status: new, open, pending, hold, solved or closed (NULL: none recorded)';
COMMENT ON COLUMN crm.tickets.priority IS 'Current priority: low, normal, high or urgent';
COMMENT ON COLUMN crm.tickets.ticket_type IS 'Zendesk ticket type (question, incident, problem, task)';
COMMENT ON COLUMN crm.tickets.tags IS 'Tags, comma-separated, sorted';
COMMENT ON COLUMN crm.tickets.is_open IS 'true when the current status is new, open, pending or hold (the Account 360 definition of an open ticket)';
COMMENT ON COLUMN crm.tickets.is_high_priority IS 'true when the priority is high or urgent';
COMMENT ON COLUMN crm.tickets.opened_at IS 'When the ticket was opened at the source (Zendesk created_at; for tickets created in crm360 their created_at). The ticket_opened event in crm.activities carries the same time';
COMMENT ON COLUMN crm.tickets.status_since IS 'When crm360 recorded the current status';
COMMENT ON COLUMN crm.tickets.account_id IS 'The account (org) the ticket is owned_by; NULL when the caller cannot see it';
COMMENT ON COLUMN crm.tickets.account_id_text IS 'account_id as text';
COMMENT ON COLUMN crm.tickets.account_name IS 'Account name';
COMMENT ON COLUMN crm.tickets.account_crm_id IS 'The account''s Salesforce Account Id';
COMMENT ON COLUMN crm.tickets.requester_id IS 'The person who filed the ticket (filed edge); NULL when the caller cannot see that person';
COMMENT ON COLUMN crm.tickets.requester_id_text IS 'requester_id as text';
COMMENT ON COLUMN crm.tickets.requester_name IS 'Name of the requester';
COMMENT ON COLUMN crm.tickets.requester_email IS 'Email of the requester';
COMMENT ON COLUMN crm.tickets.created_at IS 'When crm360 first stored the ticket';
COMMENT ON COLUMN crm.tickets.updated_at IS 'When crm360 last changed the ticket node';

-- crm.tickets_detail — the jsonb of the same tickets (for analysts and tools that read JSON)
CREATE OR REPLACE VIEW crm.tickets_detail
WITH (security_invoker = true) AS
WITH adm AS MATERIALIZED (
    SELECT crm_private.actor_is_admin() AS is_admin
), vis AS MATERIALIZED (
    SELECT v.id FROM adm, crm_private.visible_node_ids('ticket', current_user) AS v(id) WHERE NOT adm.is_admin
)
SELECT c.id AS ticket_id, c.id::text AS ticket_id_text,
       c.properties ->> 'description' AS description,
       c.properties -> 'tags' AS tags,
       st.claim AS status_claim,
       c.properties,
       c.attrs
  FROM (SELECT n.* FROM crm.nodes n
         WHERE (SELECT is_admin FROM adm) AND n.node_type = 'ticket' AND n.archived_at IS NULL
        UNION ALL
        SELECT n.* FROM vis JOIN crm.nodes n ON n.id = vis.id
         WHERE NOT (SELECT is_admin FROM adm) AND n.node_type = 'ticket' AND n.archived_at IS NULL) c
  LEFT JOIN crm.assertions st
         ON st.subject_node_id = c.id AND st.assertion_type = 'ticket_status'
        AND st.assertion_key = '' AND st.superseded_at IS NULL;

COMMENT ON VIEW crm.tickets_detail IS
    'The JSON side of crm.tickets (same rows, join on ticket_id): description, tags array, the current ticket_status claim, the node''s properties and attrs.';
COMMENT ON COLUMN crm.tickets_detail.ticket_id IS 'The ticket (node) id (crm.tickets.ticket_id)';
COMMENT ON COLUMN crm.tickets_detail.ticket_id_text IS 'ticket_id as text';
COMMENT ON COLUMN crm.tickets_detail.description IS 'The ticket''s description (first message)';
COMMENT ON COLUMN crm.tickets_detail.tags IS 'Tags as a JSON array';
COMMENT ON COLUMN crm.tickets_detail.status_claim IS 'The current ticket_status claim {status, priority, reason}';
COMMENT ON COLUMN crm.tickets_detail.properties IS 'All properties of the ticket node (docs/graph_contract.md)';
COMMENT ON COLUMN crm.tickets_detail.attrs IS 'Attributes of the ticket node (team tags, ingestion markers)';
