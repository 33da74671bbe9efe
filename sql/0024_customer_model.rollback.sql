-- Undo 0024: the customer model's tables (tag assignments, segment memberships, fit criteria,
-- notes, tasks — their data is lost), the registry rows and columns it added, the PL-EDGR
-- pipeline when nothing refers to it (crm.nodes refuses DELETE except for an owner purge).
-- The channel owned_by edges added by the backfill stay (harmless:
-- they only widen a channel's visibility to those who see its person). Run `crm360 migrate`
-- afterwards to bring back the repeatable objects of the earlier migrations.
SET LOCAL lock_timeout = '5s';
SET LOCAL crm.purge = 'on';
DELETE FROM crm.nodes p
 WHERE p.node_type = 'pipeline' AND p.external_source = 'internal' AND p.external_id = 'PL-EDGR'
   AND NOT EXISTS (SELECT 1 FROM crm.edges e WHERE p.id IN (e.source_id, e.target_id))
   AND NOT EXISTS (SELECT 1 FROM crm.event_participants ep WHERE ep.node_id = p.id)
   AND NOT EXISTS (SELECT 1 FROM crm.assertions a WHERE a.subject_node_id = p.id)
   AND NOT EXISTS (SELECT 1 FROM crm.artifacts r WHERE r.node_id = p.id)
   AND NOT EXISTS (SELECT 1 FROM crm.nodes c WHERE c.claimed_by = p.id);
SET LOCAL crm.purge = 'off';

DROP TABLE IF EXISTS crm.note_versions, crm.notes, crm.task_items, crm.segment_memberships, crm.node_tags,
                     crm.tags, crm.fit_criteria CASCADE;
DROP INDEX IF EXISTS crm.assertions_type_current;
DROP INDEX IF EXISTS crm.events_type_occurred;
DELETE FROM crm.error_codes WHERE sqlstate IN ('CR050', 'CR051', 'CR052', 'CR053', 'CR054', 'CR055', 'CR056');
DELETE FROM crm.event_types t
 WHERE t.event_type IN ('email_sent', 'email_opened', 'email_clicked', 'email_replied', 'email_bounced',
                        'linkedin_sent', 'linkedin_replied', 'telegram_sent', 'telegram_replied', 'bot_replied',
                        'bot_escalated', 'deal_created', 'tag_added', 'tag_removed', 'segment_joined', 'segment_left',
                        'task_created', 'task_completed', 'profile_scored', 'note_added', 'company_matched')
   AND NOT EXISTS (SELECT 1 FROM crm.events e WHERE e.event_type = t.event_type);
ALTER TABLE crm.event_types DROP COLUMN IF EXISTS detail_required CASCADE;
ALTER TABLE crm.event_types DROP COLUMN IF EXISTS detail_shape CASCADE;
ALTER TABLE crm.event_types DROP COLUMN IF EXISTS counts_as_activity CASCADE;
DELETE FROM crm.assertion_types t WHERE t.assertion_type IN ('fit_assessment', 'lead_review', 'channel_status')
   AND NOT EXISTS (SELECT 1 FROM crm.assertions a WHERE a.assertion_type = t.assertion_type);
UPDATE crm.edge_types SET target_types = '{person}' WHERE edge_type = 'campaign_target'
   AND NOT EXISTS (SELECT 1 FROM crm.edges e JOIN crm.nodes n ON n.id = e.target_id
                    WHERE e.edge_type = 'campaign_target' AND n.node_type = 'segment');
DELETE FROM crm.node_types t WHERE t.node_type IN ('segment', 'product')
   AND NOT EXISTS (SELECT 1 FROM crm.nodes n WHERE n.node_type = t.node_type);
