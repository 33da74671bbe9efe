-- crm.resolve_node_id(p_id) — the live id for a node id that may have been merged away.
-- Guarantees: follows merged_into edges (up to 32 hops) and returns the last node reached;
-- an id never merged is returned unchanged; NULL for NULL. Evaluated as the caller (nodes
-- the caller cannot see stop the walk).
CREATE OR REPLACE FUNCTION crm.resolve_node_id(p_id uuid)
RETURNS uuid
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE walk (id, depth) AS (
        SELECT p_id, 0
        UNION ALL
        SELECT e.target_id, w.depth + 1
          FROM walk w
          JOIN crm.edges e ON e.source_id = w.id AND e.edge_type = 'merged_into' AND e.archived_at IS NULL
         WHERE w.depth < 32
    )
    SELECT w.id FROM walk w ORDER BY w.depth DESC LIMIT 1
$$;

COMMENT ON FUNCTION crm.resolve_node_id(uuid) IS
$c$The current id of a node: follows merged_into edges from a node merged away (crm.merge_nodes) to the node it was merged into; unchanged for other ids. Example: SELECT crm.resolve_node_id('<old account uuid>');$c$;
