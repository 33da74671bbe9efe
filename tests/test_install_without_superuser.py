"""Issue 13.1: a DBA installs crm360 without being a superuser.

A non-superuser LOGIN role owning a fresh database is refused before anything changes, with
the list of what it lacks and the bootstrap SQL; a superuser runs that SQL once; the role then
migrates. A second database on the same cluster, owned by another non-superuser, migrates
cleanly afterwards (the cluster-wide roles are reused), and a reader login sees the rows of the
database it is mapped in. Everything after the superuser bootstrap runs as LOGIN roles.
"""

from __future__ import annotations

import contextlib
import uuid

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from crm360.cli import cli
from crm360.migrator import MigrationError, Migrator
from tests.access_helpers import PASSWORD

quiet = {"echo": lambda s: None}

# Everything an install could touch, in the database and in the cluster's shared catalogs.
CATALOG_SQL = """
SELECT 'class ' || n.nspname || '.' || c.relname || ' ' || c.relowner::regrole
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\\_%temp%'
UNION ALL SELECT 'schema ' || nspname || ' ' || nspowner::regrole || ' ' || coalesce(nspacl::text, '')
  FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%temp%'
UNION ALL SELECT 'extension ' || extname FROM pg_extension
UNION ALL SELECT 'proc count ' || count(*) FROM pg_proc
UNION ALL SELECT 'comment count ' || count(*) FROM pg_description
UNION ALL SELECT 'role ' || rolname || ' ' || rolcreaterole FROM pg_roles
UNION ALL SELECT 'member ' || roleid::regrole || ' > ' || member::regrole || ' by ' || grantor::regrole || ' '
                 || admin_option || inherit_option || set_option FROM pg_auth_members
UNION ALL SELECT 'database ' || datname || ' ' || coalesce(datacl::text, '') FROM pg_database
 WHERE datname = current_database()
UNION ALL SELECT 'parameter ' || parname || ' ' || coalesce(paracl::text, '') FROM pg_parameter_acl
ORDER BY 1
"""


def catalog(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as c:
        return [r[0] for r in c.execute(CATALOG_SQL).fetchall()]


@contextlib.contextmanager
def owned_databases(server, n: int):
    """n fresh (database, owner) pairs: each owner a non-superuser LOGIN role owning its database."""
    tag = uuid.uuid4().hex[:8]
    pairs = [(f"crm360_i{i}_{tag}", f"dba{i}_{tag}") for i in range(1, n + 1)]
    extra_roles: list[str] = []
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as su:
        for db, role in pairs:
            su.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(PASSWORD)))
            su.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(db), sql.Identifier(role)))
    try:
        yield pairs, extra_roles
    finally:
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as su:
            for db, _ in pairs:
                su.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
            for role in [r for _, r in pairs] + extra_roles:
                with contextlib.suppress(psycopg.Error):
                    su.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
                    su.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def run_bootstrap_as_superuser(server, db: str, role: str) -> str:
    """Print the bootstrap with the CLI (no connection needed), run it as a superuser in `db`."""
    r = CliRunner().invoke(cli, ["migrate", "--print-bootstrap", "--owner", role,
                                 "--dsn", server.dsn(db, user="nobody_in_particular")])
    assert r.exit_code == 0, r.output
    assert "CREATE EXTENSION IF NOT EXISTS vector" in r.output and f'GRANT crm_owner TO "{role}"' in r.output
    with psycopg.connect(server.dsn(db), autocommit=True) as su:
        su.execute(r.output)
    return r.output


def test_non_superuser_is_refused_before_any_change_then_installs_after_the_bootstrap(server):
    with owned_databases(server, 2) as (pairs, extra_roles):
        (db1, dba1), (db2, dba2) = pairs
        dsn1 = server.dsn(db1, user=dba1, password=PASSWORD)
        dsn2 = server.dsn(db2, user=dba2, password=PASSWORD)

        # (a) refused before anything changes, with what is missing and the bootstrap SQL
        before = catalog(server.dsn(db1))
        with pytest.raises(MigrationError) as e:
            Migrator(dsn1, **quiet).migrate()
        err = e.value
        assert err.sqlstate == "42501"
        assert dba1 in err.message and db1 in err.message and "nothing has been changed" in err.message
        assert "extension vector" in err.detail and "CREATEROLE" in err.detail
        assert "crm_owner" in err.detail
        assert "CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA extensions;" in err.hint
        assert f'GRANT crm_owner TO "{dba1}"' in err.hint
        assert catalog(server.dsn(db1)) == before
        with psycopg.connect(server.dsn(db1)) as c:
            assert c.execute("SELECT count(*) FROM pg_class WHERE relname LIKE '%yoyo%' "
                             "OR relname = '_crm360_checksums'").fetchone()[0] == 0
            assert c.execute("SELECT count(*) FROM pg_namespace "
                             "WHERE nspname LIKE 'crm%' OR nspname = 'extensions'").fetchone()[0] == 0
        # the CLI says the same (exit 1), with the SQL unbroken on stderr
        r = CliRunner().invoke(cli, ["migrate", "--dsn", dsn1])
        assert r.exit_code == 1
        assert "ERROR [42501]" in r.output and "CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA extensions;" in r.output
        # --dry-run runs the same prechecks, read-only
        r = CliRunner().invoke(cli, ["migrate", "--dsn", dsn1, "--dry-run"])
        assert r.exit_code == 1 and "ERROR [42501]" in r.output
        assert catalog(server.dsn(db1)) == before

        # the superuser runs the printed bootstrap once; the role migrates without superuser
        run_bootstrap_as_superuser(server, db1, dba1)
        r = CliRunner().invoke(cli, ["migrate", "--dsn", dsn1, "--dry-run"])
        assert r.exit_code == 3, r.output
        result = Migrator(dsn1, **quiet).migrate()
        assert "0005_access_control" in result.applied
        with psycopg.connect(server.dsn(db1)) as c:
            owners = c.execute("""
                SELECT DISTINCT o::regrole::text FROM (
                    SELECT relowner FROM pg_class WHERE relnamespace::regnamespace::text IN ('crm', 'crm_raw', 'crm_private')
                    UNION ALL SELECT proowner FROM pg_proc WHERE pronamespace::regnamespace::text IN ('crm', 'crm_raw', 'crm_private')
                    UNION ALL SELECT nspowner FROM pg_namespace WHERE nspname IN ('crm', 'crm_raw', 'crm_private')) x(o)
            """).fetchall()
            assert owners == [("crm_owner",)]
            assert c.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'extensions'"
                             ).fetchone()[0] == dba1

        # (b) a second database, another non-superuser owner: the roles exist (cluster-wide) and
        # are reused; no "must have ADMIN option on role crm_reader"
        before2 = catalog(server.dsn(db2))
        with pytest.raises(MigrationError) as e:
            Migrator(dsn2, **quiet).migrate()
        assert e.value.sqlstate == "42501" and "extension vector" in e.value.detail
        assert catalog(server.dsn(db2)) == before2
        run_bootstrap_as_superuser(server, db2, dba2)
        assert "0005_access_control" in Migrator(dsn2, **quiet).migrate().applied
        # its owner rolls it all back and forward again, still without superuser
        r = CliRunner().invoke(cli, ["rollback", "--dsn", dsn2, "--all", "--yes"])
        assert r.exit_code == 0, r.output
        assert "0001_foundation" in Migrator(dsn2, **quiet).migrate().applied
        # both stay migratable by their owners (a re-run changes nothing)
        for dsn in (dsn1, dsn2):
            again = Migrator(dsn, **quiet).migrate()
            assert again.applied == [] and again.repeatables_changed == []
            r = CliRunner().invoke(cli, ["migrate", "--dsn", dsn, "--status"])
            assert r.exit_code == 0, r.output

        # roles and RLS work in both: a reader login sees the rows of the database it is mapped
        # in (created by dba1 with `crm360 user add`; mapped in db2 by dba2), nothing restricted elsewhere
        reader = f"reader_{dba1}"
        lonely = f"lonely_{dba1}"
        extra_roles += [reader, lonely]
        env = {"READER_PW": PASSWORD}
        for login in (reader, lonely):
            r = CliRunner().invoke(cli, ["user", "add", login, "--role", "reader", "--name", login,
                                         "--email", f"{login}@example.com", "--password-env", "READER_PW",
                                         "--dsn", dsn1], env=env)
            assert r.exit_code == 0, r.output
        for db, dba_dsn, n in ((db1, dsn1, 1), (db2, dsn2, 2)):
            with psycopg.connect(dba_dsn, autocommit=True) as dba:   # the non-superuser DBA (crm_admin)
                if n == 2:
                    dba.execute("SELECT crm.create_user(%s, %s, %s)", (f"Reader {n}", f"r{n}@example.com", reader))
                uid = dba.execute("SELECT user_id FROM crm.logins WHERE login_role = %s", (reader,)).fetchone()[0]
                team = dba.execute("SELECT crm.create_team(%s)", (f"Team {n}",)).fetchone()[0]
                other = dba.execute("SELECT crm.create_team(%s)", (f"Other {n}",)).fetchone()[0]
                dba.execute("SELECT crm.add_user_to_team(%s, %s)", (uid, team))
                for name, t in ((f"Visible {n}", team), (f"Hidden {n}", other)):
                    org = dba.execute("SELECT crm.create_org(%s)", (name,)).fetchone()[0]
                    dba.execute("SELECT crm.restrict_access_to_team(%s, %s)", (org, t))
            with psycopg.connect(server.dsn(db, user=reader, password=PASSWORD)) as c:
                seen = {r[0] for r in c.execute("SELECT label FROM crm.nodes WHERE node_type = 'org'").fetchall()}
                assert seen == {f"Visible {n}"}, (db, seen)
                assert c.execute("SELECT crm.current_actor() IS NOT NULL").fetchone()[0]
            with psycopg.connect(server.dsn(db, user=lonely, password=PASSWORD)) as c:
                assert c.execute("SELECT count(*) FROM crm.nodes WHERE node_type = 'org'").fetchone()[0] == 0


TROJAN = """
CREATE FUNCTION {schema}.format(text, {argtype}) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        EXECUTE pg_catalog.format('ALTER ROLE %I SUPERUSER', {owner});
    END IF;
    RETURN pg_catalog.format($1, $2);
END $f$;
"""


def is_superuser(server, role: str) -> bool:
    with psycopg.connect(server.dsn("postgres")) as su:
        return su.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (role,)).fetchone()[0]


def test_the_bootstrap_never_calls_what_the_database_owner_planted(server):
    """The owner of a database (its public schema) plants public.format(text, name) — a closer
    match than pg_catalog.format(text, VARIADIC "any") — and a schema crm the adopt step would
    walk, before a superuser runs the printed bootstrap: the superuser's run never calls it."""
    with owned_databases(server, 1) as (pairs, _):
        db, role = pairs[0]
        with psycopg.connect(server.dsn(db, user=role, password=PASSWORD), autocommit=True) as owner:
            owner.execute("CREATE SCHEMA crm")
            owner.execute("CREATE FUNCTION crm.bait() RETURNS int LANGUAGE sql AS 'SELECT 1'")
            for argtype in ("name", "regprocedure", "regclass", "text"):
                owner.execute(TROJAN.format(schema="public", argtype=argtype, owner=sql.Literal(role).as_string(owner)))
        run_bootstrap_as_superuser(server, db, role)
        assert not is_superuser(server, role)


def test_migrate_as_a_superuser_never_runs_a_crm_owner_members_code(server):
    """A member of crm_owner (another database's installer) can create schemas in this one:
    one named after the superuser would come first in its default search_path. The migrator
    searches public only, so neither yoyo's tables nor the bootstrap's calls land there."""
    with owned_databases(server, 2) as (pairs, _):
        (db1, role1), (db2, role2) = pairs
        run_bootstrap_as_superuser(server, db1, role1)
        Migrator(server.dsn(db1, user=role1, password=PASSWORD), **quiet).migrate()
        run_bootstrap_as_superuser(server, db2, role2)      # role2 is now a member of crm_owner
        su_name = conninfo_su = psycopg.conninfo.conninfo_to_dict(server.dsn(db1)).get("user", "postgres")
        with psycopg.connect(server.dsn(db1, user=role2, password=PASSWORD), autocommit=True) as attacker:
            attacker.execute("SET ROLE crm_owner")
            attacker.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(su_name)))
            for argtype in ("name", "regprocedure", "regclass", "text"):
                attacker.execute(TROJAN.format(schema=sql.Identifier(su_name).as_string(attacker), argtype=argtype,
                                               owner=sql.Literal(role2).as_string(attacker)))
        assert conninfo_su
        # the superuser migrates db1 — refused or not, the attacker gains nothing
        with contextlib.suppress(MigrationError):
            Migrator(server.dsn(db1), **quiet).migrate()
        assert not is_superuser(server, role2)
        with psycopg.connect(server.dsn(db1)) as su:
            assert su.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE n.nspname = %s", (su_name,)).fetchone()[0] == 0
