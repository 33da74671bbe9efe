-- crm.advance_deal_stage(...) — move a deal to another stage of its pipeline (seed 001
-- §4.2/§5.2, corrected).
-- Guarantees: the opportunity row is locked (FOR NO KEY UPDATE) before anything is read,
-- so concurrent advances of one deal serialize and moved_from is always the true previous
-- stage; the new stage must be a stage key of the deal's pipeline; a deal in a terminal
-- stage (terminal: true, e.g. closed_won/closed_lost) only moves with p_reopen => true;
-- moving to the current stage is a no-op that returns the current assertion id (safe to
-- retry); otherwise a stage_change event (participant: the deal, role subject) and a new
-- deal_stage assertion {stage, pipeline, moved_from, reason} superseding the old one are
-- written in the caller's transaction. Actor: the acting CRM user (crm.current_actor()), else the login role; p_actor may name another actor for admins only (for a writer, any other value is refused: 42501).
CREATE OR REPLACE FUNCTION crm.advance_deal_stage(
    p_opp_id    uuid,
    p_new_stage text,
    p_reason    text DEFAULT NULL,
    p_actor     text DEFAULT NULL,
    p_reopen    boolean DEFAULT false
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_opp          crm.nodes%ROWTYPE;
    v_old_id       uuid;
    v_old_stage    text;
    v_pipeline     text;
    v_stages       jsonb;
    v_old_terminal boolean;
    v_event_id     uuid;
    v_now          timestamptz;
BEGIN
    -- the caller's identity, once for this transaction (crm_private.caller_identity)
    PERFORM crm_private.caller_identity(current_user, true);
    v_opp := crm_private.lock_opportunity(p_opp_id);   -- P0002 / CR020; serializes advances

    IF p_new_stage IS NULL OR btrim(p_new_stage) = '' THEN
        RAISE EXCEPTION 'p_new_stage must not be blank' USING ERRCODE = '22023';
    END IF;

    SELECT a.id, a.claim ->> 'stage', a.claim ->> 'pipeline'
      INTO v_old_id, v_old_stage, v_pipeline
      FROM crm.assertions a
     WHERE a.subject_node_id = p_opp_id AND a.assertion_type = 'deal_stage'
       AND a.assertion_key = '' AND a.superseded_at IS NULL;

    IF v_pipeline IS NULL THEN
        SELECT p.properties ->> 'code' INTO v_pipeline
          FROM crm.edges e JOIN crm.nodes p ON p.id = e.target_id
         WHERE e.source_id = p_opp_id AND e.edge_type = 'pipeline_member' AND e.archived_at IS NULL
         ORDER BY e.created_at DESC LIMIT 1;
    END IF;
    SELECT p.properties -> 'stages' INTO v_stages
      FROM crm.nodes p
     WHERE p.node_type = 'pipeline' AND p.properties ->> 'code' = v_pipeline
     ORDER BY p.archived_at NULLS FIRST, p.created_at LIMIT 1;
    IF v_stages IS NULL THEN
        RAISE EXCEPTION 'opportunity % has no pipeline', p_opp_id
            USING ERRCODE = 'P0002', DETAIL = format('pipeline code: %s', coalesce(v_pipeline, 'none')),
                  HINT = 'link it to a pipeline with a pipeline_member edge';
    END IF;

    IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v_stages) s WHERE s ->> 'key' = p_new_stage) THEN
        RAISE EXCEPTION 'stage "%" is not a stage of pipeline %', p_new_stage, v_pipeline
            USING ERRCODE = 'CR001',
                  HINT = 'stages of ' || v_pipeline || ': ' ||
                         (SELECT string_agg(s ->> 'key', ', ' ORDER BY (s ->> 'order')::numeric NULLS LAST)
                            FROM jsonb_array_elements(v_stages) s);
    END IF;

    IF p_new_stage = v_old_stage THEN
        RETURN v_old_id;                                  -- already there: no-op
    END IF;

    v_old_terminal := EXISTS (SELECT 1 FROM jsonb_array_elements(v_stages) s
                               WHERE s ->> 'key' = v_old_stage AND s -> 'terminal' = 'true'::jsonb);
    IF v_old_terminal AND NOT coalesce(p_reopen, false) THEN
        RAISE EXCEPTION 'opportunity % is in the terminal stage %', v_opp.properties ->> 'code', v_old_stage
            USING ERRCODE = 'CR002',
                  HINT = 'pass p_reopen => true to reopen it explicitly';
    END IF;

    v_now := clock_timestamp();
    INSERT INTO crm.events (event_type, occurred_at, summary, properties, actor_system)
    VALUES ('stage_change', v_now,
            format('Stage: %s -> %s', coalesce(v_old_stage, '(none)'), p_new_stage),
            jsonb_build_object('from_stage', v_old_stage, 'to_stage', p_new_stage, 'reason', p_reason,
                               'pipeline', v_pipeline, 'reopened', v_old_terminal),
            coalesce(p_actor, crm.current_actor()::text, session_user::text))
    RETURNING id INTO v_event_id;

    INSERT INTO crm.event_participants (event_id, node_id, role)
    VALUES (v_event_id, p_opp_id, 'subject');

    RETURN crm.supersede_assertion(
        p_old_assertion_id    := v_old_id,
        p_new_assertion_type  := 'deal_stage',
        p_new_subject_node_id := p_opp_id,
        p_new_subject_edge_id := NULL,
        p_new_claim           := jsonb_build_object('stage', p_new_stage, 'pipeline', v_pipeline,
                                                    'moved_from', v_old_stage, 'reason', p_reason),
        p_new_source_event_id := v_event_id,
        p_new_confidence      := 1.0);
END;
$$;

COMMENT ON FUNCTION crm.advance_deal_stage(uuid, text, text, text, boolean) IS
$c$Move an opportunity to another stage of its pipeline: logs a stage_change event (opportunity as subject) and supersedes the deal_stage assertion with {stage, pipeline, moved_from, reason}; returns the new assertion id. Guarantees: concurrent advances of one deal serialize on the deal's row, so moved_from is always the true previous stage; moving to the current stage is a no-op returning the current assertion id; leaving a terminal stage needs p_reopen => true. Actor: the acting CRM user (crm.current_actor()), else the login role; p_actor may name another actor for admins only (for a writer, any other value is refused: 42501). Errors: P0002 unknown opportunity or no pipeline, CR020 archived, 22023 blank stage, CR001 stage not in the pipeline (hint lists the stages), CR002 terminal stage without p_reopen. Example: SELECT crm.advance_deal_stage('<opp uuid>', 'negotiation', 'Proposal accepted, entering terms discussion');$c$;
