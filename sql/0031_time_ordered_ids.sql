-- 0031 Time-ordered row ids (issue 16): on PostgreSQL 18+, every id column that defaulted to
-- gen_random_uuid() (nodes, edges, assertions, events, grants, artifacts, tags, notes, tasks,
-- memberships, criteria) defaults to uuidv7() — a 48-bit millisecond timestamp, then random
-- bits. A random id sends each new row to a random leaf of its primary-key index and of every
-- index on a column referring to it, so after each checkpoint nearly every insert dirtied a
-- fresh page and wrote it whole to the WAL: 23 KB of WAL per crm.create_opportunity, the limit
-- on concurrent writes (LWLock:WALWrite). With time-ordered ids new rows go to the right edge
-- (4.7 KB). Existing ids are kept; ids stay unguessable (74 random bits) and are never used as
-- secrets; a row's id now shows when it was created, as its created_at column does. On
-- PostgreSQL 16 and 17 (no uuidv7) nothing changes. crm360's own bulk writes use
-- crm_private.new_id(), which makes the same choice. Safe to run twice.
SET LOCAL lock_timeout = '5s';

DO $$
DECLARE
    r record;
BEGIN
    IF to_regprocedure('pg_catalog.uuidv7()') IS NULL THEN
        RETURN;
    END IF;
    FOR r IN SELECT a.attrelid::regclass AS tbl, a.attname
               FROM pg_catalog.pg_attrdef d
               JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
               JOIN pg_catalog.pg_class c ON c.oid = d.adrelid
              WHERE c.relnamespace IN ('crm'::regnamespace, 'crm_private'::regnamespace, 'crm_raw'::regnamespace)
                AND c.relkind IN ('r', 'p')
                AND pg_catalog.pg_get_expr(d.adbin, d.adrelid) = 'gen_random_uuid()'
              ORDER BY 1, 2 LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT pg_catalog.uuidv7()', r.tbl, r.attname);
    END LOOP;
END
$$;
