-- crm_private.store_embeddings(p_model, p_chunk_ids, p_embeddings) — store the embedder's
-- vectors: p_embeddings[i] is the embedding of chunk p_chunk_ids[i] by p_model.
-- Guarantees: set-based (one UPDATE); chunks that no longer exist are skipped (deleted since
-- chunks_to_embed); returns the number of chunks updated. SECURITY DEFINER (crm_owner writes
-- crm.chunks; nobody else may); EXECUTE for crm_admin only (any chunk's vector); crm360's flags
-- pinned off. A chunk whose text changed after it was handed out is not protected here: the
-- next refresh_chunks clears it again only when the text changes again — so call this soon
-- after chunks_to_embed (the embedder does, batch by batch).
-- Errors (CR044): blank model; arrays NULL, of different lengths, or with a NULL element;
-- vectors of different dimensions in one call; a duplicate chunk id.
CREATE OR REPLACE FUNCTION crm_private.store_embeddings(p_model text, p_chunk_ids bigint[],
                                                        p_embeddings extensions.vector[])
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_n integer;
BEGIN
    IF p_model IS NULL OR btrim(p_model) = '' THEN
        RAISE EXCEPTION 'the embedding model must not be blank' USING ERRCODE = 'CR044',
            HINT = 'the same model name as passed to crm_private.chunks_to_embed';
    END IF;
    IF p_chunk_ids IS NULL OR p_embeddings IS NULL
       OR cardinality(p_chunk_ids) <> cardinality(p_embeddings)
       OR array_position(p_chunk_ids, NULL) IS NOT NULL OR array_position(p_embeddings, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'p_chunk_ids and p_embeddings must be arrays of the same length without NULLs'
            USING ERRCODE = 'CR044', HINT = 'p_embeddings[i] is the embedding of chunk p_chunk_ids[i]';
    END IF;
    IF (SELECT count(DISTINCT extensions.vector_dims(v)) FROM unnest(p_embeddings) v) > 1 THEN
        RAISE EXCEPTION 'the embeddings of one call must have the same dimension'
            USING ERRCODE = 'CR044', HINT = 'one model gives one dimension';
    END IF;
    IF (SELECT count(DISTINCT i) FROM unnest(p_chunk_ids) i) <> cardinality(p_chunk_ids) THEN
        RAISE EXCEPTION 'a chunk id appears twice' USING ERRCODE = 'CR044', HINT = 'one embedding per chunk';
    END IF;
    UPDATE crm.chunks c SET embedding = x.v::extensions.halfvec, embedding_model = p_model
      FROM unnest(p_chunk_ids, p_embeddings) AS x(id, v)
     WHERE c.id = x.id;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.store_embeddings(text, bigint[], extensions.vector[]) IS
    'Stores embeddings from p_model for the given chunks (p_embeddings[i] for p_chunk_ids[i]); returns how many chunks were updated. Admins only. Example: SELECT crm_private.store_embeddings(''bge-small-en-v1.5'', ARRAY[1,2], ARRAY[''[0.1,0.2]'',''[0.3,0.1]'']::extensions.vector[]);';
