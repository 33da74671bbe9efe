-- crm_private.tg_task_items__audit() — AFTER INSERT / AFTER UPDATE (statement, transition
-- tables) on crm.task_items.
-- Guarantees: task_created for every task a statement inserted and task_completed for every
-- task it moved from open to done (write scope system: derived from the rows really
-- changed), on the task's anchor (subject) with the assignee as participant (users grant no
-- visibility), properties task_id, title (and due_at, assignee). SECURITY DEFINER (a trigger
-- function cannot be called directly).
CREATE OR REPLACE FUNCTION crm_private.tg_task_items__audit()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_types text[];
    v_nodes uuid[];
    v_props jsonb[];
    v_sums  text[];
    v_users uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg('task_created'::text), array_agg(n.anchor_id),
               array_agg(jsonb_strip_nulls(jsonb_build_object('task_id', n.id, 'title', n.title, 'due_at', n.due_at::text,
                                                              'assignee', n.assignee_id::text))),
               array_agg('Task: ' || n.title), array_agg(n.assignee_id)
          INTO v_types, v_nodes, v_props, v_sums, v_users
          FROM new_rows n;
    ELSE
        SELECT array_agg('task_completed'::text), array_agg(n.anchor_id),
               array_agg(jsonb_build_object('task_id', n.id, 'title', n.title)),
               array_agg('Done: ' || n.title), array_agg(n.assignee_id)
          INTO v_types, v_nodes, v_props, v_sums, v_users
          FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE o.status = 'open' AND n.status = 'done';
    END IF;
    IF v_types IS NOT NULL THEN
        PERFORM crm_private.write_customer_events(v_types, v_nodes, v_props, v_sums, v_users,
                                                  array_fill('assignee'::text, ARRAY[cardinality(v_types)]));
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_task_items__audit() IS
    'Trigger: logs task_created / task_completed for the tasks a statement created or completed.';

CREATE OR REPLACE TRIGGER tg_task_items__audit_insert
    AFTER INSERT ON crm.task_items
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_task_items__audit();
CREATE OR REPLACE TRIGGER tg_task_items__audit_update
    AFTER UPDATE ON crm.task_items
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION crm_private.tg_task_items__audit();
