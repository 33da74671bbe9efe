-- crm_private.tg_event_participants__acl() — BEFORE INSERT OR UPDATE on crm.event_participants.
-- Guarantees: the participant node is visible to the caller (42501 otherwise; 23503 for
-- admins) — an event cannot be pinned on a node you cannot see; acl is copied from the node
-- and event_acl is left to crm_private.refresh_event_acl (AFTER trigger); callers cannot
-- write either column.
CREATE OR REPLACE FUNCTION crm_private.tg_event_participants__acl()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    v_acl uuid[];
BEGIN
    IF TG_OP = 'UPDATE' AND crm_private.acl_maintenance() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.node_id IS DISTINCT FROM OLD.node_id THEN
        SELECT n.acl INTO v_acl FROM crm.nodes n WHERE n.id = NEW.node_id;
        IF NOT FOUND THEN
            PERFORM crm_private.raise_not_visible('participant', NEW.node_id);
        END IF;
        NEW.acl := v_acl;
    ELSE
        NEW.acl := OLD.acl;
    END IF;
    NEW.event_acl := CASE WHEN TG_OP = 'INSERT' THEN '{}' ELSE OLD.event_acl END;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_event_participants__acl() IS
    'Trigger: participant must be visible (42501); copies the node''s acl; protects the ACL columns.';

-- skipped (WHEN) only in rc_apply's bulk mode, which does this work set-based (tg_bulk_guard)
CREATE OR REPLACE TRIGGER tg_event_participants__acl
    BEFORE INSERT OR UPDATE ON crm.event_participants
    FOR EACH ROW
    WHEN (pg_catalog.current_setting('crm.bulk_apply', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION crm_private.tg_event_participants__acl();
