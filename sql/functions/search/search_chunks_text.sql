-- crm_private.search_chunks_text(p_account_id, p_tsq, p_k, p_branch, p_admin, p_principals,
-- p_grants, p_actor) — one text branch of crm_private.search_chunks (fts, or the typo
-- fallback's corrected query): the account's chunks visible to the described caller that
-- match p_tsq — the 300 most recent of them — ranked by ts_rank_cd, best p_k.
-- Guarantees:
-- * The answer is the same whichever way it is read: the 300 most recent visible matches
--   (occurred_at descending, then id), ranked (rank descending, newer, id), ranks from 1.
-- * How it is read depends on how dense the matches are among the account's newest 400
--   visible chunks (a probe, ~1 ms): dense (>= 30) — a frequent word — the account is read
--   newest first along chunks_account until the window is full (reading the GIN index for a
--   word in most chunks of the table costs more than the whole search may: 50 ms for one
--   word in 270k chunks); sparse — the GIN index chunks_tsv alone: the query is AND-ed with
--   the account's lexeme ('@' || account_id, in every chunk's tsv), so the index returns
--   this account's matches only.
--   The probe reads only chunks the caller sees, so neither the plan nor the time taken
--   depends on text the caller cannot see.
-- * Visibility: the rules of crm_private.search_chunks (admin; acl copy overlapping the
--   principals; a chunk of a node that is not access-checked; else, for callers with grants
--   and events about nothing, crm_private.chunk_source_visible).
-- * Runs as the calling function's owner (crm_owner); not granted to anyone. The planner
--   settings it changes for the dense read are put back before it returns (on an error,
--   the statement's rollback puts them back).
CREATE OR REPLACE FUNCTION crm_private.search_chunks_text(p_account_id uuid, p_tsq tsquery, p_k integer,
                                                         p_branch text, p_admin boolean, p_principals uuid[],
                                                         p_grants jsonb, p_actor uuid)
RETURNS TABLE (chunk_id bigint, branch text, rk bigint, occurred_at timestamptz)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- visible(c) for the described caller, as in crm_private.search_chunks
    c_vis constant text := $v$($4 OR c.acl && $5 OR (c.event_id IS NULL AND c.acl IS NULL)
                               OR (($6 <> '[]'::jsonb OR c.acl = '{}')
                                   AND crm_private.chunk_source_visible(c.event_id, c.node_id, $5, $6, $7)))$v$;
    v_dense  integer;
    v_bitmap text;
    v_sort   text;
BEGIN
    EXECUTE format($q$SELECT count(*) FROM (SELECT c.tsv FROM crm.chunks c
                                              WHERE c.account_id = $1 AND %s
                                              ORDER BY c.occurred_at DESC LIMIT 400) x
                       WHERE x.tsv @@ $2$q$, c_vis)
       INTO v_dense USING p_account_id, p_tsq, p_k, p_admin, p_principals, p_grants, p_actor;
    IF v_dense >= 30 THEN
        -- newest first along chunks_account: no bitmap (it would read the whole GIN posting
        -- list), no full sort
        v_bitmap := current_setting('enable_bitmapscan');
        v_sort := current_setting('enable_sort');
        PERFORM set_config('enable_bitmapscan', 'off', true);
        PERFORM set_config('enable_sort', 'off', true);
    END IF;
    RETURN QUERY EXECUTE format($q$
        SELECT f.id, $8::text, row_number() OVER (ORDER BY f.r DESC, f.occurred_at DESC NULLS LAST, f.id),
               f.occurred_at
          FROM (SELECT m.id, m.occurred_at, ts_rank_cd(m.tsv, $2) AS r
                  FROM (SELECT c.id, c.occurred_at, c.tsv
                          FROM crm.chunks c
                         WHERE c.account_id = $1 AND c.tsv @@ ($2 && $9) AND %s
                         ORDER BY c.occurred_at DESC, c.id
                         LIMIT 300) m
                 ORDER BY r DESC, m.occurred_at DESC NULLS LAST, m.id
                 LIMIT $3) f$q$, c_vis)
        USING p_account_id, p_tsq, p_k, p_admin, p_principals, p_grants, p_actor, p_branch,
              ('''@' || p_account_id::text || '''')::tsquery;
    IF v_bitmap IS NOT NULL THEN
        PERFORM set_config('enable_bitmapscan', v_bitmap, true);
        PERFORM set_config('enable_sort', v_sort, true);
    END IF;
END;
$$;

COMMENT ON FUNCTION crm_private.search_chunks_text(uuid, tsquery, integer, text, boolean, uuid[], jsonb, uuid) IS
    'Internal (crm_private.search_chunks): one text branch — the 300 most recent visible chunks of the account matching the query, ranked by ts_rank_cd, best p_k.';
