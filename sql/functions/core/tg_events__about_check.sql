-- crm_private.tg_events__about_check() — deferred (at commit) AFTER INSERT on crm.events, for
-- events inserted with a declared about (tg_events__validate).
-- Guarantees: an event commits with a non-empty about only if it has participants. ACL
-- maintenance (crm_private.propagate_acl, purge_node_data, merge) finds events through their
-- participants, so an event declared about nodes but given none would keep that acl when the
-- nodes' access changed, and survive their purge (review of issue 16). Such an event is
-- recomputed here from its participants — none: about and acl '{}', visible to its recorder and
-- admins, exactly what it was before declarations existed. With participants, their statement
-- trigger has already made about/acl theirs and nothing is written. A caller's
-- SET CONSTRAINTS … IMMEDIATE only moves the check to the end of the INSERT (the participants,
-- written next, recompute again); the trigger cannot be disabled by callers.
-- SECURITY DEFINER: reads every participant of the event regardless of the caller's view.
CREATE OR REPLACE FUNCTION crm_private.tg_events__about_check()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM crm.event_participants p WHERE p.event_id = NEW.id)
       AND EXISTS (SELECT 1 FROM crm.events e WHERE e.id = NEW.id AND e.about <> '{}') THEN
        PERFORM crm_private.refresh_event_acl(ARRAY[NEW.id]);
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_events__about_check() IS
    'Trigger (deferred): an event declared about nodes at insert that has no participants at commit is recomputed from its participants (about and acl become empty).';

-- only events inserted with a declaration, and not crm360's own bulk writes (reconciliation
-- and the audit writers set about with their participants in the same statement).
-- (constraint triggers have no CREATE OR REPLACE: re-created only when the definition changed,
-- so a re-applied migration takes no lock on crm.events for nothing)
DO $do$
DECLARE
    v_def text := $d$CREATE CONSTRAINT TRIGGER tg_events__about_check
    AFTER INSERT ON crm.events
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (NEW.about <> '{}'
          AND (current_user <> 'crm_owner' OR pg_catalog.current_setting('crm.bulk_apply', true) IS DISTINCT FROM 'on'))
    EXECUTE FUNCTION crm_private.tg_events__about_check()$d$;
    v_marker text := 'At commit: an event declared about nodes but without participants is recomputed '
                     'from them (crm_private.tg_events__about_check). [definition ' || md5(v_def) || ']';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                    WHERE t.tgrelid = 'crm.events'::regclass AND t.tgname = 'tg_events__about_check'
                      AND pg_catalog.obj_description(t.oid, 'pg_trigger') = v_marker) THEN
        DROP TRIGGER IF EXISTS tg_events__about_check ON crm.events;
        EXECUTE v_def;
        EXECUTE format('COMMENT ON TRIGGER tg_events__about_check ON crm.events IS %L', v_marker);
    END IF;
END;
$do$;
