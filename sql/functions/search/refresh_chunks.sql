-- crm_private.refresh_chunks(p_node_ids) — bring crm.chunks in line with the texts in the
-- graph, set-based (docs/search.md "What is chunked").
-- Sources: (1) ticket descriptions (crm.nodes of type ticket, properties.description; kind
-- ticket_description, visible with the ticket); (2) every live crm.artifacts body: on an
-- event (ticket comments, Salesforce Event/Task descriptions, crm360 notes/calls/emails/
-- meetings; kind from artifact_type, visible with the event) or on a node (visible with it).
-- Guarantees:
-- * p_node_ids NULL: every source (backfill, after the migration); else only the sources of
--   those ids: the tickets among them or owned_by one of them, the artifacts on them, on
--   their owned_by children or on their events (any participant role: a ticket's comments
--   follow the ticket, an account's texts the account), the events among them — and the
--   chunks that name one of them (node, event or account) are rebuilt or deleted.
-- * A chunk whose kind, title and body are unchanged (content_hash) keeps its id and its
--   embedding (its account, node, date and source record are updated in place); a changed
--   chunk gets the new text and its embedding cleared (NULL: the embedder picks it up);
--   chunks past the new end of a shortened text and chunks of a source that is gone
--   (archived artifact or ticket, description removed) are deleted.
-- * Every chunk carries who may see it (crm.chunks.acl, acl_tsv: set by the trigger
--   crm_private.tg_chunks__acl on every write, kept current by ACL maintenance).
-- * SECURITY DEFINER (crm_owner writes crm.chunks; visibility is not decided here but by the
--   chunks policy at read time); crm360's flags pinned off; reads no caller temp object.
--   EXECUTE for crm_admin; crm_private.reconcile_run calls it for what it applied.
-- Returns the number of chunks inserted, changed or deleted.
CREATE OR REPLACE FUNCTION crm_private.refresh_chunks(p_node_ids uuid[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET crm.bulk_apply = 'off'
SET crm.acl_maintenance = 'off'
SET crm.purge = 'off'
AS $$
DECLARE
    v_all boolean := p_node_ids IS NULL;
    v_n   integer := 0;
    v_k   integer;
BEGIN
    IF NOT v_all AND cardinality(p_node_ids) = 0 THEN
        RETURN 0;
    END IF;
    -- the source texts in scope, one row per origin (a CTE per statement would be evaluated
    -- twice; an array of composite rows is private to this call, unlike a temp table)
    WITH tickets AS (
        -- the tickets in scope and the artifacts in scope, each condition on its own index and
        -- joined by id. (An OR of these conditions with IN (subquery) arms, as before, made the
        -- subqueries plain subplans — hashed only while they fit in work_mem: at 1M records a
        -- ticket batch's owned_by children did not, and every ticket re-read the materialised
        -- set from disk: quadratic, > 4 min for 160k tickets against 14.5 s for 32k.)
        SELECT n.id FROM crm.nodes n WHERE v_all AND n.node_type = 'ticket'
        UNION SELECT x FROM unnest(p_node_ids) AS x
        UNION SELECT e.source_id FROM crm.edges e
               WHERE e.target_id = ANY (p_node_ids) AND e.edge_type = 'owned_by'
    ), arts AS (
        SELECT a.id FROM crm.artifacts a WHERE v_all
        UNION SELECT a.id FROM crm.artifacts a WHERE a.node_id = ANY (p_node_ids)
        UNION SELECT a.id FROM crm.artifacts a WHERE a.event_id = ANY (p_node_ids)
        UNION SELECT a.id FROM crm.event_participants p JOIN crm.artifacts a ON a.event_id = p.event_id
               WHERE p.node_id = ANY (p_node_ids)
        UNION SELECT a.id FROM crm.edges e JOIN crm.artifacts a ON a.node_id = e.source_id
               WHERE e.target_id = ANY (p_node_ids) AND e.edge_type = 'owned_by'
    ), src AS (
        -- (1) ticket descriptions
        SELECT 'description/' || n.id AS origin, n.id AS node_id, NULL::uuid AS event_id, NULL::uuid AS artifact_id,
               'ticket_description'::text AS kind, n.label AS title, n.properties ->> 'description' AS text,
               coalesce(CASE WHEN pg_input_is_valid(n.properties ->> 'created_at', 'timestamptz')
                             THEN (n.properties ->> 'created_at')::timestamptz END, n.created_at) AS occurred_at,
               coalesce(n.external_source, 'crm360') AS source, n.external_id AS source_record,
               (SELECT e.target_id FROM crm.edges e JOIN crm.nodes o ON o.id = e.target_id AND o.node_type = 'org'
                 WHERE e.source_id = n.id AND e.edge_type = 'owned_by' AND e.archived_at IS NULL
                   AND e.effective_to IS NULL
                 ORDER BY e.created_at DESC LIMIT 1) AS account_id
          FROM tickets t JOIN crm.nodes n ON n.id = t.id
         WHERE n.node_type = 'ticket' AND n.archived_at IS NULL
           AND btrim(coalesce(n.properties ->> 'description', '')) <> ''
        UNION ALL
        -- (2) artifact bodies: on an event (visible with the event) or on a node
        SELECT 'artifact/' || a.id, coalesce(ev.subject_id, ev.account_id, a.node_id, ev.any_id), a.event_id, a.id,
               CASE a.artifact_type
                    WHEN 'ticket_comment' THEN 'ticket_comment' WHEN 'ticket_body' THEN 'ticket_description'
                    WHEN 'meeting_notes' THEN 'meeting_note' WHEN 'call_notes' THEN 'call_note'
                    WHEN 'email_body' THEN 'email'
                    ELSE CASE ev.event_type WHEN 'ticket_comment' THEN 'ticket_comment' WHEN 'meeting' THEN 'meeting_note'
                                            WHEN 'phone_call' THEN 'call_note' WHEN 'email' THEN 'email'
                                            ELSE 'note' END END,
               coalesce(a.title, ev.summary), a.body,
               coalesce(ev.occurred_at, a.created_at),
               coalesce(ev.external_source, ev.actor_system, 'crm360'), ev.external_id,
               coalesce(ev.account_id,
                        (SELECT CASE WHEN o.node_type = 'org' THEN o.id END FROM crm.nodes o
                          WHERE o.id = coalesce(ev.subject_id, a.node_id)),
                        (SELECT e.target_id FROM crm.edges e JOIN crm.nodes o ON o.id = e.target_id AND o.node_type = 'org'
                          WHERE e.source_id = coalesce(ev.subject_id, a.node_id) AND e.edge_type = 'owned_by'
                            AND e.archived_at IS NULL AND e.effective_to IS NULL
                          ORDER BY e.created_at DESC LIMIT 1))
          FROM arts r
          JOIN crm.artifacts a ON a.id = r.id
          LEFT JOIN LATERAL (
              SELECT e.event_type, e.summary, e.occurred_at, e.external_source, e.external_id, e.actor_system,
                     (SELECT p.node_id FROM crm.event_participants p
                       WHERE p.event_id = e.id AND p.role = 'subject' ORDER BY p.node_id LIMIT 1) AS subject_id,
                     (SELECT p.node_id FROM crm.event_participants p JOIN crm.nodes o ON o.id = p.node_id
                       WHERE p.event_id = e.id AND p.role = 'account' AND o.node_type = 'org'
                       ORDER BY p.node_id LIMIT 1) AS account_id,
                     (SELECT p.node_id FROM crm.event_participants p
                       WHERE p.event_id = e.id ORDER BY p.node_id LIMIT 1) AS any_id
                FROM crm.events e WHERE e.id = a.event_id) ev ON a.event_id IS NOT NULL
         WHERE a.archived_at IS NULL AND btrim(coalesce(a.body, '')) <> ''
    ), cut AS (
        SELECT s.origin, s.node_id, s.event_id, s.artifact_id, s.kind, s.title, s.occurred_at, s.source,
               s.source_record, s.account_id, c.chunk_no, c.body,
               encode(sha256(convert_to(s.kind || E'\x1f' || coalesce(s.title, '') || E'\x1f' || c.body, 'UTF8')), 'hex') AS h
          FROM src s
         CROSS JOIN LATERAL crm_private.chunk_text(s.text) c
         WHERE s.node_id IS NOT NULL
    ), scope AS (
        -- the chunks in scope, each condition on its own index (one OR over them, with the
        -- cut's origins as a subplan, was a scan of every chunk re-reading the whole cut per
        -- chunk: quadratic in the size of crm.chunks and of the batch — measured 8.3 s for 1,000
        -- comments over 100k chunks, 165 s of a 200k-record load)
        SELECT k.id FROM crm.chunks k WHERE v_all
        UNION SELECT k.id FROM crm.chunks k WHERE k.node_id = ANY (p_node_ids)
        UNION SELECT k.id FROM crm.chunks k WHERE k.event_id = ANY (p_node_ids)
        UNION SELECT k.id FROM crm.chunks k WHERE k.account_id = ANY (p_node_ids)
        UNION SELECT k.id FROM crm.chunks k WHERE k.origin IN (SELECT DISTINCT c.origin FROM cut c)
    ), gone AS (
        -- chunks in scope whose (origin, chunk_no) is no longer produced
        DELETE FROM crm.chunks k
         USING scope s
         WHERE k.id = s.id
           AND NOT EXISTS (SELECT 1 FROM cut c WHERE c.origin = k.origin AND c.chunk_no = k.chunk_no)
        RETURNING 1
    ), up AS (
        INSERT INTO crm.chunks AS k (account_id, node_id, event_id, artifact_id, origin, kind, title, body, chunk_no,
                                     occurred_at, source, source_record, content_hash)
        SELECT c.account_id, c.node_id, c.event_id, c.artifact_id, c.origin, c.kind, c.title, c.body, c.chunk_no,
               c.occurred_at, c.source, c.source_record, c.h
          FROM cut c
        ON CONFLICT (origin, chunk_no) DO UPDATE
           SET account_id = excluded.account_id, node_id = excluded.node_id, event_id = excluded.event_id,
               artifact_id = excluded.artifact_id, kind = excluded.kind, title = excluded.title,
               body = excluded.body, occurred_at = excluded.occurred_at, source = excluded.source,
               source_record = excluded.source_record, acl = excluded.acl, content_hash = excluded.content_hash,
               embedding = CASE WHEN k.content_hash = excluded.content_hash THEN k.embedding END,
               embedding_model = CASE WHEN k.content_hash = excluded.content_hash THEN k.embedding_model END,
               updated_at = CASE WHEN k.content_hash = excluded.content_hash THEN k.updated_at ELSE now() END
         WHERE (k.account_id, k.node_id, k.event_id, k.artifact_id, k.kind, k.title, k.occurred_at, k.source,
                k.source_record, k.acl, k.content_hash)
               IS DISTINCT FROM
               (excluded.account_id, excluded.node_id, excluded.event_id, excluded.artifact_id, excluded.kind,
                excluded.title, excluded.occurred_at, excluded.source, excluded.source_record, excluded.acl,
                excluded.content_hash)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM up) INTO v_k;
    v_n := v_n + v_k;
    RETURN v_n;
END;
$$;

COMMENT ON FUNCTION crm_private.refresh_chunks(uuid[]) IS
    'Rebuilds crm.chunks from ticket descriptions and artifact bodies: all of them (NULL) or those of the given ticket/node/event ids; unchanged chunks keep their embedding, changed ones are cleared for re-embedding. Returns rows inserted, changed or deleted. Example: SELECT crm_private.refresh_chunks();';
