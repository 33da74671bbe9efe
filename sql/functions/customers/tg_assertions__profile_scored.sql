-- crm_private.tg_assertions__profile_scored() — AFTER INSERT (statement, transition table) on
-- crm.assertions.
-- Guarantees: one profile_scored event (seed 002 Profile scored; write scope system) per
-- fit_assessment assertion the statement inserted — derived from the rows really written —
-- subject the customer, the product as participant, properties product_id, criterion, score,
-- assessed_by. Other assertion types: nothing. SECURITY DEFINER (a trigger function cannot be
-- called directly).
CREATE OR REPLACE FUNCTION crm_private.tg_assertions__profile_scored()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_types text[];
    v_nodes uuid[];
    v_props jsonb[];
    v_sums  text[];
    v_prods uuid[];
BEGIN
    SELECT array_agg('profile_scored'::text), array_agg(n.subject_node_id),
           array_agg(jsonb_build_object('product_id', n.claim ->> 'product_id', 'criterion', n.claim ->> 'criterion',
                                        'score', n.claim -> 'score', 'assessed_by', n.claim ->> 'assessed_by')),
           array_agg(format('Scored %s on %s', n.claim ->> 'score', n.claim ->> 'criterion')),
           array_agg((n.claim ->> 'product_id')::uuid)
      INTO v_types, v_nodes, v_props, v_sums, v_prods
      FROM new_rows n
     WHERE n.assertion_type = 'fit_assessment' AND n.subject_node_id IS NOT NULL;
    IF v_types IS NOT NULL THEN
        PERFORM crm_private.write_customer_events(v_types, v_nodes, v_props, v_sums, v_prods,
                                                  array_fill('product'::text, ARRAY[cardinality(v_types)]));
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_assertions__profile_scored() IS
    'Trigger: logs profile_scored for the fit_assessment assertions a statement inserted.';

CREATE OR REPLACE TRIGGER tg_assertions__profile_scored
    AFTER INSERT ON crm.assertions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    WHEN (current_user <> 'crm_owner' OR pg_catalog.current_setting('crm.bulk_apply', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION crm_private.tg_assertions__profile_scored();
