-- crm.unrestrict_access_from_team(p_node_id, p_team_id) — remove one restriction of a node.
-- Guarantees: when the last restriction goes, the node inherits from its owned_by parents
-- again (an access-checked node with neither is visible to admins and grants only — never
-- to everyone); ACLs of the node and its descendants recomputed in the same transaction;
-- false when it was not restricted to that team; logged as access_unrestricted. Admin only.
CREATE OR REPLACE FUNCTION crm.unrestrict_access_from_team(p_node_id uuid, p_team_id uuid)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_private.require_admin('remove restrictions');
    UPDATE crm.nodes n SET restricted_to = array_remove(n.restricted_to, p_team_id)
     WHERE n.id = p_node_id AND p_team_id = ANY (n.restricted_to);
    IF FOUND THEN
        RETURN true;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_node_id) THEN
        RAISE EXCEPTION 'node % does not exist', p_node_id USING ERRCODE = 'P0002';
    END IF;
    RETURN false;
END;
$$;

COMMENT ON FUNCTION crm.unrestrict_access_from_team(uuid, uuid) IS
$c$Remove a team restriction from a node; with no restriction left it inherits from its account again. Admin only. Errors: 42501 not admin, P0002 unknown node. Example: SELECT crm.unrestrict_access_from_team('<account uuid>', '<team uuid>');$c$;
