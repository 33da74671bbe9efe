-- 0033 crm_private.changed_accounts becomes append-only (review s23b of issue 16: parallel
-- reconciliation runs deadlocked on it). Every writer upserted one row per account (ON
-- CONFLICT DO UPDATE), which row-locks it until commit: two reconciliation runs of different
-- sources that moved children between the same accounts locked those rows in opposite orders
-- (mid-run, in the edges and ACL triggers) and one was aborted with 40P01; concurrent writers
-- logging activities about one account queued on its row the same way. A plain INSERT takes no
-- row lock: the table now holds one row per change (account_id, changed_at; several per
-- account), readers ask whether any change is newer than the stored row
-- (crm_private.accounts_360_stored, unchanged), and the Account 360 refresh prunes what its new
-- rows reflect (unchanged). Safe to run twice.
SET LOCAL lock_timeout = '5s';

ALTER TABLE crm_private.changed_accounts DROP CONSTRAINT IF EXISTS changed_accounts_pkey;
CREATE INDEX IF NOT EXISTS changed_accounts_account ON crm_private.changed_accounts (account_id, changed_at);

COMMENT ON TABLE crm_private.changed_accounts IS
    'Changes of accounts whose stored Account 360 row may differ from the live computation since changed_at, one row per change (append-only: writers take no row lock): their acl, or the acl of one of their children or events, changed (ACL maintenance: crm_private.propagate_acl, refresh_event_acl), an activity about them was logged, or an incremental reconciliation touched them or their children or events (crm_private.reconcile_run). crm_private.accounts_360_stored does not serve a stored row older than a change (the row is computed live). Pruned by the refresh of the Account 360.';
COMMENT ON COLUMN crm_private.changed_accounts.changed_at IS 'When (transaction time) the account changed in a way its stored row may not reflect';
