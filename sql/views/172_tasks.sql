-- crm.tasks, crm.my_tasks, crm.task_pool, crm.overdue_tasks — the to-dos (seed 002 Tasks:
-- pool + assigned, polymorphic anchor), flat for BI and the task tab. One row per task the
-- caller can see (its anchor is visible to them, or it is assigned to or created by them);
-- anchor_label is NULL when the anchor itself is not visible (an assignee of a task on a
-- hidden customer sees the task, not the customer). security_invoker.
CREATE OR REPLACE VIEW crm.tasks
WITH (security_invoker = true) AS
SELECT t.id                                             AS task_id,
       t.title,
       t.description,
       t.status,
       t.due_at,
       (t.status = 'open' AND t.due_at < now())         AS is_overdue,
       t.assignee_id IS NULL AND t.status = 'open'      AS in_pool,
       t.anchor_id,
       a.node_type                                      AS anchor_type,
       a.label                                          AS anchor_label,
       t.assignee_id,
       u.label                                          AS assignee,
       t.created_by,
       t.created_at,
       t.completed_at,
       t.completed_by
  FROM crm.task_items t
  LEFT JOIN crm.nodes a ON a.id = t.anchor_id
  LEFT JOIN crm.nodes u ON u.id = t.assignee_id;

COMMENT ON VIEW crm.tasks IS
    'Tasks (seed 002): one row per task you can see, with its anchor (any node), assignee (NULL = pool), due date, status, overdue flag. security_invoker: row-level security applies.';
COMMENT ON COLUMN crm.tasks.task_id IS 'The task id';
COMMENT ON COLUMN crm.tasks.title IS 'What to do';
COMMENT ON COLUMN crm.tasks.description IS 'Details';
COMMENT ON COLUMN crm.tasks.status IS 'open, done or cancelled';
COMMENT ON COLUMN crm.tasks.due_at IS 'When it is due (NULL: no due date)';
COMMENT ON COLUMN crm.tasks.is_overdue IS 'open and due_at in the past';
COMMENT ON COLUMN crm.tasks.in_pool IS 'open and unassigned: anyone who may write the anchor can claim it (crm.claim_task)';
COMMENT ON COLUMN crm.tasks.anchor_id IS 'The node the task is about';
COMMENT ON COLUMN crm.tasks.anchor_type IS 'Node type of the anchor (person, org, opportunity, ticket, ...)';
COMMENT ON COLUMN crm.tasks.anchor_label IS 'Label of the anchor (NULL when you cannot see it)';
COMMENT ON COLUMN crm.tasks.assignee_id IS 'The user who must do it; NULL = pool';
COMMENT ON COLUMN crm.tasks.assignee IS 'Name of the assignee';
COMMENT ON COLUMN crm.tasks.created_by IS 'The user who created the task';
COMMENT ON COLUMN crm.tasks.created_at IS 'When it was created';
COMMENT ON COLUMN crm.tasks.completed_at IS 'When it was done or cancelled';
COMMENT ON COLUMN crm.tasks.completed_by IS 'The user who completed it';

CREATE OR REPLACE VIEW crm.my_tasks
WITH (security_invoker = true) AS
SELECT * FROM crm.tasks WHERE status = 'open' AND assignee_id = crm.current_actor();
COMMENT ON VIEW crm.my_tasks IS 'Your open tasks (assigned to crm.current_actor()), from crm.tasks.';

CREATE OR REPLACE VIEW crm.task_pool
WITH (security_invoker = true) AS
SELECT * FROM crm.tasks WHERE in_pool;
COMMENT ON VIEW crm.task_pool IS 'Open, unassigned tasks you can see (claim them with crm.claim_task), from crm.tasks.';

CREATE OR REPLACE VIEW crm.overdue_tasks
WITH (security_invoker = true) AS
SELECT * FROM crm.tasks WHERE is_overdue;
COMMENT ON VIEW crm.overdue_tasks IS 'Open tasks past their due date that you can see, from crm.tasks.';

-- the three task lists have crm.tasks' columns: the same comments
DO $$
DECLARE
    v record;
BEGIN
    FOR v IN SELECT l.view_name, a.attname, col_description('crm.tasks'::regclass, a.attnum) AS c
               FROM unnest(ARRAY['my_tasks', 'task_pool', 'overdue_tasks']) AS l(view_name)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = 'crm.tasks'::regclass AND a.attnum > 0 AND NOT a.attisdropped LOOP
        EXECUTE format('COMMENT ON COLUMN crm.%I.%I IS %L', v.view_name, v.attname, v.c);
    END LOOP;
END
$$;
