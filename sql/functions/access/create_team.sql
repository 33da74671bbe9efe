-- crm.create_team(p_name, p_parent_team_id) — a team (seed 000: Team keyed by Name, SSO-mapped).
-- Guarantees: team names are unique among live teams, case-insensitively (23505); when a
-- parent is given the new team is nested in it (member_of, logged). Admin only (42501).
CREATE OR REPLACE FUNCTION crm.create_team(p_name text, p_parent_team_id uuid DEFAULT NULL,
                                           p_description text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM crm_private.require_admin('create teams');
    IF p_name IS NULL OR btrim(p_name) = '' THEN
        RAISE EXCEPTION 'p_name is required' USING ERRCODE = '22023';
    END IF;
    INSERT INTO crm.nodes (node_type, label, properties, external_id, external_source)
    VALUES ('team', btrim(p_name),
            jsonb_strip_nulls(jsonb_build_object('name', btrim(p_name), 'description', p_description)),
            lower(btrim(p_name)), 'crm360_team')
    RETURNING id INTO v_id;
    IF p_parent_team_id IS NOT NULL THEN
        PERFORM crm.add_user_to_team(v_id, p_parent_team_id);
    END IF;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm.create_team(text, uuid, text) IS
$c$Create a team, optionally nested in a parent team (members of the child are members of the parent). Admin only. Errors: 42501 not admin, 22023 blank name, 23505 a live team with that name exists. Example: SELECT crm.create_team('EMEA Sales', crm.team_id('Sales'));$c$;
