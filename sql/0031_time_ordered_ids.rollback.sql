-- Undo 0031: id columns default to gen_random_uuid() again (ids already given are kept).
SET LOCAL lock_timeout = '5s';

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT a.attrelid::regclass AS tbl, a.attname
               FROM pg_catalog.pg_attrdef d
               JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
               JOIN pg_catalog.pg_class c ON c.oid = d.adrelid
              WHERE c.relnamespace IN ('crm'::regnamespace, 'crm_private'::regnamespace, 'crm_raw'::regnamespace)
                AND c.relkind IN ('r', 'p')
                AND pg_catalog.pg_get_expr(d.adbin, d.adrelid) = 'uuidv7()'
              ORDER BY 1, 2 LOOP
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT gen_random_uuid()', r.tbl, r.attname);
    END LOOP;
END
$$;
