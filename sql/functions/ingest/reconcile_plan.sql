-- crm.reconcile_plan(p_source) — how to reconcile everything the caller may, fastest: steps in
-- order, each a set of crm.reconcile calls that may run at the same time in separate sessions.
-- Guarantees: step 1 is one call with every object that resolves identity
-- (crm_private.rc_resolves_identity: accounts, people, users — one reconciler at a time) in
-- apply order; step 2 is one call per source with that source's other objects (children and
-- activities, in apply order), which crm.reconcile runs in parallel with each other (a shared
-- reconcile lock and one lock per source). Running the steps in order, each step's calls
-- concurrently and each committed before the next step, applies what one
-- crm.reconcile(p_source) applies: every child and activity finds the accounts and people
-- step 1 resolved. Only sources the caller may reconcile (crm_private.sources_of), p_source
-- NULL = all of them (unknown: 22023; not allowed: 42501, from crm.reconcile when called).
-- pending: the records waiting in the call's objects (as the caller sees crm_raw.records);
-- within a step the calls come largest first, so a pool of sessions taking them in order
-- finishes the step soonest. Reads configuration and counts; EXECUTE for crm_connector and
-- crm_admin.
CREATE OR REPLACE FUNCTION crm.reconcile_plan(p_source text DEFAULT NULL)
RETURNS TABLE (step integer, source text, objects text[], pending bigint)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH o AS (
        SELECT o.source, o.object, o.apply_order, crm_private.rc_resolves_identity(o.source, o.object) AS identity,
               (SELECT count(*) FROM crm_raw.records r
                 WHERE r.source = o.source AND r.object = o.object AND r.status = 'pending') AS pending
          FROM crm_raw.source_objects o
         WHERE (p_source IS NULL OR o.source = p_source)
           AND o.source = ANY (crm_private.sources_of(current_user))
    )
    SELECT 1, CASE WHEN p_source IS NOT NULL THEN p_source END,
           array_agg(o.source || '/' || o.object ORDER BY o.apply_order), sum(o.pending)::bigint
      FROM o WHERE o.identity
    HAVING count(*) > 0
    UNION ALL
    SELECT 2, o.source, array_agg(o.source || '/' || o.object ORDER BY o.apply_order), sum(o.pending)::bigint
      FROM o WHERE NOT o.identity
     GROUP BY o.source
    ORDER BY 1, 4 DESC, 2
$$;

COMMENT ON FUNCTION crm.reconcile_plan(text) IS
$c$The steps of a parallel reconcile of the caller's sources (or p_source): step 1, one crm.reconcile call with every object resolving accounts, people or users; step 2, one call per source with its children and activities — those may run at the same time in separate sessions (largest pending first). Run each step's calls (SELECT * FROM crm.reconcile(source, objects)), commit, then the next step; `crm360 reconcile --jobs N` does. Example: SELECT * FROM crm.reconcile_plan();$c$;
