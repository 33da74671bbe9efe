-- crm_private.writer_actor_system(p_named, p_recorded_by, p_role) — the actor a writer's event
-- records (events.actor_system) when the writer named one: a writer's event is caused by the
-- writer, so the answer is their CRM user id (unmapped: their login); naming a source system or
-- someone else would forge the source and author the timeline and the stage history show
-- (review of issue 11, N3).
-- Guarantees: 42501 when p_named is neither NULL nor the writer (their user id, session_user
-- or p_role, the role they write as); otherwise coalesce(p_recorded_by, session_user). Admins
-- (trusted) may name another actor: callers do not ask for them. The one rule of
-- crm_private.tg_events__validate (a writer's own insert) and of crm360's SECURITY DEFINER
-- write API (crm_private.advance_deal_stage_as, which writes as crm_owner).
CREATE OR REPLACE FUNCTION crm_private.writer_actor_system(p_named text, p_recorded_by uuid, p_role name)
RETURNS text
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_named IS NOT NULL
       AND p_named NOT IN (coalesce(p_recorded_by::text, ''), session_user::text, p_role::text) THEN
        RAISE EXCEPTION 'actor_system is recorded by crm360: "%" is not you', p_named
            USING ERRCODE = '42501',
                  HINT = 'omit the actor (p_actor => NULL): crm360 records the acting CRM user';
    END IF;
    RETURN coalesce(p_recorded_by::text, session_user::text);
END;
$$;

COMMENT ON FUNCTION crm_private.writer_actor_system(text, uuid, name) IS
    'The actor_system a non-admin writer''s event records: their CRM user id (else their login); 42501 when they named someone else.';
