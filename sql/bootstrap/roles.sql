-- crm360 bootstrap, part 1: roles (run by the DBA — the connecting role — before any migration).
-- Guarantees:
-- * the owner role crm_owner exists: NOLOGIN, not a superuser, no BYPASSRLS, no CREATEROLE,
--   no CREATEDB, no REPLICATION. It owns every crm360 schema, table, view and function, so a
--   hijacked SECURITY DEFINER function runs as crm_owner, never as a superuser. The migrator
--   switches to it (SET ROLE) for everything but the steps below;
-- * the group roles crm_reader < crm_writer < crm_service, crm_writer < crm_admin,
--   crm_reader < crm_connector exist (NOLOGIN) with those memberships; crm_owner is an admin
--   (its definer functions pass the admin policies under FORCE ROW LEVEL SECURITY);
-- * the connecting role may become crm_owner (SET ROLE), and crm_owner may create schemas in
--   this database (CREATE ON DATABASE);
-- * an existing crm_owner that has been given SUPERUSER, BYPASSRLS, CREATEROLE, CREATEDB,
--   REPLICATION or LOGIN is refused (42501): crm360 will not hand its functions to it.
-- Idempotent, and each grant and comment is made only when missing. Needs a superuser the first
-- time on a cluster (the SET privileges on parameters below); afterwards a DBA that may
-- SET ROLE crm_owner runs it without changing anything (sql/bootstrap/precheck.sql lists what
-- a role lacks, `crm360 migrate --print-bootstrap` the SQL a superuser runs for it).
DO $bootstrap$
DECLARE
    v_role text;
    v_bad  text;
BEGIN
    -- only pg_catalog: nothing a role can create in another schema is ever called here
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    FOREACH v_role IN ARRAY ARRAY['crm_owner', 'crm_reader', 'crm_writer', 'crm_service', 'crm_connector', 'crm_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = v_role) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', v_role);
        END IF;
    END LOOP;
    SELECT pg_catalog.string_agg(x, ', ') INTO v_bad
      FROM pg_catalog.pg_roles r,
           LATERAL (VALUES (CASE WHEN r.rolsuper THEN 'SUPERUSER' END), (CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END),
                           (CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END), (CASE WHEN r.rolcreatedb THEN 'CREATEDB' END),
                           (CASE WHEN r.rolreplication THEN 'REPLICATION' END), (CASE WHEN r.rolcanlogin THEN 'LOGIN' END)) v(x)
     WHERE r.rolname = 'crm_owner' AND x IS NOT NULL;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'role crm_owner has %: crm360 will not install its functions under it', v_bad
            USING ERRCODE = '42501',
                  HINT = 'ALTER ROLE crm_owner NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOREPLICATION NOLOGIN';
    END IF;
END
$bootstrap$;

-- Each membership is granted only when missing: roles are cluster-wide, and a second database's
-- DBA (no ADMIN on these roles) must be able to run this file after the first one did.
DO $bootstrap$
DECLARE
    v_pair text[];
BEGIN
    -- only pg_catalog: nothing a role can create in another schema is ever called here
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    FOREACH v_pair SLICE 1 IN ARRAY ARRAY[['crm_reader', 'crm_writer'], ['crm_writer', 'crm_service'],
                                          ['crm_writer', 'crm_admin'], ['crm_reader', 'crm_connector'],
                                          ['crm_admin', 'crm_owner']] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                        WHERE m.roleid = v_pair[1]::regrole AND m.member = v_pair[2]::regrole) THEN
            EXECUTE pg_catalog.format('GRANT %I TO %I', v_pair[1], v_pair[2]);
        END IF;
    END LOOP;
END
$bootstrap$;

-- the migrating role may SET ROLE crm_owner and has its privileges (a superuser needs no grant);
-- crm_owner may create schemas in this database. Each only when missing, so a DBA who got them
-- from the superuser bootstrap (`crm360 migrate --print-bootstrap`) needs no ADMIN or grant option.
DO $bootstrap$
BEGIN
    -- only pg_catalog: nothing a role can create in another schema is ever called here
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF NOT (pg_catalog.pg_has_role(current_user, 'crm_owner', 'SET')
            AND pg_catalog.pg_has_role(current_user, 'crm_owner', 'USAGE')) THEN
        EXECUTE pg_catalog.format('GRANT crm_owner TO %I WITH INHERIT TRUE, SET TRUE', current_user);
    END IF;
    IF NOT (pg_catalog.has_database_privilege('crm_owner', current_database(), 'CREATE')
            AND pg_catalog.has_database_privilege('crm_owner', current_database(), 'CONNECT')
            AND pg_catalog.has_database_privilege('crm_owner', current_database(), 'TEMPORARY')) THEN
        EXECUTE pg_catalog.format('GRANT CREATE, CONNECT, TEMPORARY ON DATABASE %I TO crm_owner', current_database());
    END IF;
END
$bootstrap$;

-- crm360's internal flags (crm.bulk_apply, crm.acl_maintenance, crm.purge) are pinned off in
-- the SET clause of every SECURITY DEFINER function, so no value a caller sets ever reaches
-- crm360's own code. PostgreSQL lets a non-superuser put a custom parameter in a function's
-- SET clause only with the SET privilege on it: granted here (once per cluster; a superuser
-- has to run this part — the same one that creates the extensions).
DO $bootstrap$
DECLARE
    v_param text;
BEGIN
    -- only pg_catalog: nothing a role can create in another schema is ever called here
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    FOREACH v_param IN ARRAY ARRAY['crm.bulk_apply', 'crm.acl_maintenance', 'crm.purge'] LOOP
        IF NOT pg_catalog.has_parameter_privilege('crm_owner', v_param, 'SET') THEN
            IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
                RAISE EXCEPTION 'crm_owner lacks the SET privilege on parameter %', v_param
                    USING ERRCODE = '42501',
                          HINT = 'a superuser runs once: GRANT SET ON PARAMETER crm.bulk_apply, crm.acl_maintenance, crm.purge TO crm_owner';
            END IF;
            EXECUTE pg_catalog.format('GRANT SET ON PARAMETER %s TO crm_owner', v_param);
        END IF;
    END LOOP;
END
$bootstrap$;

-- COMMENT ON ROLE needs CREATEROLE and ADMIN on the role: only when there is no comment yet.
DO $bootstrap$
BEGIN
    -- only pg_catalog: nothing a role can create in another schema is ever called here
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF pg_catalog.shobj_description('crm_owner'::regrole, 'pg_authid') IS NULL THEN
        COMMENT ON ROLE crm_owner IS 'crm360: owns every crm360 schema, table, view and function (NOLOGIN, not a superuser); the migrator switches to it';
    END IF;
END
$bootstrap$;
