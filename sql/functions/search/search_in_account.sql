-- crm.search_in_account(p_account_id, p_query, p_query_embedding, p_limit) — hybrid search of
-- one account's texts (seed 000 AI tool SearchInAccount; docs/search.md "Ranking").
-- Guarantees:
-- * SECURITY INVOKER: the account must be visible (P0002 otherwise, the same error as an id
--   that does not exist, like crm.get_account_summary; a merged-away id resolves to the kept
--   account).
-- * Only chunks the caller may see are read, ranked or timed: for a caller without node
--   grants the branches run in crm_private.search_chunks (SECURITY DEFINER, for
--   current_user), which puts the caller's principals into the index scans (acl_tsv in the
--   GIN index chunks_search, acl in chunks_account_vectors) — @@ and <=> are not
--   leakproof, so as the caller they could use no index; for a caller with node grants
--   (whose visibility is not an acl overlap) crm_private.search_branches runs as the caller,
--   under the chunks policy (slower: the policy reads each chunk's event/node). The rows
--   returned are read from crm.chunks as the caller, under its policy, again.
-- * Branches, each over the account's chunks only, each keeping its best 2 x p_limit: fts
--   (websearch_to_tsquery, english OR simple, ranked by ts_rank_cd among the 300 most recent
--   matches); typo — the fallback, only without an embedding (with one, the vector branch is
--   the fuzzy one) and when full text found fewer than 2 x limit chunks: the query's words
--   (3+ characters with a letter, at most 8) as prefixes of themselves (their first 60 %,
--   crm_private.search_typo_query); vector, with p_query_embedding: exact
--   cosine distance over the account's embedded chunks of the same dimension (no ANN index:
--   exact, recall 1.0 by construction; an HNSW/IVFFlat scan filtered to one account
--   afterwards can return fewer rows than asked, pgvector's documented filtering caveat).
-- * Fusion: reciprocal rank fusion, score = sum over branches of 1 / (60 + rank); ties by
--   newer occurred_at, then chunk id. branches lists the branches that found the chunk.
-- * Never under-filled: when at least p_limit visible chunks match some branch, exactly
--   p_limit rows (a branch with >= p_limit matches alone contributes 2 x p_limit; otherwise
--   every branch contributed all its matches; fts ranks a window of 300 >= 2 x p_limit).
-- * With an embedding: fts + vector. Without: fts + typo. A blank query with an embedding:
--   vector only.
-- * snippet: ts_headline of the chunk with the matched words between ** and **.
-- * Bounded work: the query at most 1,000 characters and 64 tsquery nodes — about 15 words —
--   (CR044 otherwise): ranking cost grows with the terms.
-- * Errors: 22023 NULL account id; P0002 account not found / not visible; CR044 blank query
--   without an embedding, a query too long, p_limit outside 1..100.
CREATE OR REPLACE FUNCTION crm.search_in_account(p_account_id uuid, p_query text,
                                                 p_query_embedding extensions.vector DEFAULT NULL,
                                                 p_limit int DEFAULT 10)
RETURNS TABLE (chunk_id bigint, node_id uuid, event_id uuid, kind text, title text, snippet text,
               occurred_at timestamptz, source text, source_record text, score double precision,
               branches text[])
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_id    uuid;
    v_q     text := btrim(coalesce(p_query, ''));
    v_tsq   tsquery;
    v_words text[];
    v_emb   extensions.halfvec := p_query_embedding::extensions.halfvec;
    v_owner boolean;
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100 THEN
        RAISE EXCEPTION 'p_limit must be between 1 and 100, got %', coalesce(p_limit::text, 'NULL')
            USING ERRCODE = 'CR044', HINT = 'the default is 10';
    END IF;
    IF v_q = '' AND p_query_embedding IS NULL THEN
        RAISE EXCEPTION 'the search text must not be blank without a query embedding' USING ERRCODE = 'CR044',
            HINT = 'pass words to search for, or an embedding of the question';
    END IF;
    IF length(v_q) > 1000 THEN
        RAISE EXCEPTION 'the search text is too long (% characters, at most 1,000)', length(v_q)
            USING ERRCODE = 'CR044', HINT = 'search with a few words, or pass an embedding of the question';
    END IF;
    v_id := crm_private.resolve_account_id(p_account_id);
    IF v_q <> '' THEN
        v_tsq := websearch_to_tsquery('english'::regconfig, v_q) || websearch_to_tsquery('simple'::regconfig, v_q);
        IF numnode(v_tsq) = 0 THEN
            v_tsq := NULL;
        ELSIF numnode(v_tsq) > 64 THEN
            RAISE EXCEPTION 'the search text has too many terms (% query nodes, at most 64)', numnode(v_tsq)
                USING ERRCODE = 'CR044',
                HINT = 'search with a few words (about 15 at most), or pass an embedding of the question';
        END IF;
        -- the folded words of the query, for the typo fallback
        SELECT array_agg(w) INTO v_words
          FROM (SELECT DISTINCT w FROM regexp_split_to_table(crm_private.search_fold(v_q), '[^[:alnum:]]+') w
                 WHERE length(w) >= 3 AND w ~ '[[:alpha:]]' ORDER BY w LIMIT 8) x;
    END IF;
    -- who decides: the owner's helper for callers whose visibility is an acl overlap (and
    -- admins), the chunks policy (as the caller) for callers with node grants
    v_owner := (SELECT crm_private.actor_is_admin()) OR NOT (SELECT crm_private.actor_has_grants('node'));

    RETURN QUERY
    WITH hits AS (
        SELECT h.chunk_id, h.branch, h.rk, h.occurred_at
          FROM crm_private.search_chunks(v_id, v_tsq, v_words, v_emb, 2 * p_limit, current_user) h
         WHERE v_owner
        UNION ALL
        SELECT h.chunk_id, h.branch, h.rk, h.occurred_at
          FROM crm_private.search_branches(v_id, v_tsq, v_words, v_emb, 2 * p_limit, NULL) h
         WHERE NOT v_owner
    ), top AS (
        SELECT h.chunk_id AS id, sum(1.0::double precision / (60 + h.rk)) AS score,
               array_agg(h.branch ORDER BY h.branch) AS branches, max(h.occurred_at) AS occurred_at
          FROM hits h
         GROUP BY h.chunk_id
         ORDER BY score DESC, max(h.occurred_at) DESC NULLS LAST, h.chunk_id
         LIMIT p_limit
    )
    SELECT a.id, a.node_id, a.event_id, a.kind, a.title,
           CASE WHEN v_tsq IS NOT NULL
                THEN ts_headline('english'::regconfig, a.body, v_tsq,
                                 'StartSel=**, StopSel=**, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "')
                ELSE left(a.body, 240) END,
           a.occurred_at, a.source, a.source_record, t.score, t.branches
      FROM top t JOIN crm.chunks a ON a.id = t.id     -- as the caller: the chunks policy again
     ORDER BY t.score DESC, t.occurred_at DESC NULLS LAST, t.id;
END;
$$;

COMMENT ON FUNCTION crm.search_in_account(uuid, text, extensions.vector, integer) IS
$c$Hybrid search of one account's texts (ticket descriptions and comments, meeting and call notes, emails, notes) the caller can see: full text + exact cosine similarity when p_query_embedding is given, else full text + a typo fallback, fused by reciprocal rank (k = 60). Returns chunk_id, node_id, event_id, kind, title, snippet (matches between ** **), occurred_at, source, source_record, score, branches (fts, typo, vector). p_limit 1..100 (default 10). Errors: P0002 account not found or not visible; CR044 blank query without embedding, bad limit. Example: SELECT * FROM crm.search_in_account('6f1c...'::uuid, 'renewal pricing', NULL, 5);$c$;
