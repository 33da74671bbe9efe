-- crm_private.tg_assertions_customer__scoring() — BEFORE INSERT on crm.assertions, for
-- fit_assessment and lead_review (written by crm.assess_fit / crm.review_lead, or directly
-- with crm.supersede_assertion), for everyone.
-- Guarantees: a fit_assessment's assertion_key is the id of a live fit criterion
-- (crm.fit_criteria) and its claim's product_id is that criterion's product; a lead_review's
-- assertion_key is the id of a live product node — otherwise CR013, one answer for a
-- malformed, unknown or hidden id (no existence oracle; a key that is not a uuid never reaches
-- crm.fit_history's casts, and the profile_scored event never names a node that is not a
-- product).
CREATE OR REPLACE FUNCTION crm_private.tg_assertions_customer__scoring()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_key uuid := CASE WHEN pg_input_is_valid(NEW.assertion_key, 'uuid') THEN NEW.assertion_key::uuid END;
BEGIN
    IF NEW.assertion_type = 'fit_assessment' THEN
        IF v_key IS NULL
           OR NOT EXISTS (SELECT 1 FROM crm.fit_criteria c
                           WHERE c.id = v_key AND c.archived_at IS NULL
                             AND c.product_id::text = NEW.claim ->> 'product_id') THEN
            RAISE EXCEPTION 'a fit assessment names a live fit criterion (assertion_key) and its product (product_id)'
                USING ERRCODE = 'CR013', HINT = 'use crm.assess_fit(person, criterion, score, ...); see crm.fit_criteria';
        END IF;
    ELSIF NEW.assertion_type = 'lead_review' THEN
        IF v_key IS NULL
           OR NOT EXISTS (SELECT 1 FROM crm.nodes p
                           WHERE p.id = v_key AND p.node_type = 'product' AND p.archived_at IS NULL) THEN
            RAISE EXCEPTION 'a lead review names a live product (assertion_key)'
                USING ERRCODE = 'CR013', HINT = 'use crm.review_lead(person, product, status)';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_assertions_customer__scoring() IS
    'Trigger: fit_assessment keys are live fit criteria with their product, lead_review keys live products (CR013).';

CREATE OR REPLACE TRIGGER tg_assertions_customer__scoring
    BEFORE INSERT ON crm.assertions
    FOR EACH ROW
    WHEN (NEW.assertion_type IN ('fit_assessment', 'lead_review'))
    EXECUTE FUNCTION crm_private.tg_assertions_customer__scoring();
