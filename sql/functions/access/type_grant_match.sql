-- crm_private.type_grant_match(p_grants, p_resource_type, p_level, p_type) — does a grant of
-- the resource type (assertion, edge, event) cover this assertion/edge/event type at p_level?
CREATE OR REPLACE FUNCTION crm_private.type_grant_match(p_grants jsonb, p_resource_type text,
                                                       p_level text, p_type text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (
        SELECT 1 FROM jsonb_array_elements(p_grants) g
         WHERE g ->> 'resource_type' = p_resource_type
           AND (p_level = 'read' OR g ->> 'access_level' = 'write')
           AND (jsonb_typeof(g -> (p_resource_type || '_types')) IS DISTINCT FROM 'array'
                OR (g -> (p_resource_type || '_types')) ? p_type))
$$;

COMMENT ON FUNCTION crm_private.type_grant_match(jsonb, text, text, text) IS
    'True when one of the grants of that resource type covers the assertion/edge/event type at the level.';
