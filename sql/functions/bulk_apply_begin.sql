-- crm_private.bulk_apply_begin() — enter bulk mode for the rest of the calling function's
-- work: registers the transaction in crm_private.bulk_apply_xacts and sets crm.bulk_apply
-- to 'on' (transaction-local). While on, the per-row validation triggers of nodes, edges,
-- assertions, events, event_participants and artifacts are skipped (their WHEN clause) and
-- the caller must write exactly what they would have (see crm_private.rc_apply).
-- Must be paired with crm_private.bulk_apply_end() before control returns to a caller;
-- an error rolls both back. Only the schema owner can write the table (the guard
-- crm_private.tg_bulk_guard refuses everyone else's writes under the setting).
CREATE OR REPLACE FUNCTION crm_private.bulk_apply_begin()
RETURNS void
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    INSERT INTO crm_private.bulk_apply_xacts (xact, pid)
    VALUES (pg_catalog.pg_current_xact_id(), pg_catalog.pg_backend_pid())
    ON CONFLICT (xact) DO NOTHING;
    PERFORM pg_catalog.set_config('crm.bulk_apply', 'on', true);
END;
$$;

COMMENT ON FUNCTION crm_private.bulk_apply_begin() IS
    'Reconciliation: enters bulk mode (per-row validation triggers skipped; the caller validates set-based). Pair with bulk_apply_end().';
