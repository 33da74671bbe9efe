-- crm_private.recompute_acl(p_node_ids) — recompute effective ACLs, set-based, level by level.
-- Guarantees: for each node, acl = NULL when its type is not access-checked; otherwise its
-- own restrictions (restricted_to) or, when it has none, the union of the acl of its live
-- owned_by parents — plus its claimer. Nodes whose acl changed pass it on to their owned_by
-- children (next level, up to 64 levels; cycles stop because unchanged nodes stop the
-- walk), and to the copies on edges, assertions, artifacts, event participants and events
-- (crm_private.propagate_acl). Runs as the schema owner (SECURITY DEFINER) because a
-- caller's visibility must not change the result. Returns the number of nodes changed.
CREATE OR REPLACE FUNCTION crm_private.recompute_acl(p_node_ids uuid[])
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_prev    text := coalesce(current_setting('crm.acl_maintenance', true), 'off');
    v_ids     uuid[] := p_node_ids;
    v_changed uuid[];
    v_total   integer := 0;
    v_depth   integer := 0;
BEGIN
    PERFORM set_config('crm.acl_maintenance', 'on', true);
    WHILE v_ids IS NOT NULL AND cardinality(v_ids) > 0 AND v_depth < 64 LOOP
        WITH parent_acl AS (
            -- union of the live owned_by parents' acl, per child, in one aggregate
            SELECT e.source_id AS id, array_agg(x) AS acl
              FROM crm.edges e
              JOIN crm.nodes p ON p.id = e.target_id
              CROSS JOIN LATERAL unnest(p.acl) AS x
             WHERE e.source_id = ANY (v_ids) AND e.edge_type = 'owned_by'
               AND e.archived_at IS NULL AND e.effective_to IS NULL
             GROUP BY e.source_id
        ), comp AS (
            SELECT n.id,
                   CASE WHEN NOT t.access_checked THEN NULL
                        ELSE (SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}')
                                FROM unnest(CASE WHEN cardinality(n.restricted_to) > 0 THEN n.restricted_to
                                                 ELSE pa.acl END || n.claimed_by) AS x
                               WHERE x IS NOT NULL)
                   END AS acl
              FROM crm.nodes n
              JOIN crm.node_types t ON t.node_type = n.node_type
              LEFT JOIN parent_acl pa ON pa.id = n.id
             WHERE n.id = ANY (v_ids)
        ), upd AS (
            UPDATE crm.nodes n SET acl = comp.acl
              FROM comp
             WHERE n.id = comp.id AND n.acl IS DISTINCT FROM comp.acl
            RETURNING n.id
        )
        SELECT array_agg(id) INTO v_changed FROM upd;

        EXIT WHEN v_changed IS NULL;
        v_total := v_total + cardinality(v_changed);
        PERFORM crm_private.propagate_acl(v_changed);

        SELECT array_agg(DISTINCT e.source_id) INTO v_ids
          FROM crm.edges e
         WHERE e.target_id = ANY (v_changed) AND e.edge_type = 'owned_by'
           AND e.archived_at IS NULL AND e.effective_to IS NULL;
        v_depth := v_depth + 1;
    END LOOP;
    PERFORM set_config('crm.acl_maintenance', v_prev, true);
    RETURN v_total;
END;
$$;

COMMENT ON FUNCTION crm_private.recompute_acl(uuid[]) IS
    'Recomputes the effective ACL of the nodes and, where it changed, of their owned_by descendants and of the copies on edges/assertions/artifacts/events. Returns the number of nodes changed.';
