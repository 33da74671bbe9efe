-- crm.customers — the contact book (seed 002 Customers), one flat row per live customer
-- (person) the caller can see, for BI and the CRM's customer table: primary email (the
-- channel crm.pick_channel would use, else properties.email), current company, owner, tags
-- as text, overall fit per product (as text, "Product 72.5, Other 40.0"; per product and ranked:
-- crm.leads), last activity, suppression.
-- Visibility: security_invoker — every table is read as the caller; company/owner columns are
-- NULL when the caller cannot see those nodes; fit, tags and activity only from what the
-- caller may see. Per-row lookups use the graph's indexes (edges_source/_target,
-- node_tags_node, assertions_current_node, event_participants_node).
CREATE OR REPLACE VIEW crm.customers
WITH (security_invoker = true) AS
SELECT p.id                                             AS customer_id,
       p.id::text                                       AS customer_id_text,
       p.label                                          AS name,
       p.properties ->> 'first_name'                    AS first_name,
       p.properties ->> 'last_name'                     AS last_name,
       p.properties ->> 'title'                         AS title,
       coalesce(em.value, lower(p.properties ->> 'email')) AS primary_email,
       co.id                                            AS company_id,
       co.label                                         AS company,
       p.claimed_by                                     AS owner_id,
       ow.label                                         AS owner,
       tg.tags,
       ft.fit,
       ft.best_fit,
       la.last_activity_at,
       crm_private.is_suppressed(p.id)                  AS suppressed,
       p.created_at
  FROM crm.nodes p
  LEFT JOIN LATERAL (
      SELECT c.properties ->> 'value' AS value
        FROM crm.edges h
        JOIN crm.nodes c ON c.id = h.target_id AND c.archived_at IS NULL
       WHERE h.source_id = p.id AND h.edge_type = 'has_channel' AND h.archived_at IS NULL
         AND c.properties ->> 'channel_type' = 'email'
         AND NOT EXISTS (SELECT 1 FROM crm.assertions s
                          WHERE s.subject_node_id = c.id AND s.assertion_type = 'channel_status'
                            AND s.assertion_key = '' AND s.superseded_at IS NULL AND s.claim ->> 'status' <> 'active')
       ORDER BY coalesce((h.properties ->> 'primary')::boolean, false) DESC, h.created_at DESC, c.id
       LIMIT 1) em ON true
  LEFT JOIN LATERAL (
      SELECT o.id, o.label
        FROM crm.edges e JOIN crm.nodes o ON o.id = e.source_id AND o.archived_at IS NULL
       WHERE e.target_id = p.id AND e.edge_type = 'employs' AND e.archived_at IS NULL AND e.effective_to IS NULL
       ORDER BY e.effective_from DESC NULLS LAST, e.id
       LIMIT 1) co ON true
  LEFT JOIN crm.nodes ow ON ow.id = p.claimed_by
  LEFT JOIN LATERAL (
      SELECT string_agg(t.name, ', ' ORDER BY lower(t.name)) AS tags
        FROM crm.node_tags nt JOIN crm.tags t ON t.id = nt.tag_id
       WHERE nt.node_id = p.id AND nt.removed_at IS NULL) tg ON true
  LEFT JOIN LATERAL (
      SELECT string_agg(pr.label || ' ' || x.fit, ', ' ORDER BY x.fit DESC, pr.label) AS fit, max(x.fit) AS best_fit
        FROM (SELECT c.product_id, round(sum((a.claim ->> 'score')::numeric * c.weight) / sum(c.weight), 1) AS fit
                FROM crm.assertions a
                JOIN crm.fit_criteria c ON c.id::text = a.assertion_key AND c.archived_at IS NULL
               WHERE a.subject_node_id = p.id AND a.assertion_type = 'fit_assessment' AND a.superseded_at IS NULL
               GROUP BY c.product_id) x
        JOIN crm.nodes pr ON pr.id = x.product_id) ft ON true
  LEFT JOIN LATERAL (
      SELECT max(e.occurred_at) AS last_activity_at
        FROM crm.event_participants ep
        JOIN crm.events e ON e.id = ep.event_id
        JOIN crm.event_types et ON et.event_type = e.event_type AND et.counts_as_activity
       WHERE ep.node_id = p.id) la ON true
 WHERE p.node_type = 'person' AND p.archived_at IS NULL;

COMMENT ON VIEW crm.customers IS
    'The contact book (seed 002 Customers): one row per live customer you can see — primary email (the usable preferred email channel, else properties.email), current company, owner, tags (comma-separated), fit per product (text; numbers per product in crm.leads), last activity, suppressed. security_invoker: row-level security applies.';
COMMENT ON COLUMN crm.customers.customer_id IS 'The person node id';
COMMENT ON COLUMN crm.customers.customer_id_text IS 'customer_id as text (for BI tools without a uuid type)';
COMMENT ON COLUMN crm.customers.name IS 'Full name (the node label)';
COMMENT ON COLUMN crm.customers.first_name IS 'properties.first_name';
COMMENT ON COLUMN crm.customers.last_name IS 'properties.last_name';
COMMENT ON COLUMN crm.customers.title IS 'properties.title (job title)';
COMMENT ON COLUMN crm.customers.primary_email IS 'The email automation would use (preferred, not bounced/invalid), else properties.email';
COMMENT ON COLUMN crm.customers.company_id IS 'The current employer (most recent open employs edge), NULL when none or not visible to you';
COMMENT ON COLUMN crm.customers.company IS 'Name of the current employer';
COMMENT ON COLUMN crm.customers.owner_id IS 'The user who claimed the customer (seed 002 claimedById); NULL = unclaimed';
COMMENT ON COLUMN crm.customers.owner IS 'Name of the owner';
COMMENT ON COLUMN crm.customers.tags IS 'Current tags, comma-separated, case-insensitively sorted';
COMMENT ON COLUMN crm.customers.fit IS 'Overall fit per product as text, best first: "Product 72.5, Other 40.0" (weighted average of the current assessments, 0..100; per product: crm.leads)';
COMMENT ON COLUMN crm.customers.best_fit IS 'The highest overall fit over the products (0..100), NULL when not scored';
COMMENT ON COLUMN crm.customers.last_activity_at IS 'Latest visible event that counts as activity (crm.event_types.counts_as_activity)';
COMMENT ON COLUMN crm.customers.suppressed IS 'true while a do_not_contact suppression is in force (no outreach)';
COMMENT ON COLUMN crm.customers.created_at IS 'When the customer was created in crm360';
