-- crm.set_win_probability(p_opp_id, p_probability, p_basis) — record a deal's win probability.
-- Guarantees: a new win_probability assertion {probability, basis} supersedes the current
-- one (history kept); probability is within 0..1; the deal row is locked for the write.
CREATE OR REPLACE FUNCTION crm.set_win_probability(
    p_opp_id      uuid,
    p_probability numeric,
    p_basis       text DEFAULT NULL
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_private.lock_opportunity(p_opp_id);
    IF p_probability IS NULL OR p_probability < 0 OR p_probability > 1 THEN
        RAISE EXCEPTION 'p_probability must be between 0 and 1, got %', coalesce(p_probability::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'pass a fraction: 0.35 for 35%';
    END IF;
    RETURN crm.supersede_assertion(
        NULL, 'win_probability', p_opp_id, NULL,
        jsonb_build_object('probability', p_probability, 'basis', p_basis),
        NULL, 1.0);
END;
$$;

COMMENT ON FUNCTION crm.set_win_probability(uuid, numeric, text) IS
$c$Record the win probability (0..1) of an opportunity as a new win_probability assertion {probability, basis} superseding the current one (history kept); returns the assertion id. Errors: P0002 unknown opportunity, CR020 archived, 22023 probability NULL or outside 0..1. Example: SELECT crm.set_win_probability('<opp uuid>', 0.6, 'champion confirmed budget');$c$;
