"""The migrator: fresh apply, no-op re-run, checksums, rollback round-trip, locking, prechecks."""

from __future__ import annotations

import json
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
from tests.test_install_without_superuser import catalog

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
    assert "functions/core/supersede_assertion.sql" not in r.output   # short: repeatables as counts
    n = len(Migrator(db).status()[1])
    assert f"repeatable files: {n} ({n} unchanged, 0 changed, 0 new)" in r.output
    r = runner.invoke(cli, ["migrate", "--dsn", db, "--status", "--verbose"], terminal_width=200)
    assert r.exit_code == 0, r.output
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


def test_after_file_runs_once_with_its_migration(db):
    """sql/after/0023_search_speed.sql runs, as crm_owner, in the migrate that applies 0023
    and never again: a database whose chunk table was left empty (0022 asked the DBA to run
    the backfill by hand) gets its searchable text without that step."""
    with psycopg.connect(db, autocommit=True) as c:
        t = c.execute("INSERT INTO crm.nodes (node_type, label, properties) VALUES ('ticket', 'Printer on fire', "
                      "'{\"subject\": \"Printer on fire\", \"description\": \"The printer in room 4 caught fire during the renewal call.\"}') "
                      "RETURNING id").fetchone()[0]
        c.execute("DELETE FROM crm.chunks")
    m = Migrator(db, **quiet)
    later = [i for i in numbered_ids() if i >= "0023"]
    assert m.rollback(count=len(later)) == later[::-1]
    result = m.migrate()
    assert "0023_search_speed" in result.after
    with psycopg.connect(db) as c:
        assert c.execute("SELECT count(*) FROM crm.chunks WHERE node_id = %s", (t,)).fetchone()[0] == 1
        c.execute("DELETE FROM crm.chunks")
        c.commit()
    assert m.migrate().after == []                   # not again: nothing pending
    with psycopg.connect(db) as c:
        assert c.execute("SELECT count(*) FROM crm.chunks").fetchone()[0] == 0


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
        c.execute("ALTER FUNCTION crm.reconcile(text, text[]) OWNER TO postgres")
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


# ----------------------------------------------------------------- issue 13.2: the CLI
def numbered_ids() -> list[str]:
    return [p.stem for p in sorted(sql_dir().glob("[0-9]*.sql")) if not p.name.endswith(".rollback.sql")]


def bookkeeping(dsn: str) -> list:
    with psycopg.connect(dsn) as c:
        return (c.execute("SELECT kind, name, sha256, applied_at FROM public._crm360_checksums ORDER BY 1, 2").fetchall()
                + c.execute("SELECT count(*) FROM _yoyo_log").fetchall())


def test_status_and_dry_run_are_read_only_on_a_fresh_database(empty_db):
    before = catalog(empty_db)
    runner = CliRunner()
    r = runner.invoke(cli, ["migrate", "--dsn", empty_db, "--status"])
    assert r.exit_code == 3, r.output
    assert f"0 applied, {len(numbered_ids())} pending" in r.output and "exit 3" in r.output
    r = runner.invoke(cli, ["migrate", "--dsn", empty_db, "--status", "--json"])
    assert r.exit_code == 3, r.output
    data = json.loads(r.output)
    assert [m["id"] for m in data["migrations"]] == numbered_ids()
    assert {m["state"] for m in data["migrations"]} == {"pending"}
    assert data["summary"] == {"applied": 0, "pending": len(numbered_ids()), "modified": 0}
    assert data["repeatables"]["new"] == data["repeatables"]["total"] > 100
    assert data["up_to_date"] is False and data["exit_code"] == 3
    r = runner.invoke(cli, ["migrate", "--dsn", empty_db, "--dry-run"])
    assert r.exit_code == 3, r.output
    assert "0001_foundation.sql" in r.output and "as the connecting role" in r.output
    assert "0003_core.sql" in r.output and "nothing has been changed" in r.output
    r = runner.invoke(cli, ["migrate", "--dsn", empty_db, "--dry-run", "--json"])
    assert r.exit_code == 3
    assert json.loads(r.output)["would_apply"] == numbered_ids()
    assert Migrator(empty_db).status()[0][0].state == "pending"
    assert catalog(empty_db) == before
    assert not table_exists(empty_db, "yoyo_lock") and not table_exists(empty_db, "public._crm360_checksums")


def test_status_and_dry_run_are_read_only_on_a_migrated_database(db):
    before, rows = catalog(db), bookkeeping(db)
    runner = CliRunner()
    for args in (["--status"], ["--status", "--json"], ["--status", "--verbose"], ["--dry-run"],
                 ["--dry-run", "--json", "--verbose"]):
        r = runner.invoke(cli, ["migrate", "--dsn", db, *args])
        assert r.exit_code == 0, (args, r.output)
    data = json.loads(runner.invoke(cli, ["migrate", "--dsn", db, "--status", "--json", "--verbose"]).output)
    assert data["up_to_date"] is True and data["exit_code"] == 0
    assert {m["state"] for m in data["migrations"]} == {"applied"}
    assert data["repeatables"]["unchanged"] == data["repeatables"]["total"] == len(data["repeatables"]["files"])
    assert catalog(db) == before and bookkeeping(db) == rows


def test_status_exit_codes_pending_changed_and_modified(db):
    runner = CliRunner()
    with psycopg.connect(db, autocommit=True) as c:
        # a repeatable file changed since it was applied, and one never applied: exit 3
        c.execute("UPDATE public._crm360_checksums SET sha256 = 'x' WHERE kind = 'repeatable' "
                  "AND name = 'functions/core/supersede_assertion.sql'")
        c.execute("DELETE FROM public._crm360_checksums WHERE kind = 'repeatable' AND name = 'rls/nodes.sql'")
    r = runner.invoke(cli, ["migrate", "--dsn", db, "--status", "--json"])
    assert r.exit_code == 3
    reps = json.loads(r.output)["repeatables"]
    assert (reps["changed"], reps["new"]) == (1, 1)
    assert reps["changed_files"] == ["functions/core/supersede_assertion.sql"] and reps["new_files"] == ["rls/nodes.sql"]
    r = runner.invoke(cli, ["migrate", "--dsn", db, "--status"])
    assert r.exit_code == 3 and "1 changed, 1 new" in r.output
    # an applied migration file edited after it was applied (recorded sha256 differs): exit 4
    with psycopg.connect(db, autocommit=True) as c:
        c.execute("UPDATE public._crm360_checksums SET sha256 = 'x' WHERE kind = 'migration' "
                  "AND name = '0002_type_registry'")
    r = runner.invoke(cli, ["migrate", "--dsn", db, "--status", "--json"])
    assert r.exit_code == 4
    data = json.loads(r.output)
    assert [m["id"] for m in data["migrations"] if m["state"] == "modified"] == ["0002_type_registry"]
    assert data["summary"]["modified"] == 1
    r = runner.invoke(cli, ["migrate", "--dsn", db, "--dry-run"])
    assert r.exit_code == 4 and "0002_type_registry.sql" in r.output and "CR900" in r.output
    # a pending migration: exit 3, and --dry-run names it without running it (0002's checksum is
    # forgotten, so it is no longer "modified": migrate would record the file's current one)
    with psycopg.connect(db, autocommit=True) as c:
        c.execute("DELETE FROM public._crm360_checksums WHERE kind = 'migration' AND name = '0002_type_registry'")
        c.execute("DELETE FROM _yoyo_migration WHERE migration_id = %s", (numbered_ids()[-1],))
    before = catalog(db)
    r = runner.invoke(cli, ["migrate", "--dsn", db, "--dry-run"])
    assert r.exit_code == 3, r.output
    assert f"{numbered_ids()[-1]}.sql" in r.output and "would apply 1 migration(s)" in r.output
    assert catalog(db) == before


def test_status_names_are_never_truncated(db, tmp_path):
    r = CliRunner().invoke(cli, ["migrate", "--dsn", db, "--status", "--verbose"], terminal_width=40)
    assert r.exit_code == 0
    for mid in numbered_ids():
        assert f"  {mid} " in r.output
    for name, _ in Migrator(db).repeatable_files():
        assert f"  {name} " in r.output


def test_rollback_all_needs_yes(db):
    before = catalog(db)
    runner = CliRunner()
    r = runner.invoke(cli, ["rollback", "--dsn", db, "--all"])
    assert r.exit_code == 2
    assert "--yes" in r.output and "0001_foundation" in r.output and numbered_ids()[-1] in r.output
    assert "DROP the schemas crm, crm_raw and crm_private" in r.output
    r = runner.invoke(cli, ["rollback", "--dsn", db, "--count", "100"])   # reaches 0001 too
    assert r.exit_code == 2 and "--yes" in r.output
    assert catalog(db) == before
    r = runner.invoke(cli, ["rollback", "--dsn", db, "--all", "--yes"])
    assert r.exit_code == 0, r.output
    assert not table_exists(db, "crm.nodes")
    r = runner.invoke(cli, ["rollback", "--dsn", db, "--all"])   # nothing left: nothing to confirm
    assert r.exit_code == 0 and "rolled back 0 migration(s)" in r.output


def test_print_bootstrap_does_not_connect():
    r = CliRunner().invoke(cli, ["migrate", "--print-bootstrap", "--owner", 'we"ird',
                                 "--dsn", "postgresql://nobody@192.0.2.1:1/shop?connect_timeout=1"])
    assert r.exit_code == 0, r.output
    assert 'GRANT crm_owner TO "we""ird" WITH INHERIT TRUE, SET TRUE;' in r.output
    assert "IF current_database() <> 'shop' THEN" in r.output
    assert r.output.rstrip().endswith("COMMIT;")


def test_repeatables_are_retried_after_a_deadlock(db):
    """Seen on a live database: the repeatables transaction (ACCESS EXCLUSIVE locks for DROP/
    CREATE POLICY) deadlocked with an autovacuum worker, and `crm360 migrate` failed with 40P01.
    Here a real second session holds crm_raw.records and then waits for the migrator's advisory
    lock: PostgreSQL aborts the migrator's transaction (it waited longer; the other session's
    deadlock_timeout is raised so it never gives up first). Property: migrate succeeds — the
    transaction was tried again — and says so; the repeatables are applied."""
    from crm360.migrator import BOOTSTRAP_LOCK
    said: list[str] = []
    other = psycopg.connect(db)
    other.execute("SET deadlock_timeout = '30s'")
    other.execute("SELECT count(*) FROM crm_raw.records")            # ACCESS SHARE until commit
    result: dict = {}

    def run():
        try:
            result["r"] = Migrator(db, echo=said.append).migrate()
        except Exception as e:  # noqa: BLE001 — reported by the assertions below
            result["e"] = e

    t = threading.Thread(target=run)
    t.start()
    with psycopg.connect(db, autocommit=True) as watch:
        for _ in range(400):                                          # the migrator waits for records
            if watch.execute("SELECT count(*) FROM pg_locks WHERE NOT granted "
                             "AND relation = 'crm_raw.records'::regclass").fetchone()[0]:
                break
            threading.Event().wait(0.05)
        else:
            pytest.fail("the migrator never waited for crm_raw.records")
    other.execute("SELECT pg_advisory_xact_lock(%s)", (BOOTSTRAP_LOCK,))   # waits for the migrator: deadlock
    other.commit()
    other.close()
    t.join(120)
    assert "e" not in result, result.get("e")
    assert any("deadlock" in s for s in said), said
    with psycopg.connect(db) as c:
        assert c.execute("SELECT count(*) FROM public._crm360_checksums WHERE kind = 'repeatable'"
                         ).fetchone()[0] > 100
