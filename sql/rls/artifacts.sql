-- Row-level security on crm.artifacts: visible with the node or event it is attached to
-- (copied acl). Writing one (attaching, changing the body or the anchor) needs, for a member:
-- the node writable (seed 002: unclaimed or their own; crm_private.can_write_node) and the
-- event one they recorded of a type their role may write — never a system or audit event
-- (a Zendesk comment's text, a ticket_opened event) and never someone else's claimed
-- customer. The anchor must be visible (trigger, 42501).
ALTER TABLE crm.artifacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.artifacts FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS artifacts_select ON crm.artifacts;
CREATE POLICY artifacts_select ON crm.artifacts FOR SELECT TO crm_reader, crm_connector
USING (
    (SELECT crm_private.actor_is_admin())
    OR (node_id IS NOT NULL AND acl IS NULL)
    OR acl && (SELECT crm_private.actor_principals())
    OR ((SELECT crm_private.actor_has_grants('node'))
        AND (crm_private.node_visible(node_id) OR EXISTS (SELECT 1 FROM crm.events e WHERE e.id = event_id)))
);

-- admins read every row: the select policy's first arm as a policy of its own, for crm_admin.
-- Its USING (true) is a constant the planner folds into the combined policy, so an admin's
-- reads plan like the table owner's (an index-only count instead of the policy evaluated per
-- row: issue 16). Same rows as before: an admin role never acts for a user (crm.act_as refuses
-- crm_admin members; they SET LOCAL ROLE crm_service first, which is not an admin).
DROP POLICY IF EXISTS artifacts_select_admin ON crm.artifacts;
CREATE POLICY artifacts_select_admin ON crm.artifacts FOR SELECT TO crm_admin USING (true);

DROP POLICY IF EXISTS artifacts_insert ON crm.artifacts;
CREATE POLICY artifacts_insert ON crm.artifacts FOR INSERT TO crm_writer
WITH CHECK (
    (SELECT crm_private.actor_is_admin())
    OR ((SELECT crm.current_actor()) IS NOT NULL
        AND (node_id IS NULL OR crm_private.can_write_node(node_id))
        AND (event_id IS NULL
             OR EXISTS (SELECT 1 FROM crm.events e
                         WHERE e.id = event_id
                           AND e.recorded_by = (SELECT crm.current_actor())
                           AND e.event_type = ANY ((SELECT crm_private.writable_event_types())::text[]))))
);

DROP POLICY IF EXISTS artifacts_update ON crm.artifacts;
CREATE POLICY artifacts_update ON crm.artifacts FOR UPDATE TO crm_writer
USING (
    (SELECT crm_private.actor_is_admin())
    OR ((SELECT crm.current_actor()) IS NOT NULL
        AND acl && (SELECT crm_private.actor_principals())
        AND (node_id IS NULL OR crm_private.can_write_node(node_id))
        AND (event_id IS NULL
             OR EXISTS (SELECT 1 FROM crm.events e
                         WHERE e.id = event_id
                           AND e.recorded_by = (SELECT crm.current_actor())
                           AND e.event_type = ANY ((SELECT crm_private.writable_event_types())::text[]))))
)
WITH CHECK (
    (SELECT crm_private.actor_is_admin())
    OR ((SELECT crm.current_actor()) IS NOT NULL
        AND (node_id IS NULL OR crm_private.can_write_node(node_id))
        AND (event_id IS NULL
             OR EXISTS (SELECT 1 FROM crm.events e
                         WHERE e.id = event_id
                           AND e.recorded_by = (SELECT crm.current_actor())
                           AND e.event_type = ANY ((SELECT crm_private.writable_event_types())::text[]))))
);

DROP POLICY IF EXISTS artifacts_delete ON crm.artifacts;
CREATE POLICY artifacts_delete ON crm.artifacts FOR DELETE TO crm_admin USING (true);
