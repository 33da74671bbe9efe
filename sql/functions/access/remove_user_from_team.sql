-- crm.remove_user_from_team(p_member_id, p_team_id) — end a current membership.
-- Guarantees: sets effective_to = now() on the current member_of edge (history kept);
-- returns false when there was no current membership; visibility changes at the next
-- statement; logged as membership_removed. Admin only (42501).
CREATE OR REPLACE FUNCTION crm.remove_user_from_team(p_member_id uuid, p_team_id uuid)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM crm_private.require_admin('change team memberships');
    UPDATE crm.edges e SET effective_to = now()
     WHERE e.edge_type = 'member_of' AND e.source_id = p_member_id AND e.target_id = p_team_id
       AND e.archived_at IS NULL AND e.effective_to IS NULL;
    RETURN FOUND;
END;
$$;

COMMENT ON FUNCTION crm.remove_user_from_team(uuid, uuid) IS
$c$End a user's (or nested team's) current membership of a team; history is kept. Admin only. Returns false if not a member. Example: SELECT crm.remove_user_from_team('<user uuid>', crm.team_id('Sales'));$c$;
