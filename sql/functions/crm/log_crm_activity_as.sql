-- crm_private.log_crm_activity_as(p_role, ...) — crm.log_crm_activity's work for the caller's role
-- p_role (crm.log_crm_activity passes current_user). SECURITY DEFINER: the caller's permission
-- is checked once, here, and the event and its participants are then written as crm_owner,
-- without row-level security re-deriving the caller's identity in every nested statement
-- (issue 16).
-- Guarantees:
-- * p_role must be a role the session may become (crm_private.role_trusted) that may make the
--   call (EXECUTE on crm.log_crm_activity, crm_writer's privileges) — 42501 otherwise, as
--   SET ROLE p_role and the call would answer;
-- * it writes only what the same call as p_role under row-level security would write, and
--   refuses what that call refused, with the same errors:
--   - every participant must be a node p_role can see: a hidden one is reported exactly like
--     a missing one (P0002 naming them), as the participants read as the caller were;
--   - the event type must be writable by p_role (write_scope member, or admin for admins;
--     system types are crm360's: 42501) — an unregistered type is CR010 from the events trigger;
--   - a member needs a CRM identity (42501: the event is recorded by the actor, and an event
--     without one was refused by the events policy);
--   - the event is recorded by p_role's actor and names another actor only for admins
--     (crm_private.writer_actor_system: 42501 otherwise), as crm_private.tg_events__validate
--     does for a writer's own insert;
-- * the participants p_role sees are share-locked (FOR SHARE, id order) before their acl is
--   read: an access change of one of them waits for this transaction and then re-propagates
--   over the rows written here; one committed before is read (review s23);
-- * the rest is crm.log_crm_activity's: argument checks (22023); the event declared about the
--   participants crm_private.event_about_of's rule picks (so written once with its final acl);
--   participants set-based, duplicates in the arrays collapsed, each written with the event's
--   final acl as event_acl inside crm360's own ACL maintenance, so the participants' statement
--   trigger (crm_private.refresh_event_acl) is not run: over these participants it would compute
--   exactly the event's about/acl (the same rule over the same nodes), the event is new (no
--   artifacts, no search chunks), and what else it does — marking the org participants' accounts
--   changed (crm_private.changed_accounts, any role) — is done here; crm_owner's row triggers
--   validate every row (event shape CR013, participant visibility and acl), with crm.bulk_apply
--   and the other flags pinned off.
CREATE OR REPLACE FUNCTION crm_private.log_crm_activity_as(
    p_role              name,
    p_event_type        text,
    p_summary           text,
    p_properties        jsonb,
    p_actor             text,
    p_participant_ids   uuid[],
    p_participant_roles text[],
    p_occurred_at       timestamptz
)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
-- generic plans: a custom plan per call for the participant arrays cost more to plan than to run
SET plan_cache_mode = 'force_generic_plan'
AS $$
DECLARE
    v_admin        boolean;
    v_id           crm_private.identity;
    v_event_id     uuid;
    v_missing      text;
    v_about        uuid[];
    v_actor_system text;
BEGIN
    -- p_role must be a role the session may become that may make this call at all (a reader the
    -- session may SET ROLE to may not: review of issue 16)
    PERFORM crm_private.require_writer_call(p_role, 'crm.log_crm_activity(text,text,jsonb,text,uuid[],text[],timestamptz)');
    v_admin := crm_private.role_is_admin(p_role);
    v_id := crm_private.caller_identity(p_role, true);

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

    -- one read of the participant nodes, as p_role sees them: which are missing (or hidden),
    -- and what the event will be about — crm_private.event_about_of's rule over these
    -- participants: the access-checked ones (acl not NULL) of the first role present among
    -- subject, account, any other. The nodes p_role sees are share-locked as they are read (in
    -- id order): an access change of one of them (crm_private.recompute_acl updates its row)
    -- waits for this transaction and then finds the participant rows written here when it
    -- re-propagates; one that committed first is what this read returns (review s23: an
    -- activity logged while an access change was in flight kept the old acl). Hidden or
    -- missing ids are not locked.
    WITH seen AS MATERIALIZED (
        SELECT n.id, n.acl
          FROM crm.nodes n
         WHERE n.id = ANY (p_participant_ids)
           AND crm_private.node_read_rule(n.acl, n.node_type, n.attrs, v_admin, v_id.principals, v_id.grants)
         ORDER BY n.id
           FOR SHARE OF n
    ), p AS (
        SELECT u.node_id, s.id AS found, s.acl,
               CASE btrim(u.role) WHEN 'subject' THEN 1 WHEN 'account' THEN 2 ELSE 3 END AS rk
          FROM unnest(p_participant_ids, p_participant_roles) AS u(node_id, role)
          LEFT JOIN seen s ON s.id = u.node_id
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

    -- what the events and participants policies would require of p_role
    IF EXISTS (SELECT 1 FROM crm.event_types t
                WHERE t.event_type = p_event_type
                  AND NOT (t.write_scope = 'member' OR (t.write_scope = 'admin' AND v_admin))) THEN
        RAISE EXCEPTION '% events are not writable by %', p_event_type, p_role
            USING ERRCODE = '42501', HINT = 'system events are recorded by crm360 itself';
    END IF;
    IF NOT v_admin AND v_id.actor IS NULL THEN
        RAISE EXCEPTION 'logging an activity needs a CRM identity; % has none', p_role
            USING ERRCODE = '42501',
                  HINT = 'map the login with crm.map_login(role, user), or call crm.act_as(user) from a crm_service role';
    END IF;
    -- the actor: p_role's own; another one only for admins
    v_actor_system := coalesce(p_actor, v_id.actor::text, session_user::text);
    IF NOT v_admin AND v_actor_system IS DISTINCT FROM coalesce(v_id.actor::text, session_user::text) THEN
        v_actor_system := crm_private.writer_actor_system(v_actor_system, v_id.actor, p_role);
    END IF;

    -- the event is written with its final acl (the events trigger computes it from v_about), and
    -- its participants carry it as event_acl, written in the same statement inside crm360's own
    -- ACL maintenance (the flag reverts below and, on any error, with the function's SET
    -- clause). One statement, so the event never exists without its participants — not even for
    -- a caller's SET CONSTRAINTS ALL IMMEDIATE, which runs crm_private.tg_events__about_check at
    -- the end of the statement instead of at commit. The event is new, so duplicates can only
    -- come from the arrays: DISTINCT collapses them.
    PERFORM pg_catalog.set_config('crm.acl_maintenance', 'on', true);
    WITH ev AS (
        INSERT INTO crm.events (event_type, occurred_at, summary, properties, actor_system, recorded_by, about)
        VALUES (p_event_type, coalesce(p_occurred_at, now()), p_summary, coalesce(p_properties, '{}'),
                v_actor_system, v_id.actor, v_about)
        RETURNING id, acl
    ), part AS (
        INSERT INTO crm.event_participants (event_id, node_id, role, event_acl)
        SELECT DISTINCT ev.id, u.node_id, btrim(u.role), ev.acl
          FROM ev CROSS JOIN unnest(p_participant_ids, p_participant_roles) AS u(node_id, role)
    )
    SELECT ev.id INTO v_event_id FROM ev;
    PERFORM pg_catalog.set_config('crm.acl_maintenance', 'off', true);

    -- refresh_event_acl's other duty: the accounts taking part, in any role, no longer have a
    -- current stored Account 360 row (crm_private.accounts_360_stored)
    INSERT INTO crm_private.changed_accounts (account_id, changed_at)
    SELECT DISTINCT n.id, now()
      FROM crm.nodes n
     WHERE n.id = ANY (p_participant_ids) AND n.node_type = 'org';

    RETURN v_event_id;
END;
$$;

COMMENT ON FUNCTION crm_private.log_crm_activity_as(name, text, text, jsonb, text, uuid[], text[], timestamptz) IS
    'crm.log_crm_activity for the caller''s role p_role (a role the session may become that may make the call): checks p_role''s permission once, then writes as crm_owner exactly what the call would write under row-level security.';
