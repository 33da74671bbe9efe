-- crm_private.chunk_acl_tsv(p_acl, p_event_id) — a chunk's acl as text-search lexemes
-- (crm.chunks.acl_tsv), the one definition (migration 0023 spells it out for its backfill).
-- Guarantees: '!<principal id>' for each principal in p_acl; '!public' for a chunk of a node
-- that is not access-checked (p_acl NULL, no event: everyone sees it); nothing for an empty
-- acl (admins only) or an event chunk without acl. crm_private.search_chunks asks the GIN
-- index chunks_search for acl_tsv @@ ('!public' | '!<each principal of the caller>').
CREATE OR REPLACE FUNCTION crm_private.chunk_acl_tsv(p_acl uuid[], p_event_id uuid)
RETURNS tsvector
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN p_acl IS NULL THEN CASE WHEN p_event_id IS NULL THEN array_to_tsvector('{!public}')
                                             ELSE ''::tsvector END
                ELSE array_to_tsvector(ARRAY(SELECT DISTINCT '!' || a::text FROM unnest(p_acl) a
                                              WHERE a IS NOT NULL)) END
$$;

COMMENT ON FUNCTION crm_private.chunk_acl_tsv(uuid[], uuid) IS
    'A chunk''s acl as text-search lexemes (''!<principal>'', ''!public'' for a non-access-checked node''s chunk): crm.chunks.acl_tsv. Example: SELECT crm_private.chunk_acl_tsv(ARRAY[''6f1c...''::uuid], NULL);';
