-- crm.reconcile(p_source, p_objects) — apply pending raw records (crm_raw.records) to the graph.
-- Guarantees (crm_private.reconcile_run does the work, as crm_owner): source objects are
-- applied in crm_raw.source_objects.apply_order (accounts before their children), each by its
-- mapping function and the set-based applier crm_private.rc_apply; pending rows without a
-- key are rejected; for full-refresh objects (contracts, invoices) what the latest full run
-- did not deliver is archived as removed, and what it delivered again is restored; replays
-- change nothing. A connector reconciles only the sources it is allowed (crm.allow_source):
-- p_source NULL = all of them, another one = 42501; admins reconcile everything. p_objects
-- ('source/object') narrows the run to those objects (22023 unknown). Runs that include an
-- object resolving identity (accounts, people, users) are one at a time; runs of only
-- children and activities over different sources run in parallel (crm.reconcile_plan lists
-- the steps: `crm360 reconcile --jobs N` runs them). Returns one row per source object that
-- had work.
CREATE OR REPLACE FUNCTION crm.reconcile(p_source text DEFAULT NULL, p_objects text[] DEFAULT NULL)
RETURNS TABLE (source text, object text, applied integer, rejected integer, orphans integer,
               skipped integer, removed integer)
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM crm_private.reconcile_run(p_source, current_user, p_objects)
$$;

COMMENT ON FUNCTION crm.reconcile(text, text[]) IS
$c$Apply pending raw records (crm_raw.records) of one source (or all; p_objects: only those 'source/object's) to the graph, set-based and idempotent: accounts canonical from Salesforce, other systems resolved by the CRM id they store, else by domain (never free-mail), else kept as orphans (crm.orphans); one person per normalized email; owned_by/filed/employs/has_channel/assigned_to edges; status changes superseded with history and logged as events; deleted/voided/removed-from-full-export archived. Runs including accounts, people or users are one at a time; runs of only children and activities over different sources run in parallel (see crm.reconcile_plan). Connectors (only the sources they are allowed: crm.allow_source) and admins. Returns counts per source object. Errors: 22023 unknown source or object, 42501 source not allowed. Example: SELECT * FROM crm.reconcile('zendesk'); SELECT * FROM crm.reconcile(NULL, ARRAY['zendesk/tickets']);$c$;
