-- crm_private.bulk_apply_ok() — true inside crm360's own bulk reconciliation.
-- Guarantees: true only when the setting crm.bulk_apply is 'on', the current role owns
-- schema crm, and this very transaction registered itself in crm_private.bulk_apply_xacts
-- (crm_private.bulk_apply_begin, called by rc_apply). A role that sets crm.bulk_apply
-- itself — and then calls any SECURITY DEFINER function — gets false.
CREATE OR REPLACE FUNCTION crm_private.bulk_apply_ok()
RETURNS boolean
LANGUAGE plpgsql
STABLE
SET search_path = ''
AS $$
BEGIN
    -- in this order: the registration table is readable only by the owner
    IF coalesce(pg_catalog.current_setting('crm.bulk_apply', true), '') <> 'on'
       OR current_user <> (SELECT n.nspowner::regrole::text FROM pg_catalog.pg_namespace n WHERE n.nspname = 'crm') THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT 1 FROM crm_private.bulk_apply_xacts x
                    WHERE x.xact = pg_catalog.pg_current_xact_id() AND x.pid = pg_catalog.pg_backend_pid());
END;
$$;

COMMENT ON FUNCTION crm_private.bulk_apply_ok() IS
    'True inside crm_private.rc_apply''s bulk mode (setting crm.bulk_apply on, schema owner, transaction registered by bulk_apply_begin).';
