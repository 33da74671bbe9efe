-- crm_private.search_chunks(p_account_id, p_tsq, p_words, p_embedding, p_k, p_role) — the
-- branches of crm.search_in_account, as crm_owner, for the role p_role (the caller's
-- current_user, passed by crm.search_in_account).
-- Why SECURITY DEFINER: under row-level security the caller may use an index only with
-- leakproof operators, and @@ and <=> are not: as the caller, full text would read and rank
-- every chunk of the account, each looked up under the events/nodes policies (tens of
-- milliseconds at 20k chunks). As the owner, the caller's principals become part of the
-- index scan (acl_tsv in the GIN index chunks_search; acl in chunks_account_vectors), so
-- every branch reads, ranks and times only chunks the caller may see
-- (crm_private.search_branches).
-- Guarantees:
-- * Nothing when the account (an org) is not visible to p_role (the nodes policy's rules).
-- * For a role without node grants: exactly the chunks the chunks policy shows it — its
--   principals overlapping the chunk's acl (the source's acl, or the recorder of an event
--   about nothing: crm_private.chunk_acl_of), or a non-access-checked node's chunk; the
--   account visible (checked once, above). An admin: every chunk of the account.
-- * For a role with node grants (whose visibility is not an acl overlap): nothing —
--   crm.search_in_account runs crm_private.search_branches as the caller for them, under
--   the chunks policy.
-- * p_role is trusted only when the session may become it (crm_private.caller_principals,
--   role_is_admin, grants_of: nothing and false otherwise), so a forged role name sees only
--   what the policies show anyone.
-- * Bounded work for any input: p_k 1..200, p_tsq at most 64 nodes, p_words at most 16
--   (CR044 otherwise) — it is callable directly.
-- * Reads no caller temp object; crm360's flags pinned.
CREATE OR REPLACE FUNCTION crm_private.search_chunks(p_account_id uuid, p_tsq tsquery, p_words text[],
                                                    p_embedding extensions.halfvec, p_k integer, p_role name)
RETURNS TABLE (chunk_id bigint, branch text, rk bigint, occurred_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
#variable_conflict use_column
DECLARE
    v_admin  boolean := crm_private.role_is_admin(p_role);
    v_princ  uuid[];
    v_grants jsonb := '[]';
BEGIN
    IF p_k IS NULL OR p_k < 1 OR p_k > 200 OR numnode(p_tsq) > 64 OR cardinality(p_words) > 16 THEN
        RAISE EXCEPTION 'search_chunks: p_k must be 1..200, p_tsq at most 64 nodes, p_words at most 16'
            USING ERRCODE = 'CR044', HINT = 'crm.search_in_account validates its input and calls this';
    END IF;
    IF p_account_id IS NULL THEN
        RETURN;
    END IF;
    IF NOT v_admin THEN
        v_princ := crm_private.caller_principals(p_role);
        -- node grants only: assertion, edge and event grants do not widen which nodes or chunks
        -- are visible (their holders are answered by the acl overlap like everyone else)
        v_grants := (SELECT coalesce(jsonb_agg(g), '[]') FROM jsonb_array_elements(crm_private.grants_of(v_princ)) g
                      WHERE g ->> 'resource_type' = 'node');
        IF v_grants <> '[]'::jsonb THEN
            RETURN;
        END IF;
    END IF;
    -- the account itself (the nodes policy's rules for a role without grants)
    IF NOT EXISTS (SELECT 1 FROM crm.nodes o
                    WHERE o.id = p_account_id AND o.node_type = 'org'
                      AND (v_admin OR o.acl IS NULL OR o.acl && v_princ)) THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM crm_private.search_branches(p_account_id, p_tsq, p_words, p_embedding, p_k,
                                                           CASE WHEN v_admin THEN NULL ELSE v_princ END);
END;
$$;

COMMENT ON FUNCTION crm_private.search_chunks(uuid, tsquery, text[], extensions.halfvec, integer, name) IS
    'The branches of crm.search_in_account as crm_owner for p_role (the caller''s current_user, trusted only when the session may become it; nothing for a role with node grants): the best p_k chunks of one account per branch (fts, typo fallback, exact vector), each visible to p_role. Example: SELECT * FROM crm_private.search_chunks(''6f1c...''::uuid, websearch_to_tsquery(''renewal''), ARRAY[''renewal''], NULL, 20, current_user);';
