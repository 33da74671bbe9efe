-- crm_private.reconcile_run(p_source, p_role, p_objects) — the work of crm.reconcile: apply
-- pending raw records (crm_raw.records) to the graph.
-- Guarantees: source objects are applied in crm_raw.source_objects.apply_order (accounts
-- before their children), each by its mapping function (crm_private.reconcile_<source>_<object>)
-- and the set-based applier crm_private.rc_apply; pending rows without a key are rejected;
-- for full-refresh objects (contracts, invoices) what the latest full run did not deliver is
-- archived as removed, and what it delivered again is restored (what the object's full runs
-- older than its latest finished good one delivered again, crm_raw.run_deliveries, is
-- pruned); replays change nothing in the graph; only
-- the sources p_role — the caller's current_user, passed by crm.reconcile, trusted only when
-- the session may become it — is allowed (crm_private.sources_of: every source for admins,
-- crm_raw.connector_sources for connectors): p_source NULL = all of those, a registered
-- source it is not allowed = 42501; p_objects ('source/object', NULL = every object of those
-- sources) narrows the run: an unregistered one = 22023, one of a source not in the run =
-- 42501 when the role may not reconcile it, else 22023.
-- Reconcilers (crm_private.xact_lock, keys no other role can hold, released at commit): a run
-- that includes an object resolving identity (crm_private.rc_resolves_identity: accounts,
-- people, users) holds crm360's reconcile lock exclusively — one such run at a time, and none
-- beside any other run, so every account and person is created once; a run of only the other
-- objects (children and activities keyed by their own source ids) holds it shared and one lock
-- per source it applies, taken in source order — runs over different sources proceed in
-- parallel (crm.reconcile_plan), two over the same source one after the other.
-- After Salesforce users or accounts were applied the per-owner team memberships are brought
-- in line (crm_private.sync_owner_teams), and the read models fed by the objects that changed
-- are marked stale (crm_private.mark_read_models_changed: crm.refresh_read_models() refreshes
-- them); the search chunks of the tickets and activities applied are refreshed
-- (crm_private.refresh_chunks). What a parallel run also writes is either append-only
-- (crm_private.changed_accounts: no row locks) or locked in key order at the end of the run
-- (the read models' counters): concurrent runs do not wait for each other there.
-- Runs as crm_owner (SECURITY DEFINER) so restrictions can be set; EXECUTE for crm_connector
-- and crm_admin. Returns one row per source object that had work.
CREATE OR REPLACE FUNCTION crm_private.reconcile_run(p_source text, p_role name, p_objects text[] DEFAULT NULL)
RETURNS TABLE (source text, object text, applied integer, rejected integer, orphans integer,
               skipped integer, removed integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_allowed text[] := crm_private.sources_of(p_role);
    v_so  crm_raw.source_objects%ROWTYPE;
    v_c   record;
    v_run bigint;
    v_removed bigint[];
    v_changed text[] := '{}';
    v_owners  boolean := false;
    v_touched uuid[] := '{}';
    v_applied uuid[] := '{}';   -- the nodes and events applied, while the batch is small
    v_n_applied bigint := 0;
    v_scope   crm_raw.source_objects[];
    v_bad     text;
BEGIN
    IF p_source IS NOT NULL AND NOT EXISTS (SELECT 1 FROM crm_raw.source_objects o WHERE o.source = p_source) THEN
        RAISE EXCEPTION 'unknown source "%"', p_source
            USING ERRCODE = '22023',
                  HINT = 'sources: ' || (SELECT string_agg(DISTINCT o.source, ', ') FROM crm_raw.source_objects o);
    END IF;
    IF p_source IS NOT NULL AND NOT (p_source = ANY (v_allowed)) THEN
        RAISE EXCEPTION 'role % may not reconcile source "%"', p_role, p_source
            USING ERRCODE = '42501', HINT = format('an admin allows it: SELECT crm.allow_source(%L, %L)', p_role, p_source);
    END IF;
    IF p_objects IS NOT NULL THEN
        SELECT string_agg(x, ', ') INTO v_bad
          FROM unnest(p_objects) AS x
         WHERE x IS NULL OR NOT EXISTS (SELECT 1 FROM crm_raw.source_objects o WHERE o.source || '/' || o.object = x);
        IF v_bad IS NOT NULL OR array_position(p_objects, NULL) IS NOT NULL THEN
            RAISE EXCEPTION 'unknown source object(s): %', coalesce(v_bad, 'NULL')
                USING ERRCODE = '22023',
                      HINT = 'name objects as source/object, e.g. zendesk/tickets: see crm_raw.source_objects';
        END IF;
        SELECT string_agg(x, ', ') INTO v_bad
          FROM unnest(p_objects) AS x
         WHERE NOT (split_part(x, '/', 1) = ANY (v_allowed));
        IF v_bad IS NOT NULL THEN
            RAISE EXCEPTION 'role % may not reconcile %', p_role, v_bad
                USING ERRCODE = '42501', HINT = 'an admin allows a source: SELECT crm.allow_source(role, source)';
        END IF;
        SELECT string_agg(x, ', ') INTO v_bad
          FROM unnest(p_objects) AS x
         WHERE p_source IS NOT NULL AND split_part(x, '/', 1) <> p_source;
        IF v_bad IS NOT NULL THEN
            RAISE EXCEPTION 'source object(s) % are not of source "%"', v_bad, p_source
                USING ERRCODE = '22023', HINT = 'pass p_source NULL to name objects of several sources';
        END IF;
    END IF;
    -- the objects of this run, in apply order
    SELECT coalesce(array_agg(o ORDER BY o.apply_order), '{}') INTO v_scope
      FROM crm_raw.source_objects o
     WHERE (p_source IS NULL OR o.source = p_source) AND o.source = ANY (v_allowed)
       AND (p_objects IS NULL OR o.source || '/' || o.object = ANY (p_objects));
    IF cardinality(v_scope) = 0 THEN
        RETURN;       -- nothing the caller may reconcile: no lock taken (review s23b F2)
    END IF;
    -- one reconciler at a time for identity; runs of other objects in parallel per source
    IF EXISTS (SELECT 1 FROM unnest(v_scope) o WHERE crm_private.rc_resolves_identity(o.source, o.object)) THEN
        PERFORM crm_private.xact_lock('crm360/reconcile');
    ELSE
        PERFORM crm_private.xact_lock('crm360/reconcile', true);
        PERFORM crm_private.xact_lock('crm360/reconcile/' || x.source)
           FROM (SELECT DISTINCT o.source FROM unnest(v_scope) o ORDER BY o.source) x;
    END IF;

    UPDATE crm_raw.records r SET status = 'rejected', reason = format('missing key %s', o.key_field)
      FROM unnest(v_scope) o
     WHERE r.status = 'pending' AND r.external_id IS NULL AND o.source = r.source AND o.object = r.object;

    FOR v_so IN SELECT o.* FROM unnest(v_scope) AS o ORDER BY o.apply_order LOOP
        applied := 0; rejected := 0; orphans := 0; skipped := 0; removed := 0;
        IF v_so.full_refresh THEN
            SELECT max(r.id) INTO v_run FROM crm_raw.sync_runs r
             WHERE r.source = v_so.source AND r.object = v_so.object AND r.full_refresh
               AND r.landed_at IS NOT NULL AND r.status <> 'failed';
            -- delivered again after a removal: apply the delivered version again (restores the node)
            -- (driven by the few removed nodes, index nodes_removed_at_source, then by record
            -- id: a join here was planned from the run's records when statistics lagged a bulk
            -- load — quadratic, seconds per call)
            -- what a full run older than the latest finished good one (succeeded or partial)
            -- delivered again is no longer needed: removals compare with that one or a later
            -- one (a later run that is still running may yet fail, and then the finished one
            -- decides again — its list is kept); the older runs' counts were fixed when they
            -- finished
            DELETE FROM crm_raw.run_deliveries d
             USING crm_raw.sync_runs s
             WHERE s.id = d.run_id AND s.source = v_so.source AND s.object = v_so.object
               AND s.status <> 'running'
               AND d.run_id < (SELECT max(g.id) FROM crm_raw.sync_runs g
                                WHERE g.source = v_so.source AND g.object = v_so.object AND g.full_refresh
                                  AND g.landed_at IS NOT NULL AND g.status IN ('succeeded', 'partial'));
            SELECT array_agg(ns.last_record_id) INTO v_removed
              FROM crm.nodes n
              JOIN crm.node_sources ns ON ns.node_id = n.id
             WHERE n.archived_at IS NOT NULL AND n.attrs ? 'removed_at_source'
               AND ns.source = v_so.source AND ns.object = v_so.object;
            IF v_removed IS NOT NULL THEN
                UPDATE crm_raw.records r SET status = 'pending', reason = 'delivered again after removal at source'
                 WHERE r.id = ANY (v_removed) AND r.status = 'applied'
                   AND r.id IN (SELECT d.record_id FROM crm_raw.run_records d
                                 WHERE d.record_id = ANY (v_removed) AND d.run_id >= v_run
                                   AND d.source = v_so.source AND d.object = v_so.object);
            END IF;
        END IF;
        IF EXISTS (SELECT 1 FROM crm_raw.records r
                    WHERE r.source = v_so.source AND r.object = v_so.object AND r.status = 'pending') THEN
            PERFORM crm_private.rc_prepare();
            CASE v_so.source || '/' || v_so.object
                WHEN 'salesforce/User' THEN PERFORM crm_private.reconcile_salesforce_user();
                WHEN 'salesforce/Account' THEN PERFORM crm_private.reconcile_salesforce_account();
                WHEN 'salesforce/Contact' THEN PERFORM crm_private.reconcile_salesforce_contact();
                WHEN 'salesforce/Opportunity' THEN PERFORM crm_private.reconcile_salesforce_opportunity();
                WHEN 'salesforce/Event' THEN PERFORM crm_private.reconcile_salesforce_event();
                WHEN 'salesforce/Task' THEN PERFORM crm_private.reconcile_salesforce_task();
                WHEN 'zendesk/organizations' THEN PERFORM crm_private.reconcile_zendesk_organization();
                WHEN 'zendesk/users' THEN PERFORM crm_private.reconcile_zendesk_user();
                WHEN 'zendesk/tickets' THEN PERFORM crm_private.reconcile_zendesk_ticket();
                WHEN 'zendesk/ticket_comments' THEN PERFORM crm_private.reconcile_zendesk_ticket_comment();
                WHEN 'clm/contracts' THEN PERFORM crm_private.reconcile_clm_contract();
                WHEN 'stripe/customers' THEN PERFORM crm_private.reconcile_stripe_customer();
                WHEN 'stripe/invoices' THEN PERFORM crm_private.reconcile_stripe_invoice();
                ELSE CONTINUE;   -- registered without a mapping: left pending
            END CASE;
            SELECT * INTO v_c FROM crm_private.rc_apply(v_so.source, v_so.object);
            applied := v_c.applied; rejected := v_c.rejected; orphans := v_c.orphans; skipped := v_c.skipped;
            -- what an incremental batch touched (accounts_360 computes those accounts live until
            -- the next refresh); a load past 10,000 records is left to the refresh that follows it
            v_n_applied := v_n_applied + v_c.applied;
            IF v_c.applied > 0 AND v_n_applied <= 10000 THEN
                v_applied := v_applied || ARRAY(SELECT s.node_id FROM pg_temp.rc_stage s
                                                 WHERE s.ok AND s.node_id IS NOT NULL);
            END IF;
            -- what may carry search text (tickets, and the events of activities/comments)
            IF v_c.applied > 0 THEN
                v_touched := v_touched || ARRAY(SELECT s.node_id FROM pg_temp.rc_stage s
                                                 WHERE s.ok AND s.node_id IS NOT NULL
                                                   AND (s.node_type = 'ticket' OR s.kind = 'activity'));
            END IF;
        END IF;
        IF v_so.full_refresh AND v_so.object IN ('contracts', 'invoices') THEN
            PERFORM crm_private.rc_prepare();
            removed := crm_private.rc_remove_missing(v_so.source, v_so.object);
        END IF;
        IF applied + removed > 0 THEN
            v_changed := v_changed || (v_so.source || '/' || v_so.object);
            v_owners := v_owners OR (v_so.source = 'salesforce' AND v_so.object IN ('User', 'Account'));
        END IF;
        IF applied + rejected + orphans + skipped + removed > 0 THEN
            source := v_so.source;
            object := v_so.object;
            RETURN NEXT;
        END IF;
    END LOOP;
    -- the owners of accounts in their per-owner teams (crm_raw.ownership_mapping)
    IF v_owners THEN
        PERFORM crm_private.sync_owner_teams();
    END IF;
    -- search chunks of the texts that arrived or changed (incremental; docs/search.md)
    IF cardinality(v_touched) > 0 THEN
        PERFORM crm_private.refresh_chunks(v_touched);
    END IF;
    -- the stored Account 360 rows of the accounts a small batch touched are not served until the
    -- next refresh (crm_private.accounts_360_stored computes them live): the account itself,
    -- the accounts of the nodes it owns (also one it no longer owns), and those the events
    -- it applied are about
    IF cardinality(v_applied) > 0 AND v_n_applied <= 10000 THEN
        INSERT INTO crm_private.changed_accounts (account_id, changed_at)
        SELECT DISTINCT x.account_id, now()
          FROM (SELECT n.id AS account_id FROM crm.nodes n WHERE n.id = ANY (v_applied) AND n.node_type = 'org'
                UNION ALL
                SELECT e.target_id FROM crm.edges e WHERE e.source_id = ANY (v_applied) AND e.edge_type = 'owned_by'
                UNION ALL
                SELECT p.node_id FROM crm.event_participants p JOIN crm.nodes o ON o.id = p.node_id AND o.node_type = 'org'
                 WHERE p.event_id = ANY (v_applied)
                UNION ALL
                SELECT e.target_id FROM crm.event_participants p
                  JOIN crm.edges e ON e.source_id = p.node_id AND e.edge_type = 'owned_by'
                 WHERE p.event_id = ANY (v_applied)) x
         WHERE x.account_id IS NOT NULL;
    END IF;
    -- the read models fed by what was applied are stale until refreshed
    IF cardinality(v_changed) > 0 THEN
        PERFORM crm_private.mark_read_models_changed(v_changed);
    END IF;
END;
$$;

COMMENT ON FUNCTION crm_private.reconcile_run(text, name, text[]) IS
    'The work of crm.reconcile (as crm_owner), limited to the sources the caller role may reconcile (and to p_objects); identity-resolving objects one reconciler at a time, the others in parallel per source.';
