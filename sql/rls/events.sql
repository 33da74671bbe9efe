-- Row-level security on crm.events: visible through a visible access-checked participant
-- (events.acl is the union of their acl; users, teams and pipelines taking part grant
-- nothing). Members may record events (participants are checked when added) and update
-- visible CRM activity; access and system events are admin-only to change.
ALTER TABLE crm.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.events FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS events_select ON crm.events;
CREATE POLICY events_select ON crm.events FOR SELECT TO crm_reader, crm_connector
USING (
    (SELECT crm_private.actor_is_admin())
    OR acl && (SELECT crm_private.actor_principals())
    OR ((SELECT crm_private.actor_has_grants('node'))
        AND crm_private.event_visible_by_grants(id, (SELECT crm_private.actor_principals()),
                                                (SELECT crm_private.actor_grants())))
);

DROP POLICY IF EXISTS events_insert ON crm.events;
CREATE POLICY events_insert ON crm.events FOR INSERT TO crm_writer
WITH CHECK (
    (SELECT crm_private.actor_is_admin())
    OR ((SELECT crm.current_actor()) IS NOT NULL
        AND recorded_by = (SELECT crm.current_actor()))
);

DROP POLICY IF EXISTS events_update ON crm.events;
CREATE POLICY events_update ON crm.events FOR UPDATE TO crm_writer
USING (
    (SELECT crm_private.actor_is_admin())
    OR ((SELECT crm.current_actor()) IS NOT NULL
        AND acl && (SELECT crm_private.actor_principals())
        AND event_type IN (SELECT t.event_type FROM crm.event_types t WHERE t.event_group NOT IN ('access', 'system')))
)
WITH CHECK (
    (SELECT crm_private.actor_is_admin())
    OR event_type IN (SELECT t.event_type FROM crm.event_types t WHERE t.event_group NOT IN ('access', 'system'))
);

DROP POLICY IF EXISTS events_delete ON crm.events;
CREATE POLICY events_delete ON crm.events FOR DELETE TO crm_admin USING (true);
