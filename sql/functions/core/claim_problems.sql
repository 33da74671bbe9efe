-- crm_private.claim_problems(p_claim, p_required, p_properties, p_rule) — what is wrong with a
-- claim against its assertion type's registry row (crm.assertion_types.claim_required,
-- claim_properties, claim_rule). One definition for both writers of assertions: the row
-- trigger crm_private.tg_assertions__validate (which raises CR013) and reconciliation's
-- set-based check in crm_private.rc_apply (which rejects the record with the reason).
-- Guarantees: missing = the required keys absent or null (NULL when none); bad = the keys
-- whose JSON type differs from the registered one ('date' = an ISO date string; 'any'
-- accepts anything; NULL when none); rule_ok = the jsonpath rule holds (true without one).
CREATE OR REPLACE FUNCTION crm_private.claim_problems(p_claim jsonb, p_required text[], p_properties jsonb,
                                                      p_rule jsonpath)
RETURNS TABLE (missing text, bad text, rule_ok boolean)
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (SELECT string_agg(k, ', ' ORDER BY k) FROM unnest(p_required) AS k
             WHERE NOT (p_claim ? k) OR jsonb_typeof(p_claim -> k) = 'null'),
           (SELECT string_agg(format('%s must be %s, got %s', p.key, p.value #>> '{}',
                                     jsonb_typeof(p_claim -> p.key)), '; ')
              FROM jsonb_each(p_properties) AS p
             WHERE p_claim ? p.key
               AND jsonb_typeof(p_claim -> p.key) <> 'null'
               AND CASE p.value #>> '{}'
                     WHEN 'any' THEN false
                     WHEN 'date' THEN jsonb_typeof(p_claim -> p.key) <> 'string'
                                      OR NOT pg_input_is_valid(p_claim ->> p.key, 'date')
                     ELSE jsonb_typeof(p_claim -> p.key) <> (p.value #>> '{}')
                   END),
           (p_rule IS NULL OR coalesce(jsonb_path_match(p_claim, p_rule, '{}', true), false))
$$;

COMMENT ON FUNCTION crm_private.claim_problems(jsonb, text[], jsonb, jsonpath) IS
    'What is wrong with a claim against its assertion type: missing required keys, keys of the wrong JSON type, whether the jsonpath rule holds. Shared by tg_assertions__validate and rc_apply.';
