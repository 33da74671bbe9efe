-- crm360 bootstrap, part 2: ownership (run by the DBA after a migration that ran as the DBA,
-- and at the start of every migrate).
-- Guarantees: the schemas crm, crm_raw and crm_private and every table, view, materialized
-- view, sequence, function, procedure and type in them are owned by crm_owner afterwards —
-- including objects created by earlier crm360 versions as a superuser (adopted here). The
-- schema `extensions` keeps its owner (extensions belong to the DBA) but crm_owner and the
-- crm roles may use it. Idempotent; changes nothing when everything is already adopted.
DO $adopt$
DECLARE
    v_obj record;
BEGIN
    -- only pg_catalog: nothing a role can create in another schema is ever called here
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    FOR v_obj IN
        SELECT pg_catalog.format('ALTER SCHEMA %I OWNER TO crm_owner', n.nspname) AS stmt
          FROM pg_catalog.pg_namespace n
         WHERE n.nspname IN ('crm', 'crm_raw', 'crm_private')
           AND n.nspowner <> 'crm_owner'::regrole
        UNION ALL
        SELECT pg_catalog.format('ALTER %s %s OWNER TO crm_owner',
                      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                     WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                      c.oid::regclass)
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace IN (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname IN ('crm', 'crm_raw', 'crm_private'))
           AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
           AND c.relowner <> 'crm_owner'::regrole
        UNION ALL
        SELECT pg_catalog.format('ALTER ROUTINE %s OWNER TO crm_owner', p.oid::regprocedure)
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace IN (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname IN ('crm', 'crm_raw', 'crm_private'))
           AND p.proowner <> 'crm_owner'::regrole
    LOOP
        EXECUTE v_obj.stmt;
    END LOOP;
    -- what the statements above did not carry along: sequences not owned by a column,
    -- free-standing types (domains, enums, composite types without a table)
    FOR v_obj IN
        SELECT pg_catalog.format('ALTER SEQUENCE %s OWNER TO crm_owner', c.oid::regclass) AS stmt
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace IN (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname IN ('crm', 'crm_raw', 'crm_private'))
           AND c.relkind = 'S' AND c.relowner <> 'crm_owner'::regrole
        UNION ALL
        SELECT pg_catalog.format('ALTER TYPE %s OWNER TO crm_owner', t.oid::regtype)
          FROM pg_catalog.pg_type t
         WHERE t.typnamespace IN (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname IN ('crm', 'crm_raw', 'crm_private'))
           AND t.typowner <> 'crm_owner'::regrole
           AND t.typtype IN ('d', 'e', 'r', 'm')
    LOOP
        EXECUTE v_obj.stmt;
    END LOOP;
    IF to_regnamespace('extensions') IS NOT NULL THEN
        GRANT USAGE ON SCHEMA extensions TO crm_owner, crm_reader, crm_connector;
    END IF;
END
$adopt$;
