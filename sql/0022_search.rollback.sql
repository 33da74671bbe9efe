-- Undo 0022: the chunks table (its text is rebuilt from the graph by
-- crm_private.refresh_chunks after `crm360 migrate` brings it back; embeddings are lost and
-- must be computed again), the search indexes on crm.nodes and the error code.
SET LOCAL lock_timeout = '5s';

DROP TABLE IF EXISTS crm.chunks;
DROP INDEX IF EXISTS crm.nodes_search_label_trgm;
DROP INDEX IF EXISTS crm.nodes_search_email_trgm;
DROP INDEX IF EXISTS crm.nodes_search_external_id;
DELETE FROM crm.error_codes WHERE sqlstate = 'CR044';
