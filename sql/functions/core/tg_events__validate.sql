-- crm_private.tg_events__validate() — BEFORE INSERT OR UPDATE on crm.events.
-- Guarantees: the event type is registered (CR010); acl and about are crm360's: at insert
-- computed from the nodes the caller declares in about (each visible to the caller, 42501;
-- not-access-checked ones dropped; acl = the union of their stored acl), afterwards only by
-- ACL maintenance from the participants (callers cannot write them);
-- recorded_by is the acting CRM user at insert and never changes; for a writer who is not an
-- admin, actor_system is that user (their login when unmapped) and never changes — a different
-- actor at insert is refused (42501). For everyone but crm360's
-- own code (current_user crm_owner) and a superuser (the DBA): recorded_at is the transaction's time; events carry no
-- external key (CR033: source keys — and the unique index on them, which would tell a
-- caller that a hidden record exists — belong to reconciliation) and keep the one they have.
-- The properties have the detail shape registered for the type (crm.event_types.
-- detail_required / detail_shape: the seed 002 activity log's per-type detail data; CR013
-- naming what is missing or mistyped).
CREATE OR REPLACE FUNCTION crm_private.tg_events__validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_type     record;
    v_problems record;
    v_declared uuid[];
    v_seen     bigint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NOT crm_private.acl_maintenance() THEN
            NEW.acl := OLD.acl;
            NEW.about := OLD.about;
        END IF;
        NEW.recorded_by := OLD.recorded_by;
        IF current_user <> 'crm_owner' AND pg_catalog.current_setting('is_superuser') <> 'on' THEN
            NEW.recorded_at := OLD.recorded_at;
            -- who or what caused an event is crm360's record, not a writer's edit (an admin's
            -- correction is allowed: admins are trusted)
            IF NEW.actor_system IS DISTINCT FROM OLD.actor_system AND NOT crm_private.actor_is_admin() THEN
                NEW.actor_system := OLD.actor_system;
            END IF;
            IF NEW.external_id IS DISTINCT FROM OLD.external_id OR NEW.external_source IS DISTINCT FROM OLD.external_source THEN
                RAISE EXCEPTION 'the external key of an event belongs to reconciliation'
                    USING ERRCODE = 'CR033', HINT = 'record a new event instead';
            END IF;
        END IF;
        IF NEW.event_type = OLD.event_type THEN
            RETURN NEW;
        END IF;
    ELSE
        -- acl and about are crm360's: computed from the participants (crm_private.
        -- refresh_event_acl, when they are written). A writer may declare at insert what the
        -- event will be about (crm.log_crm_activity does, from the participants it is about to
        -- write), so the event is written once with its final acl instead of written and then
        -- updated (issue 16). The declaration grants nothing a participant row would not: every
        -- declared node must be visible to the caller (42501, as for a participant), nodes that
        -- are not access-checked (acl NULL) are dropped, and the acl is the union of the
        -- nodes' acl as stored — never the caller's. The participants, when written, decide.
        v_declared := coalesce(NEW.about, '{}');
        NEW.acl := '{}';
        NEW.about := '{}';
        IF cardinality(v_declared) > 0 THEN
            -- as the caller: row-level security decides what is visible
            WITH d AS (SELECT n.id, n.acl FROM crm.nodes n WHERE n.id = ANY (v_declared))
            SELECT (SELECT count(*) FROM d),
                   coalesce((SELECT array_agg(d.id ORDER BY d.id) FROM d WHERE d.acl IS NOT NULL), '{}'),
                   coalesce((SELECT array_agg(DISTINCT x ORDER BY x) FROM d CROSS JOIN LATERAL unnest(d.acl) AS x), '{}')
              INTO v_seen, NEW.about, NEW.acl;
            IF v_seen < (SELECT count(DISTINCT d) FROM unnest(v_declared) AS d) OR array_position(v_declared, NULL) IS NOT NULL THEN
                PERFORM crm_private.raise_not_visible('event subject',
                    (SELECT d FROM unnest(v_declared) AS d
                      WHERE d IS NULL OR NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = d) LIMIT 1));
            END IF;
        END IF;
        -- crm360's own code (crm_owner) records on behalf of the actor it determined
        NEW.recorded_by := CASE WHEN current_user = 'crm_owner' THEN NEW.recorded_by ELSE crm.current_actor() END;
        -- no actor named: the recording user (their login when unmapped), for everyone
        NEW.actor_system := coalesce(NEW.actor_system, NEW.recorded_by::text, session_user::text);
        IF current_user <> 'crm_owner' AND pg_catalog.current_setting('is_superuser') <> 'on' THEN
            NEW.recorded_at := now();
            -- a writer's event is caused by the writer: actor_system is their CRM user id (or,
            -- unmapped, their login); naming a source system or someone else would forge the
            -- source and author the timeline and the stage history show (review of issue 11,
            -- N3). Admins (trusted) may name another actor.
            -- (the usual case — the actor is the acting user — needs no admin lookup)
            IF NEW.actor_system IS DISTINCT FROM coalesce(NEW.recorded_by::text, session_user::text)
               AND NOT crm_private.actor_is_admin() THEN
                NEW.actor_system := crm_private.writer_actor_system(NEW.actor_system, NEW.recorded_by, current_user);
            END IF;
            IF NEW.external_id IS NOT NULL OR NEW.external_source IS NOT NULL THEN
                RAISE EXCEPTION 'external keys of events belong to reconciliation'
                    USING ERRCODE = 'CR033',
                          HINT = 'record the event without external_source/external_id; source events are ingested through crm_raw and crm.reconcile()';
            END IF;
        END IF;
    END IF;
    SELECT t.detail_required, t.detail_shape INTO v_type FROM crm.event_types t WHERE t.event_type = NEW.event_type;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown event type "%"', NEW.event_type
            USING ERRCODE = 'CR010',
                  HINT = 'registered event types: ' ||
                         (SELECT string_agg(t.event_type, ', ' ORDER BY t.event_type) FROM crm.event_types t);
    END IF;
    -- the registered detail shape (seed 002 activity log): required keys and JSON types
    IF cardinality(v_type.detail_required) > 0 OR v_type.detail_shape <> '{}' THEN
        SELECT * INTO v_problems
          FROM crm_private.claim_problems(NEW.properties, v_type.detail_required, v_type.detail_shape, NULL);
        IF v_problems.missing IS NOT NULL OR v_problems.bad IS NOT NULL THEN
            RAISE EXCEPTION 'the details of a % event do not have the registered shape', NEW.event_type
                USING ERRCODE = 'CR013',
                      DETAIL = concat_ws('; ', 'missing: ' || v_problems.missing, v_problems.bad),
                      HINT = 'see crm.event_types.detail_required / detail_shape';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_events__validate() IS
    'Trigger: refuses events of an unregistered type (CR010), details not of the registered shape (CR013) and caller-chosen external keys (CR033); protects acl, about, recorded_by, recorded_at.';

-- skipped (WHEN) only for crm360's own statements (current_user crm_owner) in rc_apply's bulk
-- mode, which does this work set-based; every SECURITY DEFINER function pins crm.bulk_apply off,
-- so no caller's setting reaches crm_owner's code, and a caller's own statements never skip it
CREATE OR REPLACE TRIGGER tg_events__validate
    BEFORE INSERT OR UPDATE ON crm.events
    FOR EACH ROW
    WHEN (current_user <> 'crm_owner' OR pg_catalog.current_setting('crm.bulk_apply', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION crm_private.tg_events__validate();
