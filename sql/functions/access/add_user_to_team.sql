-- crm.add_user_to_team(p_member_id, p_team_id) — a user (or a team: nesting) joins a team.
-- Guarantees: a member_of edge effective from now (history kept: leaving ends it, never
-- deletes); idempotent while the membership is current (returns the existing edge); team
-- nesting cycles are refused (22023); logged as membership_added with who did it.
-- Admin only (42501).
CREATE OR REPLACE FUNCTION crm.add_user_to_team(p_member_id uuid, p_team_id uuid)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_edge uuid;
BEGIN
    PERFORM crm_private.require_admin('change team memberships');
    IF NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_team_id AND n.node_type = 'team' AND n.archived_at IS NULL) THEN
        RAISE EXCEPTION 'team % does not exist or is archived', p_team_id USING ERRCODE = 'P0002';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = p_member_id AND n.node_type IN ('user', 'team') AND n.archived_at IS NULL) THEN
        RAISE EXCEPTION 'member % is not a live user or team', p_member_id USING ERRCODE = 'P0002';
    END IF;
    IF p_member_id = ANY (crm_private.principals_of(p_team_id)) THEN
        RAISE EXCEPTION 'team nesting cycle: % is already (transitively) inside %', p_team_id, p_member_id
            USING ERRCODE = '22023';
    END IF;
    SELECT e.id INTO v_edge FROM crm.edges e
     WHERE e.edge_type = 'member_of' AND e.source_id = p_member_id AND e.target_id = p_team_id
       AND e.archived_at IS NULL AND e.effective_to IS NULL;
    IF v_edge IS NOT NULL THEN
        RETURN v_edge;
    END IF;
    INSERT INTO crm.edges (edge_type, source_id, target_id, properties, effective_from)
    VALUES ('member_of', p_member_id, p_team_id,
            jsonb_build_object('added_by', coalesce(crm.current_actor()::text, session_user::text)), now())
    RETURNING id INTO v_edge;
    RETURN v_edge;
END;
$$;

COMMENT ON FUNCTION crm.add_user_to_team(uuid, uuid) IS
$c$Make a user (or a team, for nesting) a member of a team from now on. Idempotent while current; history kept. Admin only. Errors: 42501 not admin, P0002 unknown team/member, 22023 nesting cycle. Example: SELECT crm.add_user_to_team('<user uuid>', crm.team_id('Sales'));$c$;
