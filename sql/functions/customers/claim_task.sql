-- crm.claim_task(p_task) — take a task from the pool (seed 002 Tasks: pool + assigned).
-- Guarantees: the task is visible (P0002) and open (55000); a pool task becomes the caller's
-- (assignee = the acting user; the caller must be allowed to write its anchor — the row policy;
-- 42501 otherwise); claiming your own task returns false; a task assigned to someone else is
-- refused (CR031). Concurrent claims: one wins, the other gets CR031.
CREATE OR REPLACE FUNCTION crm.claim_task(p_task uuid)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_actor uuid := crm.current_actor();
    v_task  record;
BEGIN
    IF v_actor IS NULL THEN
        RAISE EXCEPTION 'claiming needs a CRM identity' USING ERRCODE = 'CR030';
    END IF;
    SELECT t.status, t.assignee_id INTO v_task FROM crm.task_items t WHERE t.id = p_task;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'task % not found', p_task USING ERRCODE = 'P0002';
    END IF;
    IF v_task.status <> 'open' THEN
        RAISE EXCEPTION 'task % is %', p_task, v_task.status USING ERRCODE = '55000';
    END IF;
    IF v_task.assignee_id = v_actor THEN
        RETURN false;
    END IF;
    IF v_task.assignee_id IS NOT NULL THEN
        RAISE EXCEPTION 'task % is assigned to someone else', p_task USING ERRCODE = 'CR031',
              HINT = 'they release it (crm.release_task), or an admin reassigns it';
    END IF;
    UPDATE crm.task_items t SET assignee_id = v_actor WHERE t.id = p_task AND t.assignee_id IS NULL AND t.status = 'open';
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM crm.task_items t WHERE t.id = p_task AND t.assignee_id IS NOT NULL) THEN
            RAISE EXCEPTION 'task % was claimed by someone else meanwhile', p_task USING ERRCODE = 'CR031';
        END IF;
        RAISE EXCEPTION 'you may not claim task %', p_task USING ERRCODE = '42501',
              HINT = 'you claim pool tasks on your own and unclaimed customers';
    END IF;
    RETURN true;
END;
$$;

COMMENT ON FUNCTION crm.claim_task(uuid) IS
$c$Claim a task from the pool (it becomes yours). Returns false if it was already yours. Errors: CR030 no identity, P0002 not found, 55000 not open, CR031 assigned to someone else, 42501 its anchor is not writable for you. Example: SELECT crm.claim_task('<task uuid>');$c$;
