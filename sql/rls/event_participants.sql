-- Row-level security on crm.event_participants: a participation is visible when both its
-- node and its event are. Adding one needs the node visible (trigger, 42501) and the event
-- visible (a new event is visible to its recorder until it has participants) and of a type
-- the role may write (a member cannot pin a system or audit event onto a node).
ALTER TABLE crm.event_participants ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.event_participants FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS event_participants_select ON crm.event_participants;
CREATE POLICY event_participants_select ON crm.event_participants FOR SELECT TO crm_reader, crm_connector
USING (
    (SELECT crm_private.actor_is_admin())
    OR ((acl IS NULL OR acl && (SELECT crm_private.actor_principals()))
        AND event_acl && (SELECT crm_private.actor_principals()))
    OR ((SELECT crm_private.actor_has_grants('node'))
        AND crm_private.node_visible(node_id)
        AND EXISTS (SELECT 1 FROM crm.events e WHERE e.id = event_id))
);

-- admins read every row: the select policy's first arm as a policy of its own, for crm_admin.
-- Its USING (true) is a constant the planner folds into the combined policy, so an admin's
-- reads plan like the table owner's (an index-only count instead of the policy evaluated per
-- row: issue 16). Same rows as before: an admin role never acts for a user (crm.act_as refuses
-- crm_admin members; they SET LOCAL ROLE crm_service first, which is not an admin).
DROP POLICY IF EXISTS event_participants_select_admin ON crm.event_participants;
CREATE POLICY event_participants_select_admin ON crm.event_participants FOR SELECT TO crm_admin USING (true);

DROP POLICY IF EXISTS event_participants_insert ON crm.event_participants;
CREATE POLICY event_participants_insert ON crm.event_participants FOR INSERT TO crm_writer
WITH CHECK (
    (SELECT crm_private.actor_is_admin())
    OR ((SELECT crm.current_actor()) IS NOT NULL
        AND EXISTS (SELECT 1 FROM crm.events e
                     WHERE e.id = event_id
                       AND e.event_type = ANY ((SELECT crm_private.writable_event_types())::text[])))
);

DROP POLICY IF EXISTS event_participants_update ON crm.event_participants;
CREATE POLICY event_participants_update ON crm.event_participants FOR UPDATE TO crm_writer
USING ((SELECT crm_private.actor_is_admin()))
WITH CHECK ((SELECT crm_private.actor_is_admin()));

DROP POLICY IF EXISTS event_participants_delete ON crm.event_participants;
CREATE POLICY event_participants_delete ON crm.event_participants FOR DELETE TO crm_admin USING (true);
