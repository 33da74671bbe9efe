-- crm.leads — customer fit ranking per product with human review (seed 002 Leads), and
-- crm.fit_history — every fit assessment ever made (seed 002 "score per criterion per
-- product, with history"). security_invoker: a caller ranks and sees only the customers they
-- can see (the rank is among those).
CREATE OR REPLACE VIEW crm.leads
WITH (security_invoker = true) AS
WITH scores AS (
    SELECT a.subject_node_id AS customer_id, c.product_id,
           round(sum((a.claim ->> 'score')::numeric * c.weight) / sum(c.weight), 1) AS fit,
           count(*)::integer AS criteria_assessed,
           max(a.asserted_at) AS last_assessed_at
      FROM crm.assertions a
      JOIN crm.fit_criteria c ON c.id::text = a.assertion_key AND c.archived_at IS NULL
     WHERE a.assertion_type = 'fit_assessment' AND a.superseded_at IS NULL
     GROUP BY a.subject_node_id, c.product_id
)
SELECT s.product_id,
       pr.label                                               AS product,
       s.customer_id,
       p.label                                                AS customer,
       s.fit,
       rank() OVER (PARTITION BY s.product_id ORDER BY s.fit DESC) AS rank,
       s.criteria_assessed,
       (SELECT count(*)::integer FROM crm.fit_criteria c2 WHERE c2.product_id = s.product_id AND c2.archived_at IS NULL)
                                                              AS criteria_total,
       coalesce(r.claim ->> 'status', 'pending')              AS review_status,
       r.claim ->> 'note'                                     AS review_note,
       r.asserted_at                                          AS reviewed_at,
       co.label                                               AS company,
       p.claimed_by                                           AS owner_id,
       s.last_assessed_at
  FROM scores s
  JOIN crm.nodes p ON p.id = s.customer_id AND p.archived_at IS NULL
  JOIN crm.nodes pr ON pr.id = s.product_id
  LEFT JOIN crm.assertions r ON r.subject_node_id = s.customer_id AND r.assertion_type = 'lead_review'
                            AND r.assertion_key = s.product_id::text AND r.superseded_at IS NULL
  LEFT JOIN LATERAL (
      SELECT o.label FROM crm.edges e JOIN crm.nodes o ON o.id = e.source_id AND o.archived_at IS NULL
       WHERE e.target_id = s.customer_id AND e.edge_type = 'employs' AND e.archived_at IS NULL AND e.effective_to IS NULL
       ORDER BY e.effective_from DESC NULLS LAST, e.id LIMIT 1) co ON true;

COMMENT ON VIEW crm.leads IS
    'Leads (seed 002): per product, the customers you can see ranked by overall fit (weighted average of current assessments), with the human review status (pending until crm.review_lead). security_invoker.';
COMMENT ON COLUMN crm.leads.product_id IS 'The product node id';
COMMENT ON COLUMN crm.leads.product IS 'Product name';
COMMENT ON COLUMN crm.leads.customer_id IS 'The person node id';
COMMENT ON COLUMN crm.leads.customer IS 'Customer name';
COMMENT ON COLUMN crm.leads.fit IS 'Overall fit 0..100: weighted average of the current assessments on the product''s live criteria';
COMMENT ON COLUMN crm.leads.rank IS 'Rank by fit within the product among the rows you can see (1 = best; ties share a rank)';
COMMENT ON COLUMN crm.leads.criteria_assessed IS 'How many of the product''s live criteria have a current assessment';
COMMENT ON COLUMN crm.leads.criteria_total IS 'How many live criteria the product has';
COMMENT ON COLUMN crm.leads.review_status IS 'pending (not reviewed yet), approved or rejected (crm.review_lead)';
COMMENT ON COLUMN crm.leads.review_note IS 'The reviewer''s note';
COMMENT ON COLUMN crm.leads.reviewed_at IS 'When the current review was made';
COMMENT ON COLUMN crm.leads.company IS 'The customer''s current employer';
COMMENT ON COLUMN crm.leads.owner_id IS 'The user who claimed the customer';
COMMENT ON COLUMN crm.leads.last_assessed_at IS 'When the latest current assessment was made';

CREATE OR REPLACE VIEW crm.fit_history
WITH (security_invoker = true) AS
SELECT a.subject_node_id                    AS customer_id,
       (a.claim ->> 'product_id')::uuid     AS product_id,
       a.assertion_key::uuid                AS criterion_id,
       a.claim ->> 'criterion'              AS criterion,
       (a.claim ->> 'score')::numeric       AS score,
       a.claim ->> 'rationale'              AS rationale,
       a.claim ->> 'assessed_by'            AS assessed_by,
       a.claim ->> 'assessor'               AS assessor,
       a.asserted_at                        AS valid_from,
       a.superseded_at                      AS valid_to,
       a.id                                 AS assertion_id
  FROM crm.assertions a
 WHERE a.assertion_type = 'fit_assessment';

COMMENT ON VIEW crm.fit_history IS
    'Every fit assessment (seed 002: score per criterion per product, with history): valid_from until valid_to (NULL = current). security_invoker.';
COMMENT ON COLUMN crm.fit_history.customer_id IS 'The person node id';
COMMENT ON COLUMN crm.fit_history.product_id IS 'The product';
COMMENT ON COLUMN crm.fit_history.criterion_id IS 'The fit criterion (crm.fit_criteria.id)';
COMMENT ON COLUMN crm.fit_history.criterion IS 'Criterion name at the time';
COMMENT ON COLUMN crm.fit_history.score IS 'Score 0..100';
COMMENT ON COLUMN crm.fit_history.rationale IS 'Why';
COMMENT ON COLUMN crm.fit_history.assessed_by IS 'human or model';
COMMENT ON COLUMN crm.fit_history.assessor IS 'The user id (human) or model name';
COMMENT ON COLUMN crm.fit_history.valid_from IS 'When the assessment was made';
COMMENT ON COLUMN crm.fit_history.valid_to IS 'When a newer assessment of the same criterion replaced it; NULL = current';
COMMENT ON COLUMN crm.fit_history.assertion_id IS 'The fit_assessment assertion';

CREATE OR REPLACE VIEW crm.tag_history
WITH (security_invoker = true) AS
SELECT nt.node_id, n.node_type, n.label, t.name AS tag, t.is_system, nt.added_at, nt.added_by, nt.removed_at, nt.removed_by
  FROM crm.node_tags nt
  JOIN crm.tags t ON t.id = nt.tag_id
  JOIN crm.nodes n ON n.id = nt.node_id;

COMMENT ON VIEW crm.tag_history IS
    'Tags on nodes you can see, with their history: each time a tag was on a node, added_at until removed_at (NULL = still on). security_invoker.';
COMMENT ON COLUMN crm.tag_history.node_id IS 'The tagged node';
COMMENT ON COLUMN crm.tag_history.node_type IS 'Its node type';
COMMENT ON COLUMN crm.tag_history.label IS 'Its label';
COMMENT ON COLUMN crm.tag_history.tag IS 'Tag name';
COMMENT ON COLUMN crm.tag_history.is_system IS 'true for bot: system tags';
COMMENT ON COLUMN crm.tag_history.added_at IS 'When the tag was put on';
COMMENT ON COLUMN crm.tag_history.added_by IS 'Who put it on';
COMMENT ON COLUMN crm.tag_history.removed_at IS 'When it was taken off; NULL = still on';
COMMENT ON COLUMN crm.tag_history.removed_by IS 'Who took it off';
