-- Undo 0027: the table gets its former name back (the previous checkout's functions use it).
SET LOCAL lock_timeout = '5s';

DO $$
BEGIN
    IF to_regclass('crm_private.changed_accounts') IS NOT NULL
       AND to_regclass('crm_private.acl_changed_accounts') IS NULL THEN
        ALTER TABLE crm_private.changed_accounts RENAME TO acl_changed_accounts;
        ALTER INDEX IF EXISTS crm_private.changed_accounts_pkey RENAME TO acl_changed_accounts_pkey;
    END IF;
END
$$;
