-- crm.reconcile_orphans() — retry every orphan record (seed 000 "Reconcile orphans nightly").
-- Guarantees: orphan records become pending again and crm.reconcile() runs: those whose
-- account now exists (the CRM account arrived, a domain was added) are applied, the others
-- stay orphans with refreshed evidence. Connectors and admins only.
CREATE OR REPLACE FUNCTION crm.reconcile_orphans()
RETURNS TABLE (source text, object text, applied integer, rejected integer, orphans integer,
               skipped integer, removed integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('crm360/reconcile', 0));
    UPDATE crm_raw.records r SET status = 'pending' WHERE r.status = 'orphan';
    RETURN QUERY SELECT * FROM crm.reconcile(NULL);
END;
$$;

COMMENT ON FUNCTION crm.reconcile_orphans() IS
$c$Retry all orphan records (source records that could not be resolved to an account) and reconcile everything pending; resolved orphans are applied, the rest stay in crm.orphans. Connectors and admins only. Returns counts per source object like crm.reconcile. Example: SELECT * FROM crm.reconcile_orphans();$c$;
