-- 0022 Search (issue 14 items 1, 2, 4; docs/search.md): the text chunks that hybrid search
-- within an account reads (crm.chunks: full text, trigram and vector branches), and the
-- trigram indexes on the folded (lower-case, accent-free) names that crm.search uses.
-- The fold is the expression of crm_private.search_fold (sql/functions/search): that function
-- has a SQL-standard body, so the planner inlines it and the indexes below match it; it is
-- spelled out here because migrations never call repeatable functions. A test checks that
-- crm.search's plans use these indexes (the two spellings cannot drift apart unnoticed).
-- Never calls a repeatable function; safe to run twice. Sections: tables, indexes, data.
SET LOCAL lock_timeout = '5s';

-- ---------------------------------------------------------------- tables
CREATE TABLE IF NOT EXISTS crm.chunks (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      uuid REFERENCES crm.nodes (id) ON DELETE CASCADE,
    node_id         uuid NOT NULL REFERENCES crm.nodes (id) ON DELETE CASCADE,
    event_id        uuid REFERENCES crm.events (id) ON DELETE CASCADE,
    artifact_id     uuid REFERENCES crm.artifacts (id) ON DELETE CASCADE,
    origin          text NOT NULL CHECK (btrim(origin) <> ''),
    kind            text NOT NULL CHECK (kind IN ('ticket_description', 'ticket_comment', 'meeting_note',
                                                  'call_note', 'email', 'note')),
    title           text,
    body            text NOT NULL CHECK (btrim(body) <> ''),
    chunk_no        integer NOT NULL CHECK (chunk_no >= 1),
    occurred_at     timestamptz,
    source          text NOT NULL,
    source_record   text,
    tsv             tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
                        || setweight(to_tsvector('english'::regconfig, body), 'B')
                        || setweight(to_tsvector('simple'::regconfig, coalesce(title, '') || ' ' || body), 'D')) STORED,
    embedding       extensions.vector,
    embedding_model text,
    content_hash    text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT chunks_embedding_pair CHECK ((embedding IS NULL) = (embedding_model IS NULL)),
    CONSTRAINT chunks_origin_no UNIQUE (origin, chunk_no)
);
COMMENT ON TABLE crm.chunks IS 'Searchable text chunks (docs/search.md): ticket descriptions, ticket comments, meeting/call notes, emails and notes cut into pieces of about 800 characters (100 overlap, on sentence or word boundaries), with a full-text vector and an optional embedding. Written only by crm_private.refresh_chunks (called at the end of reconciliation) and crm_private.store_embeddings; a chunk is visible exactly when its source is: the event (event_id) when there is one, else the node (node_id). Searched with crm.search_in_account. Example: SELECT kind, title, left(body, 80) FROM crm.chunks WHERE account_id = ''6f1c...'' ORDER BY occurred_at DESC;';
COMMENT ON COLUMN crm.chunks.id IS 'Chunk id (stable while the chunk''s text is unchanged)';
COMMENT ON COLUMN crm.chunks.account_id IS 'The account (org) the text belongs to: the event''s account participant, or the account the node is owned_by; NULL when none';
COMMENT ON COLUMN crm.chunks.node_id IS 'The node the text is about: the ticket of a description or comment, else the event''s subject or account';
COMMENT ON COLUMN crm.chunks.event_id IS 'The event whose text this is (comment, meeting, call, email, note); NULL for a ticket description. Decides visibility when set';
COMMENT ON COLUMN crm.chunks.artifact_id IS 'The crm.artifacts row the text was cut from; NULL for a ticket description (node property)';
COMMENT ON COLUMN crm.chunks.origin IS 'The source text this chunk was cut from: artifact/<artifact id> or description/<ticket id>; with chunk_no unique';
COMMENT ON COLUMN crm.chunks.kind IS 'ticket_description, ticket_comment, meeting_note, call_note, email or note';
COMMENT ON COLUMN crm.chunks.title IS 'Title of the source text (ticket subject, event summary)';
COMMENT ON COLUMN crm.chunks.body IS 'The chunk text (about 800 characters, overlapping the previous chunk by about 100)';
COMMENT ON COLUMN crm.chunks.chunk_no IS 'Position of the chunk in its source text, from 1';
COMMENT ON COLUMN crm.chunks.occurred_at IS 'When the source text was written: the event''s occurred_at, the ticket''s creation';
COMMENT ON COLUMN crm.chunks.source IS 'System the text came from (zendesk, salesforce, crm360)';
COMMENT ON COLUMN crm.chunks.source_record IS 'The source''s id of the record (Zendesk comment or ticket id, Salesforce Event/Task id); NULL for crm360-native text';
COMMENT ON COLUMN crm.chunks.tsv IS 'Full-text vector (generated): title (weight A) and body (B) with the english configuration, title and body again with simple (D: exact words, names, codes)';
COMMENT ON COLUMN crm.chunks.embedding IS 'Embedding of body (any dimension); NULL until the embedder stored one, cleared when the text changes';
COMMENT ON COLUMN crm.chunks.embedding_model IS 'Model that produced embedding (NULL with it)';
COMMENT ON COLUMN crm.chunks.content_hash IS 'sha256 (hex) of kind, title and body: a changed hash clears the embedding';
COMMENT ON COLUMN crm.chunks.created_at IS 'When the chunk was first stored';
COMMENT ON COLUMN crm.chunks.updated_at IS 'When the chunk was last rewritten by crm_private.refresh_chunks';

-- ---------------------------------------------------------------- indexes
-- search_in_account: every branch starts from one account's chunks (B-tree), never the table
CREATE INDEX IF NOT EXISTS chunks_account ON crm.chunks (account_id, occurred_at DESC);
CREATE INDEX IF NOT EXISTS chunks_node ON crm.chunks (node_id);
CREATE INDEX IF NOT EXISTS chunks_event ON crm.chunks (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS chunks_artifact ON crm.chunks (artifact_id) WHERE artifact_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS chunks_tsv ON crm.chunks USING gin (tsv);
-- the embedder's queue: chunks without an embedding
CREATE INDEX IF NOT EXISTS chunks_unembedded ON crm.chunks (id) WHERE embedding IS NULL;

-- crm.search: trigram (and equality) on the folded label of the searchable node types, and on
-- contact emails. The expression is crm_private.search_fold(label), inlined.
CREATE INDEX IF NOT EXISTS nodes_search_label_trgm ON crm.nodes USING gin (
    (lower(replace(replace(replace(replace(replace(translate(label,
        'ÀÁÂÃÄÅàáâãäåĀāĂăĄąÇçĆćĈĉĊċČčĎďĐđÈÉÊËèéêëĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦħÌÍÎÏìíîïĨĩĪīĬĭĮįİıĴĵĶķĹĺĻļĽľĿŀŁłÑñŃńŅņŇňÒÓÔÕÖØòóôõöøŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŦŧÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųŴŵÝýÿŶŷŸŹźŻżŽžðÐþÞ',
        'aaaaaaaaaaaaaaaaaaccccccccccddddeeeeeeeeeeeeeeeeeegggggggghhhhiiiiiiiiiiiiiiiiiijjkkllllllllllnnnnnnnnoooooooooooooooooorrrrrrssssssssttttttuuuuuuuuuuuuuuuuuuuuwwyyyyyyzzzzzzddtt'),
        'ß', 'ss'), 'æ', 'ae'), 'Æ', 'ae'), 'œ', 'oe'), 'Œ', 'oe')))
    extensions.gin_trgm_ops)
    WHERE node_type IN ('org', 'person', 'opportunity', 'ticket') AND archived_at IS NULL;
CREATE INDEX IF NOT EXISTS nodes_search_email_trgm ON crm.nodes USING gin (
    (lower(properties ->> 'email')) extensions.gin_trgm_ops)
    WHERE node_type = 'person' AND archived_at IS NULL;
-- exact external ids (Salesforce Id, Zendesk ticket id) whatever the source
CREATE INDEX IF NOT EXISTS nodes_search_external_id ON crm.nodes (external_id)
    WHERE external_id IS NOT NULL AND archived_at IS NULL;

-- ---------------------------------------------------------------- data
INSERT INTO crm.error_codes (sqlstate, name, meaning, hint) VALUES
 ('CR044', 'search_bad_input', 'A search call got an unusable argument: blank query (without an embedding), a limit outside 1..100, an unknown type, or embeddings that do not match their chunk ids', 'see docs/search.md')
ON CONFLICT (sqlstate) DO NOTHING;
