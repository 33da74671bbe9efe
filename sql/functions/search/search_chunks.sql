-- crm_private.search_chunks(p_account_id, p_tsq, p_words, p_embedding, p_k, p_role) — the
-- branches of crm.search_in_account, as crm_owner, for the role p_role (the caller's
-- current_user, passed by crm.search_in_account).
-- Why SECURITY DEFINER: under row-level security the caller may use an index only with
-- leakproof operators, and @@ / % / <=> are not: as the caller, full text would read and rank
-- every chunk of the account (tens of milliseconds at 20k chunks), and each chunk would look
-- up its event and node under their policies. As the owner, full text and the typo fallback
-- come from the GIN indexes (chunks_tsv with chunks_account; chunk_words_folded_trgm) and
-- each chunk's visibility is one array overlap with its acl copy.
-- Guarantees:
-- * Nothing when the account (an org) is not visible to p_role (the nodes policy's rules).
-- * Every chunk returned is in that account and visible to p_role by exactly the rules of the
--   chunks policy: admin; else its source — the event (acl overlapping the principals; an
--   event about nothing, recorded by p_role's user; with node grants, an event about a node
--   the grants or acl show) or, without event, the node (acl NULL or overlapping; a grant) —
--   with the account visible (checked once above). The fast test is crm.chunks.acl (the
--   source's acl, kept by ACL maintenance); the event/node are read only for callers with
--   node grants and for chunks whose acl is '{}' (events about nothing).
-- * p_role is trusted only when the session may become it (crm_private.caller_principals,
--   role_is_admin, actor_of: nothing and false otherwise), so a forged role name sees only
--   what the policies show anyone.
-- * Branches, each the best p_k visible chunks by its own order, rank from 1:
--   fts      — tsv @@ p_tsq, by ts_rank_cd, then newer, then id (when p_tsq is not NULL). The
--              300 most recent matching chunks are ranked (crm_private.search_chunks_text: a
--              query matching more is not specific — "the last conversation about renewal"
--              wants the recent ones — and ranking every match of a frequent word took
--              100 ms at 5,000 matches);
--   trigram  — the typo fallback, only without p_embedding (with one, the vector branch is the
--              fuzzy one) and when fts found fewer than p_k: each folded query word
--              of 3+ letters (p_words) is replaced by the OR of the chunk words whose folded
--              form has trigram similarity >= 0.4 with it and a length within 1 (2 for words
--              of 6+ letters: one or two typos) of it (crm_private.chunk_words, all of them —
--              no "best n", which would let a word in hidden text push out a visible one: the
--              vocabulary is global, but only the chunks the caller sees are searched with
--              it, so the answer does not depend on text the caller cannot see), all OR-ed
--              (lenient: some of the words suffice; more of them rank higher), searched like fts;
--   vector   — exact cosine distance to p_embedding over the account's embedded chunks of
--              its dimension, then newer, then id (no ANN index: exact, recall 1.0).
-- * Reads no caller temp object; crm360's flags pinned; the trigram threshold is 0.4 during the
--   vocabulary probe whatever the session's, and the session's afterwards.
-- Errors: none of its own (crm.search_in_account validates).
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
    v_princ  uuid[] := '{}';
    v_grants jsonb := '[]';
    v_actor  uuid;
    v_fts    integer := 0;
    v_fix    tsquery;
    v_dims   integer := extensions.vector_dims(p_embedding);
    v_word   text;
    v_alts   text[];
    v_alt    tsquery;
    v_thr    text;
BEGIN
    IF p_account_id IS NULL OR p_k IS NULL OR p_k < 1 THEN
        RETURN;
    END IF;
    IF NOT v_admin THEN
        v_princ := crm_private.caller_principals(p_role);
        v_grants := crm_private.grants_of(v_princ);
        v_actor := crm_private.actor_of(p_role);
    END IF;
    -- the account itself (the nodes policy's rules): one check for every chunk below
    IF NOT EXISTS (SELECT 1 FROM crm.nodes o
                    WHERE o.id = p_account_id AND o.node_type = 'org'
                      AND (v_admin OR o.acl IS NULL OR o.acl && v_princ
                           OR (v_grants <> '[]'::jsonb
                               AND crm_private.node_grant_match(v_grants, 'read', o.node_type, o.attrs, o.acl)))) THEN
        RETURN;
    END IF;

    -- visible(c), written out in each branch:
    --   v_admin OR c.acl && v_princ OR (c.event_id IS NULL AND c.acl IS NULL)
    --   OR ((v_grants <> '[]' OR c.acl = '{}') AND crm_private.chunk_source_visible(...))
    IF p_tsq IS NOT NULL THEN
        RETURN QUERY SELECT * FROM crm_private.search_chunks_text(p_account_id, p_tsq, p_k, 'fts', v_admin, v_princ,
                                                                  v_grants, v_actor);
        GET DIAGNOSTICS v_fts = ROW_COUNT;
    END IF;

    IF v_fts < p_k AND cardinality(p_words) > 0 AND p_embedding IS NULL THEN
        -- the typo fallback: every vocabulary word close to a query word, OR-ed. The index
        -- operator % reads pg_trgm.similarity_threshold: set to 0.4 for this query only (a
        -- function's SET clause cannot name an extension's setting before it is loaded), and
        -- put back, so neither the caller's value changes the answer nor ours leaks out
        v_thr := current_setting('pg_trgm.similarity_threshold', true);
        PERFORM set_config('pg_trgm.similarity_threshold', '0.4', true);
        -- each query word becomes the OR of its close vocabulary words, and the words are OR-ed
        -- too (the fallback is lenient: a chunk with some of the words, or their typos, is
        -- found; one with more of them ranks higher)
        -- (one-shot plans, EXECUTE ... USING: a generic plan, not knowing the words, scans the
        -- whole vocabulary instead of its trigram index)
        FOR v_alts IN EXECUTE
            $q$SELECT array_agg(w.word ORDER BY w.word)
                 FROM unnest($1) q
                 JOIN crm_private.chunk_words w
                   ON w.folded OPERATOR(extensions.%) q AND extensions.similarity(w.folded, q) >= 0.4
                  AND abs(length(w.folded) - length(q)) <= CASE WHEN length(q) >= 6 THEN 2 ELSE 1 END
                WHERE length(q) >= 3
                GROUP BY q$q$
            USING p_words
        LOOP
            v_alt := NULL;
            FOREACH v_word IN ARRAY v_alts LOOP
                v_alt := CASE WHEN v_alt IS NULL THEN plainto_tsquery('simple'::regconfig, v_word)
                              ELSE v_alt || plainto_tsquery('simple'::regconfig, v_word) END;
            END LOOP;
            v_fix := CASE WHEN v_fix IS NULL THEN v_alt ELSE v_fix || v_alt END;
        END LOOP;
        PERFORM set_config('pg_trgm.similarity_threshold', coalesce(v_thr, '0.3'), true);
        IF v_fix IS NOT NULL AND numnode(v_fix) > 0 THEN
            RETURN QUERY SELECT * FROM crm_private.search_chunks_text(p_account_id, v_fix, p_k, 'trigram', v_admin,
                                                                      v_princ, v_grants, v_actor);
        END IF;
    END IF;

    IF p_embedding IS NOT NULL THEN
        RETURN QUERY
        SELECT f.id, 'vector'::text, row_number() OVER (ORDER BY f.d, f.occurred_at DESC NULLS LAST, f.id), f.occurred_at
          FROM (SELECT c.id, c.occurred_at, c.embedding OPERATOR(extensions.<=>) p_embedding AS d
                  FROM crm.chunks c
                 WHERE c.account_id = p_account_id AND c.embedding IS NOT NULL
                   AND extensions.vector_dims(c.embedding) = v_dims
                   AND (v_admin OR c.acl && v_princ OR (c.event_id IS NULL AND c.acl IS NULL)
                        OR ((v_grants <> '[]'::jsonb OR c.acl = '{}')
                            AND crm_private.chunk_source_visible(c.event_id, c.node_id, v_princ, v_grants, v_actor)))
                 ORDER BY d, c.occurred_at DESC NULLS LAST, c.id
                 LIMIT p_k) f;
    END IF;
END;
$$;

COMMENT ON FUNCTION crm_private.search_chunks(uuid, tsquery, text[], extensions.halfvec, integer, name) IS
    'The branches of crm.search_in_account as crm_owner: the best p_k chunks of one account per branch (fts, trigram typo fallback, exact vector), each visible to p_role (the caller''s current_user, trusted only when the session may become it) by the chunks policy''s rules. Example: SELECT * FROM crm_private.search_chunks(''6f1c...''::uuid, websearch_to_tsquery(''renewal''), ARRAY[''renewal''], NULL, 20, current_user);';
