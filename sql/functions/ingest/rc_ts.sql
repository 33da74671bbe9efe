-- crm_private.rc_ts(p_value) — a payload value as timestamptz (ISO text or unix seconds).
-- Guarantees: NULL for null, absent or unreadable values (rejected beforehand by rc_check);
-- never raises, also when called with a constant: the planner folds immutable casts of
-- constants at plan time, outside the guarding CASE, so the guarded conversions here are
-- only stable ones (timestamptz input, to_number), which it leaves to execution time.
-- SQL-standard body (RETURN …), no SET clause: bound at CREATE time (search_path cannot
-- redirect it later) and inlined by the planner into the set-based mapping statements —
-- one call per field per record was a large share of reconciliation time.
CREATE OR REPLACE FUNCTION crm_private.rc_ts(p_value jsonb)
RETURNS timestamptz
LANGUAGE sql
STABLE
PARALLEL SAFE
RETURN CASE
    WHEN jsonb_typeof(p_value) = 'number' THEN to_timestamp((p_value)::double precision)
    WHEN jsonb_typeof(p_value) <> 'string' THEN NULL
    WHEN pg_input_is_valid(btrim(p_value #>> '{}'), 'timestamptz') THEN (btrim(p_value #>> '{}'))::timestamptz
    WHEN pg_input_is_valid(btrim(p_value #>> '{}'), 'bigint')
        THEN to_timestamp(to_number(btrim(p_value #>> '{}'), 'S9999999999999999999')::double precision)
END;

COMMENT ON FUNCTION crm_private.rc_ts(jsonb) IS
    'Reconciliation: a payload value as timestamptz (ISO text, or unix seconds as number/text); NULL when absent or unreadable.';
