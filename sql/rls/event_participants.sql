-- Row-level security on crm.event_participants: a participation is visible when both its
-- node and its event are. Adding one needs the node visible (trigger, 42501) and the event
-- visible — or recorded by the caller (a new event is invisible until it has participants).
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
        AND crm_private.event_visible_by_grants(event_id, (SELECT crm_private.actor_principals()),
                                                (SELECT crm_private.actor_grants())))
);

DROP POLICY IF EXISTS event_participants_insert ON crm.event_participants;
CREATE POLICY event_participants_insert ON crm.event_participants FOR INSERT TO crm_writer
WITH CHECK (
    (SELECT crm_private.actor_is_admin())
    OR ((SELECT crm.current_actor()) IS NOT NULL
        AND (crm_private.event_recorded_by(event_id) = (SELECT crm.current_actor())
             OR EXISTS (SELECT 1 FROM crm.events e WHERE e.id = event_id)))
);

DROP POLICY IF EXISTS event_participants_update ON crm.event_participants;
CREATE POLICY event_participants_update ON crm.event_participants FOR UPDATE TO crm_writer
USING ((SELECT crm_private.actor_is_admin()))
WITH CHECK ((SELECT crm_private.actor_is_admin()));

DROP POLICY IF EXISTS event_participants_delete ON crm.event_participants;
CREATE POLICY event_participants_delete ON crm.event_participants FOR DELETE TO crm_admin USING (true);
