-- Undo 0011: drops the accounts_360 storage (and the views over it, re-created by the next
-- migrate), the data-quality snapshot, the trigram index and the channel column.
SET LOCAL lock_timeout = '5s';
DROP MATERIALIZED VIEW IF EXISTS crm_private.accounts_360_mv CASCADE;
DROP TABLE IF EXISTS crm_private.account_quality CASCADE;
DROP INDEX IF EXISTS crm.nodes_org_label_trgm;
DELETE FROM crm.event_types t WHERE t.event_type = 'invoice_overdue'
   AND NOT EXISTS (SELECT 1 FROM crm.events e WHERE e.event_type = t.event_type);
ALTER TABLE crm.event_types DROP COLUMN IF EXISTS channel CASCADE;
