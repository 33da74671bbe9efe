-- 0032 Parallel reconciliation (issue 16 item 3): crm.reconcile takes the objects to apply
-- (p_objects), crm_private.reconcile_run takes them too, and crm_private.xact_lock takes a
-- shared mode — runs of objects that resolve no identity hold the reconcile lock shared and
-- one lock per source (crm_private.rc_resolves_identity, crm.reconcile_plan). The new
-- versions are repeatable files (sql/functions/ingest/reconcile.sql, reconcile_run.sql,
-- sql/functions/core/xact_lock.sql); this drops the old signatures, which a call with the old
-- arguments would otherwise find ambiguous. Safe to run twice.
SET LOCAL lock_timeout = '5s';

DROP FUNCTION IF EXISTS crm.reconcile(text);
DROP FUNCTION IF EXISTS crm_private.reconcile_run(text, name);
DROP FUNCTION IF EXISTS crm_private.xact_lock(text);
