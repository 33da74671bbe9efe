-- crm_private.node_visible(p_node_id) — can the caller see this node right now?
-- Evaluated as the caller (the nodes policy decides); NULL id → false. Used by wrapper views
-- over materialized read models to mask references to nodes the caller cannot see.
CREATE OR REPLACE FUNCTION crm_private.node_visible(p_node_id uuid)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p_node_id IS NOT NULL AND EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_node_id)
$$;

COMMENT ON FUNCTION crm_private.node_visible(uuid) IS
    'True when the node exists and the caller may see it (row-level security applied).';
