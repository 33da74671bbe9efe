-- crm.link_employment(...) — an organization employs a person (employs edge org -> person,
-- temporal, seed 001 §2.2).
-- Guarantees: both nodes exist (P0002), are an org and a person (CR012) and live (CR020);
-- idempotent: when an open employs edge with the same title and department exists its id
-- is returned and nothing changes; an open edge with a different title/department is a
-- conflict (23505: end it first with crm.end_employment); concurrent identical calls
-- return the same edge (the person row is locked for the duration).
CREATE OR REPLACE FUNCTION crm.link_employment(
    p_org_id     uuid,
    p_person_id  uuid,
    p_title      text DEFAULT NULL,
    p_department text DEFAULT NULL,
    p_start      timestamptz DEFAULT now()
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_org    record;
    v_person record;
    v_edge   record;
    v_props  jsonb;
    v_id     uuid;
BEGIN
    SELECT n.node_type, n.archived_at INTO v_org FROM crm.nodes n WHERE n.id = p_org_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'org % does not exist', p_org_id USING ERRCODE = 'P0002';
    END IF;
    SELECT n.node_type, n.archived_at INTO v_person FROM crm.nodes n WHERE n.id = p_person_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'person % does not exist', p_person_id USING ERRCODE = 'P0002';
    END IF;
    IF v_org.node_type <> 'org' OR v_person.node_type <> 'person' THEN
        RAISE EXCEPTION 'employs links an org to a person, not a % to a %', v_org.node_type, v_person.node_type
            USING ERRCODE = 'CR012';
    END IF;
    IF v_org.archived_at IS NOT NULL OR v_person.archived_at IS NOT NULL THEN
        RAISE EXCEPTION 'cannot link an archived node' USING ERRCODE = 'CR020';
    END IF;
    IF p_start IS NULL THEN
        RAISE EXCEPTION 'p_start must not be NULL' USING ERRCODE = '22023';
    END IF;

    v_props := jsonb_strip_nulls(jsonb_build_object(
                   'title', nullif(btrim(p_title), ''), 'department', nullif(btrim(p_department), ''),
                   'start_date', to_char(p_start AT TIME ZONE 'UTC', 'YYYY-MM-DD')));

    SELECT e.id, e.properties INTO v_edge
      FROM crm.edges e
     WHERE e.edge_type = 'employs' AND e.source_id = p_org_id AND e.target_id = p_person_id
       AND e.archived_at IS NULL AND e.effective_to IS NULL;
    IF FOUND THEN
        IF v_edge.properties ->> 'title' IS NOT DISTINCT FROM v_props ->> 'title'
           AND v_edge.properties ->> 'department' IS NOT DISTINCT FROM v_props ->> 'department' THEN
            RETURN v_edge.id;
        END IF;
        RAISE EXCEPTION 'the person is already employed by this org with a different title/department'
            USING ERRCODE = '23505',
                  DETAIL = format('open employs edge %s: %s', v_edge.id, v_edge.properties::text),
                  HINT = 'end it first: SELECT crm.end_employment(org_id, person_id), then link again';
    END IF;

    INSERT INTO crm.edges (edge_type, source_id, target_id, properties, effective_from)
    VALUES ('employs', p_org_id, p_person_id, v_props, p_start)
    RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm.link_employment(uuid, uuid, text, text, timestamptz) IS
$c$Record that an org employs a person (employs edge with title, department, start_date; effective_from = p_start). Idempotent: an open identical employment is returned unchanged. Returns the edge id. Errors: P0002 unknown org/person, CR012 wrong node types, CR020 archived node, 22023 NULL p_start, 23505 open employment with a different title/department (end it first with crm.end_employment). Example: SELECT crm.link_employment('<org uuid>', '<person uuid>', 'CTO', 'Engineering');$c$;
