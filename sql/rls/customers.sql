-- Row-level security and privileges of the customer model (issue 15, docs/customers.md):
-- the tag library, tags on nodes, segment memberships, fit criteria, notes and their versions,
-- tasks. Seed 002 ownership scoping, mapped onto the access model of docs/security.md:
-- * read: a row about a node is visible exactly when that node is (the nodes policy decides,
--   read as the caller: teams, claims, grants, admins) — plus, for notes, their author and, for
--   tasks, their assignee and creator;
-- * write: admins everything; members what they may write on the node (crm_private.
--   node_write_rule — can_write_node's rule, and only on nodes of the types the caller may write,
--   crm_private.writable_node_types — with the caller's identity evaluated once per statement: their own and unclaimed customers, or a write grant) — tags on a node,
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

-- ---------------------------------------------------------------- tags on nodes, segment memberships
-- The write rule (crm_private.node_write_rule) over the node row as the caller sees it, with the
-- caller's identity as InitPlans: evaluated once per statement, not once per row (a bulk tag of
-- 10,000 customers checks 10,000 rows).
DO $$
DECLARE
    v_rule  text := 'EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = %s '
                    'AND n.node_type = ANY ((SELECT crm_private.writable_node_types())::text[]) '
                    'AND crm_private.node_write_rule(n.acl, '
                    'n.claimed_by, n.node_type, n.attrs, (SELECT crm_private.actor_is_admin()), (SELECT crm.current_actor()), '
                    '(SELECT crm_private.actor_principals()), (SELECT crm_private.actor_grants())))';
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['node_tags', 'segment_memberships'] LOOP
        EXECUTE format('DROP POLICY IF EXISTS %I ON crm.%I', v_table || '_select', v_table);
        EXECUTE format('CREATE POLICY %I ON crm.%I FOR SELECT TO crm_reader, crm_connector USING ('
                       '(SELECT crm_private.actor_is_admin()) OR EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = node_id))',
                       v_table || '_select', v_table);
        EXECUTE format('DROP POLICY IF EXISTS %I ON crm.%I', v_table || '_insert', v_table);
        EXECUTE format('CREATE POLICY %I ON crm.%I FOR INSERT TO crm_writer WITH CHECK (%s)',
                       v_table || '_insert', v_table, format(v_rule, 'node_id'));
        EXECUTE format('DROP POLICY IF EXISTS %I ON crm.%I', v_table || '_update', v_table);
        EXECUTE format('CREATE POLICY %I ON crm.%I FOR UPDATE TO crm_writer USING (%s) WITH CHECK (%s)',
                       v_table || '_update', v_table, format(v_rule, 'node_id'), format(v_rule, 'node_id'));
    END LOOP;
    -- notes: created on an anchor the caller may write, by its author (edited by the author: below)
    DROP POLICY IF EXISTS notes_insert ON crm.notes;
    EXECUTE format('CREATE POLICY notes_insert ON crm.notes FOR INSERT TO crm_writer WITH CHECK ('
                   '(SELECT crm.current_actor()) IS NOT NULL AND author_id = (SELECT crm.current_actor()) AND %s)',
                   format(v_rule, 'anchor_id'));
    -- tasks: created on an anchor the caller may write, for themselves or the pool (admins: anyone);
    -- changed by their assignee, or (pool tasks) by those who may write the anchor
    DROP POLICY IF EXISTS task_items_insert ON crm.task_items;
    EXECUTE format('CREATE POLICY task_items_insert ON crm.task_items FOR INSERT TO crm_writer WITH CHECK ('
                   '(SELECT crm_private.actor_is_admin()) OR ((SELECT crm.current_actor()) IS NOT NULL '
                   'AND (assignee_id IS NULL OR assignee_id = (SELECT crm.current_actor())) AND %s))',
                   format(v_rule, 'anchor_id'));
    DROP POLICY IF EXISTS task_items_update ON crm.task_items;
    EXECUTE format('CREATE POLICY task_items_update ON crm.task_items FOR UPDATE TO crm_writer USING ('
                   '(SELECT crm_private.actor_is_admin()) OR ((SELECT crm.current_actor()) IS NOT NULL '
                   'AND (assignee_id = (SELECT crm.current_actor()) OR (assignee_id IS NULL AND %s)))) '
                   'WITH CHECK ((SELECT crm_private.actor_is_admin()) OR ((SELECT crm.current_actor()) IS NOT NULL '
                   'AND (assignee_id IS NULL OR assignee_id = (SELECT crm.current_actor()))))',
                   format(v_rule, 'anchor_id'));
    -- notes: created on an anchor the caller may write, by its author; edited by the author
        -- tasks: created on an anchor the caller may write, for themselves or the pool (admins: anyone);
    -- changed by their assignee, or (pool tasks) by those who may write the anchor
        END
$$;

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
