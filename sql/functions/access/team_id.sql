-- crm.team_id(p_name) — the id of the live team with that name (case-insensitive), or P0002.
-- Teams are visible to every crm role; SECURITY DEFINER only so the lookup uses the key index
-- (crm360's own key expression, see migration 0018).
CREATE OR REPLACE FUNCTION crm.team_id(p_name text)
RETURNS uuid
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_id uuid;
BEGIN
    SELECT n.id INTO v_id FROM crm.nodes n
     WHERE ARRAY[n.external_source, n.external_id] = ARRAY['crm360_team', lower(btrim(p_name))]
       AND n.external_id IS NOT NULL AND n.external_source <> 'internal' AND n.archived_at IS NULL AND n.node_type = 'team';
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'team "%" does not exist', p_name USING ERRCODE = 'P0002';
    END IF;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm.team_id(text) IS
$c$The id of the live team with this name (case-insensitive). Errors: P0002 no such team. Example: SELECT crm.team_id('Sales');$c$;
