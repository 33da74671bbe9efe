-- Undo 0033: one row per account again (the latest change of each), keyed by account_id, so the
-- previous checkout's upserts (ON CONFLICT (account_id)) work.
SET LOCAL lock_timeout = '5s';

LOCK TABLE crm_private.changed_accounts IN EXCLUSIVE MODE;
DELETE FROM crm_private.changed_accounts c
 USING crm_private.changed_accounts d
 WHERE d.account_id = c.account_id
   AND (d.changed_at, d.ctid) > (c.changed_at, c.ctid);
DROP INDEX IF EXISTS crm_private.changed_accounts_account;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                    WHERE conrelid = 'crm_private.changed_accounts'::regclass AND contype = 'p') THEN
        ALTER TABLE crm_private.changed_accounts ADD CONSTRAINT changed_accounts_pkey PRIMARY KEY (account_id);
    END IF;
END
$$;
