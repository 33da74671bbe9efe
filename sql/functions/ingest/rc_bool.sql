-- crm_private.rc_bool(p_value) — a payload value (JSON boolean or true/false/1/0/yes/no) as boolean.
-- Guarantees: NULL for null, absent or unreadable values (rejected beforehand by rc_check).
-- SQL-standard body (RETURN …), no SET clause: bound at CREATE time (search_path cannot
-- redirect it later) and inlined by the planner into the set-based mapping statements —
-- one call per field per record was a large share of reconciliation time.
CREATE OR REPLACE FUNCTION crm_private.rc_bool(p_value jsonb)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
RETURN CASE WHEN jsonb_typeof(p_value) IN ('boolean', 'string') THEN
           CASE lower(btrim(p_value #>> '{}'))
               WHEN 'true' THEN true WHEN '1' THEN true WHEN 'yes' THEN true
               WHEN 'false' THEN false WHEN '0' THEN false WHEN 'no' THEN false
           END
       END;

COMMENT ON FUNCTION crm_private.rc_bool(jsonb) IS
    'Reconciliation: a payload value (JSON boolean or true/false/1/0/yes/no text) as boolean; NULL when absent or unreadable.';
