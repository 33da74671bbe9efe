-- crm.restrict_access_to_team(p_node_id, p_team_id) — only this team (plus others the node is
-- already restricted to, and admins/grants) may see the node (seed 000 RestrictAccessToTeam).
-- Guarantees: the node's own restrictions replace inheritance from its account; the
-- effective ACL of the node and of every owned_by descendant is recomputed in the same
-- transaction; idempotent (false when already restricted to it); logged as
-- access_restricted. Admin only (42501): restrictions decide who sees what.
CREATE OR REPLACE FUNCTION crm.restrict_access_to_team(p_node_id uuid, p_team_id uuid)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_private.require_admin('restrict access');
    IF NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_team_id AND n.node_type = 'team' AND n.archived_at IS NULL) THEN
        RAISE EXCEPTION 'team % does not exist or is archived', p_team_id USING ERRCODE = 'P0002';
    END IF;
    UPDATE crm.nodes n SET restricted_to = n.restricted_to || p_team_id
     WHERE n.id = p_node_id AND NOT (p_team_id = ANY (n.restricted_to));
    IF FOUND THEN
        RETURN true;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_node_id) THEN
        RAISE EXCEPTION 'node % does not exist', p_node_id USING ERRCODE = 'P0002';
    END IF;
    RETURN false;
END;
$$;

COMMENT ON FUNCTION crm.restrict_access_to_team(uuid, uuid) IS
$c$Restrict a node (typically an Account) to a team: the node and its owned_by descendants (which inherit) become visible to that team's members, admins and matching grants only. Admin only. Errors: 42501 not admin, P0002 unknown node/team. Example: SELECT crm.restrict_access_to_team('<account uuid>', '<team uuid>');$c$;
