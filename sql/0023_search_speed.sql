-- 0023 Search at scale (issue 14, "Search at scale" in benchmarks/RESULTS.md; docs/search.md):
-- what crm.search_in_account needs to answer from a 20k-chunk account in milliseconds, without
-- reading (and so without timing or counting) text the caller may not see.
-- * crm.chunks.acl — who may see the chunk: the acl of its source (the event's when event_id
--   is set, else the node's), or, for an event about nothing, its recorder (the events
--   policy shows such an event to admins and the user who recorded it). Written by the
--   trigger crm_private.tg_chunks__acl on every write (reading the source FOR SHARE, so a
--   concurrent acl change waits or is seen) and by ACL maintenance (crm_private.propagate_acl,
--   crm_private.refresh_event_acl) in the transaction that changes an acl. For every caller
--   without node grants, "acl overlaps my principals, or the chunk is a non-access-checked
--   node's" is exactly the chunks policy's rule (the policy itself still reads the sources).
-- * crm.chunks.acl_tsv — the same as text-search lexemes ('!<principal>', '!public'), and the
--   full-text GIN index covers (tsv, acl_tsv): a search ANDs the caller's principals into the
--   index scan, so the index returns visible matches only.
-- * crm.chunks.tsv also carries the account ('@' || account_id): the index returns one
--   account's matches without visiting other accounts' rows.
-- * crm.chunks.embedding becomes halfvec kept in the row (STORAGE MAIN): a 256-d vector was
--   1 KB out of line (TOAST); exact scans only, so the precision costs no recall against the
--   stored vectors. chunks_account_vectors — the vector branch reads one account's vectors
--   from an index (index-only scan) instead of the heap rows that also hold the text.
-- Never calls a repeatable function (the backfills spell out what they need; the chunk
-- backfill of databases upgraded through 0022 is sql/after/0023_search_speed.sql); safe to
-- run twice. Sections: tables, indexes, data.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- tables
ALTER TABLE crm.chunks ADD COLUMN IF NOT EXISTS acl uuid[];
COMMENT ON COLUMN crm.chunks.acl IS 'Who may see the chunk (besides admins): the acl of its source — the event''s (event_id set), or for an event about nothing its recorder; else the node''s (NULL = not access-checked, everyone) — written by tg_chunks__acl and ACL maintenance; crm.search_in_account decides with it (the chunks policy reads the source itself)';
ALTER TABLE crm.chunks ADD COLUMN IF NOT EXISTS acl_tsv tsvector NOT NULL DEFAULT ''::tsvector;
COMMENT ON COLUMN crm.chunks.acl_tsv IS 'acl as text-search lexemes: ''!<principal id>'' for each, ''!public'' when acl is NULL (nothing when it is empty) — in the full-text GIN index with tsv, so a search asks the index for the caller''s chunks only; written with acl';

DO $$
BEGIN
    IF (SELECT a.atttypid FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = 'crm.chunks'::regclass AND a.attname = 'embedding')
       = 'extensions.vector'::regtype THEN
        ALTER TABLE crm.chunks ALTER COLUMN embedding TYPE extensions.halfvec
            USING embedding::extensions.halfvec;
    END IF;
END
$$;
ALTER TABLE crm.chunks ALTER COLUMN embedding SET STORAGE MAIN;
COMMENT ON COLUMN crm.chunks.embedding IS 'Embedding of the chunk (half precision, any dimension up to 16,000, kept in the row); NULL until the embedder stored one, cleared when the text changes';

-- the full-text vector also holds the chunk's account as one lexeme ('@' || account_id), so the
-- GIN index answers "matches in this account" by itself (it intersects the account's posting
-- list with the words'), instead of reading every account's matches from the heap and
-- filtering them (35 ms for a word pair in 6,300 chunks of other accounts). The column is
-- generated, so it is dropped and added again (a table rewrite) unless already done.
DO $$
BEGIN
    IF pg_catalog.pg_get_expr((SELECT d.adbin FROM pg_catalog.pg_attrdef d
                                 JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                                WHERE d.adrelid = 'crm.chunks'::regclass AND a.attname = 'tsv'),
                              'crm.chunks'::regclass) NOT LIKE '%array_to_tsvector%' THEN
        ALTER TABLE crm.chunks DROP COLUMN tsv;
        ALTER TABLE crm.chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
            || setweight(to_tsvector('english'::regconfig, body), 'B')
            || setweight(to_tsvector('simple'::regconfig, coalesce(title, '') || ' ' || body), 'D')
            || CASE WHEN account_id IS NULL THEN ''::tsvector
                    ELSE array_to_tsvector(ARRAY['@' || account_id::text]) END) STORED;
    END IF;
END
$$;
COMMENT ON COLUMN crm.chunks.tsv IS 'Full-text vector (generated): title (weight A) and body (B) with the english configuration, title and body again with simple (D: exact words, names, codes), and the account as the lexeme ''@<account_id>'' (no position: it changes no rank; search restricts to an account inside the GIN index with it)';
-- ---------------------------------------------------------------- indexes
-- the vector branch: an index-only scan of one account's embedded chunks — the vector and
-- everything the visibility test and the ranking read (a 20k-chunk account: 1,800 index pages
-- instead of 5,700 heap pages holding the text too; 12 ms -> 5 ms)
CREATE INDEX IF NOT EXISTS chunks_account_vectors ON crm.chunks (account_id)
    INCLUDE (id, occurred_at, event_id, node_id, acl, embedding) WHERE embedding IS NOT NULL;
-- full text: one GIN index over the words (with the account lexeme) and the acl lexemes, so a
-- search's "these words, in this account, visible to these principals" is answered inside
-- the index (GIN ANDs the conditions of both columns before returning a row)
DROP INDEX IF EXISTS crm.chunks_tsv;
CREATE INDEX IF NOT EXISTS chunks_search ON crm.chunks USING gin (tsv, acl_tsv);

-- ---------------------------------------------------------------- data
-- who may see the existing chunks (new ones are written by tg_chunks__acl; the rules are
-- crm_private.chunk_acl_of and crm_private.chunk_acl_tsv, spelled out)
UPDATE crm.chunks c
   SET acl = x.acl
  FROM (SELECT e.id, CASE WHEN e.about = '{}' THEN CASE WHEN e.recorded_by IS NULL THEN '{}'::uuid[]
                                                        ELSE ARRAY[e.recorded_by] END
                          ELSE e.acl END AS acl
          FROM crm.events e) x
 WHERE x.id = c.event_id AND c.acl IS DISTINCT FROM x.acl;
UPDATE crm.chunks c SET acl = n.acl
  FROM crm.nodes n
 WHERE c.event_id IS NULL AND n.id = c.node_id AND c.acl IS DISTINCT FROM n.acl;
UPDATE crm.chunks c
   SET acl_tsv = x.acl_tsv
  FROM (SELECT k.id, CASE WHEN k.acl IS NULL THEN CASE WHEN k.event_id IS NULL THEN array_to_tsvector('{!public}')
                                                       ELSE ''::tsvector END
                          ELSE array_to_tsvector(ARRAY(SELECT DISTINCT '!' || a::text FROM unnest(k.acl) a
                                                        WHERE a IS NOT NULL)) END AS acl_tsv
          FROM crm.chunks k) x
 WHERE x.id = c.id AND c.acl_tsv IS DISTINCT FROM x.acl_tsv;
