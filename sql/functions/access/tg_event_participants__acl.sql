-- crm_private.tg_event_participants__acl() — BEFORE INSERT OR UPDATE on crm.event_participants.
-- Guarantees: the participant node is visible to the caller (42501 otherwise; 23503 for
-- admins) — an event cannot be pinned on a node you cannot see; acl is copied from the node
-- and event_acl is left to crm_private.refresh_event_acl (AFTER trigger) — or, on insert inside
-- crm360's own ACL maintenance (crm_private.acl_maintenance: crm_owner and the flag), taken as
-- written; callers cannot write either column.
CREATE OR REPLACE FUNCTION crm_private.tg_event_participants__acl()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
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
    -- event_acl is crm_private.refresh_event_acl's; on insert, crm360's own ACL maintenance
    -- (crm_owner with crm.acl_maintenance on: crm_private.advance_deal_stage_as) may write the
    -- event's final acl with the row
    NEW.event_acl := CASE WHEN TG_OP = 'UPDATE' THEN OLD.event_acl
                          WHEN current_user = 'crm_owner' AND crm_private.acl_maintenance() THEN coalesce(NEW.event_acl, '{}')
                          ELSE '{}' END;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_event_participants__acl() IS
    'Trigger: participant must be visible (42501); copies the node''s acl; protects the ACL columns.';

-- skipped (WHEN) only for crm360's own statements (current_user crm_owner) in rc_apply's bulk
-- mode, which does this work set-based; every SECURITY DEFINER function pins crm.bulk_apply off,
-- so no caller's setting reaches crm_owner's code, and a caller's own statements never skip it
CREATE OR REPLACE TRIGGER tg_event_participants__acl
    BEFORE INSERT OR UPDATE ON crm.event_participants
    FOR EACH ROW
    WHEN (current_user <> 'crm_owner' OR pg_catalog.current_setting('crm.bulk_apply', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION crm_private.tg_event_participants__acl();
