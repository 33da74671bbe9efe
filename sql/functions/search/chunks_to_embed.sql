-- crm_private.chunks_to_embed(p_model, p_limit) — the embedder's queue: chunks that have no
-- embedding from p_model (never embedded, text changed since, or embedded by another model),
-- oldest first, at most p_limit (1..10000).
-- Guarantees: SECURITY DEFINER (the embedder embeds every chunk, whoever may read it; it
-- only ever gets the text to embed, never who may see it); EXECUTE for crm_admin only
-- (it hands out every text, so no per-source connector); crm360's flags pinned off. Errors: CR044 blank model or bad limit.
CREATE OR REPLACE FUNCTION crm_private.chunks_to_embed(p_model text, p_limit int)
RETURNS TABLE (chunk_id bigint, body text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
BEGIN
    IF p_model IS NULL OR btrim(p_model) = '' THEN
        RAISE EXCEPTION 'the embedding model must not be blank' USING ERRCODE = 'CR044',
            HINT = 'pass the model name the embeddings are stored under, e.g. ''bge-small-en-v1.5''';
    END IF;
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 10000 THEN
        RAISE EXCEPTION 'p_limit must be between 1 and 10000, got %', coalesce(p_limit::text, 'NULL')
            USING ERRCODE = 'CR044', HINT = 'ask again for the next batch';
    END IF;
    RETURN QUERY
        SELECT k.id, k.title_body FROM (
            SELECT c.id, CASE WHEN c.title IS NOT NULL AND c.chunk_no = 1 THEN c.title || E'\n\n' || c.body
                              ELSE c.body END AS title_body
              FROM crm.chunks c
             WHERE c.embedding IS NULL
            UNION ALL
            SELECT c.id, CASE WHEN c.title IS NOT NULL AND c.chunk_no = 1 THEN c.title || E'\n\n' || c.body
                              ELSE c.body END
              FROM crm.chunks c
             WHERE c.embedding IS NOT NULL AND c.embedding_model <> p_model) k
         ORDER BY k.id
         LIMIT p_limit;
END;
$$;

COMMENT ON FUNCTION crm_private.chunks_to_embed(text, integer) IS
    'The embedder''s queue: up to p_limit chunks (id, text to embed: the body, with the title before the first chunk of a text) without an embedding from p_model. Admins only. Example: SELECT * FROM crm_private.chunks_to_embed(''bge-small-en-v1.5'', 256);';
