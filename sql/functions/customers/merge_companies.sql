-- crm.merge_companies(p_keep, p_drop, p_reason) — merge a duplicate company into the kept one
-- (seed 002 Companies: merge). Guarantees: both ids are companies (org nodes; 22023
-- otherwise, P0002 unknown); the merge is crm.merge_nodes (edges, employees, events, current
-- assertions, artifacts and source links move; the duplicate is archived with a merged_into
-- edge; nodes_merged logged; idempotent). EXECUTE for admins only (a connector merges its
-- sources' duplicates through crm.merge_nodes itself). Returns false when already merged.
CREATE OR REPLACE FUNCTION crm.merge_companies(p_keep uuid, p_drop uuid, p_reason text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF (SELECT count(*) FROM crm.nodes n WHERE n.id IN (p_keep, p_drop)) < 2 AND p_keep IS DISTINCT FROM p_drop THEN
        RAISE EXCEPTION 'company not found' USING ERRCODE = 'P0002';
    END IF;
    IF EXISTS (SELECT 1 FROM crm.nodes n WHERE n.id IN (p_keep, p_drop) AND n.node_type <> 'org') THEN
        RAISE EXCEPTION 'crm.merge_companies merges companies (org nodes)' USING ERRCODE = '22023',
              HINT = 'use crm.merge_nodes for other node types';
    END IF;
    RETURN crm.merge_nodes(p_keep, p_drop, p_reason);
END;
$$;

COMMENT ON FUNCTION crm.merge_companies(uuid, uuid, text) IS
$c$Merge a duplicate company into the kept one (crm.merge_nodes for orgs: employees, deals, events, claims and source links move; the duplicate is archived with a merged_into edge). Returns false when already merged. Admins only (a connector merges through crm.merge_nodes, for its sources). Errors: 22023 not companies / same id, P0002 unknown, 42501 not allowed. Example: SELECT crm.merge_companies('<kept org>', '<duplicate org>', 'same company');$c$;
