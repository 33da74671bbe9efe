"""The embedded server for other clients (issue 13 item 3): `crm360 db start --listen --port`
serves TCP with scram-sha-256 passwords, keeps the settings for later starts; a reader login
with a password, connecting from another OS process (as another OS user when we are root —
the data dir and its socket are this user's only), sees only its team's rows.

Its own server in its own data dir (the session's test server is left alone).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from crm360 import server
from crm360.cli import cli

PASSWORD = "s3cret tcp pw ✓"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url: str, sql: str, password: str | None) -> subprocess.CompletedProcess:
    """psql (the embedded install's) in a separate process, as OS user nobody when we are root
    (a BI tool running as another OS user), never prompting, with no password file."""
    env = {"PATH": "/usr/bin:/bin", "PGPASSFILE": "/nonexistent", "PGCONNECT_TIMEOUT": "10", "LANG": "C.UTF-8"}
    if password is not None:
        env["PGPASSWORD"] = password
    kwargs = {"user": "nobody"} if os.geteuid() == 0 else {}
    return subprocess.run([str(server.bin_dir() / "psql"), "-w", "-X", "-At", "-d", url, "-c", sql],
                          env=env, cwd="/", capture_output=True, text=True, timeout=60, **kwargs)


@pytest.fixture
def tcp_server(monkeypatch):
    # not tmp_path: /tmp/pytest-of-<user> is shared with other pytest sessions of this OS user,
    # whose start-up clean-up may remove our directory under the running server
    base = Path(tempfile.mkdtemp(prefix="crm360-tcp-"))
    data = base / "pgdata"
    monkeypatch.setenv("CRM360_DATA_DIR", str(data))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    try:
        yield data
    finally:
        with contextlib.suppress(Exception):
            server.stop(data)
        shutil.rmtree(base, ignore_errors=True)


class Out:
    """A CLI result with its output on one line (rich wraps error messages at 80 columns)."""

    def __init__(self, r):
        self.exit_code, self.raw, self.output = r.exit_code, r.output, " ".join(r.output.split())


def run(*args, input=None) -> Out:
    return Out(CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False))


def test_reader_over_tcp_with_a_password_sees_its_team_only(tcp_server):
    data = tcp_server
    port = free_port()
    r = run("db", "start", "--listen", "127.0.0.1", "--port", str(port))
    assert r.exit_code == 0, r.output
    assert f"TCP 127.0.0.1 port {port}" in r.output
    mode = data.stat()
    assert stat.S_IMODE(mode.st_mode) == 0o700                                  # only the server's OS user
    assert json.loads((data / server.SETTINGS_FILE).read_text()) == {"listen": "127.0.0.1", "port": port}
    hba = (data / "pg_hba.conf").read_text()
    assert "host    all          all   127.0.0.1/32  scram-sha-256" in hba and "trust" not in hba.split("host", 1)[1]

    assert run("migrate").exit_code == 0
    st = server.status(data)
    with psycopg.connect(st.url(), autocommit=True) as admin:
        sales = admin.execute("SELECT crm.create_team('Sales')").fetchone()[0]
        other = admin.execute("SELECT crm.create_team('Other')").fetchone()[0]
        for name, team in (("Acme", sales), ("Globex", other), ("Initech", other)):
            admin.execute("INSERT INTO crm.nodes (node_type, label, properties, restricted_to) "
                          "VALUES ('org', %s, jsonb_build_object('name', %s::text), ARRAY[%s::uuid])",
                          (name, name, team))
        r = run("user", "add", "bi_rita", "--role", "reader", "--name", "Rita BI", "--password-stdin",
                input=PASSWORD + "\n")
        assert r.exit_code == 0, r.output
        uid = admin.execute("SELECT user_id FROM crm.logins WHERE login_role = 'bi_rita'").fetchone()[0]
        admin.execute("SELECT crm.add_user_to_team(%s, %s)", (uid, sales))
        admin_count = admin.execute("SELECT count(*) FROM crm.nodes WHERE node_type = 'org'").fetchone()[0]
    assert admin_count == 3

    r = run("db", "url", "--tcp", "--user", "bi_rita")
    assert r.exit_code == 0, r.output
    url = r.raw.strip()
    assert url == f"postgresql://bi_rita@127.0.0.1:{port}/crm360" and PASSWORD not in r.output

    q = "SELECT current_user, count(*) FROM crm.nodes WHERE node_type = 'org'"
    ok = psql(url, q, PASSWORD)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "bi_rita|1"                                     # RLS: Sales only, admin sees 3
    wrong = psql(url, q, PASSWORD + "x")
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr
    none = psql(url, q, None)
    assert none.returncode != 0 and "no password supplied" in none.stderr
    # the superuser has no password: not over TCP, whatever is tried
    su = psql(f"postgresql://postgres@127.0.0.1:{port}/crm360", "SELECT 1", "")
    assert su.returncode != 0
    if os.geteuid() == 0:   # another OS user cannot use the socket in the 0700 data dir
        sock = psql(st.url(), "SELECT 1", None)
        assert sock.returncode != 0 and "Permission denied" in sock.stderr

    # a new password: the old one stops working; --none: no login over TCP at all
    r = run("user", "password", "bi_rita", "--password-stdin", input="another one\n")
    assert r.exit_code == 0 and "set the password of login bi_rita" in r.output, r.output
    assert psql(url, q, PASSWORD).returncode != 0
    assert psql(url, q, "another one").stdout.strip() == "bi_rita|1"

    # stop, start without options: the TCP settings are kept
    assert run("db", "stop").exit_code == 0
    r = run("db", "status")
    assert r.exit_code == 3 and f"starts with TCP 127.0.0.1 port {port}" in r.output
    r = run("db", "start")
    assert r.exit_code == 0 and f"TCP 127.0.0.1 port {port}" in r.output, r.output
    assert psql(url, q, "another one").stdout.strip() == "bi_rita|1"

    r = run("user", "password", "bi_rita", "--none")
    assert r.exit_code == 0 and "removed the password" in r.output
    assert "password authentication failed" in psql(url, q, "another one").stderr

    # other settings while running: refused (nothing changed) unless --restart
    r = run("db", "start", "--socket-only")
    assert r.exit_code == 1 and "ERROR [55000]" in r.output and "--restart" in r.output
    assert json.loads((data / server.SETTINGS_FILE).read_text())["listen"] == "127.0.0.1"
    r = run("db", "start", "--socket-only", "--restart")
    assert r.exit_code == 0 and "(no TCP)" in r.output, r.output
    assert psql(url, "SELECT 1", "x").returncode != 0                         # nothing listens on TCP
    r = run("db", "url", "--tcp")
    assert r.exit_code == 1 and "does not listen on TCP" in r.output


def test_start_errors_leave_the_settings_alone(tcp_server):
    data = tcp_server
    r = run("db", "start", "--listen", "127.0.0.1; rm -rf /")
    assert r.exit_code == 1 and "ERROR [22023]: invalid listen address" in r.output
    assert not (data / "PG_VERSION").exists()
    # a port another process holds: the server does not start and keeps its old settings
    assert run("db", "start").exit_code == 0
    assert json.loads((data / server.SETTINGS_FILE).read_text()) == {"listen": None, "port": 5432}
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = busy.getsockname()[1]
        r = run("db", "start", "--listen", "127.0.0.1", "--port", str(taken), "--restart")
    assert r.exit_code == 1, r.output
    assert "did not start" in r.output and "--port" in r.output, r.output
    assert "the server runs again with Unix socket only" in r.output
    assert json.loads((data / server.SETTINGS_FILE).read_text()) == {"listen": None, "port": 5432}
    r = run("db", "start")
    assert r.exit_code == 0 and "already running" in r.output and "(no TCP)" in r.output, r.output


def test_user_password_refuses_what_is_not_a_crm_login(db, conn):
    """Against the session server: unknown role 42704, a role that is no crm360 login 22023,
    nothing changed; --json errors are JSON."""
    r = CliRunner().invoke(cli, ["user", "password", "t_nosuch_login_x", "--password-stdin", "--dsn", db],
                           input="pw\n")
    assert r.exit_code == 1 and "ERROR [42704]" in r.output
    conn.execute("CREATE ROLE t_plain_role_x LOGIN")
    try:
        r = CliRunner().invoke(cli, ["user", "password", "t_plain_role_x", "--password-stdin", "--json",
                                     "--dsn", db], input="pw\n")
        assert r.exit_code == 1
        assert json.loads(r.stdout)["error"]["sqlstate"] == "22023"
        assert conn.execute("SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 't_plain_role_x'").fetchone()[0]
        r = CliRunner().invoke(cli, ["user", "password", "t_plain_role_x", "--dsn", db])
        assert r.exit_code == 2 and "--password-stdin" in r.output
    finally:
        conn.execute("DROP ROLE t_plain_role_x")


def test_a_socket_outside_the_data_dir_is_as_private_as_the_data_dir():
    """When the data dir's path is too long for a Unix socket, the socket goes to the wheel's
    runtime dir. The local socket trusts whoever reaches it (pg_hba: local trust), so that dir
    must be private (0700, the server's OS user) and the socket 0700: another OS user cannot
    connect as the superuser."""
    base = Path(tempfile.mkdtemp(prefix="crm360-long-"))
    data = base / ("x" * 60) / ("y" * 60) / "pgdata"
    data.parent.mkdir(parents=True)
    try:
        st = server.start(data)
        sock_dir = Path(st.socket_dir)
        assert sock_dir != data                                   # the path was too long
        assert stat.S_IMODE(sock_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((sock_dir / f".s.PGSQL.{st.port or 5432}").stat().st_mode) & 0o077 == 0
        url = f"postgresql://postgres@/postgres?host={sock_dir}&port={st.port or 5432}"
        with psycopg.connect(url) as c:                           # this OS user: yes
            assert c.execute("SELECT 1").fetchone()[0] == 1
        if os.geteuid() == 0:                                     # another OS user: no
            r = psql(url, "SELECT 1", None)
            assert r.returncode != 0, r.stdout
    finally:
        with contextlib.suppress(Exception):
            server.stop(data)
        shutil.rmtree(base, ignore_errors=True)
