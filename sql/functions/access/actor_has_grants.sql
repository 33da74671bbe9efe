-- crm_private.actor_has_grants(p_resource_type) — whether any grant of that resource type applies.
CREATE OR REPLACE FUNCTION crm_private.actor_has_grants(p_resource_type text)
RETURNS boolean
LANGUAGE sql
STABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM jsonb_array_elements(crm_private.actor_grants()) g
                    WHERE g ->> 'resource_type' = p_resource_type)
$$;

COMMENT ON FUNCTION crm_private.actor_has_grants(text) IS
    'True when the current actor holds at least one live grant of the resource type (node, assertion, edge, event).';
