-- crm_private.search_chunks_text(p_account_id, p_tsq, p_k, p_branch, p_acl_q) — one text
-- branch of hybrid search (fts, or the typo fallback's prefix query): the account's chunks
-- matching p_tsq — the 300 most recent of them — ranked by ts_rank_cd, best p_k, ranks from 1.
-- Guarantees:
-- * Only chunks the reader may see: with p_acl_q, those whose acl_tsv matches it (the
--   caller's principals as lexemes, built by crm_private.search_chunks) — inside the GIN
--   index chunks_search, which returns no other row; without, whatever the executing role
--   may read (crm_owner for an admin; the caller, under the chunks policy, when
--   crm.search_in_account calls it for a user with node grants). Callable by readers: as
--   themselves it can only filter further.
-- * The same answer whichever way it is read: the 300 most recent visible matches
--   (occurred_at descending, then id), ranked (rank descending, newer, id).
-- * How it is read: a probe counts matches among the account's newest 400 visible chunks.
--   Dense (>= 30: a frequent word) — the account is read newest first along chunks_account,
--   each row's visibility tested before its text, until the window is full (the GIN posting
--   list of a word in most chunks of the table costs more than the whole search may). Sparse
--   — the GIN index chunks_search with the words, the account lexeme ('@' || account_id)
--   and p_acl_q. Neither read evaluates the query on a chunk the reader may not see, and the
--   choice depends on visible chunks only.
-- Errors: CR044 more than 64 query nodes or p_k above 200 (bounded work for any caller).
CREATE OR REPLACE FUNCTION crm_private.search_chunks_text(p_account_id uuid, p_tsq tsquery, p_k integer,
                                                         p_branch text, p_acl_q tsquery)
RETURNS TABLE (chunk_id bigint, branch text, rk bigint, occurred_at timestamptz)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_acct  tsquery := ('''@' || p_account_id::text || '''')::tsquery;
    v_dense integer;
    -- ranking of a window (the 300 most recent visible matches): one definition for both reads
    c_rank constant text := $q$
        SELECT f.id, $4::text, row_number() OVER (ORDER BY f.r DESC, f.occurred_at DESC NULLS LAST, f.id),
               f.occurred_at
          FROM (SELECT m.id, m.occurred_at, ts_rank_cd(m.tsv, $2) AS r
                  FROM (%s) m
                 ORDER BY r DESC, m.occurred_at DESC NULLS LAST, m.id
                 LIMIT $3) f$q$;
BEGIN
    IF p_account_id IS NULL OR p_tsq IS NULL OR numnode(p_tsq) = 0 OR p_k IS NULL OR p_k < 1 THEN
        RETURN;
    END IF;
    IF numnode(p_tsq) > 64 OR p_k > 200 THEN
        RAISE EXCEPTION 'search_chunks_text: at most 64 query nodes and p_k 200' USING ERRCODE = 'CR044',
            HINT = 'ranking cost grows with the query''s terms';
    END IF;
    -- (EXECUTE ... USING: each call planned knowing its query)
    -- (the CASE keeps the visibility test a filter on the newest-first read of chunks_account:
    -- as an index condition it would make the planner read the account's every chunk)
    EXECUTE $q$SELECT count(*) FROM (SELECT c.tsv FROM crm.chunks c
                                       WHERE c.account_id = $1
                                         AND CASE WHEN $3::tsquery IS NULL OR c.acl_tsv @@ $3 THEN true ELSE false END
                                       ORDER BY c.occurred_at DESC LIMIT 400) x
                WHERE x.tsv @@ $2$q$
       INTO v_dense USING p_account_id, p_tsq, p_acl_q;
    IF v_dense >= 30 THEN
        -- newest first along chunks_account; the CASE tests visibility before the text (and
        -- keeps the planner off the GIN index, whose posting list is most of the table)
        RETURN QUERY EXECUTE format(c_rank, $q$
            SELECT c.id, c.occurred_at, c.tsv
              FROM crm.chunks c
             WHERE c.account_id = $1
               AND CASE WHEN $5::tsquery IS NULL OR c.acl_tsv @@ $5 THEN c.tsv @@ $2 ELSE false END
             ORDER BY c.occurred_at DESC, c.id
             LIMIT 300$q$)
            USING p_account_id, p_tsq, p_k, p_branch, p_acl_q;
    ELSE
        RETURN QUERY EXECUTE format(c_rank, $q$
            SELECT c.id, c.occurred_at, c.tsv
              FROM crm.chunks c
             WHERE c.account_id = $1 AND c.tsv @@ ($2 && $6)
               AND ($5::tsquery IS NULL OR c.acl_tsv @@ $5)
             ORDER BY c.occurred_at DESC, c.id
             LIMIT 300$q$)
            USING p_account_id, p_tsq, p_k, p_branch, p_acl_q, v_acct;
    END IF;
END;
$$;

COMMENT ON FUNCTION crm_private.search_chunks_text(uuid, tsquery, integer, text, tsquery) IS
    'One text branch of hybrid search: the 300 most recent chunks of the account matching the query that the reader may see (p_acl_q: the caller''s principals as lexemes; NULL: what the executing role may read), ranked by ts_rank_cd, best p_k. Example: SELECT * FROM crm_private.search_chunks_text(''6f1c...''::uuid, websearch_to_tsquery(''renewal''), 20, ''fts'', NULL);';
