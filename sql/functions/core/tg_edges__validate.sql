-- crm_private.tg_edges__validate() — BEFORE INSERT OR UPDATE on crm.edges.
-- Guarantees: the edge type is registered (CR010); both endpoints exist and are visible to
-- the caller (else 42501; 23503 for admins), are live
-- when the edge is created (CR020) and have node types the edge type allows (CR012);
-- temporal edges get effective_from = now() when not given; endpoints and type never
-- change after insert (create a new edge instead, CR015); source_acl/target_acl are copied
-- from the endpoints and cannot be written by callers; updated_at is bumped.
CREATE OR REPLACE FUNCTION crm_private.tg_edges__validate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_row record;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.edge_type <> OLD.edge_type OR NEW.source_id <> OLD.source_id OR NEW.target_id <> OLD.target_id THEN
            RAISE EXCEPTION 'an edge''s type and endpoints cannot change'
                USING ERRCODE = 'CR015', HINT = 'end or archive this edge and create a new one';
        END IF;
        IF NOT (coalesce(current_setting('crm.acl_maintenance', true), '') = 'on'
                AND crm_private.acl_maintenance()) THEN
            NEW.source_acl := OLD.source_acl;
            NEW.target_acl := OLD.target_acl;
            NEW.updated_at := now();
        END IF;
        RETURN NEW;
    END IF;

    -- One query per row: the registry row and both endpoints, read as the caller — a node
    -- the caller cannot see is reported exactly like a node that does not exist (42501 for
    -- non-admins), so neither existence nor type leaks out.
    SELECT t.edge_type, t.source_types, t.target_types, t.temporal,
           s.id AS s_id, s.node_type AS s_type, s.archived_at AS s_archived, s.acl AS s_acl,
           g.id AS g_id, g.node_type AS g_type, g.archived_at AS g_archived, g.acl AS g_acl
      INTO v_row
      FROM (SELECT 1) one
      LEFT JOIN crm.edge_types t ON t.edge_type = NEW.edge_type
      LEFT JOIN crm.nodes s ON s.id = NEW.source_id
      LEFT JOIN crm.nodes g ON g.id = NEW.target_id;

    IF v_row.edge_type IS NULL THEN
        RAISE EXCEPTION 'unknown edge type "%"', NEW.edge_type
            USING ERRCODE = 'CR010',
                  HINT = 'registered edge types: ' ||
                         (SELECT string_agg(t.edge_type, ', ' ORDER BY t.edge_type) FROM crm.edge_types t);
    END IF;
    IF v_row.s_id IS NULL THEN
        PERFORM crm_private.raise_not_visible('edge source', NEW.source_id);
    END IF;
    IF v_row.g_id IS NULL THEN
        PERFORM crm_private.raise_not_visible('edge target', NEW.target_id);
    END IF;
    NEW.source_acl := v_row.s_acl;
    NEW.target_acl := v_row.g_acl;

    IF v_row.source_types IS NOT NULL AND NOT (v_row.s_type = ANY (v_row.source_types)) THEN
        RAISE EXCEPTION 'a % edge cannot start at a % node', NEW.edge_type, v_row.s_type
            USING ERRCODE = 'CR012',
                  DETAIL = format('%s: %s -> %s', NEW.edge_type, array_to_string(v_row.source_types, '|'),
                                  coalesce(array_to_string(v_row.target_types, '|'), 'any')),
                  HINT = 'check the direction and the node types (see crm.edge_types)';
    END IF;
    IF v_row.target_types IS NOT NULL AND NOT (v_row.g_type = ANY (v_row.target_types)) THEN
        RAISE EXCEPTION 'a % edge cannot end at a % node', NEW.edge_type, v_row.g_type
            USING ERRCODE = 'CR012',
                  DETAIL = format('%s: %s -> %s', NEW.edge_type,
                                  coalesce(array_to_string(v_row.source_types, '|'), 'any'),
                                  array_to_string(v_row.target_types, '|')),
                  HINT = 'check the direction and the node types (see crm.edge_types)';
    END IF;
    IF NEW.edge_type <> 'merged_into' AND (v_row.s_archived IS NOT NULL OR v_row.g_archived IS NOT NULL) THEN
        RAISE EXCEPTION 'cannot link an archived node'
            USING ERRCODE = 'CR020', HINT = 'restore the node first (crm.restore_node)';
    END IF;

    IF v_row.temporal AND NEW.effective_from IS NULL THEN
        NEW.effective_from := now();
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION crm_private.tg_edges__validate() IS
    'Trigger: validates edge type, endpoint existence and types, liveness (CR010, CR012, CR020, 23503); defaults effective_from of temporal edges.';

-- skipped (WHEN) only for crm360's own statements (current_user crm_owner) in rc_apply's bulk
-- mode, which does this work set-based; every SECURITY DEFINER function pins crm.bulk_apply off,
-- so no caller's setting reaches crm_owner's code, and a caller's own statements never skip it
CREATE OR REPLACE TRIGGER tg_edges__validate
    BEFORE INSERT OR UPDATE ON crm.edges
    FOR EACH ROW
    WHEN (current_user <> 'crm_owner' OR pg_catalog.current_setting('crm.bulk_apply', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION crm_private.tg_edges__validate();
