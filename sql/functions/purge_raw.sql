-- crm_private.purge_raw(p_node_ids) — delete the raw source payloads describing these nodes.
-- crm_raw holds no tables yet (ingestion lands with the connectors); this function is the
-- single place crm.purge_node relies on, and grows with crm_raw. Runs inside
-- purge_node_data (owner, purge flag on).
CREATE OR REPLACE FUNCTION crm_private.purge_raw(p_node_ids uuid[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    RETURN 0;
END;
$$;

COMMENT ON FUNCTION crm_private.purge_raw(uuid[]) IS
    'Deletes raw source payloads describing the given nodes (used by legal erasure). No raw tables exist yet: returns 0.';
