"""The migrator: fresh apply, no-op re-run, checksums, rollback round-trip, locking, prechecks."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from crm360 import server as embedded
from crm360.cli import cli
from crm360.migrator import AVAILABLE_EXTENSIONS_SQL, MigrationError, Migrator, sql_dir

ROOT = Path(__file__).resolve().parent.parent
quiet = {"echo": lambda s: None}


def schema_dump(dsn: str) -> str:
    """pg_dump --schema-only of crm360's schemas, without volatile lines."""
    out = subprocess.run(
        [str(embedded.bin_dir() / "pg_dump"), "--schema-only", "--no-owner", "-n", "crm", "-n", "crm_raw",
         "-n", "crm_private", "-n", "extensions", "-d", dsn],
        check=True, capture_output=True, text=True).stdout
    return "\n".join(line for line in out.splitlines()
                     if not line.startswith(("--", "\\restrict", "\\unrestrict", "SET ", "SELECT pg_catalog.set_config")))


def copy_sql_tree(tmp_path: Path) -> Path:
    dst = tmp_path / "sql"
    shutil.copytree(sql_dir(), dst)
    return dst


def table_exists(dsn: str, name: str) -> bool:
    with psycopg.connect(dsn) as c:
        return c.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def test_fresh_migrate_creates_core(empty_db):
    result = Migrator(empty_db, **quiet).migrate()
    assert result.applied == [p.stem for p in sorted(sql_dir().glob("[0-9]*.sql"))
                              if not p.name.endswith(".rollback.sql")]
    for t in ("crm.nodes", "crm.edges", "crm.events", "crm.event_participants", "crm.assertions",
              "crm.artifacts", "crm.node_types", "crm.current_assertions"):
        assert table_exists(empty_db, t), t
    with psycopg.connect(empty_db) as c:
        exts = dict(c.execute("SELECT e.extname, n.nspname FROM pg_extension e "
                              "JOIN pg_namespace n ON n.oid = e.extnamespace").fetchall())
    assert exts["vector"] == "extensions" and exts["pg_trgm"] == "extensions"


def test_second_migrate_is_a_noop(db):
    before = schema_dump(db)
    result = Migrator(db, **quiet).migrate()
    assert result.applied == []
    assert result.repeatables and result.repeatables_changed == []
    assert schema_dump(db) == before


def test_cli_reports_up_to_date_and_status(db):
    runner = CliRunner()
    r = runner.invoke(cli, ["migrate", "--dsn", db])
    assert r.exit_code == 0, r.output
    assert "up to date" in r.output
    r = runner.invoke(cli, ["migrate", "--dsn", db, "--status"], terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "0003_core" in r.output and "applied" in r.output
    assert "functions/core/supersede_assertion.sql" in r.output
    sha = Migrator(db).status()[1][0].sha256[:16]
    assert sha in r.output


def test_python_migrate_py_against_a_dsn(empty_db):
    r = subprocess.run([sys.executable, str(ROOT / "migrate.py"), "migrate", "--dsn", empty_db],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "applying 0001_foundation.sql" in r.stdout
    assert table_exists(empty_db, "crm.nodes")


def test_edited_migration_is_refused(db, tmp_path):
    tree = copy_sql_tree(tmp_path)
    (tree / "0002_type_registry.sql").write_text((tree / "0002_type_registry.sql").read_text() + "\n-- edited\n")
    (tree / "0999_new.sql").write_text("SET LOCAL lock_timeout = '5s';\nCREATE TABLE crm_private.should_not_exist (x int);\n")
    with pytest.raises(MigrationError) as e:
        Migrator(db, sql_path=tree, **quiet).migrate()
    assert e.value.sqlstate == "CR900"
    assert "0002_type_registry.sql" in e.value.message
    assert not table_exists(db, "crm_private.should_not_exist")
    r = CliRunner().invoke(cli, ["migrate", "--dsn", db, "--status"], terminal_width=200)
    assert r.exit_code == 0


def test_rollback_then_migrate_round_trip(db):
    before = schema_dump(db)
    m = Migrator(db, **quiet)
    latest = [p.stem for p in sorted(sql_dir().glob("[0-9]*.sql")) if not p.name.endswith(".rollback.sql")][-1]
    assert m.rollback(count=1) == [latest]
    m.migrate()
    assert schema_dump(db) == before
    # roll back to just before 0003 (every later migration first), then forward again
    done = m.rollback(count=len(Migrator(db).status()[0]) - 2)
    assert done[-1] == "0003_core"
    assert not table_exists(db, "crm.nodes")
    assert table_exists(db, "crm.node_types")
    m.migrate()
    assert schema_dump(db) == before
    m.rollback(count=100)
    assert not table_exists(db, "crm.node_types")
    with psycopg.connect(db) as c:
        assert c.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'crm%'").fetchone()[0] == 0
    m.migrate()
    assert schema_dump(db) == before


def test_rollback_refuses_without_rollback_file(db, tmp_path):
    tree = copy_sql_tree(tmp_path)
    (tree / "0999_norollback.sql").write_text("SET LOCAL lock_timeout = '5s';\nCREATE TABLE crm_private.nr (x int);\n")
    m = Migrator(db, sql_path=tree, **quiet)
    m.migrate()
    with pytest.raises(MigrationError) as e:
        m.rollback(1)
    assert e.value.sqlstate == "CR901"
    assert table_exists(db, "crm_private.nr")


def test_two_migrators_at_once_apply_each_file_once(empty_db, tmp_path):
    tree = copy_sql_tree(tmp_path)
    (tree / "0999_slow.sql").write_text(
        "SET LOCAL lock_timeout = '5s';\nCREATE TABLE crm_private.slow (x int);\nSELECT pg_sleep(1);\n")
    errors: list[BaseException] = []
    results = []

    def run():
        try:
            results.append(Migrator(empty_db, sql_path=tree, **quiet).migrate())
        except BaseException as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    applied = sorted(len(r.applied) for r in results)
    assert applied[0] == 0 and applied[1] == len(list(tree.glob("[0-9]*.sql"))) - len(list(tree.glob("*.rollback.sql")))
    with psycopg.connect(empty_db) as c:
        counts = c.execute("SELECT migration_id, count(*) FROM _yoyo_log WHERE operation = 'apply' "
                           "GROUP BY 1").fetchall()
    assert counts and all(n == 1 for _, n in counts)


def test_missing_pgvector_is_detected_before_changing_anything(empty_db):
    no_vector = AVAILABLE_EXTENSIONS_SQL + " AND a.name <> 'vector'"
    with pytest.raises(MigrationError) as e:
        Migrator(empty_db, extensions_sql=no_vector, **quiet).migrate()
    assert e.value.sqlstate == "58P01"
    assert '"vector"' in e.value.message and "PostgreSQL 1" in e.value.message
    assert "pgvector" in e.value.hint
    with psycopg.connect(empty_db) as c:
        n = c.execute("SELECT count(*) FROM pg_class WHERE relname LIKE '%yoyo%' "
                      "OR relnamespace::regnamespace::text LIKE 'crm%'").fetchone()[0]
    assert n == 0


def test_extension_in_wrong_schema_is_explained(empty_db):
    with psycopg.connect(empty_db, autocommit=True) as c:
        c.execute("CREATE EXTENSION pg_trgm SCHEMA public")
    with pytest.raises(MigrationError) as e:
        Migrator(empty_db, **quiet).migrate()
    assert e.value.sqlstate == "55000"
    assert "ALTER EXTENSION pg_trgm SET SCHEMA extensions" in e.value.hint


def test_failing_repeatable_leaves_previous_versions(db, tmp_path):
    tree = copy_sql_tree(tmp_path)
    (tree / "functions" / "account360" / "zz_broken.sql").write_text("CREATE OR REPLACE FUNCTION crm.zz() RETURNS int LANGUAGE sql AS 'SELECT 1';\nSELECT * FROM no_such_table;\n")
    with pytest.raises(MigrationError) as e:
        Migrator(db, sql_path=tree, **quiet).migrate()
    assert e.value.sqlstate == "42P01"
    assert "zz_broken.sql" in e.value.message
    with psycopg.connect(db) as c:
        assert c.execute("SELECT to_regprocedure('crm.zz()')").fetchone()[0] is None


def test_objects_owned_by_a_superuser_are_adopted_by_crm_owner(db):
    """A database migrated by an earlier crm360 as a superuser (objects owned by it) is taken
    over on the next migrate: every schema, table, view and function then belongs to
    crm_owner, which is no superuser — a hijacked SECURITY DEFINER function never is one."""
    with psycopg.connect(db, autocommit=True) as c:
        c.execute("ALTER TABLE crm.nodes OWNER TO postgres")
        c.execute("ALTER FUNCTION crm.reconcile(text) OWNER TO postgres")
        c.execute("ALTER FUNCTION crm_private.visible_node_ids(text, name) OWNER TO postgres")
        c.execute("ALTER SCHEMA crm_private OWNER TO postgres")
    Migrator(db, **quiet).migrate()
    with psycopg.connect(db) as c:
        left = c.execute("""
            SELECT count(*) FROM (
                SELECT relowner AS o FROM pg_class
                 WHERE relnamespace::regnamespace::text IN ('crm', 'crm_raw', 'crm_private')
                UNION ALL SELECT proowner FROM pg_proc
                 WHERE pronamespace::regnamespace::text IN ('crm', 'crm_raw', 'crm_private')
                UNION ALL SELECT nspowner FROM pg_namespace WHERE nspname IN ('crm', 'crm_raw', 'crm_private')) x
             WHERE x.o <> 'crm_owner'::regrole""").fetchone()[0]
        assert left == 0
        assert c.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = 'crm_owner'").fetchone()[0] is False


def test_bootstrap_without_privileges_fails_clearly_and_changes_nothing(server, empty_db):
    """A login that may neither create roles nor administer crm_owner cannot bootstrap: migrate
    stops at once with 42501 and a hint naming what a superuser must run; no crm360 schema is
    created."""
    role = f"nopriv_{empty_db[-8:]}"
    with psycopg.connect(empty_db, autocommit=True) as c:
        c.execute(f'CREATE ROLE "{role}" LOGIN')
        c.execute(f'GRANT CREATE ON DATABASE "{psycopg.conninfo.conninfo_to_dict(empty_db)["dbname"]}" TO "{role}"')
    try:
        dsn = psycopg.conninfo.make_conninfo(empty_db, user=role)
        with pytest.raises(MigrationError) as e:
            Migrator(dsn, **quiet).migrate()
        assert e.value.sqlstate == "42501" and e.value.hint
        with psycopg.connect(empty_db) as c:
            assert c.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'crm%'").fetchone()[0] == 0
    finally:
        with psycopg.connect(empty_db, autocommit=True) as c:
            c.execute(f'DROP OWNED BY "{role}"')
            c.execute(f'DROP ROLE "{role}"')


def test_function_files_live_in_their_domain_folder(db, tmp_path):
    """sql/functions/<domain>/<name>.sql: a loose file or an unknown folder is refused before
    anything is applied, with the folders to use."""
    tree = copy_sql_tree(tmp_path)
    (tree / "functions" / "loose.sql").write_text("CREATE OR REPLACE FUNCTION crm.loose() RETURNS int LANGUAGE sql AS 'SELECT 1';\n")
    with pytest.raises(MigrationError) as e:
        Migrator(db, sql_path=tree, **quiet).migrate()
    assert "loose.sql" in e.value.message and "core" in e.value.hint
    with psycopg.connect(db) as c:
        assert c.execute("SELECT to_regprocedure('crm.loose()')").fetchone()[0] is None
