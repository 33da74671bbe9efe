-- crm_private.tg_events__validate() — BEFORE INSERT OR UPDATE OF event_type on crm.events.
-- Guarantees: the event type is registered (CR010).
CREATE OR REPLACE FUNCTION crm_private.tg_events__validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
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

CREATE OR REPLACE TRIGGER tg_events__validate
    BEFORE INSERT OR UPDATE OF event_type ON crm.events
    FOR EACH ROW EXECUTE FUNCTION crm_private.tg_events__validate();
