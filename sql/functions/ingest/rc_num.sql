-- crm_private.rc_num(p_value) — a payload value (JSON number or numeric text) as numeric.
-- Guarantees: NULL for null, absent or unreadable values (rejected beforehand by rc_check);
-- never raises (plpgsql: no plan-time folding of the guarded cast).
CREATE OR REPLACE FUNCTION crm_private.rc_num(p_value jsonb)
RETURNS numeric
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_text text := btrim(p_value #>> '{}');
BEGIN
    IF jsonb_typeof(p_value) IN ('number', 'string') AND pg_input_is_valid(v_text, 'numeric') THEN
        RETURN v_text::numeric;
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.rc_num(jsonb) IS
    'Reconciliation: a payload value (JSON number or numeric text) as numeric; NULL when absent or unreadable.';
