-- crm_private.scope_list(p_value) — a grant scope value as a JSON array (a string becomes a
-- one-element array; NULL stays NULL meaning "any").
CREATE OR REPLACE FUNCTION crm_private.scope_list(p_value jsonb)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE jsonb_typeof(p_value)
             WHEN 'array' THEN p_value
             WHEN 'string' THEN jsonb_build_array(p_value)
             ELSE NULL
           END
$$;

COMMENT ON FUNCTION crm_private.scope_list(jsonb) IS
    'Normalises a grant scope value to a JSON array (string → [string]); NULL means any.';
