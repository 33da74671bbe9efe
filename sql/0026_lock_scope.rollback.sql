-- Undo 0026: drop the role-taking versions, so that the previous checkout's repeatable files
-- (which create the old signatures) leave no ambiguous overload behind. Run migrate with that
-- checkout afterwards to bring its versions back.
SET LOCAL lock_timeout = '5s';

DROP FUNCTION IF EXISTS crm_private.assertion_lock(uuid, text, text, name);
DROP FUNCTION IF EXISTS crm_private.refresh_event_chunks(uuid, name);
