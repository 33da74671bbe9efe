-- crm_private.new_id() — a new row id for crm360's own bulk writes of events, assertions and
-- edges (reconciliation, audit and merge events): uuidv7() on a server that has it
-- (PostgreSQL 18+), else gen_random_uuid() — the same choice migration 0031 made for those
-- tables' id defaults. Never for nodes (their ids stay random: see 0031).
-- Guarantees: unique like any UUID; on PostgreSQL 18+ time-ordered (48-bit millisecond
-- timestamp, 12 bits of sub-millisecond time, 62 random bits), so new rows go to the right
-- edge of the primary-key index instead of a random leaf each — far fewer pages dirtied and
-- written to the WAL whole after a checkpoint (issue 16); ids are not secrets and are never
-- used as such. A SQL-standard body, inlined; bound at creation to the function this server
-- has.
-- EXECUTE for nobody but crm_owner's own functions.
DO $do$
BEGIN
    IF to_regprocedure('pg_catalog.uuidv7()') IS NOT NULL THEN
        EXECUTE $f$CREATE OR REPLACE FUNCTION crm_private.new_id() RETURNS uuid
                   LANGUAGE sql VOLATILE PARALLEL SAFE RETURN pg_catalog.uuidv7()$f$;
    ELSE
        EXECUTE $f$CREATE OR REPLACE FUNCTION crm_private.new_id() RETURNS uuid
                   LANGUAGE sql VOLATILE PARALLEL SAFE RETURN pg_catalog.gen_random_uuid()$f$;
    END IF;
END
$do$;

REVOKE EXECUTE ON FUNCTION crm_private.new_id() FROM PUBLIC;

COMMENT ON FUNCTION crm_private.new_id() IS
    'A new row id for crm360''s bulk writes of events, assertions and edges (never nodes): uuidv7() (time-ordered, so index inserts go to the right edge) on PostgreSQL 18+, else gen_random_uuid().';
