-- crm_private.search_chunks_vector(p_account_id, p_embedding, p_k, p_principals) — the vector
-- branch of hybrid search: the p_k chunks of the account closest to p_embedding (cosine
-- distance, exact), then newer, then id; ranks from 1.
-- Guarantees:
-- * Exact: every embedded chunk of the account with the embedding's dimension is compared
--   (no approximate index: recall 1.0 by construction), read from the covering index
--   chunks_account_vectors (an index-only scan).
-- * Only chunks the reader may see: with p_principals, those whose acl overlaps them or that
--   belong to a non-access-checked node (acl NULL, no event) — tested before the distance is
--   computed; with NULL, whatever the executing role may read (crm_owner for an admin; the
--   caller, under the chunks policy, when crm.search_in_account calls it for a user with
--   node grants). Callable by readers: as themselves it can only filter further.
CREATE OR REPLACE FUNCTION crm_private.search_chunks_vector(p_account_id uuid, p_embedding extensions.halfvec,
                                                           p_k integer, p_principals uuid[])
RETURNS TABLE (chunk_id bigint, branch text, rk bigint, occurred_at timestamptz)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT f.id, 'vector'::text, row_number() OVER (ORDER BY f.d, f.occurred_at DESC NULLS LAST, f.id), f.occurred_at
      FROM (SELECT c.id, c.occurred_at, c.embedding OPERATOR(extensions.<=>) p_embedding AS d
              FROM crm.chunks c
             WHERE c.account_id = p_account_id AND c.embedding IS NOT NULL
               AND CASE WHEN p_principals IS NULL OR c.acl && p_principals OR (c.event_id IS NULL AND c.acl IS NULL)
                        THEN extensions.vector_dims(c.embedding) = extensions.vector_dims(p_embedding)
                        ELSE false END
             ORDER BY d, c.occurred_at DESC NULLS LAST, c.id
             LIMIT p_k) f
$$;

COMMENT ON FUNCTION crm_private.search_chunks_vector(uuid, extensions.halfvec, integer, uuid[]) IS
    'The vector branch of hybrid search: the account''s p_k chunks closest to the embedding (exact cosine), visible to p_principals (NULL: what the executing role may read). Example: SELECT * FROM crm_private.search_chunks_vector(''6f1c...''::uuid, ''[0.1,0.2]'', 20, NULL);';
