-- Undo 0014: the bulk-apply proof table (the guard triggers and functions that read it are
-- repeatable objects; without the table rc_apply cannot enter bulk mode).
SET LOCAL lock_timeout = '5s';
DROP TABLE IF EXISTS crm_private.bulk_apply_xacts CASCADE;
