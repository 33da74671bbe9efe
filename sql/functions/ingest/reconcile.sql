-- crm.reconcile(p_source) — apply pending raw records (crm_raw.records) to the graph.
-- Guarantees (crm_private.reconcile_run does the work, as crm_owner): source objects are
-- applied in crm_raw.source_objects.apply_order (accounts before their children), each by its
-- mapping function and the set-based applier crm_private.rc_apply; pending rows without a
-- key are rejected; for full-refresh objects (contracts, invoices) what the latest full run
-- did not deliver is archived as removed, and what it delivered again is restored; one
-- reconciler at a time; replays change nothing. A connector reconciles only the sources it
-- is allowed (crm.allow_source): p_source NULL = all of them, another one = 42501; admins
-- reconcile everything. Returns one row per source object that had work.
CREATE OR REPLACE FUNCTION crm.reconcile(p_source text DEFAULT NULL)
RETURNS TABLE (source text, object text, applied integer, rejected integer, orphans integer,
               skipped integer, removed integer)
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM crm_private.reconcile_run(p_source, current_user)
$$;

COMMENT ON FUNCTION crm.reconcile(text) IS
$c$Apply pending raw records (crm_raw.records) of one source (or all) to the graph, set-based and idempotent: accounts canonical from Salesforce, other systems resolved by the CRM id they store, else by domain (never free-mail), else kept as orphans (crm.orphans); one person per normalized email; owned_by/filed/employs/has_channel/assigned_to edges; status changes superseded with history and logged as events; deleted/voided/removed-from-full-export archived. Connectors (only the sources they are allowed: crm.allow_source) and admins. Returns counts per source object. Errors: 22023 unknown source, 42501 source not allowed. Example: SELECT * FROM crm.reconcile('zendesk');$c$;
