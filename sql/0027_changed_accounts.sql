-- 0027 Incremental batches visible at once (issue 16 item 3): the accounts whose stored Account
-- 360 row may be out of date are no longer only those whose access changed —
-- crm_private.reconcile_run also records the accounts its (incremental) batches touched, so
-- crm.accounts_360 computes those rows live until the next refresh instead of serving the
-- stored ones. The table is renamed for what it now holds.
-- Safe to run twice.
SET LOCAL lock_timeout = '5s';

DO $$
BEGIN
    IF to_regclass('crm_private.acl_changed_accounts') IS NOT NULL
       AND to_regclass('crm_private.changed_accounts') IS NULL THEN
        ALTER TABLE crm_private.acl_changed_accounts RENAME TO changed_accounts;
        ALTER INDEX IF EXISTS crm_private.acl_changed_accounts_pkey RENAME TO changed_accounts_pkey;
    END IF;
END
$$;

COMMENT ON TABLE crm_private.changed_accounts IS
    'Accounts whose stored Account 360 row may differ from the live computation since changed_at: their acl, or the acl of one of their children or events, changed (ACL maintenance: crm_private.propagate_acl, refresh_event_acl), or an incremental reconciliation touched them or their children or events (crm_private.reconcile_run). crm_private.accounts_360_stored does not serve a stored row older than the change (the row is computed live). Pruned by the refresh of the Account 360.';
COMMENT ON COLUMN crm_private.changed_accounts.changed_at IS 'When (transaction time) the account last changed in a way its stored row may not reflect';
