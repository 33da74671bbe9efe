"""Finding 7 through a real pgbouncer in transaction mode (DESIGN §9: the tested pooler).

pgbouncer (Debian package) runs in front of the per-test database with a pool of ONE server
connection per user, so two client connections of the service login take turns on the same
server session — exactly what a pooled service does. Clients disable server-side prepared
statements (prepare_threshold=None), as the README asks of pgbouncer users.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.access_helpers import PASSWORD

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
NOBODY = 65534


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bouncer(sec):
    """Start pgbouncer (transaction mode, pool size 1) for the service login; yield a connect()."""
    if not os.access(PGBOUNCER, os.X_OK):
        pytest.skip("pgbouncer is not installed (Debian package pgbouncer)")
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("running as root and setpriv (util-linux) is missing: pgbouncer refuses to run as root")
    w = sec
    server = conninfo_to_dict(w.dsn)
    host, port = server.get("host", "localhost"), server.get("port", "5432")
    work = Path(tempfile.mkdtemp(prefix="crm360-pgbouncer-"))
    listen = _free_port()
    role = w.role_name("svc")
    (work / "userlist.txt").write_text(f'"{role}" "{PASSWORD}"\n')
    (work / "pgbouncer.ini").write_text(f"""[databases]
crm = host={host} port={port} dbname={server["dbname"]}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {work}/userlist.txt
pool_mode = transaction
default_pool_size = 1
max_client_conn = 20
logfile = {work}/pgbouncer.log
pidfile = {work}/pgbouncer.pid
ignore_startup_parameters = extra_float_digits,options
""")
    cmd = [PGBOUNCER, str(work / "pgbouncer.ini")]
    if os.geteuid() == 0:
        # pgbouncer refuses to run as root: run it as the owner of the server's socket
        # directory (it can reach the socket), else as nobody
        owner = os.stat(host) if host.startswith("/") else None
        uid, gid = (owner.st_uid, owner.st_gid) if owner and owner.st_uid != 0 else (NOBODY, NOBODY)
        for p in [work, *work.iterdir()]:
            os.chown(p, uid, gid)
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conns: list[psycopg.Connection] = []

    def connect() -> psycopg.Connection:
        c = psycopg.connect(host="127.0.0.1", port=listen, dbname="crm", user=role, password=PASSWORD,
                            prepare_threshold=None, autocommit=False)
        conns.append(c)
        return c

    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                connect().close()
                break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = work / "pgbouncer.log"
                    pytest.fail(f"pgbouncer did not start: {log.read_text() if log.exists() else proc.returncode}")
                time.sleep(0.1)
        yield connect
    finally:
        for c in conns:
            c.close()
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def _client(conn: psycopg.Connection, user, query: str) -> set:
    """One pooled client transaction: act for `user` (if any), run `query`, commit.
    A refusal (any error) counts as no rows."""
    try:
        if user is not None:
            conn.execute("SELECT crm.act_as(%s)", (user,))
        rows = {r[0] for r in conn.execute(query).fetchall()}
        conn.commit()
        return rows
    except psycopg.Error:
        conn.rollback()
        return set()


def test_pgbouncer_leftovers_do_not_bleed_across_pooled_transactions(sec, bouncer):
    """Finding 7 (pgbouncer, transaction mode) — client 1 acts for alice and leaves a temp
    table and a WITH HOLD cursor holding her accounts, then commits; client 2, a different
    client connection served by the same server session, acts for bob and reads them.
    Property: client 2 never gets an account bob cannot see.
    """
    w, n = sec, sec.n
    c1, c2 = bouncer(), bouncer()
    pid1 = c1.execute("SELECT pg_backend_pid()").fetchone()[0]
    c1.commit()
    assert c2.execute("SELECT pg_backend_pid()").fetchone()[0] == pid1   # one pooled server session
    c2.commit()
    alice, bob = w.users["alice"], w.users["bob"]
    try:
        c1.execute("SELECT crm.act_as(%s)", (alice,))
        c1.execute("CREATE TEMP TABLE leak AS SELECT id FROM crm.nodes WHERE node_type = 'org'")
        c1.execute("DECLARE held CURSOR WITH HOLD FOR SELECT id FROM crm.nodes WHERE node_type = 'org'")
        c1.commit()
    except psycopg.Error:
        c1.rollback()
    from_table = _client(c2, bob, "SELECT id FROM pg_temp.leak")
    from_cursor = _client(c2, bob, "FETCH ALL FROM held")
    bob_sees = _client(c2, bob, "SELECT id FROM crm.nodes WHERE node_type = 'org'")
    assert bob_sees == {n["globex"]}
    leaks = {what: rows - bob_sees for what, rows in [("temp table", from_table), ("held cursor", from_cursor)]
             if rows - bob_sees}
    assert not leaks, f"bob's client read alice's accounts: {leaks}"


def test_pgbouncer_session_identity_does_not_carry_over(sec, bouncer):
    """Finding 7 (pgbouncer, transaction mode) — client 1 acts for alice and sets
    crm.act_as_user / crm.act_as_xid at session level, bound to the next transaction id;
    client 2 (another client connection, no act_as) gets that transaction id with its first
    statement.
    Property: client 2 has no identity and sees no account.
    """
    w, n = sec, sec.n
    c1, c2 = bouncer(), bouncer()
    predicted = xid = actor = None
    seen: set = set()
    for _ in range(20):
        try:
            c1.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
            predicted = int(c1.execute("SELECT pg_current_xact_id()::text").fetchone()[0]) + 1
            c1.execute("SELECT set_config('crm.act_as_user', %s, false), set_config('crm.act_as_xid', %s, false)",
                       (str(w.users["alice"]), str(predicted)))
            c1.commit()
        except psycopg.Error:
            c1.rollback()
            predicted = None
        try:
            xid = int(c2.execute("SELECT pg_current_xact_id()::text").fetchone()[0])
            actor = c2.execute("SELECT crm.current_actor()").fetchone()[0]
            seen = {r[0] for r in c2.execute("SELECT id FROM crm.nodes WHERE node_type = 'org'").fetchall()}
        except psycopg.Error:
            xid, actor, seen = None, None, set()
        c2.rollback()
        if predicted is None or xid == predicted:
            break
        c2.execute("RESET ALL")
        c2.commit()
    assert predicted is None or xid == predicted, "never got the predicted transaction id (busy server?)"
    assert actor is None, "client 2 acts as alice"
    assert not (seen & {n["acme"], n["globex"]}), "client 2 sees alice's accounts"
