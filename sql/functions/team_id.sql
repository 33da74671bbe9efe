-- crm.team_id(p_name) — the id of the live team with that name (case-insensitive), or P0002.
CREATE OR REPLACE FUNCTION crm.team_id(p_name text)
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id uuid;
BEGIN
    SELECT n.id INTO v_id FROM crm.nodes n
     WHERE n.external_source = 'crm360_team' AND n.external_id = lower(btrim(p_name)) AND n.archived_at IS NULL;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'team "%" does not exist', p_name USING ERRCODE = 'P0002';
    END IF;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm.team_id(text) IS
$c$The id of the live team with this name (case-insensitive). Errors: P0002 no such team. Example: SELECT crm.team_id('Sales');$c$;
