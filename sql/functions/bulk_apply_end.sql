-- crm_private.bulk_apply_end() — leave bulk mode: crm.bulk_apply off and the transaction's
-- registration removed, so nothing after the reconciliation step is trusted.
CREATE OR REPLACE FUNCTION crm_private.bulk_apply_end()
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    PERFORM pg_catalog.set_config('crm.bulk_apply', 'off', true);
    DELETE FROM crm_private.bulk_apply_xacts x WHERE x.xact = pg_catalog.pg_current_xact_id();
END;
$$;

COMMENT ON FUNCTION crm_private.bulk_apply_end() IS
    'Reconciliation: leaves bulk mode (setting off, registration removed).';
