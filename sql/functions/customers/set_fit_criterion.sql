-- crm.set_fit_criterion(p_product, p_name, p_weight, p_description) — define or change a fit
-- criterion of a product (seed 002 Scoring). Admins only (42501).
-- Guarantees: the product exists (P0002, a live product node); name not blank, weight > 0 and
-- <= 100 (22023); one live criterion per product and name (case-insensitive): an existing one
-- gets the new weight and description (assessments keep their history; the overall fit uses
-- the new weight from now on). Returns the criterion id (the assertion_key of its assessments).
CREATE OR REPLACE FUNCTION crm.set_fit_criterion(p_product uuid, p_name text, p_weight numeric DEFAULT 1,
                                                 p_description text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM crm_private.require_admin('define fit criteria');
    IF NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_product AND n.node_type = 'product' AND n.archived_at IS NULL) THEN
        RAISE EXCEPTION 'product % not found', p_product USING ERRCODE = 'P0002';
    END IF;
    IF p_name IS NULL OR btrim(p_name) = '' OR p_weight IS NULL OR p_weight <= 0 OR p_weight > 100 THEN
        RAISE EXCEPTION 'a criterion needs a name and a weight in (0, 100]' USING ERRCODE = '22023';
    END IF;
    UPDATE crm.fit_criteria c SET weight = p_weight, description = coalesce(p_description, c.description)
     WHERE c.product_id = p_product AND lower(c.name) = lower(btrim(p_name)) AND c.archived_at IS NULL
    RETURNING c.id INTO v_id;
    IF v_id IS NULL THEN
        INSERT INTO crm.fit_criteria (product_id, name, weight, description)
        VALUES (p_product, btrim(p_name), p_weight, p_description)
        RETURNING id INTO v_id;
    END IF;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm.set_fit_criterion(uuid, text, numeric, text) IS
$c$Define a fit criterion of a product, or change the weight/description of an existing one (admins). Returns the criterion id. Errors: 42501 not an admin, P0002 unknown product, 22023 blank name or weight not in (0, 100]. Example: SELECT crm.set_fit_criterion('<product uuid>', 'Company size', 2, '200+ employees');$c$;
