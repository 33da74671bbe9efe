-- crm_private.tg_task_items__validate() — BEFORE INSERT OR UPDATE on crm.task_items.
-- Guarantees: the anchor never changes; created_by/created_at are the acting user and the
-- transaction's time; an assignee is a live user (22023); status moves only from open to done
-- or cancelled (55000 for anything else: a finished task stays finished), which sets
-- completed_at/completed_by (crm360's, never the caller's); updated_at bumped on every change.
CREATE OR REPLACE FUNCTION crm_private.tg_task_items__validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- legal erasure (crm.purge_node): the foreign keys clear references to the erased node
    IF current_user = 'crm_owner' AND pg_catalog.current_setting('crm.purge', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF NEW.assignee_id IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.assignee_id IS DISTINCT FROM OLD.assignee_id)
       AND NOT EXISTS (SELECT 1 FROM crm.nodes u WHERE u.id = NEW.assignee_id AND u.node_type = 'user' AND u.archived_at IS NULL) THEN
        RAISE EXCEPTION 'assignee % is not a user', NEW.assignee_id USING ERRCODE = '22023';
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.created_by := crm.current_actor();
        NEW.created_at := now();
        NEW.updated_at := now();
        NEW.status := 'open';
        NEW.completed_at := NULL;
        NEW.completed_by := NULL;
        RETURN NEW;
    END IF;
    IF current_user <> 'crm_owner' THEN   -- crm360's merges move tasks to the kept node
        NEW.anchor_id := OLD.anchor_id;
    END IF;
    NEW.created_by := OLD.created_by;
    NEW.created_at := OLD.created_at;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF OLD.status <> 'open' THEN
            RAISE EXCEPTION 'task % is already %', OLD.id, OLD.status USING ERRCODE = '55000';
        END IF;
        NEW.completed_at := now();
        NEW.completed_by := crm.current_actor();
    ELSE
        NEW.completed_at := OLD.completed_at;
        NEW.completed_by := OLD.completed_by;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_task_items__validate() IS
    'Trigger: tasks — anchor fixed, assignee a user, status only open -> done/cancelled, completion stamped by crm360.';

CREATE OR REPLACE TRIGGER tg_task_items__validate
    BEFORE INSERT OR UPDATE ON crm.task_items
    FOR EACH ROW EXECUTE FUNCTION crm_private.tg_task_items__validate();
