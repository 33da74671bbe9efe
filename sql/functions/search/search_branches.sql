-- crm_private.search_branches(p_account_id, p_tsq, p_words, p_embedding, p_k, p_principals)
-- — the branches of crm.search_in_account, each its best p_k chunks of the account with
-- ranks from 1: fts (p_tsq); typo — the typo fallback, only without an embedding (with
-- one, the vector branch is the fuzzy one) and when fts found fewer than p_k: the prefixes
-- of crm_private.search_typo_query(p_words); vector (p_embedding, exact).
-- Guarantees: only chunks the reader may see — with p_principals (crm_private.search_chunks,
-- as crm_owner, for a caller without node grants): acl overlapping them, or a
-- non-access-checked node's chunk; with NULL, whatever the executing role may read (an admin
-- via search_chunks; a user with node grants, as themselves under the chunks policy). So it
-- is callable by readers: as themselves it can only filter further.
CREATE OR REPLACE FUNCTION crm_private.search_branches(p_account_id uuid, p_tsq tsquery, p_words text[],
                                                      p_embedding extensions.halfvec, p_k integer,
                                                      p_principals uuid[])
RETURNS TABLE (chunk_id bigint, branch text, rk bigint, occurred_at timestamptz)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- the principals as acl_tsv lexemes (crm_private.chunk_acl_tsv): '!public' | '!<id>' ...
    v_acl_q tsquery;
    v_fts   integer := 0;
    v_typo  tsquery;
BEGIN
    IF p_principals IS NOT NULL THEN
        SELECT string_agg(format('%L', '!' || x), ' | ')::tsquery INTO v_acl_q
          FROM (SELECT 'public' AS x UNION ALL SELECT p::text FROM unnest(p_principals) p WHERE p IS NOT NULL) s;
    END IF;
    IF p_tsq IS NOT NULL THEN
        RETURN QUERY SELECT * FROM crm_private.search_chunks_text(p_account_id, p_tsq, p_k, 'fts', v_acl_q);
        GET DIAGNOSTICS v_fts = ROW_COUNT;
    END IF;
    IF v_fts < p_k AND p_embedding IS NULL THEN
        v_typo := crm_private.search_typo_query(p_words);
        IF v_typo IS NOT NULL THEN
            RETURN QUERY SELECT * FROM crm_private.search_chunks_text(p_account_id, v_typo, p_k, 'typo', v_acl_q);
        END IF;
    END IF;
    IF p_embedding IS NOT NULL THEN
        RETURN QUERY SELECT * FROM crm_private.search_chunks_vector(p_account_id, p_embedding, p_k, p_principals);
    END IF;
END;
$$;

COMMENT ON FUNCTION crm_private.search_branches(uuid, tsquery, text[], extensions.halfvec, integer, uuid[]) IS
    'The branches of crm.search_in_account (fts, the prefix typo fallback, exact vector), each its best p_k chunks of the account the reader may see (p_principals; NULL: what the executing role may read). Example: SELECT * FROM crm_private.search_branches(''6f1c...''::uuid, websearch_to_tsquery(''renewal''), ARRAY[''renewal''], NULL, 20, NULL);';
