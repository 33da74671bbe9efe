-- crm.log_crm_activity(...) — record an activity and who took part (seed 001 §5.3, corrected).
-- Guarantees: the event type is registered (CR010, by the events trigger); the participant
-- arrays are non-empty, of equal length and without NULLs or blank roles (22023); every
-- participant exists (P0002 naming the missing ids); participants are inserted set-based
-- and idempotently per (event, node, role) — duplicates in the arrays collapse. One
-- transaction: on any error nothing is recorded. Actor: the acting CRM user (crm.current_actor()), else the login role; p_actor may name another actor for admins only (for a writer, any other value is refused: 42501).
CREATE OR REPLACE FUNCTION crm.log_crm_activity(
    p_event_type        text,
    p_summary           text,
    p_properties        jsonb,
    p_actor             text,
    p_participant_ids   uuid[],
    p_participant_roles text[],
    p_occurred_at       timestamptz DEFAULT now()
)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- generic plans: a custom plan per call for the participant arrays cost more to plan than to run
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_event_id uuid;
    v_missing  text;
    v_about    uuid[];
BEGIN
    -- the caller's identity, once for this transaction (crm_private.caller_identity)
    PERFORM crm_private.caller_identity(current_user, true);
    IF p_event_type IS NULL THEN
        RAISE EXCEPTION 'p_event_type must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF p_properties IS NOT NULL AND jsonb_typeof(p_properties) <> 'object' THEN
        RAISE EXCEPTION 'p_properties must be a JSON object' USING ERRCODE = '22023';
    END IF;
    IF coalesce(cardinality(p_participant_ids), 0) = 0 THEN
        RAISE EXCEPTION 'an activity needs at least one participant' USING ERRCODE = '22023';
    END IF;
    IF cardinality(p_participant_ids) IS DISTINCT FROM cardinality(p_participant_roles)
       OR array_ndims(p_participant_ids) <> 1 OR array_ndims(p_participant_roles) <> 1 THEN
        RAISE EXCEPTION 'p_participant_ids and p_participant_roles must be one-dimensional arrays of equal length (% vs %)',
                        cardinality(p_participant_ids), coalesce(cardinality(p_participant_roles)::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF array_position(p_participant_ids, NULL) IS NOT NULL
       OR EXISTS (SELECT 1 FROM unnest(p_participant_roles) r WHERE r IS NULL OR btrim(r) = '') THEN
        RAISE EXCEPTION 'participant ids and roles must not be NULL or blank' USING ERRCODE = '22023';
    END IF;

    -- one read of the participant nodes (as the caller): which are missing (or hidden), and
    -- what the event will be about — crm_private.event_about_of's rule over these
    -- participants: the access-checked ones (acl not NULL) of the first role present among
    -- subject, account, any other. Declared at insert (tg_events__validate recomputes the acl
    -- from the nodes), so the event is written once with its final acl; the participants'
    -- statement trigger then finds nothing to change.
    WITH p AS (
        SELECT u.node_id, n.id AS found, n.acl,
               CASE btrim(u.role) WHEN 'subject' THEN 1 WHEN 'account' THEN 2 ELSE 3 END AS rk
          FROM unnest(p_participant_ids, p_participant_roles) AS u(node_id, role)
          LEFT JOIN crm.nodes n ON n.id = u.node_id
    )
    SELECT (SELECT string_agg(DISTINCT p.node_id::text, ', ') FROM p WHERE p.found IS NULL),
           coalesce((SELECT array_agg(DISTINCT p.node_id ORDER BY p.node_id) FROM p
                      WHERE p.acl IS NOT NULL
                        AND p.rk = (SELECT min(q.rk) FROM p q WHERE q.acl IS NOT NULL)), '{}')
      INTO v_missing, v_about;
    IF v_missing IS NOT NULL THEN
        RAISE EXCEPTION 'participant node(s) do not exist: %', v_missing
            USING ERRCODE = 'P0002', DETAIL = v_missing;
    END IF;

    -- ids are assigned by the database (callers cannot choose one: a primary-key conflict
    -- would tell them a hidden row exists)
    INSERT INTO crm.events (event_type, occurred_at, summary, properties, actor_system, about)
    VALUES (p_event_type, coalesce(p_occurred_at, now()), p_summary, coalesce(p_properties, '{}'),
            p_actor, v_about)     -- NULL: tg_events__validate records the acting user
    RETURNING id INTO v_event_id;

    -- The event is new, so duplicates can only come from the arrays: DISTINCT collapses them
    -- (no ON CONFLICT: under row-level security it would require the new participation to
    -- be readable before the event's ACL is computed).
    INSERT INTO crm.event_participants (event_id, node_id, role)
    SELECT DISTINCT v_event_id, u.node_id, btrim(u.role)
      FROM unnest(p_participant_ids, p_participant_roles) AS u(node_id, role);

    RETURN v_event_id;
END;
$$;

COMMENT ON FUNCTION crm.log_crm_activity(text, text, jsonb, text, uuid[], text[], timestamptz) IS
$c$Record an activity (email, phone_call, meeting, note, offer_sent, ...) with its participants and their roles; returns the event id. Guarantees: one transaction; participants set-based and unique per (event, node, role). Actor: the acting CRM user (crm.current_actor()), else the login role; p_actor may name another actor for admins only (for a writer, any other value is refused: 42501). Errors: 22023 empty/unequal/NULL participant arrays or bad properties, P0002 unknown participant ids (listed), CR010 unregistered event type. Example: SELECT crm.log_crm_activity('meeting', 'Kick-off', '{"location":"Zoom"}', NULL, ARRAY['<person uuid>','<opp uuid>']::uuid[], ARRAY['attendee','subject']);$c$;
