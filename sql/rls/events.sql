-- Row-level security on crm.events: an event is visible when a node it is about is visible
-- (crm.events.about — its subject participants, else its account, else every access-checked
-- participant; events.acl is the union of their acl): a ticket comment needs its ticket, not
-- merely its account. Users, teams and pipelines taking part grant nothing. A new event is
-- visible to the user who recorded it until it is about something (so they can add its
-- participants). Members may record events of the types their role may write
-- (crm.event_types.write_scope: access, system, ownership and source-derived events are
-- written only by crm360's own functions, so the audit trail cannot be forged) and update
-- the visible ones of those types they recorded themselves.
ALTER TABLE crm.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.events FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS events_select ON crm.events;
CREATE POLICY events_select ON crm.events FOR SELECT TO crm_reader, crm_connector
USING (
    (SELECT crm_private.actor_is_admin())
    OR acl && (SELECT crm_private.actor_principals())
    OR ((SELECT crm_private.actor_has_grants('node'))
        AND EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id = ANY (about)))
    OR (about = '{}' AND recorded_by = (SELECT crm.current_actor()))
);

-- admins read every row: the select policy's first arm as a policy of its own, for crm_admin.
-- Its USING (true) is a constant the planner folds into the combined policy, so an admin's
-- reads plan like the table owner's (an index-only count instead of the policy evaluated per
-- row: issue 16). Same rows as before: an admin role never acts for a user (crm.act_as refuses
-- crm_admin members; they SET LOCAL ROLE crm_service first, which is not an admin).
DROP POLICY IF EXISTS events_select_admin ON crm.events;
CREATE POLICY events_select_admin ON crm.events FOR SELECT TO crm_admin USING (true);

DROP POLICY IF EXISTS events_insert ON crm.events;
CREATE POLICY events_insert ON crm.events FOR INSERT TO crm_writer
WITH CHECK (
    event_type = ANY ((SELECT crm_private.writable_event_types())::text[])
    AND ((SELECT crm_private.actor_is_admin())
         -- (no identity: NULL, refused)
         OR recorded_by = (SELECT crm.current_actor()))
);

DROP POLICY IF EXISTS events_update ON crm.events;
CREATE POLICY events_update ON crm.events FOR UPDATE TO crm_writer
USING (
    event_type = ANY ((SELECT crm_private.writable_event_types())::text[])
    AND ((SELECT crm_private.actor_is_admin())
         OR ((SELECT crm.current_actor()) IS NOT NULL
             AND recorded_by = (SELECT crm.current_actor())
             AND (acl && (SELECT crm_private.actor_principals()) OR about = '{}')))
)
WITH CHECK (
    event_type = ANY ((SELECT crm_private.writable_event_types())::text[])
    AND ((SELECT crm_private.actor_is_admin()) OR (SELECT crm.current_actor()) IS NOT NULL)
);

DROP POLICY IF EXISTS events_delete ON crm.events;
CREATE POLICY events_delete ON crm.events FOR DELETE TO crm_admin USING (true);
