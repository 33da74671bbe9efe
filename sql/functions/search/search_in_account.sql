-- crm.search_in_account(p_account_id, p_query, p_query_embedding, p_limit) — hybrid search of
-- one account's texts (seed 000 AI tool SearchInAccount; docs/search.md "Ranking").
-- Guarantees:
-- * SECURITY INVOKER: the account must be visible (P0002 otherwise, the same error as an id
--   that does not exist, like crm.get_account_summary; a merged-away id resolves to the kept
--   account). The branches run in crm_private.search_chunks (SECURITY DEFINER, so the
--   full-text and trigram indexes can be used — @@, %, <=> are not leakproof; see its header)
--   for current_user, and return only chunks the chunks policy's rules show the caller; the
--   rows returned are then read from crm.chunks as the caller, under its policy, again.
-- * Every branch reads the account's chunks only, never the whole table: fts
--   (websearch_to_tsquery, english OR simple, ranked by ts_rank_cd: the 300 most recent
--   matches), trigram (the typo fallback — without an embedding only; with one, the vector
--   branch is the fuzzy one — when full text found fewer than 2 x limit chunks: the query's words of 3+
--   characters with a letter are corrected against the chunks' vocabulary, trigram
--   similarity >= 0.4, and searched like fts) and, when p_query_embedding is given, vector (exact cosine distance over the
--   account's embedded chunks of the same dimension — no ANN index: exact, so recall is 1.0
--   by construction; an HNSW/IVFFlat scan filtered to one account afterwards can return fewer
--   rows than asked, pgvector's documented filtering caveat). Each branch keeps its best
--   2 x p_limit.
-- * Fusion: reciprocal rank fusion, score = sum over branches of 1 / (60 + rank); ties by
--   newer occurred_at, then chunk id. branches lists the branches that found the chunk.
-- * Never under-filled: when at least p_limit visible chunks match some branch, exactly
--   p_limit rows (a branch with >= p_limit matches alone contributes 2 x p_limit; otherwise
--   every branch contributed all its matches).
-- * With an embedding: fts + vector. Without: fts + trigram. A blank query with an
--   embedding: vector only.
-- * snippet: ts_headline of the chunk with the matched words between ** and ** (the
--   corrected words are not highlighted).
-- * Errors: 22023 NULL account id; P0002 account not found / not visible; CR044 blank query
--   without an embedding, p_limit outside 1..100.
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
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100 THEN
        RAISE EXCEPTION 'p_limit must be between 1 and 100, got %', coalesce(p_limit::text, 'NULL')
            USING ERRCODE = 'CR044', HINT = 'the default is 10';
    END IF;
    IF v_q = '' AND p_query_embedding IS NULL THEN
        RAISE EXCEPTION 'the search text must not be blank without a query embedding' USING ERRCODE = 'CR044',
            HINT = 'pass words to search for, or an embedding of the question';
    END IF;
    v_id := crm_private.resolve_account_id(p_account_id);
    IF v_q <> '' THEN
        v_tsq := websearch_to_tsquery('english'::regconfig, v_q) || websearch_to_tsquery('simple'::regconfig, v_q);
        IF numnode(v_tsq) = 0 THEN
            v_tsq := NULL;
        END IF;
        -- the folded words of the query, for the typo fallback: 3+ characters, with a letter
        -- (numbers and ids are not misspelt words: "16890" is close to a hundred other numbers)
        SELECT array_agg(DISTINCT w) INTO v_words
          FROM regexp_split_to_table(crm_private.search_fold(v_q), '[^[:alnum:]]+') w
         WHERE length(w) >= 3 AND w ~ '[[:alpha:]]';
    END IF;

    RETURN QUERY
    WITH hits AS (
        SELECT h.chunk_id, h.branch, h.rk, h.occurred_at
          FROM crm_private.search_chunks(v_id, v_tsq, v_words, p_query_embedding::extensions.halfvec,
                                         2 * p_limit, current_user) h
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
$c$Hybrid search of one account's texts (ticket descriptions and comments, meeting and call notes, emails, notes) the caller can see: full text + trigram, and cosine similarity when p_query_embedding is given, fused by reciprocal rank (k = 60). Returns chunk_id, node_id, event_id, kind, title, snippet (matches between ** **), occurred_at, source, source_record, score, branches (fts, trigram, vector). p_limit 1..100 (default 10). Errors: P0002 account not found or not visible; CR044 blank query without embedding, bad limit. Example: SELECT * FROM crm.search_in_account('6f1c...'::uuid, 'renewal pricing', NULL, 5);$c$;
