-- 0026 Locks only for those who may write (review of issue 11 after 0023-0025, N1 and N2;
-- docs/security.md "Threat model"):
-- * crm_private.assertion_lock takes the caller's role (p_role, DEFAULT current_user, trusted
--   only when the session may become it) and takes the lock only for a caller who may write
--   that assertion;
-- * crm_private.refresh_event_chunks takes the caller's role too and rebuilds (locking the
--   event's row) only an event the caller recorded, or for an admin.
-- The new versions are repeatable files (sql/functions/core/assertion_lock.sql,
-- sql/functions/search/refresh_event_chunks.sql); this drops the old signatures, which writers
-- could call to lock any event or any assertion key (and which would make a call with the old
-- arguments ambiguous). Safe to run twice.
SET LOCAL lock_timeout = '5s';

DROP FUNCTION IF EXISTS crm_private.assertion_lock(uuid, text, text);
DROP FUNCTION IF EXISTS crm_private.refresh_event_chunks(uuid);
