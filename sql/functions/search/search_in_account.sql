-- crm.search_in_account(p_account_id, p_query, p_query_embedding, p_limit) — hybrid search of
-- one account's texts (seed 000 AI tool SearchInAccount; docs/search.md "Ranking").
-- Guarantees:
-- * SECURITY INVOKER: the account must be visible (P0002 otherwise, the same error as an id
--   that does not exist, like crm.get_account_summary; a merged-away id resolves to the kept
--   account) and only chunks the caller may see are read — the chunks policy (a chunk is
--   visible exactly when its event, else its node, is) filters them before any search
--   operator runs (@@, %, <=> are not leakproof, so they are evaluated after the policy).
-- * Every branch reads the account's chunks only (B-tree chunks_account on account_id), never
--   the whole table: fts (websearch_to_tsquery, english OR simple, ranked by ts_rank_cd),
--   trigram (word similarity of the folded query in the folded chunk, >= 0.3; only as the
--   typo fallback, when full text found fewer than 2 x limit chunks) and, when
--   p_query_embedding is given, vector (exact cosine distance over the account's embedded
--   chunks of the same dimension — no ANN index: exact, so recall is 1.0 by construction; an
--   HNSW/IVFFlat scan filtered to one account afterwards can return fewer rows than asked,
--   pgvector's documented filtering caveat). Each branch keeps its best 2 x p_limit.
-- * Fusion: reciprocal rank fusion, score = sum over branches of 1 / (60 + rank); ties by
--   newer occurred_at, then chunk id. branches lists the branches that found the chunk.
-- * Never under-filled: when at least p_limit chunks match some branch, exactly p_limit rows
--   (a branch with >= p_limit matches alone contributes 2 x p_limit; otherwise every branch
--   contributed all its matches).
-- * Without an embedding: text branches only. A blank query with an embedding: vector only.
-- * snippet: ts_headline of the chunk with the matched words between ** and **.
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
    v_id   uuid;
    v_q    text := btrim(coalesce(p_query, ''));
    v_fold text;
    v_tsq  tsquery;
    v_k    integer;
    v_dims integer;
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
    v_k := 2 * p_limit;
    v_fold := crm_private.search_fold(v_q);
    IF v_q <> '' THEN
        v_tsq := websearch_to_tsquery('english'::regconfig, v_q) || websearch_to_tsquery('simple'::regconfig, v_q);
    END IF;
    v_dims := extensions.vector_dims(p_query_embedding);

    RETURN QUERY
    WITH acct AS MATERIALIZED (
        -- the account's chunks the caller may see (index chunks_account, then the policy)
        SELECT c.id, c.node_id, c.event_id, c.kind, c.title, c.body, c.occurred_at, c.source, c.source_record,
               c.tsv, c.embedding
          FROM crm.chunks c
         WHERE c.account_id = v_id
    ), fts AS (
        SELECT a.id, row_number() OVER (ORDER BY extensions_rank DESC, a.occurred_at DESC NULLS LAST, a.id) AS rk
          FROM (SELECT a.*, ts_rank_cd(a.tsv, v_tsq) AS extensions_rank FROM acct a
                 WHERE v_tsq IS NOT NULL AND a.tsv @@ v_tsq) a
         ORDER BY rk LIMIT v_k
    ), trgm AS (
        SELECT t.id, row_number() OVER (ORDER BY t.sim DESC, t.occurred_at DESC NULLS LAST, t.id) AS rk
          FROM (SELECT a.id, a.occurred_at,
                       extensions.word_similarity(v_fold, crm_private.search_fold(coalesce(a.title, '') || ' ' || a.body)) AS sim
                  FROM acct a
                 -- typo tolerance is the fallback: only when full text found fewer than 2 x
                 -- limit chunks (a one-time filter: otherwise no body is folded or compared)
                 WHERE v_fold <> '' AND (SELECT count(*) FROM fts) < v_k) t
         WHERE t.sim >= 0.3
         ORDER BY rk LIMIT v_k
    ), vec AS (
        SELECT a.id, row_number() OVER (ORDER BY a.embedding OPERATOR(extensions.<=>) p_query_embedding,
                                                 a.occurred_at DESC NULLS LAST, a.id) AS rk
          FROM acct a
         WHERE p_query_embedding IS NOT NULL AND a.embedding IS NOT NULL
           AND extensions.vector_dims(a.embedding) = v_dims
         ORDER BY rk LIMIT v_k
    ), fused AS (
        SELECT b.id, sum(1.0::double precision / (60 + b.rk)) AS score,
               array_agg(b.branch ORDER BY b.branch) AS branches
          FROM (SELECT f.id, f.rk, 'fts'::text AS branch FROM fts f
                UNION ALL SELECT t.id, t.rk, 'trigram' FROM trgm t
                UNION ALL SELECT v.id, v.rk, 'vector' FROM vec v) b
         GROUP BY b.id
    ), top AS (
        SELECT f.id, f.score, f.branches, a.occurred_at
          FROM fused f JOIN acct a ON a.id = f.id
         ORDER BY f.score DESC, a.occurred_at DESC NULLS LAST, f.id
         LIMIT p_limit
    )
    SELECT a.id, a.node_id, a.event_id, a.kind, a.title,
           CASE WHEN v_tsq IS NOT NULL
                THEN ts_headline('english'::regconfig, a.body, v_tsq,
                                 'StartSel=**, StopSel=**, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "')
                ELSE left(a.body, 240) END,
           a.occurred_at, a.source, a.source_record, t.score, t.branches
      FROM top t JOIN acct a ON a.id = t.id
     ORDER BY t.score DESC, t.occurred_at DESC NULLS LAST, t.id;
END;
$$;

COMMENT ON FUNCTION crm.search_in_account(uuid, text, extensions.vector, integer) IS
$c$Hybrid search of one account's texts (ticket descriptions and comments, meeting and call notes, emails, notes) the caller can see: full text + trigram, and cosine similarity when p_query_embedding is given, fused by reciprocal rank (k = 60). Returns chunk_id, node_id, event_id, kind, title, snippet (matches between ** **), occurred_at, source, source_record, score, branches (fts, trigram, vector). p_limit 1..100 (default 10). Errors: P0002 account not found or not visible; CR044 blank query without embedding, bad limit. Example: SELECT * FROM crm.search_in_account('6f1c...'::uuid, 'renewal pricing', NULL, 5);$c$;
