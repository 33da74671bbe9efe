-- Row-level security and privileges of the customer model (issue 15, docs/customers.md):
-- the tag library, tags on nodes, segment memberships, fit criteria, notes and their versions,
-- tasks. Seed 002 ownership scoping, mapped onto the access model of docs/security.md:
-- * read: a row about a node is visible exactly when that node is (the nodes policy decides,
--   read as the caller: teams, claims, grants, admins) — plus, for notes, their author and, for
--   tasks, their assignee and creator;
-- * write: admins everything; members what they may write on the node (crm_private.
--   can_write_node: their own and unclaimed customers, or a write grant) — tags on a node,
--   segment membership changes, notes (and only the author edits a note), tasks (members
--   create tasks for themselves or the pool; claim pool tasks; work their own);
-- * history rows are only ever closed (triggers, CR015) and never deleted: DELETE is granted
--   to nobody; UPDATE only on the columns that close a row (no table-wide UPDATE: that would
--   let a writer LOCK TABLE ... EXCLUSIVE, docs/security.md).
-- The library tables (tags, fit criteria) are read by every crm role; tags are created by
-- writers with an identity (bot: tags by system roles only, trigger CR052), fit criteria by
-- admins.
DO $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['tags', 'node_tags', 'segment_memberships', 'fit_criteria', 'notes',
                                   'note_versions', 'task_items'] LOOP
        EXECUTE format('ALTER TABLE crm.%I ENABLE ROW LEVEL SECURITY', v_table);
        EXECUTE format('ALTER TABLE crm.%I FORCE ROW LEVEL SECURITY', v_table);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------- tag library
DROP POLICY IF EXISTS tags_select ON crm.tags;
CREATE POLICY tags_select ON crm.tags FOR SELECT TO crm_reader, crm_connector USING (true);
DROP POLICY IF EXISTS tags_insert ON crm.tags;
CREATE POLICY tags_insert ON crm.tags FOR INSERT TO crm_writer
WITH CHECK ((SELECT crm_private.actor_is_admin()) OR (SELECT crm.current_actor()) IS NOT NULL);
DROP POLICY IF EXISTS tags_update ON crm.tags;
CREATE POLICY tags_update ON crm.tags FOR UPDATE TO crm_admin USING (true) WITH CHECK (true);

-- ---------------------------------------------------------------- tags on nodes
DROP POLICY IF EXISTS node_tags_select ON crm.node_tags;
CREATE POLICY node_tags_select ON crm.node_tags FOR SELECT TO crm_reader, crm_connector
USING ((SELECT crm_private.actor_is_admin()) OR EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = node_id));
DROP POLICY IF EXISTS node_tags_insert ON crm.node_tags;
CREATE POLICY node_tags_insert ON crm.node_tags FOR INSERT TO crm_writer
WITH CHECK ((SELECT crm_private.actor_is_admin())
            OR ((SELECT crm.current_actor()) IS NOT NULL AND crm_private.can_write_node(node_id)));
DROP POLICY IF EXISTS node_tags_update ON crm.node_tags;
CREATE POLICY node_tags_update ON crm.node_tags FOR UPDATE TO crm_writer
USING ((SELECT crm_private.actor_is_admin())
       OR ((SELECT crm.current_actor()) IS NOT NULL AND crm_private.can_write_node(node_id)))
WITH CHECK ((SELECT crm_private.actor_is_admin())
            OR ((SELECT crm.current_actor()) IS NOT NULL AND crm_private.can_write_node(node_id)));

-- ---------------------------------------------------------------- segment memberships
DROP POLICY IF EXISTS segment_memberships_select ON crm.segment_memberships;
CREATE POLICY segment_memberships_select ON crm.segment_memberships FOR SELECT TO crm_reader, crm_connector
USING ((SELECT crm_private.actor_is_admin()) OR EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = node_id));
DROP POLICY IF EXISTS segment_memberships_insert ON crm.segment_memberships;
CREATE POLICY segment_memberships_insert ON crm.segment_memberships FOR INSERT TO crm_writer
WITH CHECK ((SELECT crm_private.actor_is_admin())
            OR ((SELECT crm.current_actor()) IS NOT NULL AND crm_private.can_write_node(node_id)));
DROP POLICY IF EXISTS segment_memberships_update ON crm.segment_memberships;
CREATE POLICY segment_memberships_update ON crm.segment_memberships FOR UPDATE TO crm_writer
USING ((SELECT crm_private.actor_is_admin())
       OR ((SELECT crm.current_actor()) IS NOT NULL AND crm_private.can_write_node(node_id)))
WITH CHECK ((SELECT crm_private.actor_is_admin())
            OR ((SELECT crm.current_actor()) IS NOT NULL AND crm_private.can_write_node(node_id)));

-- ---------------------------------------------------------------- fit criteria
DROP POLICY IF EXISTS fit_criteria_select ON crm.fit_criteria;
CREATE POLICY fit_criteria_select ON crm.fit_criteria FOR SELECT TO crm_reader, crm_connector USING (true);
DROP POLICY IF EXISTS fit_criteria_admin ON crm.fit_criteria;
CREATE POLICY fit_criteria_admin ON crm.fit_criteria FOR ALL TO crm_admin
USING ((SELECT crm_private.actor_is_admin())) WITH CHECK ((SELECT crm_private.actor_is_admin()));

-- ---------------------------------------------------------------- notes
DROP POLICY IF EXISTS notes_select ON crm.notes;
CREATE POLICY notes_select ON crm.notes FOR SELECT TO crm_reader, crm_connector
USING ((SELECT crm_private.actor_is_admin())
       OR author_id = (SELECT crm.current_actor())
       OR EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = anchor_id));
DROP POLICY IF EXISTS notes_insert ON crm.notes;
CREATE POLICY notes_insert ON crm.notes FOR INSERT TO crm_writer
WITH CHECK ((SELECT crm.current_actor()) IS NOT NULL AND author_id = (SELECT crm.current_actor())
            AND ((SELECT crm_private.actor_is_admin()) OR crm_private.can_write_node(anchor_id)));
DROP POLICY IF EXISTS notes_update ON crm.notes;
CREATE POLICY notes_update ON crm.notes FOR UPDATE TO crm_writer
USING ((SELECT crm.current_actor()) IS NOT NULL AND author_id = (SELECT crm.current_actor()))
WITH CHECK ((SELECT crm.current_actor()) IS NOT NULL AND author_id = (SELECT crm.current_actor()));

DROP POLICY IF EXISTS note_versions_select ON crm.note_versions;
CREATE POLICY note_versions_select ON crm.note_versions FOR SELECT TO crm_reader, crm_connector
USING ((SELECT crm_private.actor_is_admin()) OR EXISTS (SELECT 1 FROM crm.notes t WHERE t.id = note_id));

-- ---------------------------------------------------------------- tasks
DROP POLICY IF EXISTS task_items_select ON crm.task_items;
CREATE POLICY task_items_select ON crm.task_items FOR SELECT TO crm_reader, crm_connector
USING ((SELECT crm_private.actor_is_admin())
       OR assignee_id = (SELECT crm.current_actor())
       OR created_by = (SELECT crm.current_actor())
       OR EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = anchor_id));
DROP POLICY IF EXISTS task_items_insert ON crm.task_items;
CREATE POLICY task_items_insert ON crm.task_items FOR INSERT TO crm_writer
WITH CHECK ((SELECT crm_private.actor_is_admin())
            OR ((SELECT crm.current_actor()) IS NOT NULL
                AND (assignee_id IS NULL OR assignee_id = (SELECT crm.current_actor()))
                AND crm_private.can_write_node(anchor_id)));
DROP POLICY IF EXISTS task_items_update ON crm.task_items;
CREATE POLICY task_items_update ON crm.task_items FOR UPDATE TO crm_writer
USING ((SELECT crm_private.actor_is_admin())
       OR ((SELECT crm.current_actor()) IS NOT NULL
           AND (assignee_id = (SELECT crm.current_actor())
                OR (assignee_id IS NULL AND crm_private.can_write_node(anchor_id)))))
WITH CHECK ((SELECT crm_private.actor_is_admin())
            OR ((SELECT crm.current_actor()) IS NOT NULL
                AND (assignee_id IS NULL OR assignee_id = (SELECT crm.current_actor()))));

-- ---------------------------------------------------------------- privileges
-- (SELECT for crm_reader comes with 000_privileges.sql: every table in crm)
GRANT INSERT (name, description, colour) ON crm.tags TO crm_writer;
GRANT UPDATE (name, description, colour, archived_at) ON crm.tags TO crm_admin;
GRANT INSERT (node_id, tag_id, added_by) ON crm.node_tags TO crm_writer;
GRANT UPDATE (removed_at, removed_by) ON crm.node_tags TO crm_writer;
GRANT INSERT (segment_id, node_id) ON crm.segment_memberships TO crm_writer;
GRANT UPDATE (left_at, left_reason, left_by) ON crm.segment_memberships TO crm_writer;
GRANT INSERT (product_id, name, weight, description) ON crm.fit_criteria TO crm_admin;
GRANT UPDATE (name, weight, description, archived_at) ON crm.fit_criteria TO crm_admin;
GRANT INSERT (anchor_id, author_id, body) ON crm.notes TO crm_writer;
GRANT UPDATE (body, archived_at) ON crm.notes TO crm_writer;
GRANT INSERT (anchor_id, title, description, due_at, assignee_id) ON crm.task_items TO crm_writer;
GRANT UPDATE (title, description, due_at, status, assignee_id) ON crm.task_items TO crm_writer;
