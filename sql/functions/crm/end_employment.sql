-- crm.end_employment(p_org_id, p_person_id, p_at) — a person leaves an organization.
-- Guarantees: the open employs edge org -> person gets effective_to = p_at (via
-- crm.end_edge); nothing is deleted; P0002 when there is no open employment.
CREATE OR REPLACE FUNCTION crm.end_employment(p_org_id uuid, p_person_id uuid, p_at timestamptz DEFAULT now())
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_edge uuid;
BEGIN
    SELECT e.id INTO v_edge
      FROM crm.edges e
     WHERE e.edge_type = 'employs' AND e.source_id = p_org_id AND e.target_id = p_person_id
       AND e.archived_at IS NULL AND e.effective_to IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no open employment of person % by org %', p_person_id, p_org_id
            USING ERRCODE = 'P0002', HINT = 'see crm.link_employment';
    END IF;
    RETURN crm.end_edge(v_edge, p_at);
END;
$$;

COMMENT ON FUNCTION crm.end_employment(uuid, uuid, timestamptz) IS
$c$End the open employment (employs edge org -> person) at p_at (default now); returns the edge id. Errors: P0002 no open employment, 22023 p_at NULL or before the start. Example: SELECT crm.end_employment('<org uuid>', '<person uuid>', '2024-06-30');$c$;
