-- crm.fit_score(p_person, p_product, p_at) — a customer's overall fit for a product: the
-- weight-averaged score of the current (or, with p_at, the then current) assessments on the
-- product's live criteria (seed 002 Scoring). NULL when none is assessed. Read as the caller
-- (row-level security: NULL for a customer the caller cannot see).
CREATE OR REPLACE FUNCTION crm.fit_score(p_person uuid, p_product uuid, p_at timestamptz DEFAULT NULL)
RETURNS numeric
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT round(sum((a.claim ->> 'score')::numeric * c.weight) / sum(c.weight), 1)
      FROM crm.assertions a
      JOIN crm.fit_criteria c ON c.id::text = a.assertion_key AND c.product_id = p_product AND c.archived_at IS NULL
     WHERE a.subject_node_id = p_person AND a.assertion_type = 'fit_assessment'
       AND CASE WHEN p_at IS NULL THEN a.superseded_at IS NULL
                ELSE a.asserted_at <= p_at AND (a.superseded_at IS NULL OR a.superseded_at > p_at) END
$$;

COMMENT ON FUNCTION crm.fit_score(uuid, uuid, timestamptz) IS
$c$Overall fit (0..100, weighted average over the product's live criteria) of a customer for a product, now or as it was at p_at; NULL when not assessed or not visible. Example: SELECT crm.fit_score('<person uuid>', '<product uuid>');$c$;
