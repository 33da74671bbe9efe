-- crm.create_deal(p_name, p_customer, p_company, p_pipeline_code, p_amount, p_currency) — a
-- deal the EDGR way (seed 002 Deals: DealCustomer primary contact + Company; stages open /
-- negotiating / won / lost in pipeline PL-EDGR), on top of crm.create_opportunity.
-- Guarantees: the customer is a person and the company an org, both visible to the caller
-- (42501 otherwise, the same for hidden and missing); the deal is created by
-- crm.create_opportunity in the pipeline (default PL-EDGR: stage open), owned by the caller
-- (members) and owned_by the company (it inherits the company's visibility); the customer is
-- its primary_contact and the company its target; an amount (with currency) is recorded as
-- deal_value; a deal_created event on the deal, the customer and the company is logged.
-- One transaction. Returns the deal (opportunity) id.
CREATE OR REPLACE FUNCTION crm.create_deal(
    p_name          text,
    p_customer      uuid,
    p_company       uuid,
    p_pipeline_code text DEFAULT 'PL-EDGR',
    p_amount        numeric DEFAULT NULL,
    p_currency      text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_deal  uuid;
    v_stage text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_customer AND n.node_type = 'person' AND n.archived_at IS NULL)
       OR NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_company AND n.node_type = 'org' AND n.archived_at IS NULL) THEN
        RAISE EXCEPTION 'the customer and the company must be a live person and org you can see'
            USING ERRCODE = '42501';
    END IF;
    v_deal := crm.create_opportunity(p_name, coalesce(p_pipeline_code, 'PL-EDGR'), NULL);
    INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES
        ('owned_by', v_deal, p_company),
        ('primary_contact', v_deal, p_customer),
        ('targets', v_deal, p_company);
    IF p_amount IS NOT NULL THEN
        PERFORM crm.set_deal_value(v_deal, p_amount, coalesce(p_currency, 'EUR'));
    END IF;
    SELECT a.claim ->> 'stage' INTO v_stage FROM crm.assertions a
     WHERE a.subject_node_id = v_deal AND a.assertion_type = 'deal_stage' AND a.superseded_at IS NULL;
    PERFORM crm.log_crm_activity('deal_created', 'Deal created: ' || btrim(p_name),
                                 jsonb_build_object('deal_id', v_deal, 'pipeline', coalesce(p_pipeline_code, 'PL-EDGR'),
                                                    'stage', v_stage),
                                 NULL, ARRAY[v_deal, p_customer, p_company], ARRAY['subject', 'customer', 'account']);
    RETURN v_deal;
END;
$$;

COMMENT ON FUNCTION crm.create_deal(text, uuid, uuid, text, numeric, text) IS
$c$Create a deal the EDGR way (seed 002): pipeline PL-EDGR (open / negotiating / won / lost) by default, the customer as primary contact and the company as account (owned_by: the deal inherits its visibility) and target; optional amount as deal_value; logs deal_created. Returns the opportunity id. Errors: 42501 customer/company hidden or missing, those of crm.create_opportunity and crm.set_deal_value. Example: SELECT crm.create_deal('Acme renewal', '<person uuid>', '<org uuid>', 'PL-EDGR', 12000, 'EUR');$c$;
