-- crm_private.require_writable(p_ids, p_types, p_what) — the scope check of every bulk
-- operation (seed 002 "Bulk operations"): all of the ids or none.
-- Guarantees: evaluated as the caller (row-level security and crm_private.can_write_node:
-- admins everything; members their own and unclaimed nodes, or what a write grant covers);
-- when any id is NULL, not visible, does not exist, is not of one of p_types (NULL = any) or
-- is not writable for the caller (also: of a type the caller may not write at all,
-- crm_private.writable_node_types — a campaign or a user for a member), raises CR055 with every such id in DETAIL (hidden and
-- missing ids are refused alike: no existence oracle) and nothing is changed; 22023 for an
-- empty or NULL array. Returns the distinct ids (duplicates collapse).
CREATE OR REPLACE FUNCTION crm_private.require_writable(p_ids uuid[], p_types text[], p_what text)
RETURNS uuid[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_refused text;
    v_n       integer;
    v_ids     uuid[];
    v_admin      boolean := crm_private.actor_is_admin();
    v_actor      uuid := crm.current_actor();
    v_principals uuid[] := crm_private.actor_principals();
    v_grants     jsonb := crm_private.actor_grants();
    v_types      text[] := crm_private.writable_node_types();
BEGIN
    IF coalesce(cardinality(p_ids), 0) = 0 THEN
        RAISE EXCEPTION '% needs at least one id', p_what USING ERRCODE = '22023';
    END IF;
    IF array_position(p_ids, NULL) IS NOT NULL THEN
        RAISE EXCEPTION '% got a NULL id', p_what USING ERRCODE = '22023';
    END IF;
    SELECT array_agg(DISTINCT i) INTO v_ids FROM unnest(p_ids) AS i;
    -- crm_private.can_write_node's rule, with the caller's identity computed once (not per id)
    SELECT string_agg(i::text, ', ' ORDER BY i), count(*) INTO v_refused, v_n
      FROM unnest(v_ids) AS i
     WHERE NOT EXISTS (SELECT 1 FROM crm.nodes n
                        WHERE n.id = i AND (p_types IS NULL OR n.node_type = ANY (p_types))
                          AND n.node_type = ANY (v_types)
                          AND crm_private.node_write_rule(n.acl, n.claimed_by, n.node_type, n.attrs, v_admin, v_actor,
                                                          v_principals, v_grants));
    IF v_refused IS NOT NULL THEN
        RAISE EXCEPTION '% refused: % of % id(s) are outside your write scope; nothing was changed',
                        p_what, v_n, cardinality(v_ids)
            USING ERRCODE = 'CR055', DETAIL = 'refused ids: ' || v_refused,
                  HINT = 'you write your own and unclaimed ' || coalesce(array_to_string(p_types, '/'), 'node')
                         || 's (seed 002 scoping); retry without the refused ids';
    END IF;
    RETURN v_ids;
END;
$$;

COMMENT ON FUNCTION crm_private.require_writable(uuid[], text[], text) IS
    'Bulk scope check as the caller: raises CR055 listing every id that is hidden, missing, of another type or not writable; returns the distinct ids.';
