-- After 0023 (crm360.migrator: runs once, as crm_owner, right after the repeatable files of
-- the migrate that applied 0023; safe to run twice).
-- Migration 0022 created crm.chunks empty and asked the DBA to run the backfill by hand; a
-- database upgraded through it without that step has no searchable text. Build the chunks
-- from the graph when there are none (a database that has chunks keeps them: they are kept
-- current incrementally). On a fresh install the graph is empty and this does nothing.
SELECT crm_private.refresh_chunks()
 WHERE NOT EXISTS (SELECT 1 FROM crm.chunks);
