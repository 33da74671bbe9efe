-- crm.assess_fit(p_person, p_criterion, p_score, p_rationale, p_assessed_by, p_assessor) —
-- record how well a customer fits a product on one criterion (seed 002
-- CustomerFitAssessment: score per criterion per product, with history).
-- Guarantees: the criterion exists and is live (P0002); the customer is a person the caller
-- may write (42501, the same for hidden and missing); score 0..100 and assessed_by human or
-- model (CR013, checked by the assertion registry); the assessment is a fit_assessment
-- assertion keyed by the criterion, superseding the previous one (history chain: every
-- earlier score stays, crm.fit_history); assessor defaults to the acting user for humans;
-- crm360 logs profile_scored. Returns the assertion id.
CREATE OR REPLACE FUNCTION crm.assess_fit(
    p_person      uuid,
    p_criterion   uuid,
    p_score       numeric,
    p_rationale   text DEFAULT NULL,
    p_assessed_by text DEFAULT 'human',
    p_assessor    text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_crit record;
BEGIN
    SELECT c.id, c.product_id, c.name INTO v_crit FROM crm.fit_criteria c WHERE c.id = p_criterion AND c.archived_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'fit criterion % not found', p_criterion USING ERRCODE = 'P0002', HINT = 'see crm.fit_criteria';
    END IF;
    IF p_person IS NULL OR NOT crm_private.can_write_node(p_person)
       OR NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_person AND n.node_type = 'person') THEN
        RAISE EXCEPTION 'customer % does not exist or you may not write it', p_person
            USING ERRCODE = '42501', HINT = 'you write your own and unclaimed customers (seed 002 scoping)';
    END IF;
    RETURN crm.supersede_assertion(NULL, 'fit_assessment', p_person, NULL,
               jsonb_strip_nulls(jsonb_build_object(
                   'product_id', v_crit.product_id::text, 'criterion', v_crit.name, 'score', p_score,
                   'rationale', p_rationale, 'assessed_by', p_assessed_by,
                   'assessor', coalesce(p_assessor, CASE WHEN p_assessed_by = 'human' THEN crm.current_actor()::text END))),
               NULL, 1.0, v_crit.id::text);
END;
$$;

COMMENT ON FUNCTION crm.assess_fit(uuid, uuid, numeric, text, text, text) IS
$c$Score a customer on a product's fit criterion (0..100, with rationale; assessed_by human or model, assessor e.g. the model name); supersedes the previous score of that criterion (history kept) and logs profile_scored. Returns the assertion id. Errors: P0002 unknown criterion, 42501 customer hidden/missing or not writable for you, CR013 score out of range or bad assessed_by. Example: SELECT crm.assess_fit('<person uuid>', '<criterion uuid>', 80, 'uses our stack', 'model', 'fit-v2');$c$;
