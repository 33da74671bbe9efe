-- crm.set_deal_value(p_opp_id, p_amount, p_currency, p_basis) — record a deal's value.
-- Guarantees: a new deal_value assertion {amount, currency, basis} supersedes the current
-- one (history kept); amount >= 0; currency is an ISO-4217-style 3-letter code (upper-cased);
-- the deal row is locked like advance_deal_stage does, so writers of one deal serialize.
CREATE OR REPLACE FUNCTION crm.set_deal_value(
    p_opp_id   uuid,
    p_amount   numeric,
    p_currency text,
    p_basis    text DEFAULT NULL
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_currency text := upper(btrim(p_currency));
BEGIN
    PERFORM crm_private.lock_opportunity(p_opp_id);
    IF p_amount IS NULL OR p_amount < 0 THEN
        RAISE EXCEPTION 'p_amount must be a number >= 0, got %', coalesce(p_amount::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF v_currency IS NULL OR v_currency !~ '^[A-Z]{3}$' THEN
        RAISE EXCEPTION 'p_currency must be a 3-letter currency code, got %', coalesce(p_currency, 'NULL')
            USING ERRCODE = '22023', HINT = 'e.g. USD, EUR, GBP';
    END IF;
    RETURN crm.supersede_assertion(
        NULL, 'deal_value', p_opp_id, NULL,
        jsonb_build_object('amount', p_amount, 'currency', v_currency, 'basis', p_basis),
        NULL, 1.0);
END;
$$;

COMMENT ON FUNCTION crm.set_deal_value(uuid, numeric, text, text) IS
$c$Record the value of an opportunity as a new deal_value assertion {amount, currency, basis} superseding the current one (history kept); returns the assertion id. Errors: P0002 unknown opportunity, CR020 archived, 22023 negative/NULL amount or bad currency. Example: SELECT crm.set_deal_value('<opp uuid>', 48000, 'EUR', 'signed quote Q-17');$c$;
