-- crm_private.refresh_read_model(p_read_model) — refresh one materialized read model.
-- Guarantees: reads the read model's change counter (crm_private.read_models.change_seq)
-- first, then refreshes it CONCURRENTLY (readers of its view are never blocked and see the
-- previous contents until commit; a second refresh of the same view waits), then records in
-- crm_private.view_refreshes when it started (the data's as_of), how long it took and the
-- counter it covers — so a change committed after the counter was read keeps it stale.
-- Graph tables changed by more than 10% since their statistics are analysed first
-- (crm_private.rc_refresh_stats(0.1)).
-- For crm_private.accounts_360_mv it first rewrites the data-quality snapshot
-- crm_private.account_quality (counts and duplicate partners per account) and afterwards
-- prunes crm_private.changed_accounts of the changes the new rows reflect; for the two stored
-- copies that carry their rows' acl it prunes crm_private.read_model_acl_changes of the changes
-- the new rows reflect (and of the "trust none" row of their type).
-- Unknown read model: 22023. Runs as its caller (crm.refresh_read_models and the
-- compatibility wrappers, SECURITY DEFINER as crm_owner); EXECUTE for nobody else.
CREATE OR REPLACE FUNCTION crm_private.refresh_read_model(p_read_model text)
RETURNS TABLE (read_model text, as_of timestamptz, duration_ms numeric)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_seq   bigint;
    v_start timestamptz;
    v_ms    numeric;
    v_type  text;
BEGIN
    SELECT r.change_seq INTO v_seq FROM crm_private.read_models r WHERE r.read_model = p_read_model;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown read model "%"', p_read_model
            USING ERRCODE = '22023',
                  HINT = 'read models: ' || (SELECT string_agg(r.read_model, ', ' ORDER BY r.refresh_order)
                                               FROM crm_private.read_models r);
    END IF;
    v_start := clock_timestamp();
    -- statistics that a load just made wrong would turn the refresh into nested loops
    PERFORM crm_private.rc_refresh_stats(0.1);
    IF p_read_model = 'crm_private.accounts_360_mv' THEN
        DELETE FROM crm_private.account_quality;
        INSERT INTO crm_private.account_quality (account_id, orphans, identity_mismatches, duplicate_candidates, computed_at)
        SELECT x.account_id,
               count(*) FILTER (WHERE x.kind = 'orphan'),
               count(*) FILTER (WHERE x.kind = 'mismatch'),
               count(*) FILTER (WHERE x.kind = 'duplicate'),
               v_start
          FROM (SELECT q.account_id,
                       CASE q.kind WHEN 'identity_mismatch' THEN 'mismatch' WHEN 'duplicate_candidate' THEN 'duplicate'
                                   ELSE q.kind END AS kind
                  FROM crm_private.quality_items_all() q WHERE q.account_id IS NOT NULL) x
         GROUP BY x.account_id;
        -- the partners themselves: callers are shown only the pairs whose other account they see
        UPDATE crm_private.account_quality q SET duplicate_others = d.others
          FROM (SELECT p.account_id, array_agg(DISTINCT p.other ORDER BY p.other) AS others
                  FROM (SELECT x.account_id, x.other
                          FROM crm.duplicate_candidates c   -- one scan of the view, both directions
                          CROSS JOIN LATERAL (VALUES (c.account_id, c.other_account_id),
                                                     (c.other_account_id, c.account_id)) AS x (account_id, other)) p
                 GROUP BY p.account_id) d
         WHERE d.account_id = q.account_id;
        REFRESH MATERIALIZED VIEW CONCURRENTLY crm_private.accounts_360_mv;
        -- ACL changes the refreshed rows already reflect
        DELETE FROM crm_private.changed_accounts c WHERE c.changed_at < v_start;
    ELSE
        EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', p_read_model::regclass);
        -- the acl changes the refreshed rows reflect (crm_private.read_model_acl_changes): the
        -- changes of a node are dropped, up to its last one, only when the stored row holds
        -- exactly what that last change wrote, or when there is no stored row for the node (no
        -- wrapper row depends on it; a later refresh that stores it reads it afresh). The
        -- changes of one node are ordered (seq: a second change waits for the first to commit),
        -- so a node whose live acl differs from its stored one keeps its last change, whatever
        -- committed during the refresh (a change this statement cannot see has a higher seq).
        v_type := CASE p_read_model WHEN 'crm_private.opportunities_active_mv' THEN 'opportunity'
                                    WHEN 'crm_private.contacts_directory_mv' THEN 'person' END;
        IF v_type IS NOT NULL THEN
            DELETE FROM crm_private.read_model_acl_changes c WHERE c.node_id IS NULL AND c.node_type = v_type;
            EXECUTE format(
                'DELETE FROM crm_private.read_model_acl_changes c
                  USING (SELECT DISTINCT ON (l.node_id) l.node_id, l.seq, l.node_type, l.acl, l.removed
                           FROM crm_private.read_model_acl_changes l
                          WHERE l.node_id IS NOT NULL
                          ORDER BY l.node_id, l.seq DESC) last
                  WHERE c.node_id = last.node_id AND c.seq <= last.seq AND last.node_type = $1
                    AND (NOT EXISTS (SELECT 1 FROM %1$s m WHERE m.node_id = last.node_id)
                         OR (NOT last.removed
                             AND EXISTS (SELECT 1 FROM %1$s m
                                          WHERE m.node_id = last.node_id AND m.row_acl IS NOT DISTINCT FROM last.acl)))',
                p_read_model::regclass) USING v_type;
        END IF;
    END IF;
    v_ms := round((extract(epoch FROM clock_timestamp() - v_start) * 1000)::numeric, 3);
    INSERT INTO crm_private.view_refreshes AS r (view_name, refreshed_at, duration_ms, refreshed_seq)
    VALUES (p_read_model, v_start, v_ms, v_seq)
    ON CONFLICT (view_name) DO UPDATE
       SET refreshed_at = EXCLUDED.refreshed_at, duration_ms = EXCLUDED.duration_ms,
           refreshed_seq = greatest(r.refreshed_seq, EXCLUDED.refreshed_seq);
    read_model := p_read_model;
    as_of := v_start;
    duration_ms := v_ms;
    RETURN NEXT;
END;
$$;

COMMENT ON FUNCTION crm_private.refresh_read_model(text) IS
    'Refreshes one materialized read model CONCURRENTLY and records its as_of, duration and the changes it covers. Internal: call crm.refresh_read_models().';
