-- crm_private.rc_check(p_field, p_value, p_type) — why a payload value cannot be read as
-- p_type, or NULL when it can (or is absent/null). Types: timestamptz, date, numeric,
-- integer, boolean, unix (seconds since the epoch), string, array, object.
-- Guarantees: never raises; the reason names the field and quotes the value.
-- SQL-standard body (RETURN …), no SET clause: bound at CREATE time (search_path cannot
-- redirect it later) and inlined by the planner into the set-based mapping statements —
-- one call per field per record was a large share of reconciliation time.
CREATE OR REPLACE FUNCTION crm_private.rc_check(p_field text, p_value jsonb, p_type text)
RETURNS text
LANGUAGE sql
STABLE
PARALLEL SAFE
RETURN CASE
        WHEN p_value IS NULL OR jsonb_typeof(p_value) = 'null' THEN NULL
        WHEN p_type IN ('timestamptz', 'date')
             AND (jsonb_typeof(p_value) <> 'string' OR NOT pg_input_is_valid(p_value #>> '{}', p_type))
            THEN format('unparseable %s in %s: %s', CASE p_type WHEN 'date' THEN 'date' ELSE 'timestamp' END, p_field, p_value::text)
        WHEN p_type IN ('numeric', 'integer', 'unix')
             AND NOT (jsonb_typeof(p_value) IN ('number', 'string')
                      AND pg_input_is_valid(btrim(p_value #>> '{}'), CASE p_type WHEN 'numeric' THEN 'numeric' ELSE 'bigint' END))
            THEN format('unparseable %s in %s: %s', CASE p_type WHEN 'numeric' THEN 'amount' ELSE 'integer' END, p_field, p_value::text)
        WHEN p_type = 'boolean'
             AND NOT (jsonb_typeof(p_value) = 'boolean'
                      OR (jsonb_typeof(p_value) = 'string' AND lower(btrim(p_value #>> '{}')) IN ('true', 'false', '1', '0', 'yes', 'no')))
            THEN format('unparseable boolean in %s: %s', p_field, p_value::text)
        WHEN p_type = 'string' AND jsonb_typeof(p_value) NOT IN ('string', 'number')
            THEN format('wrong JSON type in %s: %s, expected a string', p_field, jsonb_typeof(p_value))
        WHEN p_type IN ('array', 'object') AND jsonb_typeof(p_value) <> p_type
            THEN format('wrong JSON type in %s: %s, expected an %s', p_field, jsonb_typeof(p_value), p_type)
    END;

COMMENT ON FUNCTION crm_private.rc_check(text, jsonb, text) IS
    'Reconciliation: the reason a payload value is unreadable as the given type (timestamptz, date, numeric, integer, boolean, unix, string, array, object), NULL when fine or absent.';
