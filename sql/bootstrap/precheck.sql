-- crm360 precheck: what the connecting role lacks to run `crm360 migrate` on this database.
-- One read-only SELECT (the migrator runs it in a READ ONLY transaction before changing
-- anything). One row per missing privilege: what is missing, and the SQL a superuser runs to
-- give it; every such fix is part of the bootstrap script (`crm360 migrate --print-bootstrap`).
-- A superuser lacks nothing, except when crm_owner itself is unfit.
-- Parameters (the migrator turns `/*name*/false` into true): needs_0001 (0001_foundation is pending: it creates schemas and extensions as the
-- connecting role), needs_0005 (0005_access_control is pending: it comments on the crm roles
-- and grants them as the connecting role, which needs CREATEROLE and ADMIN on them).
WITH me AS (
    SELECT r.rolsuper, r.rolcreaterole, d.datdba
      FROM pg_catalog.pg_roles r, pg_catalog.pg_database d
     WHERE r.rolname = current_user AND d.datname = current_database()
), crm_roles(rolname) AS (
    VALUES ('crm_owner'), ('crm_reader'), ('crm_writer'), ('crm_service'), ('crm_connector'), ('crm_admin')
), checks(ord, problem, fix, also_superuser) AS (
    -- extensions: vector is not a trusted extension (only a superuser creates it); a trusted
    -- one (pg_trgm) needs CREATE on the database
    SELECT 10, pg_catalog.format('extension %s is not installed in database %I and %I may not create it (%s)',
                      a.name, current_database(), current_user,
                      CASE WHEN v.trusted THEN 'it needs CREATE on the database'
                           ELSE 'not a trusted extension: only a superuser can create it' END),
           pg_catalog.format('CREATE EXTENSION IF NOT EXISTS %s WITH SCHEMA extensions;', a.name), false
      FROM pg_catalog.pg_available_extensions a
      JOIN pg_catalog.pg_available_extension_versions v ON v.name = a.name AND v.version = a.default_version
     WHERE a.name IN ('vector', 'pg_trgm') AND a.installed_version IS NULL
       AND NOT (v.trusted AND pg_catalog.has_database_privilege(current_database(), 'CREATE'))
    UNION ALL
    -- 0001 comments on schema extensions and every migrate grants USAGE on it
    SELECT 20, pg_catalog.format('schema extensions belongs to %s, not to %I (crm360 comments on it and grants USAGE on it)',
                      n.nspowner::regrole, current_user),
           pg_catalog.format('ALTER SCHEMA extensions OWNER TO %I;', current_user), false
      FROM pg_catalog.pg_namespace n
     WHERE n.nspname = 'extensions' AND NOT pg_catalog.pg_has_role(n.nspowner, 'USAGE')
    UNION ALL
    SELECT 30, pg_catalog.format('%I may not create schemas in database %I (0001 creates crm, crm_raw, crm_private and extensions)',
                      current_user, current_database()),
           pg_catalog.format('GRANT CREATE ON DATABASE %I TO %I;', current_database(), current_user), false
     WHERE /*needs_0001*/false AND NOT pg_catalog.has_database_privilege(current_database(), 'CREATE')
    UNION ALL
    -- the migrator's bookkeeping: yoyo's tables (in the first schema of the search_path) and
    -- public._crm360_checksums, which it creates, comments on and writes
    SELECT 40, pg_catalog.format('table %s belongs to %s, not to %I (the migrator records what it applied there)',
                      c.oid::regclass, c.relowner::regrole, current_user),
           pg_catalog.format('ALTER TABLE %s OWNER TO %I;', c.oid::regclass, current_user), false
      FROM pg_catalog.pg_class c
     WHERE c.oid IN (to_regclass('_yoyo_migration'), to_regclass('_yoyo_log'), to_regclass('_yoyo_version'),
                     to_regclass('yoyo_lock'), to_regclass('public._crm360_checksums'))
       AND NOT pg_catalog.pg_has_role(c.relowner, 'USAGE')
    UNION ALL
    SELECT 41, pg_catalog.format('%I may not create tables in schema %s (the migrator records what it applied there)',
                      current_user, s.nspname),
           pg_catalog.format('GRANT CREATE ON SCHEMA %I TO %I;', s.nspname, current_user), false
      FROM (SELECT DISTINCT x.nspname
              FROM (VALUES (CASE WHEN to_regclass('_yoyo_migration') IS NULL THEN current_schema() END),
                           (CASE WHEN to_regclass('public._crm360_checksums') IS NULL THEN 'public' END)) x(nspname)
             WHERE x.nspname IS NOT NULL) s
     WHERE CASE WHEN to_regnamespace(s.nspname) IS NULL THEN true
                ELSE NOT pg_catalog.has_schema_privilege(s.nspname, 'CREATE') END
    UNION ALL
    -- the crm roles (cluster-wide)
    SELECT 50, pg_catalog.format('role %s does not exist and %I may not create roles (no CREATEROLE)', r.rolname, current_user),
           '(sql/bootstrap/roles.sql)', false
      FROM crm_roles r, me
     WHERE to_regrole(r.rolname) IS NULL AND NOT me.rolcreaterole
    UNION ALL
    SELECT 51, pg_catalog.format('role crm_owner has %s: crm360 will not install its functions under it',
                      pg_catalog.concat_ws(', ', CASE WHEN r.rolsuper THEN 'SUPERUSER' END, CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END,
                                CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END, CASE WHEN r.rolcreatedb THEN 'CREATEDB' END,
                                CASE WHEN r.rolreplication THEN 'REPLICATION' END, CASE WHEN r.rolcanlogin THEN 'LOGIN' END)),
           'ALTER ROLE crm_owner NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOREPLICATION NOLOGIN;', true
      FROM pg_catalog.pg_roles r
     WHERE r.rolname = 'crm_owner'
       AND (r.rolsuper OR r.rolbypassrls OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolcanlogin)
    UNION ALL
    SELECT 52, pg_catalog.format('crm_owner lacks the SET privilege on parameter %s (only a superuser can grant it)', p.name),
           pg_catalog.format('GRANT SET ON PARAMETER %s TO crm_owner;', p.name), false
      FROM unnest(ARRAY['crm.bulk_apply', 'crm.acl_maintenance', 'crm.purge']) p(name)
     WHERE CASE WHEN to_regrole('crm_owner') IS NULL THEN true
                ELSE NOT pg_catalog.has_parameter_privilege('crm_owner', p.name, 'SET') END
    UNION ALL
    SELECT 53, pg_catalog.format('role %s is not a member of %s and %I lacks ADMIN on %s to grant it',
                      m.member, m.role, current_user, m.role),
           pg_catalog.format('GRANT %I TO %I;', m.role, m.member), false
      FROM (VALUES ('crm_reader', 'crm_writer'), ('crm_writer', 'crm_service'), ('crm_writer', 'crm_admin'),
                   ('crm_reader', 'crm_connector'), ('crm_admin', 'crm_owner')) m(role, member)
     WHERE to_regrole(m.role) IS NOT NULL AND to_regrole(m.member) IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members a
                        WHERE a.roleid = to_regrole(m.role) AND a.member = to_regrole(m.member))
       AND NOT pg_catalog.pg_has_role(to_regrole(m.role), 'MEMBER WITH ADMIN OPTION')
    UNION ALL
    SELECT 54, pg_catalog.format('%I may not SET ROLE crm_owner with its privileges (every migration runs as crm_owner)', current_user),
           pg_catalog.format('GRANT crm_owner TO %I WITH INHERIT TRUE, SET TRUE;', current_user), false
     WHERE to_regrole('crm_owner') IS NOT NULL
       AND NOT (pg_catalog.pg_has_role('crm_owner', 'SET') AND pg_catalog.pg_has_role('crm_owner', 'USAGE'))
       AND NOT pg_catalog.pg_has_role('crm_owner', 'MEMBER WITH ADMIN OPTION')
    UNION ALL
    SELECT 55, 'role crm_owner has no comment and only a role with CREATEROLE and ADMIN on it may add one',
           '(sql/bootstrap/roles.sql)', false
      FROM me
     WHERE to_regrole('crm_owner') IS NOT NULL
       AND pg_catalog.shobj_description(to_regrole('crm_owner'), 'pg_authid') IS NULL
       AND NOT (me.rolcreaterole AND pg_catalog.pg_has_role('crm_owner', 'MEMBER WITH ADMIN OPTION'))
    UNION ALL
    SELECT 56, pg_catalog.format('crm_owner lacks CREATE, CONNECT or TEMPORARY on database %I and %I may not grant them',
                      current_database(), current_user),
           pg_catalog.format('GRANT CREATE, CONNECT, TEMPORARY ON DATABASE %I TO crm_owner;', current_database()), false
      FROM me
     WHERE to_regrole('crm_owner') IS NOT NULL
       AND NOT (pg_catalog.has_database_privilege('crm_owner', current_database(), 'CREATE')
                AND pg_catalog.has_database_privilege('crm_owner', current_database(), 'CONNECT')
                AND pg_catalog.has_database_privilege('crm_owner', current_database(), 'TEMPORARY'))
       AND NOT (pg_catalog.pg_has_role(me.datdba, 'USAGE')
                OR (pg_catalog.has_database_privilege(current_database(), 'CREATE WITH GRANT OPTION')
                    AND pg_catalog.has_database_privilege(current_database(), 'CONNECT WITH GRANT OPTION')
                    AND pg_catalog.has_database_privilege(current_database(), 'TEMPORARY WITH GRANT OPTION')))
    UNION ALL
    -- 0005_access_control runs as the connecting role: COMMENT ON ROLE and GRANT of the crm roles
    SELECT 60, pg_catalog.format('%I lacks CREATEROLE (0005_access_control comments on the crm roles as the migrating role)', current_user),
           pg_catalog.format('ALTER ROLE %I CREATEROLE;', current_user), false
      FROM me
     WHERE /*needs_0005*/false AND NOT me.rolcreaterole
    UNION ALL
    SELECT 61, pg_catalog.format('%I lacks ADMIN on role %s (0005_access_control grants it and comments on it)', current_user, r.rolname),
           pg_catalog.format('GRANT %I TO %I WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;', r.rolname, current_user), false
      FROM crm_roles r
     WHERE /*needs_0005*/false AND r.rolname <> 'crm_owner' AND to_regrole(r.rolname) IS NOT NULL
       AND NOT pg_catalog.pg_has_role(to_regrole(r.rolname), 'MEMBER WITH ADMIN OPTION')
    UNION ALL
    -- objects of an earlier crm360 (e.g. migrated as a superuser) that the connecting role cannot
    -- hand to crm_owner (sql/bootstrap/adopt.sql runs at the start of every migrate)
    SELECT 70, pg_catalog.format('%s object(s) in the schemas crm, crm_raw, crm_private belong to %s, which %I cannot hand to crm_owner',
                      count(*), pg_catalog.string_agg(DISTINCT o.owner::regrole::text, ', '), current_user),
           '(sql/bootstrap/adopt.sql)', false
      FROM (SELECT n.nspowner AS owner FROM pg_catalog.pg_namespace n WHERE n.nspname IN ('crm', 'crm_raw', 'crm_private')
            UNION ALL
            SELECT c.relowner FROM pg_catalog.pg_class c
             WHERE c.relnamespace::regnamespace::text IN ('crm', 'crm_raw', 'crm_private') AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
            UNION ALL
            SELECT p.proowner FROM pg_catalog.pg_proc p WHERE p.pronamespace::regnamespace::text IN ('crm', 'crm_raw', 'crm_private')
            UNION ALL
            SELECT t.typowner FROM pg_catalog.pg_type t
             WHERE t.typnamespace::regnamespace::text IN ('crm', 'crm_raw', 'crm_private') AND t.typtype IN ('d', 'e', 'r', 'm')) o
     WHERE o.owner <> coalesce(to_regrole('crm_owner'), 0) AND NOT pg_catalog.pg_has_role(o.owner, 'USAGE')
    HAVING count(*) > 0
)
SELECT c.problem, c.fix
  FROM checks c, me
 WHERE c.also_superuser OR NOT me.rolsuper
 ORDER BY c.ord, c.problem
