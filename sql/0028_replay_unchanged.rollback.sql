-- Undo 0028: drop the counters (the previous checkout's land_staged marks every re-delivered
-- record seen again).
SET LOCAL lock_timeout = '5s';

ALTER TABLE crm_raw.sync_runs DROP COLUMN IF EXISTS unchanged_applied;
ALTER TABLE crm_raw.sync_runs DROP COLUMN IF EXISTS unchanged_orphans;
ALTER TABLE crm_raw.sync_runs DROP COLUMN IF EXISTS unchanged_rejected;
