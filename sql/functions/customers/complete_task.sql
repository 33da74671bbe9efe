-- crm.complete_task(p_task, p_status) — finish a task: done (default) or cancelled.
-- Guarantees: the task is visible (P0002) and open (55000 otherwise); the caller may write it —
-- their own, or a pool task on an anchor they may write, or any as admin (42501 otherwise);
-- completed_at/completed_by are set by crm360; crm360 logs task_completed (done only) on the
-- anchor. Returns true.
CREATE OR REPLACE FUNCTION crm.complete_task(p_task uuid, p_status text DEFAULT 'done')
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_status text;
BEGIN
    IF p_status IS NULL OR p_status NOT IN ('done', 'cancelled') THEN
        RAISE EXCEPTION 'a task is completed as done or cancelled' USING ERRCODE = '22023';
    END IF;
    SELECT t.status INTO v_status FROM crm.task_items t WHERE t.id = p_task;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'task % not found', p_task USING ERRCODE = 'P0002';
    END IF;
    IF v_status <> 'open' THEN
        RAISE EXCEPTION 'task % is already %', p_task, v_status USING ERRCODE = '55000';
    END IF;
    UPDATE crm.task_items t SET status = p_status WHERE t.id = p_task AND t.status = 'open';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'you may not complete task %', p_task USING ERRCODE = '42501',
              HINT = 'your own tasks, or pool tasks on customers you may write';
    END IF;
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm.complete_task(uuid, text) IS
$c$Complete a task (done, or cancelled); logs task_completed for done. Errors: 22023 bad status, P0002 not found, 55000 not open, 42501 not yours to complete. Example: SELECT crm.complete_task('<task uuid>');$c$;
