-- crm.release_task(p_task) — put your task back into the pool (admins: anyone's).
-- Guarantees: the task is visible (P0002); an unassigned task returns false; someone else's
-- task is refused for members (CR031).
CREATE OR REPLACE FUNCTION crm.release_task(p_task uuid)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_assignee uuid;
BEGIN
    SELECT t.assignee_id INTO v_assignee FROM crm.task_items t WHERE t.id = p_task;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'task % not found', p_task USING ERRCODE = 'P0002';
    END IF;
    IF v_assignee IS NULL THEN
        RETURN false;
    END IF;
    IF v_assignee IS DISTINCT FROM crm.current_actor() AND NOT crm_private.actor_is_admin() THEN
        RAISE EXCEPTION 'task % is assigned to someone else', p_task USING ERRCODE = 'CR031';
    END IF;
    UPDATE crm.task_items t SET assignee_id = NULL WHERE t.id = p_task;
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm.release_task(uuid) IS
$c$Put your task back into the pool (admins: anyone's). Returns false if it was unassigned. Errors: P0002 not found, CR031 someone else's task. Example: SELECT crm.release_task('<task uuid>');$c$;
