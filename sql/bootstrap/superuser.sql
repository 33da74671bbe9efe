-- crm360 bootstrap for the installing role {{owner}} on database {{database}}.
-- A superuser runs this ONCE, connected to that database, e.g.
--   psql -d {{database}} -v ON_ERROR_STOP=1 -f bootstrap.sql
-- Afterwards `crm360 migrate` runs as {{owner}} without superuser. Idempotent, one transaction:
-- re-running it changes nothing; a failure leaves nothing behind. Roles are cluster-wide: on a
-- second database of the same cluster, run the script printed for that database and its
-- installing role (the roles part is then a no-op; the extensions are per database).
BEGIN;
-- only pg_catalog: a function or table someone planted in public, or in a schema named after
-- the superuser, is never called or written here
SET LOCAL search_path = pg_catalog, pg_temp;

DO $bootstrap$
BEGIN
    IF current_database() <> {{database_literal}} THEN
        RAISE EXCEPTION 'this crm360 bootstrap is for database %, not %', {{database_literal}}, current_database()
            USING ERRCODE = '22023', HINT = 'connect to that database (psql -d ...), or print the script for this one';
    END IF;
    IF to_regrole({{owner_literal}}) IS NULL THEN
        RAISE EXCEPTION 'role % does not exist', {{owner_literal}}
            USING ERRCODE = '42704', HINT = 'create the installing login first (CREATE ROLE ... LOGIN), or pass --owner';
    END IF;
END
$bootstrap$;

-- 1. Extensions (per database). vector is not a trusted extension: only a superuser creates it.
--    Their schema belongs to the installing role (crm360 comments on it and grants USAGE on it).
CREATE SCHEMA IF NOT EXISTS extensions AUTHORIZATION {{owner}};
ALTER SCHEMA extensions OWNER TO {{owner}};
CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions;

-- 2. The crm roles (cluster-wide): sql/bootstrap/roles.sql
{{roles.sql}}

-- 3. What the installing role needs: be crm_owner (SET ROLE, its privileges), administer the
--    crm roles (0005_access_control grants them and comments on them; `crm360 user add` grants
--    them to logins) without being a member of them, create roles (logins), create schemas in
--    this database, and own the migrator's bookkeeping tables if an earlier migrate made them.
ALTER ROLE {{owner}} CREATEROLE;
GRANT crm_owner TO {{owner}} WITH INHERIT TRUE, SET TRUE;
GRANT crm_reader, crm_writer, crm_service, crm_connector, crm_admin TO {{owner}} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;
DO $bootstrap$
DECLARE
    v_table regclass;
BEGIN
    IF NOT pg_catalog.has_database_privilege({{owner_literal}}, current_database(), 'CREATE') THEN
        EXECUTE pg_catalog.format('GRANT CREATE ON DATABASE %I TO %I', current_database(), {{owner_literal}});
    END IF;
    IF to_regnamespace('public') IS NOT NULL AND NOT pg_catalog.has_schema_privilege({{owner_literal}}, 'public', 'CREATE') THEN
        EXECUTE pg_catalog.format('GRANT CREATE ON SCHEMA public TO %I', {{owner_literal}});
    END IF;
    FOR v_table IN
        SELECT c.oid::regclass
          FROM pg_catalog.pg_class c
         WHERE c.oid IN (to_regclass('public._yoyo_migration'), to_regclass('public._yoyo_log'),
                         to_regclass('public._yoyo_version'), to_regclass('public.yoyo_lock'),
                         to_regclass('public._crm360_checksums'))
           AND NOT pg_catalog.pg_has_role({{owner_literal}}, c.relowner, 'USAGE')
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %I', v_table, {{owner_literal}});
    END LOOP;
END
$bootstrap$;

-- 4. Objects of an earlier crm360 migrated as a superuser go to crm_owner: sql/bootstrap/adopt.sql
{{adopt.sql}}

COMMIT;
