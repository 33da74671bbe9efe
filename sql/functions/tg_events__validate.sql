-- crm_private.tg_events__validate() — BEFORE INSERT OR UPDATE on crm.events.
-- Guarantees: the event type is registered (CR010); acl starts empty and is only ever set
-- by ACL maintenance from the participants (callers cannot write it); recorded_by is the
-- acting CRM user at insert and never changes.
CREATE OR REPLACE FUNCTION crm_private.tg_events__validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NOT crm_private.acl_maintenance() THEN
            NEW.acl := OLD.acl;
        END IF;
        NEW.recorded_by := OLD.recorded_by;
        IF NEW.event_type = OLD.event_type THEN
            RETURN NEW;
        END IF;
    ELSE
        NEW.acl := '{}';   -- computed from the participants (crm_private.refresh_event_acl)
        NEW.recorded_by := crm.current_actor();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM crm.event_types t WHERE t.event_type = NEW.event_type) THEN
        RAISE EXCEPTION 'unknown event type "%"', NEW.event_type
            USING ERRCODE = 'CR010',
                  HINT = 'registered event types: ' ||
                         (SELECT string_agg(t.event_type, ', ' ORDER BY t.event_type) FROM crm.event_types t);
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_events__validate() IS
    'Trigger: refuses events of an unregistered type (CR010).';

-- skipped (WHEN) only in rc_apply's bulk mode, which does this work set-based (tg_bulk_guard)
CREATE OR REPLACE TRIGGER tg_events__validate
    BEFORE INSERT OR UPDATE ON crm.events
    FOR EACH ROW
    WHEN (pg_catalog.current_setting('crm.bulk_apply', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION crm_private.tg_events__validate();
