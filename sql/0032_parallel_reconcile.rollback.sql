-- Undo 0032: drop the new signatures, so that the previous checkout's repeatable files (which
-- create the old ones) leave no ambiguous overload behind; crm.reconcile_plan and
-- crm_private.rc_resolves_identity go with them. Run migrate with that checkout afterwards to
-- bring its versions back.
SET LOCAL lock_timeout = '5s';

DROP FUNCTION IF EXISTS crm.reconcile_plan(text);
DROP FUNCTION IF EXISTS crm.reconcile(text, text[]);
DROP FUNCTION IF EXISTS crm_private.reconcile_run(text, name, text[]);
DROP FUNCTION IF EXISTS crm_private.rc_resolves_identity(text, text);
DROP FUNCTION IF EXISTS crm_private.xact_lock(text, boolean);
