-- crm.review_lead(p_person, p_product, p_status, p_note) — human review of a customer as a
-- lead for a product (seed 002 Leads: fit ranking per product, human review).
-- Guarantees: the product exists (P0002); the customer is a person the caller may write
-- (42501); status pending, approved or rejected (CR013); recorded as a lead_review assertion
-- keyed by the product, superseding the previous review (history kept), with the reviewer.
-- Returns the assertion id.
CREATE OR REPLACE FUNCTION crm.review_lead(p_person uuid, p_product uuid, p_status text, p_note text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_product AND n.node_type = 'product') THEN
        RAISE EXCEPTION 'product % not found', p_product USING ERRCODE = 'P0002';
    END IF;
    IF p_person IS NULL OR NOT crm_private.can_write_node(p_person)
       OR NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_person AND n.node_type = 'person') THEN
        RAISE EXCEPTION 'customer % does not exist or you may not write it', p_person
            USING ERRCODE = '42501', HINT = 'you write your own and unclaimed customers (seed 002 scoping)';
    END IF;
    RETURN crm.supersede_assertion(NULL, 'lead_review', p_person, NULL,
               jsonb_strip_nulls(jsonb_build_object('status', p_status, 'note', p_note,
                                                    'reviewer', coalesce(crm.current_actor()::text, session_user::text))),
               NULL, 1.0, p_product::text);
END;
$$;

COMMENT ON FUNCTION crm.review_lead(uuid, uuid, text, text) IS
$c$Review a customer as a lead for a product: pending, approved or rejected (lead_review assertion, history kept; shown in crm.leads). Returns the assertion id. Errors: P0002 unknown product, 42501 customer hidden/missing or not writable for you, CR013 unknown status. Example: SELECT crm.review_lead('<person uuid>', '<product uuid>', 'approved', 'good fit, call next week');$c$;
