-- crm_private.rc_bool(p_value) — a payload value (JSON boolean or true/false/1/0/yes/no) as boolean.
-- Guarantees: NULL for null, absent or unreadable values (rejected beforehand by rc_check).
CREATE OR REPLACE FUNCTION crm_private.rc_bool(p_value jsonb)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT CASE lower(btrim(p_value #>> '{}'))
               WHEN 'true' THEN true WHEN '1' THEN true WHEN 'yes' THEN true
               WHEN 'false' THEN false WHEN '0' THEN false WHEN 'no' THEN false
           END
     WHERE jsonb_typeof(p_value) IN ('boolean', 'string')
$$;

COMMENT ON FUNCTION crm_private.rc_bool(jsonb) IS
    'Reconciliation: a payload value (JSON boolean or true/false/1/0/yes/no text) as boolean; NULL when absent or unreadable.';
