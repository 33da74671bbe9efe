-- crm.reconcile_orphans() — retry every orphan record (seed 000 "Reconcile orphans nightly").
-- Guarantees: orphan records become pending again and crm.reconcile() runs: those whose
-- account now exists (the CRM account arrived, a domain was added) are applied, the others
-- stay orphans with refreshed evidence. Connectors (their allowed sources) and admins only.
CREATE OR REPLACE FUNCTION crm.reconcile_orphans()
RETURNS TABLE (source text, object text, applied integer, rejected integer, orphans integer,
               skipped integer, removed integer)
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM crm_private.reconcile_orphans_run(current_user)
$$;

COMMENT ON FUNCTION crm.reconcile_orphans() IS
$c$Retry all orphan records (source records that could not be resolved to an account) and reconcile everything pending; resolved orphans are applied, the rest stay in crm.orphans. Connectors and admins only. Returns counts per source object like crm.reconcile. Example: SELECT * FROM crm.reconcile_orphans();$c$;
