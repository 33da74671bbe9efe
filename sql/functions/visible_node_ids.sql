-- crm_private.visible_node_ids(p_node_type) — ids of the nodes of a type the caller can see.
-- Runs as the caller, so the nodes policy is applied on top of every branch below (the
-- branches only make it fast: the acl overlap branch uses the GIN index on nodes.acl).
-- Wrapper views over private materialized views filter with
-- `node_id IN (SELECT crm_private.visible_node_ids(...))`, a hashed subplan run once per
-- query, and so stay exactly as strict as the live tables.
CREATE OR REPLACE FUNCTION crm_private.visible_node_ids(p_node_type text)
RETURNS SETOF uuid
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
DECLARE
    v_principals uuid[] := crm_private.actor_principals();
BEGIN
    IF crm_private.actor_is_admin() OR crm_private.actor_has_grants('node') THEN
        RETURN QUERY SELECT n.id FROM crm.nodes n WHERE n.node_type = p_node_type;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT n.id FROM crm.nodes n WHERE n.node_type = p_node_type AND n.acl && v_principals
        UNION ALL
        SELECT n.id FROM crm.nodes n WHERE n.node_type = p_node_type AND n.acl IS NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.visible_node_ids(text) IS
    'The ids of nodes of the given type visible to the caller (row-level security applied; indexed fast path for members).';
