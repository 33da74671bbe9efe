-- 0023 Search at scale (issue 14, "Search at scale" in benchmarks/RESULTS.md; docs/search.md):
-- what crm.search_in_account needs to answer from a 20k-chunk account in milliseconds.
-- * crm.chunks.acl — a copy of the acl of the chunk's source (the event's when event_id is
--   set, else the node's), kept like every other acl copy (crm_private.propagate_acl,
--   crm_private.refresh_event_acl; every write through crm_private.tg_chunks__acl): search checks one array
--   overlap per chunk instead of looking up its event and node under their policies. The
--   chunks policy itself does not trust the copy (it still reads the event/node as the caller).
-- * crm.chunks.embedding becomes halfvec kept in the row (STORAGE MAIN): a 256-d vector was
--   1 KB out of line (TOAST), read through a second index per chunk; half precision inline is
--   half the bytes and no TOAST lookup. Exact scans only, so the precision costs no recall
--   against the stored vectors.
-- * crm.chunks.tsv also carries the account ('@' || account_id) so the GIN index finds one
--   account's matches without visiting other accounts' rows.
-- * chunks_account_vectors — the vector branch reads one account's vectors from an index
--   (index-only scan) instead of the heap rows that also hold the text.
-- * crm_private.chunk_words — the distinct words of all chunks, folded, with a trigram index:
--   the typo fallback corrects the query's words against it and then searches the full-text
--   index, instead of comparing the query with every chunk body.
-- Never calls a repeatable function (the backfills spell out what they need); safe to run twice.
-- Sections: tables, indexes, data.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- tables
ALTER TABLE crm.chunks ADD COLUMN IF NOT EXISTS acl uuid[];
COMMENT ON COLUMN crm.chunks.acl IS 'Copy of the acl of the chunk''s source — the event''s (event_id set; ''{}'' = admins only) or the node''s (NULL = not access-checked) — maintained with the other acl copies; crm.search_in_account checks visibility with it (the chunks policy reads the source itself)';

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
CREATE INDEX IF NOT EXISTS chunks_tsv ON crm.chunks USING gin (tsv);

CREATE TABLE IF NOT EXISTS crm_private.chunk_words (
    word   text PRIMARY KEY,
    folded text NOT NULL
);
COMMENT ON TABLE crm_private.chunk_words IS 'Every distinct word (to_tsvector(''simple'') lexeme) of crm.chunks with its folded form (crm_private.search_fold): the vocabulary the typo fallback of crm.search_in_account corrects query words against (trigram similarity on folded), before searching the full-text index. Only grows (crm_private.refresh_chunks adds the words of new text; a word no chunk has any more finds nothing). Private: only crm_owner reads it.';
COMMENT ON COLUMN crm_private.chunk_words.word IS 'The word as the simple text-search configuration stores it (lower case, accents kept)';
COMMENT ON COLUMN crm_private.chunk_words.folded IS 'The word folded (no accents): what a query word is compared with';

-- ---------------------------------------------------------------- indexes
-- the vector branch: an index-only scan of one account's embedded chunks — the vector and
-- everything the visibility test and the ranking read (a 20k-chunk account: 1,800 index pages
-- instead of 5,700 heap pages holding the text too; 12 ms -> 5 ms)
CREATE INDEX IF NOT EXISTS chunks_account_vectors ON crm.chunks (account_id)
    INCLUDE (id, occurred_at, event_id, node_id, acl, embedding) WHERE embedding IS NOT NULL;
CREATE INDEX IF NOT EXISTS chunk_words_folded_trgm ON crm_private.chunk_words
    USING gin (folded extensions.gin_trgm_ops);

-- ---------------------------------------------------------------- data
-- the acl copies of existing chunks (new ones are written with it)
UPDATE crm.chunks c SET acl = e.acl
  FROM crm.events e
 WHERE e.id = c.event_id AND c.acl IS DISTINCT FROM e.acl;
UPDATE crm.chunks c SET acl = n.acl
  FROM crm.nodes n
 WHERE c.event_id IS NULL AND n.id = c.node_id AND c.acl IS DISTINCT FROM n.acl;
-- the vocabulary of existing chunks (the fold spelled out: crm_private.search_fold)
INSERT INTO crm_private.chunk_words (word, folded)
SELECT w.word,
       lower(replace(replace(replace(replace(replace(translate(w.word,
        'ÀÁÂÃÄÅàáâãäåĀāĂăĄąÇçĆćĈĉĊċČčĎďĐđÈÉÊËèéêëĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħÌÍÎÏìíîïĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľĿŀŁłÑñŃńŅņŇňÒÓÔÕÖØòóôõöøŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŦŧÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųŴŵÝýÿŶŷŸŹźŻżŽžðÐþÞ',
        'aaaaaaaaaaaaaaaaaaccccccccccddddeeeeeeeeeeeeeeeeeegggggggghhhhiiiiiiiiiiiiiiiiiijjkkllllllllllnnnnnnnnoooooooooooooooooorrrrrrssssssssttttttuuuuuuuuuuuuuuuuuuuuwwyyyyyyzzzzzzddtt'),
        'ß', 'ss'), 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe'))
  FROM (SELECT DISTINCT l.lexeme AS word
          FROM crm.chunks c
         CROSS JOIN LATERAL unnest(to_tsvector('simple'::regconfig, coalesce(c.title, '') || ' ' || c.body)) l) w
ON CONFLICT (word) DO NOTHING;
