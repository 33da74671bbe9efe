-- crm_private.resolve_account_id(p_account_id) — the visible live account behind an id, as
-- the caller (row-level security decides).
-- Guarantees: NULL → 22023; an id that is not an account, does not exist or is not visible to
-- the caller → P0002 with the same message in every case (no existence oracle); an account
-- archived by crm.merge_nodes (a live merged_into edge) resolves to the kept account, up to
-- 5 hops, so lookups by the old id keep working; an archived account without a merge is
-- returned as is (callers show archived_at).
CREATE OR REPLACE FUNCTION crm_private.resolve_account_id(p_account_id uuid)
RETURNS uuid
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id       uuid := p_account_id;
    v_archived timestamptz;
    v_next     uuid;
BEGIN
    IF p_account_id IS NULL THEN
        RAISE EXCEPTION 'account id must not be NULL' USING ERRCODE = '22023';
    END IF;
    FOR i IN 1..6 LOOP
        SELECT n.archived_at INTO v_archived
          FROM crm.nodes n WHERE n.id = v_id AND n.node_type = 'org';
        IF NOT FOUND THEN
            RAISE EXCEPTION 'account % not found', p_account_id
                USING ERRCODE = 'P0002',
                      HINT = 'the id is not an account you can see; find one with crm.resolve_account(text)';
        END IF;
        EXIT WHEN v_archived IS NULL OR i = 6;
        SELECT e.target_id INTO v_next
          FROM crm.edges e
         WHERE e.source_id = v_id AND e.edge_type = 'merged_into' AND e.archived_at IS NULL
         ORDER BY e.created_at DESC LIMIT 1;
        EXIT WHEN v_next IS NULL;
        v_id := v_next;
    END LOOP;
    RETURN v_id;
END;
$$;

COMMENT ON FUNCTION crm_private.resolve_account_id(uuid) IS
    'The visible account behind an id (following merged_into from archived duplicates). Errors: 22023 NULL, P0002 not an account / not found / not visible (one message for all).';
