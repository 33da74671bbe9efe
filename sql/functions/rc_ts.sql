-- crm_private.rc_ts(p_value) — a payload value as timestamptz (ISO text or unix seconds).
-- Guarantees: NULL for null, absent or unreadable values (rejected beforehand by rc_check);
-- never raises. plpgsql on purpose: a SQL function called with a constant would have its
-- casts folded at plan time, outside the guarding CASE.
CREATE OR REPLACE FUNCTION crm_private.rc_ts(p_value jsonb)
RETURNS timestamptz
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
SET search_path = ''
AS $$
DECLARE
    v_text text := btrim(p_value #>> '{}');
BEGIN
    IF jsonb_typeof(p_value) = 'number' THEN
        RETURN to_timestamp(v_text::double precision);
    ELSIF jsonb_typeof(p_value) <> 'string' THEN
        RETURN NULL;
    ELSIF pg_input_is_valid(v_text, 'timestamptz') THEN
        RETURN v_text::timestamptz;
    ELSIF pg_input_is_valid(v_text, 'bigint') THEN
        RETURN to_timestamp(v_text::double precision);
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.rc_ts(jsonb) IS
    'Reconciliation: a payload value as timestamptz (ISO text, or unix seconds as number/text); NULL when absent or unreadable.';
