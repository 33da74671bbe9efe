-- crm_private.lock_opportunity(p_opp_id) — fetch and lock a live opportunity for a write.
-- Guarantees: returns the opportunity row locked FOR NO KEY UPDATE until the end of the
-- transaction (so writers of one deal serialize, while foreign-key checks of inserts that
-- reference it are not blocked); P0002 when the node does not exist or is not an
-- opportunity; CR020 when it is archived.
CREATE OR REPLACE FUNCTION crm_private.lock_opportunity(p_opp_id uuid)
RETURNS crm.nodes
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_opp crm.nodes%ROWTYPE;
BEGIN
    SELECT n.* INTO v_opp FROM crm.nodes n WHERE n.id = p_opp_id FOR NO KEY UPDATE;
    IF NOT FOUND OR v_opp.node_type <> 'opportunity' THEN
        RAISE EXCEPTION 'opportunity % does not exist', p_opp_id
            USING ERRCODE = 'P0002',
                  DETAIL = CASE WHEN v_opp.id IS NULL THEN 'no such node'
                                ELSE format('node %s is a %s', p_opp_id, v_opp.node_type) END;
    END IF;
    IF v_opp.archived_at IS NOT NULL THEN
        RAISE EXCEPTION 'opportunity % (%) is archived', v_opp.properties ->> 'code', p_opp_id
            USING ERRCODE = 'CR020', HINT = 'restore it first: SELECT crm.restore_node(id)';
    END IF;
    RETURN v_opp;
END;
$$;

COMMENT ON FUNCTION crm_private.lock_opportunity(uuid) IS
$c$Internal: return a live opportunity locked FOR NO KEY UPDATE. Errors: P0002 unknown or not an opportunity, CR020 archived.$c$;
