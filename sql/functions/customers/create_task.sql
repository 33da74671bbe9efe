-- crm.create_task(p_anchor, p_title, p_due_at, p_assignee, p_description) — a to-do on any node
-- (seed 002 CustomerTask: polymorphic anchor, pool + assigned).
-- Guarantees: the title is not blank (22023); the anchor is a node the caller may write (42501,
-- the same for hidden and missing; seed 002 scoping); p_assignee NULL puts it in the pool,
-- otherwise it must be a live user (22023) — members may assign only themselves (42501),
-- admins anyone; crm360 logs task_created on the anchor. Needs a CRM identity (CR030) unless
-- an admin. Returns the task id.
CREATE OR REPLACE FUNCTION crm.create_task(
    p_anchor      uuid,
    p_title       text,
    p_due_at      timestamptz DEFAULT NULL,
    p_assignee    uuid DEFAULT NULL,
    p_description text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id uuid;
BEGIN
    IF crm.current_actor() IS NULL AND NOT crm_private.actor_is_admin() THEN
        RAISE EXCEPTION 'creating tasks needs a CRM identity' USING ERRCODE = 'CR030';
    END IF;
    IF p_title IS NULL OR btrim(p_title) = '' THEN
        RAISE EXCEPTION 'a task needs a title' USING ERRCODE = '22023';
    END IF;
    IF p_anchor IS NULL OR NOT crm_private.can_write_node(p_anchor) THEN
        RAISE EXCEPTION 'node % does not exist or you may not write it', p_anchor
            USING ERRCODE = '42501', HINT = 'you write your own and unclaimed customers (seed 002 scoping)';
    END IF;
    IF p_assignee IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM crm.nodes u WHERE u.id = p_assignee AND u.node_type = 'user' AND u.archived_at IS NULL) THEN
            RAISE EXCEPTION 'assignee % is not a user', p_assignee USING ERRCODE = '22023';
        END IF;
        IF p_assignee IS DISTINCT FROM crm.current_actor() AND NOT crm_private.actor_is_admin() THEN
            RAISE EXCEPTION 'members assign tasks only to themselves or the pool' USING ERRCODE = '42501',
                  HINT = 'leave p_assignee NULL (the pool) or ask an admin';
        END IF;
    END IF;
    INSERT INTO crm.task_items (anchor_id, title, description, due_at, assignee_id)
    VALUES (p_anchor, btrim(p_title), p_description, p_due_at, p_assignee)
    RETURNING id INTO v_id;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm.create_task(uuid, text, timestamptz, uuid, text) IS
$c$Create a task on any node (customer, deal, company, ticket, ...): assigned to a user or in the pool (p_assignee NULL); logs task_created. Members assign only themselves or the pool. Returns the task id. Errors: CR030 no identity, 22023 blank title or assignee not a user, 42501 anchor hidden/missing or not writable, or assigning someone else. Example: SELECT crm.create_task('<person uuid>', 'Call back about pricing', now() + interval '2 days');$c$;
