"""CLI hygiene (issue 13 item 7): JSON errors under --json, ingest input files checked before
anything is recorded, no silent new server, `demo` refuses a foreign database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import psycopg
import pytest
from click.testing import CliRunner

from crm360.cli import cli

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
BAD_DSN = "postgresql://nobody@/nodb?host=/nonexistent"
ERROR_KEYS = {"sqlstate", "message", "detail", "hint"}


def run(*args, input=None, env=None):
    return CliRunner().invoke(cli, list(args), input=input, env=env, catch_exceptions=False)


def json_error(r) -> dict:
    """The error object of a --json command: {"error": {...}} is the whole of stdout."""
    out = json.loads(r.stdout)
    assert set(out) == {"error"} and set(out["error"]) >= ERROR_KEYS, out
    return out["error"]


def commands_with_json(group: click.Group = cli, path: tuple = ()):
    for name, cmd in group.commands.items():
        if any(p.name == "as_json" for p in cmd.params):
            yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            yield from commands_with_json(cmd, (*path, name))


# how to call each --json command with an unreachable database (its required arguments)
CALLS = {
    ("account",): ["account", "acme"],
    ("digest",): ["digest"],
    ("migrate",): ["migrate", "--status"],
    ("ingest",): ["ingest", "salesforce", "Account", str(FIX / "salesforce/Account.csv")],
    ("reconcile",): ["reconcile"],
    ("refresh",): ["refresh"],
    ("quality",): ["quality"],
    ("quality", "merge"): ["quality", "merge", "a", "b"],
    ("user", "add"): ["user", "add", "someone", "--role", "reader", "--name", "Some One"],
    ("user", "list"): ["user", "list"],
    ("user", "password"): ["user", "password", "someone", "--password-stdin"],
    ("embed",): ["embed"],
    ("search",): ["search", "acme"],
}


def test_every_json_command_prints_errors_as_json():
    """Every command with --json renders its errors centrally (handle_errors) as
    {"error": {sqlstate, message, detail, hint}} on stdout with the same exit code."""
    found = dict(commands_with_json())
    assert set(found) == set(CALLS), "a new --json command: add it to CALLS"
    for path, cmd in found.items():
        assert hasattr(cmd.callback, "__wrapped__"), f"{' '.join(path)} is not wrapped by handle_errors"
        r = run(*CALLS[path], "--json", "--dsn", BAD_DSN, input="pw\n")
        assert r.exit_code == 1, (path, r.output)
        err = json_error(r)
        assert "cannot connect to the database" in err["message"] and err["hint"], (path, err)
        # the same error without --json: text on stderr, same exit code
        r = run(*CALLS[path], "--dsn", BAD_DSN, input="pw\n")
        assert r.exit_code == 1 and r.stdout == "" and r.stderr.startswith("ERROR"), (path, r.output)


def test_json_errors_carry_sqlstate_detail_hint_and_exit_codes(db, conn):
    err = json_error(r := run("account", "no such company zzz", "--json", "--dsn", db))
    assert r.exit_code == 1 and err["sqlstate"] == "P0002"
    r = run("refresh", "--max-age", "banana", "--json", "--dsn", db)
    assert r.exit_code == 1 and json_error(r)["sqlstate"] in ("22007", "22023")
    r = run("ingest", "nosuch", "thing", str(FIX / "salesforce/Account.csv"), "--json", "--dsn", db)
    assert r.exit_code == 1 and json_error(r)["sqlstate"] == "CR042"
    # a usage error the command finds itself: JSON too, exit 2
    r = run("quality", "--json", "--csv", "--dsn", db)
    assert r.exit_code == 2 and "not both" in json_error(r)["message"]
    r = run("user", "add", "x", "--role", "connector", "--json", "--dsn", db)
    assert r.exit_code == 2 and "--source" in json_error(r)["message"]
    # ambiguous account: exit 2, the candidates in the error object
    for name in ("Acme One", "Acme Two"):
        conn.execute("INSERT INTO crm.nodes (node_type, label, properties) VALUES ('org', %s, "
                     "jsonb_build_object('name', %s::text))", (name, name))
    r = run("account", "acme", "--json", "--dsn", db)
    assert r.exit_code == 2
    err = json_error(r)
    assert err["sqlstate"] == "21000" and {c["name"] for c in err["candidates"]} == {"Acme One", "Acme Two"}


def test_missing_or_unreadable_ingest_file_is_a_usage_error_that_records_nothing(db, conn, tmp_path):
    def counts():
        return conn.execute("SELECT (SELECT count(*) FROM crm_raw.sync_runs), "
                            "(SELECT count(*) FROM crm_raw.records)").fetchone()

    before = counts()
    digest_before = conn.execute("SELECT crm.daily_digest()").fetchone()[0]
    missing = tmp_path / "missing.csv"
    for args, named in (([missing], missing), ([FIX / "salesforce/Account.csv", missing], missing),
                        ([tmp_path], tmp_path)):
        for extra in ([], ["--json"]):
            r = run("ingest", "salesforce", "Account", *map(str, args), *extra, "--dsn", db)
            assert r.exit_code == 2, r.output
            assert "Invalid value for 'FILES...'" in r.stderr and r.stdout == ""
            assert f"'{named}'" in r.stderr
    if os.geteuid() != 0:          # root reads any file
        locked = tmp_path / "locked.csv"
        locked.write_text("Id\n")
        locked.chmod(0)
        r = run("ingest", "salesforce", "Account", str(locked), "--dsn", db)
        assert r.exit_code == 2 and "locked.csv" in r.stderr
    assert counts() == before
    d = conn.execute("SELECT crm.daily_digest()").fetchone()[0]
    assert d["platform"] == digest_before["platform"]
    assert not conn.execute("SELECT count(*) FROM crm_raw.sync_runs WHERE status = 'failed'").fetchone()[0]
    # a file that exists but cannot be parsed is still a failed run (CR040), as before
    bad = tmp_path / "broken.json"
    bad.write_text('{"tickets": [{"id": 1,')
    r = run("ingest", "zendesk", "tickets", str(bad), "--dsn", db)
    assert r.exit_code == 1 and "CR040" in r.output


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """An empty current directory, no DATABASE_URL, no CRM360_DATA_DIR."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CRM360_DATA_DIR", raising=False)
    return tmp_path


def test_no_database_anywhere_is_an_error_not_a_new_server(nowhere):
    where = str(nowhere / ".crm360" / "pgdata")
    calls = [["account", "acme"], ["migrate"], ["reconcile"], ["refresh"], ["quality"], ["user", "list"],
             ["digest"], ["db", "url"], ["db", "psql", "-c", "SELECT 1"],
             ["ingest", "salesforce", "Account", str(FIX / "salesforce/Account.csv")]]
    for args in calls:
        r = run(*args)
        assert r.exit_code == 1, (args, r.output)
        text = " ".join(r.output.split())
        assert f"no embedded server in {where}" in text and "crm360 demo" in text and "crm360 db start" in text
        assert "CRM360_DATA_DIR" in text and "--dsn" in text, text
        assert not (nowhere / ".crm360").exists(), args
    r = run("account", "acme", "--json")
    assert r.exit_code == 1 and where in json_error(r)["message"]
    # $CRM360_DATA_DIR pointing at nothing: said so
    r = run("reconcile", env={"CRM360_DATA_DIR": str(nowhere / "elsewhere")})
    assert r.exit_code == 1 and "$CRM360_DATA_DIR" in " ".join(r.output.split())
    assert not (nowhere / "elsewhere").exists()
    # a separate process, as a user runs it
    p = subprocess.run([sys.executable, "-m", "crm360.cli", "quality"], cwd=nowhere, capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CRM360_DATA_DIR")}
                       | {"PYTHONPATH": str(ROOT)})
    assert p.returncode == 1 and "crm360 demo" in p.stderr and not (nowhere / ".crm360").exists()


def test_demo_refuses_a_foreign_database(empty_db, db, conn, tmp_path):
    from crm360 import demo as demo_mod

    with psycopg.connect(empty_db, autocommit=True) as c:
        assert demo_mod.foreign_reason(c) is None                  # empty: fine
        c.execute("CREATE SCHEMA app")
        c.execute("CREATE TABLE app.invoices (id int)")
        r = run("demo", "--dsn", empty_db, "--accounts", "20")
        assert r.exit_code == 1, r.output
        text = " ".join(r.output.split())
        assert "ERROR [55000]" in text and "app.invoices" in text and "--force" in text
        assert c.execute("SELECT to_regnamespace('crm') IS NULL").fetchone()[0]   # nothing written
        c.execute("DROP SCHEMA app CASCADE")
        c.execute("CREATE TABLE public.customers (id int)")        # a table in public is foreign too
        assert "public.customers" in demo_mod.foreign_reason(c)

    # a migrated crm360 database: fine while empty, not once it holds other data
    assert demo_mod.foreign_reason(conn) is None
    conn.execute("SELECT crm.create_org('Real Customer Inc')")
    assert "1 account(s)" in demo_mod.foreign_reason(conn)
    export = tmp_path / "accounts_2026-05.csv"
    export.write_text((FIX / "salesforce/Account.csv").read_text())
    assert run("ingest", "salesforce", "Account", str(export), "--dsn", db).exit_code == 0
    why = demo_mod.foreign_reason(conn)
    assert "accounts_2026-05.csv" in why
    r = run("demo", "--dsn", db, "--accounts", "20", "--json")   # no --json on demo: a usage error
    assert r.exit_code == 2
    r = run("demo", "--dsn", db, "--accounts", "20")
    assert r.exit_code == 1 and "accounts_2026-05.csv" in " ".join(r.output.split())
    assert conn.execute("SELECT count(*) FROM crm_raw.sync_runs").fetchone()[0] == 1


def test_phases_are_quiet_off_a_terminal(db):
    """Under CliRunner (not a TTY) and --json, no progress display reaches the output."""
    r = run("ingest", "salesforce", "Account", str(FIX / "salesforce/Account.csv"), "--dsn", db, "--json")
    assert r.exit_code == 0 and r.stderr == "" and json.loads(r.stdout)["applied"] == 4
    r = run("reconcile", "--dsn", db)
    assert r.exit_code == 0 and r.stderr == ""
