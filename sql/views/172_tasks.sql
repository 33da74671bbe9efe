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
COMMENT ON COLUMN crm.tasks.is_overdue IS 'open and due_at in the past';
COMMENT ON COLUMN crm.tasks.in_pool IS 'open and unassigned: anyone who may write the anchor can claim it (crm.claim_task)';
COMMENT ON COLUMN crm.tasks.anchor_label IS 'Label of the node the task is about (NULL when you cannot see it)';

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
