-- 0031 Time-ordered row ids (issue 16): on PostgreSQL 18+, the id columns that defaulted to
-- gen_random_uuid() — edges, assertions, events, grants, artifacts, tags, notes, tasks,
-- memberships, criteria; NOT nodes — default to uuidv7(): a 48-bit millisecond timestamp, 12
-- bits of sub-millisecond time, 62 random bits. A random id sends each new row to a random leaf
-- of its primary-key index (and of every index on a column referring to it), so after each
-- checkpoint nearly every insert dirtied a fresh page and wrote it whole to the WAL: 23 KB of
-- WAL per crm.create_opportunity. With time-ordered ids those rows go to the right edge
-- (12.8 KB; 4.6 KB if node ids were time-ordered too). Node ids stay random: a node's id can
-- be seen where the node cannot (crm.events.about lists every node an event is about), and a
-- time-ordered id would tell when that hidden node was created (review of issue 16). The
-- other ids are seen only with their rows. Existing ids are kept; ids are never secrets. On
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
                AND c.relkind IN ('r', 'p') AND c.oid <> 'crm.nodes'::regclass
                AND pg_catalog.pg_get_expr(d.adbin, d.adrelid) = 'gen_random_uuid()'
              ORDER BY 1, 2 LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT pg_catalog.uuidv7()', r.tbl, r.attname);
    END LOOP;
END
$$;
