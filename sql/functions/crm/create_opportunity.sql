-- crm.create_opportunity(...) — a new deal in a pipeline (seed 001 §5.1, corrected).
-- Guarantees, all in the caller's transaction: the pipeline exists (P0002, instead of the
-- seed's silent NULL); the opportunity gets a fresh OPP code in properties.code and as
-- external_id with external_source 'internal'; its initial deal_stage assertion (the
-- pipeline's default stage) is written through crm.supersede_assertion; a pipeline_member
-- edge links it to the pipeline; when p_assigned_to_id is given it must be a live person or
-- user and gets an open assigned_to edge with role owner. p_teams go to attrs.teams.
CREATE OR REPLACE FUNCTION crm.create_opportunity(
    p_name           text,
    p_pipeline_code  text,
    p_assigned_to_id uuid,
    p_properties     jsonb DEFAULT '{}',
    p_teams          text[] DEFAULT '{}'
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_opp_id        uuid;
    v_code          text;
    v_pipeline_id   uuid;
    v_default_stage text;
    v_assignee      record;
    v_now           timestamptz := clock_timestamp();
BEGIN
    -- the caller's identity, once for this transaction (crm_private.caller_identity)
    PERFORM crm_private.caller_identity(current_user, true);
    IF p_name IS NULL OR btrim(p_name) = '' THEN
        RAISE EXCEPTION 'p_name must not be blank' USING ERRCODE = '22023';
    END IF;
    IF p_properties IS NOT NULL AND jsonb_typeof(p_properties) <> 'object' THEN
        RAISE EXCEPTION 'p_properties must be a JSON object' USING ERRCODE = '22023';
    END IF;
    IF p_teams IS NOT NULL AND array_position(p_teams, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'p_teams must not contain NULL' USING ERRCODE = '22023';
    END IF;

    SELECT p.id,
           coalesce(p.properties ->> 'default_stage',
                    (SELECT s ->> 'key' FROM jsonb_array_elements(p.properties -> 'stages') s
                      WHERE coalesce(s -> 'terminal', 'false') <> 'true'
                      ORDER BY (s ->> 'order')::numeric NULLS LAST LIMIT 1))
      INTO v_pipeline_id, v_default_stage
      FROM crm.nodes p
     WHERE p.node_type = 'pipeline' AND p.properties ->> 'code' = p_pipeline_code
       AND p.archived_at IS NULL
     ORDER BY p.created_at
     LIMIT 1;
    IF v_pipeline_id IS NULL THEN
        RAISE EXCEPTION 'pipeline % does not exist', coalesce(p_pipeline_code, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'live pipelines: ' || coalesce(
                         (SELECT string_agg(p.properties ->> 'code', ', ' ORDER BY p.properties ->> 'code')
                            FROM crm.nodes p WHERE p.node_type = 'pipeline' AND p.archived_at IS NULL), 'none');
    END IF;
    IF v_default_stage IS NULL THEN
        RAISE EXCEPTION 'pipeline % has no default stage', p_pipeline_code USING ERRCODE = 'CR001';
    END IF;

    IF p_assigned_to_id IS NOT NULL THEN
        SELECT n.node_type, n.archived_at INTO v_assignee FROM crm.nodes n WHERE n.id = p_assigned_to_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'assignee % does not exist', p_assigned_to_id USING ERRCODE = 'P0002';
        END IF;
        IF v_assignee.node_type NOT IN ('person', 'user') THEN
            RAISE EXCEPTION 'an opportunity can be assigned to a person or user, not a %', v_assignee.node_type
                USING ERRCODE = 'CR012';
        END IF;
        IF v_assignee.archived_at IS NOT NULL THEN
            RAISE EXCEPTION 'assignee % is archived', p_assigned_to_id USING ERRCODE = 'CR020';
        END IF;
    END IF;

    v_code := crm.generate_crm_code('OPP');

    INSERT INTO crm.nodes (node_type, label, properties, attrs, external_id, external_source)
    VALUES ('opportunity', btrim(p_name),
            coalesce(p_properties, '{}') || jsonb_build_object('name', btrim(p_name), 'code', v_code),
            jsonb_build_object('teams', to_jsonb(coalesce(p_teams, '{}'))),
            v_code, 'internal')
    RETURNING id INTO v_opp_id;

    PERFORM crm.supersede_assertion(
        p_old_assertion_id    := NULL,
        p_new_assertion_type  := 'deal_stage',
        p_new_subject_node_id := v_opp_id,
        p_new_subject_edge_id := NULL,
        p_new_claim           := jsonb_build_object('stage', v_default_stage, 'pipeline', p_pipeline_code),
        p_new_source_event_id := NULL,
        p_new_confidence      := 1.0);

    INSERT INTO crm.edges (edge_type, source_id, target_id, properties)
    VALUES ('pipeline_member', v_opp_id, v_pipeline_id, jsonb_build_object('entered_at', v_now));

    IF p_assigned_to_id IS NOT NULL THEN
        INSERT INTO crm.edges (edge_type, source_id, target_id, properties, effective_from)
        VALUES ('assigned_to', v_opp_id, p_assigned_to_id, '{"role": "owner"}', v_now);
    END IF;

    RETURN v_opp_id;
END;
$$;

COMMENT ON FUNCTION crm.create_opportunity(text, text, uuid, jsonb, text[]) IS
$c$Create an opportunity in a pipeline: OPP code (properties.code and external_id/internal), initial deal_stage = the pipeline's default stage, pipeline_member edge, and an assigned_to edge (role owner) when p_assigned_to_id is given; p_teams are stored in attrs.teams. One transaction. Errors: 22023 blank name / bad properties, P0002 unknown pipeline (hint lists pipelines) or assignee, CR012 assignee not a person/user, CR020 archived assignee. Example: SELECT crm.create_opportunity('Acme renewal', 'PL-SALES', '<person uuid>', '{"estimated_value": 50000}', '{sales}');$c$;
