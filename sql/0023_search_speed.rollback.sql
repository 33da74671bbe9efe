-- Undo 0023: the vocabulary table, the acl copy (and its trigger), the vector index, embeddings
-- back to full-precision vector stored out of line (the values are kept, at half precision),
-- the full-text vector without the account lexeme.
SET LOCAL lock_timeout = '5s';

DROP TRIGGER IF EXISTS tg_chunks__acl ON crm.chunks;
DROP FUNCTION IF EXISTS crm_private.tg_chunks__acl();
DROP TABLE IF EXISTS crm_private.chunk_words;
DROP INDEX IF EXISTS crm.chunks_account_vectors;
ALTER TABLE crm.chunks DROP COLUMN IF EXISTS acl;
DO $$
BEGIN
    IF (SELECT a.atttypid FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = 'crm.chunks'::regclass AND a.attname = 'embedding')
       = 'extensions.halfvec'::regtype THEN
        ALTER TABLE crm.chunks ALTER COLUMN embedding TYPE extensions.vector
            USING embedding::extensions.vector;
    END IF;
END
$$;
ALTER TABLE crm.chunks ALTER COLUMN embedding SET STORAGE EXTERNAL;
-- the full-text vector without the account lexeme (as 0022 made it)
ALTER TABLE crm.chunks DROP COLUMN IF EXISTS tsv;
ALTER TABLE crm.chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
    || setweight(to_tsvector('english'::regconfig, body), 'B')
    || setweight(to_tsvector('simple'::regconfig, coalesce(title, '') || ' ' || body), 'D')) STORED;
COMMENT ON COLUMN crm.chunks.tsv IS 'Full-text vector (generated): title (weight A) and body (B) with the english configuration, title and body again with simple (D: exact words, names, codes)';
CREATE INDEX IF NOT EXISTS chunks_tsv ON crm.chunks USING gin (tsv);
