-- crm_private.advance_deal_stage_as(p_role, ...) — crm.advance_deal_stage's work for the caller's
-- role p_role (crm.advance_deal_stage passes current_user). SECURITY DEFINER: the caller's
-- permission is checked once, here, and the event, its participant and the assertions are then
-- written as crm_owner, without row-level security re-deriving the caller's identity and write
-- permission in every nested statement (issue 16: 2.2 ms → about 1 ms a call).
-- Guarantees:
-- * p_role must be a role the session may become (crm_private.role_trusted) that may make the
--   call (EXECUTE on the public function, crm_writer's privileges) — 42501 otherwise, as
--   SET ROLE p_role and the call would answer; its identity is resolved only then (through
--   crm_private.role_is_admin, crm_private.caller_identity and crm_private.role_can_write_node):
--   for any other role nothing is visible and nothing is written;
-- * it writes only what the same call as p_role under row-level security would write, and
--   refuses what that call refused, with the same errors:
--   - the deal must be one p_role may write (crm_private.role_can_write_node: visible, and
--     unclaimed, its own claim, or a node write grant; admins every deal); a deal it cannot
--     see or cannot write is P0002 "does not exist", as the row-level-security-filtered lock
--     was — nothing is locked for it (checked before the lock, so a hidden deal never makes
--     the call wait, and again once locked, so a deal claimed meanwhile is refused);
--   - the pipeline is read only when p_role can see it (else "has no pipeline", P0002);
--   - the stage_change event type must be writable by p_role (write_scope member, or admin for
--     admins) and a sensitive deal_stage (the current row's flag or the type's) readable (a
--     grant), as the events and assertions policies require (42501) — checked before the
--     current stage is read, so no answer (no-op, CR001, CR002) tells a stage p_role may not read;
--   - the event is recorded by p_role's actor, and names another actor only for admins
--     (crm_private.writer_actor_system: 42501 otherwise), as crm_private.tg_events__validate
--     does for a writer's own insert;
-- * the rest is crm.advance_deal_stage's: the deal row is locked (FOR NO KEY UPDATE) before
--   anything is read, so concurrent advances serialise and moved_from is the true previous
--   stage; the stage must belong to the pipeline (CR001); a terminal stage is left only with
--   p_reopen (CR002); moving to the current stage returns the current assertion (no-op);
--   triggers validate the rows as for any crm_owner statement (event shape, claim shape,
--   participant acl) — crm.bulk_apply and the other flags are pinned off; the event is written
--   once with its final about/acl (= crm_private.event_about_of over its one participant), so
--   the participant's statement trigger is not needed (crm.acl_maintenance on for that insert).
CREATE OR REPLACE FUNCTION crm_private.advance_deal_stage_as(
    p_role      name,
    p_opp_id    uuid,
    p_new_stage text,
    p_reason    text,
    p_actor     text,
    p_reopen    boolean
)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
-- every statement below is a key lookup whatever the arguments: one generic plan each
SET plan_cache_mode = 'force_generic_plan'
AS $$
DECLARE
    v_admin        boolean;
    v_id           crm_private.identity;
    v_opp          crm.nodes%ROWTYPE;
    v_old_id       uuid;
    v_old_stage    text;
    v_pipeline     text;
    v_stages       jsonb;
    v_old_terminal boolean;
    v_old_sensitive boolean;
    v_event_id     uuid;
    v_actor_system text;
    v_now          timestamptz;
BEGIN
    -- p_role must be a role the session may become that may make this call at all (a reader the
    -- session may SET ROLE to may not: review of issue 16)
    PERFORM crm_private.require_writer_call(p_role, 'crm.advance_deal_stage(uuid,text,text,text,boolean)');
    v_admin := crm_private.role_is_admin(p_role);
    v_id := crm_private.caller_identity(p_role, true);    -- nothing for an untrusted role
    -- the deal, only when p_role may write it; anything else "does not exist" (as the lock of a
    -- row that row-level security filters out), and is not locked
    IF p_opp_id IS NULL OR NOT crm_private.role_can_write_node(p_role, p_opp_id) THEN
        RAISE EXCEPTION 'opportunity % does not exist', p_opp_id
            USING ERRCODE = 'P0002', DETAIL = 'no such node';
    END IF;
    v_opp := crm_private.lock_opportunity(p_opp_id);   -- P0002 not an opportunity / CR020 archived
    -- and still, now that it is locked (it may have been claimed or restricted while this call
    -- waited for the lock; the lock keeps it so until commit)
    IF NOT crm_private.role_can_write_node(p_role, p_opp_id) THEN
        RAISE EXCEPTION 'opportunity % does not exist', p_opp_id
            USING ERRCODE = 'P0002', DETAIL = 'no such node';
    END IF;

    IF p_new_stage IS NULL OR btrim(p_new_stage) = '' THEN
        RAISE EXCEPTION 'p_new_stage must not be blank' USING ERRCODE = '22023';
    END IF;

    -- what the events and assertions policies would require of p_role — before anything about
    -- the deal's stage is read or told (a no-op, CR001 or CR002 would tell the current stage)
    IF NOT EXISTS (SELECT 1 FROM crm.event_types t
                    WHERE t.event_type = 'stage_change'
                      AND (t.write_scope = 'member' OR (t.write_scope = 'admin' AND v_admin))) THEN
        RAISE EXCEPTION 'stage_change events are not writable by %', p_role USING ERRCODE = '42501';
    END IF;
    SELECT a.id, a.claim ->> 'stage', a.claim ->> 'pipeline', a.sensitive
      INTO v_old_id, v_old_stage, v_pipeline, v_old_sensitive
      FROM crm.assertions a
     WHERE a.subject_node_id = p_opp_id AND a.assertion_type = 'deal_stage'
       AND a.assertion_key = '' AND a.superseded_at IS NULL;
    -- a sensitive deal_stage (the current row's flag, set when it was written, or the type's
    -- now) is read and superseded only with a read grant for it
    IF NOT v_admin
       AND (coalesce(v_old_sensitive, false)
            OR EXISTS (SELECT 1 FROM crm.assertion_types t WHERE t.assertion_type = 'deal_stage' AND t.sensitive))
       AND NOT crm_private.type_grant_match(v_id.grants, 'assertion', 'read', 'deal_stage') THEN
        RAISE EXCEPTION 'deal_stage is sensitive: moving a deal needs a read grant for it' USING ERRCODE = '42501';
    END IF;

    -- the pipeline, as p_role sees pipelines (not access-checked as registered: acl NULL)
    IF v_pipeline IS NULL THEN
        SELECT p.properties ->> 'code' INTO v_pipeline
          FROM crm.edges e JOIN crm.nodes p ON p.id = e.target_id
         WHERE e.source_id = p_opp_id AND e.edge_type = 'pipeline_member' AND e.archived_at IS NULL
           AND crm_private.node_read_rule(p.acl, p.node_type, p.attrs, v_admin, v_id.principals, v_id.grants)
         ORDER BY e.created_at DESC LIMIT 1;
    END IF;
    SELECT p.properties -> 'stages' INTO v_stages
      FROM crm.nodes p
     WHERE p.node_type = 'pipeline' AND p.properties ->> 'code' = v_pipeline
       AND crm_private.node_read_rule(p.acl, p.node_type, p.attrs, v_admin, v_id.principals, v_id.grants)
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

    -- the actor: p_role's own; another one only for admins
    v_actor_system := coalesce(p_actor, v_id.actor::text, session_user::text);
    IF NOT v_admin AND v_actor_system IS DISTINCT FROM coalesce(v_id.actor::text, session_user::text) THEN
        v_actor_system := crm_private.writer_actor_system(v_actor_system, v_id.actor, p_role);
    END IF;

    v_now := clock_timestamp();
    -- the event is declared about the deal, so it is written with its final acl (the events
    -- trigger computes it from the deal: crm_private.event_about_of's rule for one subject), and
    -- its one participant carries that acl as event_acl, written in the same statement inside
    -- crm360's own ACL maintenance, so the participants' statement trigger
    -- (crm_private.refresh_event_acl) is not run: over this participant it would compute exactly
    -- this, and there is nothing else for it to do (an opportunity marks no account changed; a
    -- new event has no artifacts or search chunks). One statement, so the event never exists
    -- without its participant — not even for a caller's SET CONSTRAINTS ALL IMMEDIATE, which
    -- runs crm_private.tg_events__about_check at the end of the statement instead of at commit
    PERFORM pg_catalog.set_config('crm.acl_maintenance', 'on', true);
    WITH ev AS (
        INSERT INTO crm.events (event_type, occurred_at, summary, properties, actor_system, recorded_by, about)
        VALUES ('stage_change', v_now,
                format('Stage: %s -> %s', coalesce(v_old_stage, '(none)'), p_new_stage),
                jsonb_build_object('from_stage', v_old_stage, 'to_stage', p_new_stage, 'reason', p_reason,
                                   'pipeline', v_pipeline, 'reopened', v_old_terminal),
                v_actor_system, v_id.actor, ARRAY[p_opp_id])
        RETURNING id, acl
    ), part AS (
        INSERT INTO crm.event_participants (event_id, node_id, role, event_acl)
        SELECT ev.id, p_opp_id, 'subject', ev.acl FROM ev
    )
    SELECT ev.id INTO v_event_id FROM ev;
    PERFORM pg_catalog.set_config('crm.acl_maintenance', 'off', true);

    RETURN crm_private.supersede_assertion_as(
        p_role                := p_role,
        p_old_assertion_id    := v_old_id,
        p_new_assertion_type  := 'deal_stage',
        p_new_subject_node_id := p_opp_id,
        p_new_subject_edge_id := NULL,
        p_new_claim           := jsonb_build_object('stage', p_new_stage, 'pipeline', v_pipeline,
                                                    'moved_from', v_old_stage, 'reason', p_reason),
        p_new_source_event_id := v_event_id,
        p_new_confidence      := 1.0,
        p_role_checked        := true);      -- p_role may write the deal: checked above, before and after its lock
END;
$$;

COMMENT ON FUNCTION crm_private.advance_deal_stage_as(name, uuid, text, text, text, boolean) IS
    'crm.advance_deal_stage for the caller''s role p_role (a role the session may become): checks p_role''s permission once, then writes as crm_owner exactly what the call would write under row-level security.';
