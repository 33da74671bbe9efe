-- Undo 0004: drops the read models (and the views over them, re-created by the next
-- migrate), the counters and refresh log, the added registry entries, and the seeded
-- pipeline when nothing refers to it (crm.nodes refuses DELETE except for an owner purge).
SET LOCAL lock_timeout = '5s';
DROP MATERIALIZED VIEW IF EXISTS crm_private.contacts_directory_mv CASCADE;
DROP MATERIALIZED VIEW IF EXISTS crm_private.opportunities_active_mv CASCADE;
DROP TABLE IF EXISTS crm_private.view_refreshes CASCADE;
DROP TABLE IF EXISTS crm_private.code_counters CASCADE;

SET LOCAL crm.purge = 'on';
DELETE FROM crm.nodes p
 WHERE p.node_type = 'pipeline' AND p.external_source = 'internal' AND p.external_id = 'PL-SALES'
   AND NOT EXISTS (SELECT 1 FROM crm.edges e WHERE p.id IN (e.source_id, e.target_id))
   AND NOT EXISTS (SELECT 1 FROM crm.event_participants ep WHERE ep.node_id = p.id)
   AND NOT EXISTS (SELECT 1 FROM crm.assertions a WHERE a.subject_node_id = p.id)
   AND NOT EXISTS (SELECT 1 FROM crm.artifacts r WHERE r.node_id = p.id)
   AND NOT EXISTS (SELECT 1 FROM crm.nodes c WHERE c.claimed_by = p.id);
SET LOCAL crm.purge = 'off';

DELETE FROM crm.error_codes WHERE sqlstate IN ('55000', '23503');
UPDATE crm.node_types
   SET optional_properties = array_remove(optional_properties, 'code')
 WHERE code_prefix IS NOT NULL AND 'code' = ANY (optional_properties);
