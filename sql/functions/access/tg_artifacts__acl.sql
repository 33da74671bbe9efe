-- crm_private.tg_artifacts__acl() — BEFORE INSERT OR UPDATE on crm.artifacts.
-- Guarantees: the node (or event) an artifact is attached to is visible to the caller
-- (42501 otherwise; 23503 for admins); acl is copied from it and cannot be written by
-- callers.
CREATE OR REPLACE FUNCTION crm_private.tg_artifacts__acl()
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
    IF TG_OP = 'INSERT' OR NEW.node_id IS DISTINCT FROM OLD.node_id OR NEW.event_id IS DISTINCT FROM OLD.event_id THEN
        IF NEW.node_id IS NOT NULL THEN
            SELECT n.acl INTO v_acl FROM crm.nodes n WHERE n.id = NEW.node_id;
            IF NOT FOUND THEN
                PERFORM crm_private.raise_not_visible('artifact', NEW.node_id);
            END IF;
        END IF;
        IF NEW.event_id IS NOT NULL THEN
            PERFORM 1 FROM crm.events e WHERE e.id = NEW.event_id;
            IF NOT FOUND THEN
                IF crm_private.actor_is_admin() THEN
                    RAISE EXCEPTION 'event % does not exist', NEW.event_id USING ERRCODE = '23503';
                END IF;
                RAISE EXCEPTION 'event % does not exist or is not visible to you', NEW.event_id
                    USING ERRCODE = '42501', HINT = 'add the event''s participants before attaching artifacts';
            END IF;
            IF NEW.node_id IS NULL THEN
                SELECT e.acl INTO v_acl FROM crm.events e WHERE e.id = NEW.event_id;
            END IF;
        END IF;
        NEW.acl := v_acl;
    ELSE
        NEW.acl := OLD.acl;
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_artifacts__acl() IS
    'Trigger: the anchor node/event must be visible (42501); copies its acl; protects the acl column.';

-- skipped (WHEN) only for crm360's own statements (current_user crm_owner) in rc_apply's bulk
-- mode, which does this work set-based; every SECURITY DEFINER function pins crm.bulk_apply off,
-- so no caller's setting reaches crm_owner's code, and a caller's own statements never skip it
CREATE OR REPLACE TRIGGER tg_artifacts__acl
    BEFORE INSERT OR UPDATE ON crm.artifacts
    FOR EACH ROW
    WHEN (current_user <> 'crm_owner' OR pg_catalog.current_setting('crm.bulk_apply', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION crm_private.tg_artifacts__acl();
