-- crm_private.rc_remove_missing(p_source, p_object) — full-refresh removal (CLM contracts,
-- Stripe invoices are delivered whole every day).
-- Guarantees: a live node linked to a record of this object that the latest landed
-- full-refresh run did not deliver is archived (attrs archived_by = source,
-- removed_at_source) — never deleted; a contract also gets contract_status 'removed'
-- (superseding, history kept); each removal is logged once as node_archived. No full run
-- yet: nothing happens. Returns the number of nodes removed.
CREATE OR REPLACE FUNCTION crm_private.rc_remove_missing(p_source text, p_object text)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_run bigint;
    v_ids uuid[];
    v_now timestamptz := now();
BEGIN
    SELECT max(r.id) INTO v_run FROM crm_raw.sync_runs r
     WHERE r.source = p_source AND r.object = p_object AND r.full_refresh
       AND r.landed_at IS NOT NULL AND r.status <> 'failed';
    IF v_run IS NULL THEN
        RETURN 0;
    END IF;
    SELECT array_agg(DISTINCT ns.node_id) INTO v_ids
      FROM crm.node_sources ns
      JOIN crm.nodes n ON n.id = ns.node_id AND n.archived_at IS NULL
     WHERE ns.source = p_source AND ns.object = p_object
       -- a hashed set of the keys the latest full run delivered: linear whatever the
       -- statistics say (the keys of an object first loaded in this transaction are not in
       -- them yet; an anti-join planned for "1 row" was quadratic)
       AND ns.external_id NOT IN (SELECT r.external_id FROM crm_raw.run_records r
                                   WHERE r.source = p_source AND r.object = p_object
                                     AND r.run_id >= v_run AND r.external_id IS NOT NULL);
    IF v_ids IS NULL THEN
        RETURN 0;
    END IF;

    -- one statement, no temporary table of its own (nothing the caller prepared is ever used);
    -- the insert reads the update's result, so the old claim is superseded first
    WITH x AS MATERIALIZED (
        SELECT a.id AS old_id, a.subject_node_id AS node_id, a.claim || '{"status": "removed"}' AS claim,
               crm_private.new_id() AS new_id
          FROM crm.assertions a
         WHERE a.subject_node_id = ANY (v_ids) AND a.assertion_type = 'contract_status'
           AND a.assertion_key = '' AND a.superseded_at IS NULL AND a.claim ->> 'status' <> 'removed'
    ), superseded AS (
        UPDATE crm.assertions a SET superseded_at = v_now, superseded_by = x.new_id
          FROM x WHERE a.id = x.old_id
        RETURNING a.id
    )
    INSERT INTO crm.assertions (id, assertion_type, subject_node_id, assertion_key, claim, asserted_at)
    SELECT x.new_id, 'contract_status', x.node_id, '', x.claim, v_now
      FROM x JOIN superseded s ON s.id = x.old_id;

    UPDATE crm.nodes n
       SET archived_at = v_now,
           attrs = n.attrs || jsonb_build_object('archived_by', 'source', 'removed_at_source', v_now)
     WHERE n.id = ANY (v_ids);

    TRUNCATE pg_temp.rc_events;
    INSERT INTO pg_temp.rc_events (event_type, occurred_at, summary, properties, external_source, external_id, parts, roles)
    SELECT 'node_archived', v_now, format('Archived %s %s (missing from the full %s export)', n.node_type, n.label, p_source),
           jsonb_build_object('reason', format('removed at source: missing from full-refresh run %s', v_run)),
           p_source, format('removed/%s/%s/%s', p_object, n.id, v_run), ARRAY[n.id] || o.accounts,
           ARRAY['subject'] || array_fill('account'::text, ARRAY[cardinality(o.accounts)])
      FROM crm.nodes n
      CROSS JOIN LATERAL (SELECT coalesce(array_agg(e.target_id), '{}') AS accounts FROM crm.edges e
                           WHERE e.source_id = n.id AND e.edge_type = 'owned_by'
                             AND e.archived_at IS NULL AND e.effective_to IS NULL) o
     WHERE n.id = ANY (v_ids);
    PERFORM crm_private.rc_write_events();
    RETURN cardinality(v_ids);
END;
$$;

COMMENT ON FUNCTION crm_private.rc_remove_missing(text, text) IS
    'Reconciliation: archives (as removed at source) the live nodes of a full-refresh object missing from its latest full run; contracts get contract_status removed. Returns the number removed.';
