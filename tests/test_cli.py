"""CLI: the embedded server lifecycle (its own data dir) and error rendering."""

from __future__ import annotations

import subprocess
import sys

import psycopg
from click.testing import CliRunner

from crm360.cli import cli


def test_db_lifecycle_with_its_own_data_dir(tmp_path, monkeypatch):
    data = tmp_path / "pgdata"
    monkeypatch.setenv("CRM360_DATA_DIR", str(data))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    runner = CliRunner()
    r = runner.invoke(cli, ["db", "status"])
    assert r.exit_code == 3 and "not initialised" in r.output
    try:
        r = runner.invoke(cli, ["db", "start"])
        assert r.exit_code == 0, r.output
        r = runner.invoke(cli, ["db", "url"])
        url = r.output.strip().splitlines()[-1]
        with psycopg.connect(url) as c:
            assert c.execute("SELECT current_database()").fetchone()[0] == "crm360"
        r = runner.invoke(cli, ["db", "status"])
        assert r.exit_code == 0 and "running" in r.output
        # a command without --dsn uses (and would start) the embedded server
        r = runner.invoke(cli, ["migrate"])
        assert r.exit_code == 0, r.output
        assert "applying 0003_core.sql" in r.output
        out = subprocess.run([sys.executable, "-m", "crm360.cli", "db", "psql", "-At", "-c",
                              "SELECT count(*) > 0 FROM crm.node_types"], capture_output=True, text=True)
        assert out.returncode == 0 and out.stdout.strip() == "t", out.stderr
    finally:
        r = runner.invoke(cli, ["db", "stop"])
    assert r.exit_code == 0 and "stopped" in r.output
    r = runner.invoke(cli, ["db", "status"])
    assert r.exit_code == 3 and "stopped" in r.output


def test_connection_errors_are_rendered_with_hint():
    r = subprocess.run([sys.executable, "-m", "crm360.cli", "migrate", "--dsn", "postgresql://nobody@/nodb?host=/nonexistent"],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert "ERROR" in r.stderr and "HINT" in r.stderr
