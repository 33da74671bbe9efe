-- crm.merge_nodes(p_keep, p_drop, p_reason) — merge a duplicate node into the kept one.
-- Guarantees (crm_private.merge_nodes_as does the work, as crm_owner, in one transaction):
-- both nodes exist and have the same type (22023 otherwise, P0002 unknown); only customer
-- data (node types with write scope member) is merged — never users, teams or pipelines; the
-- dropped node's live edges are re-created on the kept node; its event participations,
-- current assertions (one history chain), artifacts and source links move to the keeper; it
-- is archived with a merged_into edge (crm.resolve_node_id(old id) = keeper) and a
-- nodes_merged event is logged. Idempotent: merging again returns false. Admins, and
-- connectors for nodes of the sources they are allowed (42501 otherwise).
CREATE OR REPLACE FUNCTION crm.merge_nodes(p_keep uuid, p_drop uuid, p_reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT crm_private.merge_nodes_as(p_keep, p_drop, p_reason, current_user)
$$;

COMMENT ON FUNCTION crm.merge_nodes(uuid, uuid, text) IS
$c$Merge a duplicate node (p_drop) into p_keep: edges, event participations, current assertions (history chained), artifacts and source links move to the keeper; the dropped node is archived with a merged_into edge (crm.resolve_node_id follows it) and a nodes_merged event is logged. Idempotent (false when already merged). Customer data only. Admins, and connectors for nodes of their allowed sources. Errors: 42501 not allowed, 22023 same id / different types / users, teams or pipelines, P0002 unknown node, CR020 keeper archived. Example: SELECT crm.merge_nodes('<kept account>', '<duplicate account>', 'same company');$c$;
