-- crm.create_product(p_name, p_description) — a product customers are scored against (seed 002
-- Scoring: fit criteria per product). Admins only (write scope admin: products are shared by
-- everyone, like pipelines). Guarantees: the name is not blank (22023); creating a product
-- whose name exists (case-insensitive, live) returns it. Returns the product node id.
CREATE OR REPLACE FUNCTION crm.create_product(p_name text, p_description text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM crm_private.require_admin('create products');
    IF p_name IS NULL OR btrim(p_name) = '' THEN
        RAISE EXCEPTION 'a product needs a name' USING ERRCODE = '22023';
    END IF;
    SELECT n.id INTO v_id FROM crm.nodes n
     WHERE n.node_type = 'product' AND n.archived_at IS NULL AND lower(n.label) = lower(btrim(p_name));
    IF FOUND THEN
        RETURN v_id;
    END IF;
    INSERT INTO crm.nodes (node_type, label, properties)
    VALUES ('product', btrim(p_name), jsonb_strip_nulls(jsonb_build_object('name', btrim(p_name), 'description', p_description)))
    RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm.create_product(text, text) IS
$c$Create a product for fit scoring (admins; returns the existing live product of the same name). Errors: 42501 not an admin, 22023 blank name. Example: SELECT crm.create_product('Analytics Suite');$c$;
