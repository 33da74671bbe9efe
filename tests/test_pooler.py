"""crm360's own code paths through a real pgbouncer in transaction mode (DESIGN §9, issue 13).

tests/security/test_f07_pgbouncer.py attacks act_as through pgbouncer with hand-written SQL;
this file runs what crm360 itself ships against the pgbouncer DSN:

* connectors: `crm360.connectors.ingest_files` of every fixture export, `reconcile` and
  `refresh_read_models` (and `crm360 reconcile` / `crm360 refresh`) as a connector login whose
  pooled server sessions already used temporary tables — the graph equals a direct load's, and
  no temporary table outlives a load on a server session;
* services: 8 threads, each a client connection (`crm360.db.connect`) of one crm_service login,
  sharing 2 pooled server sessions, acting for reps through `crm360.account360.act_as` and reading
  crm.get_account_summary / `account360.fetch` — every transaction sees exactly its user's
  accounts, a transaction without act_as sees nothing, even when earlier clients copied their
  identity to session level;
* `crm360 account --as USER`, `crm360 user add` / `user list` through pgbouncer.

Both pool configurations run: the documented reset (server_reset_query = DISCARD ALL,
server_reset_query_always = 1) and pgbouncer's default (no reset).
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from collections import Counter

import psycopg
import pytest
from click.testing import CliRunner

from crm360 import account360
from crm360.cli import cli
from crm360.connectors import ingest_files, reconcile, refresh_read_models
from crm360.db import connect
from tests.access_helpers import PASSWORD, World
from tests.pgbouncer_helpers import LEAN_RESET_QUERY, pgbouncer_missing, start_pgbouncer
from tests.test_ingest import BASE, FIX

ORGS = "SELECT id FROM crm.nodes WHERE node_type = 'org'"


def run(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env, terminal_width=200, catch_exceptions=False)


@pytest.fixture(params=["documented", "default"])
def reset(request) -> bool:
    why = pgbouncer_missing()
    if why:
        pytest.skip(why)
    return request.param == "documented"


@pytest.fixture
def bouncer(world, db, reset):
    """pgbouncer (transaction mode, 2 server sessions per login) in front of the test database
    for the logins svc (crm_service), loader (crm_connector, every source), admin (crm_admin,
    mapped) and the superuser postgres (the DBA)."""
    w = world
    _logins(w)
    users = {w.role_name(n): PASSWORD for n in ("svc", "loader", "boss")}
    users["postgres"] = ""
    with start_pgbouncer(db, users, reset=reset, pool_size=2) as b:
        b.w = w
        b.reset = reset
        yield b


def _logins(w: World) -> None:
    w.login("svc", "crm_service", user=False)
    w.login("loader", "crm_connector", user=False)
    w.login("boss", "crm_admin")
    w.admin.execute("SELECT crm.allow_source(%s, '*')", (w.role_name("loader"),))


def _graph(conn: psycopg.Connection) -> dict:
    """What a load produced, comparable across databases (ids differ)."""
    q = {
        "nodes": "SELECT node_type, count(*), count(archived_at) FROM crm.nodes WHERE node_type <> 'user' "
                 "OR external_source IS NOT NULL GROUP BY 1",
        "edges": "SELECT edge_type, count(*) FROM crm.edges GROUP BY 1",
        "assertions": "SELECT assertion_type, count(*) FROM crm.assertions GROUP BY 1",
        "events": "SELECT event_type, count(*) FROM crm.events GROUP BY 1",
        "records": "SELECT source, object, status, count(*) FROM crm_raw.records GROUP BY 1, 2, 3",
        "runs": "SELECT source, object, status, count(*) FROM crm_raw.sync_runs GROUP BY 1, 2, 3",
    }
    return {k: sorted(tuple(map(str, r)) for r in conn.execute(v).fetchall()) for k, v in q.items()}


def _temp_tables(admin: psycopg.Connection) -> list[str]:
    return [r[0] for r in admin.execute(
        "SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relpersistence = 't' "
        "AND c.relkind IN ('r', 'p')").fetchall()]


def _soil_temp_buffers(b) -> None:
    """Another job of the loader login used temporary tables (at the default 8 MB of temp
    buffers) on both of its pooled server sessions: PostgreSQL now refuses any other
    temp_buffers value on them for their lifetime (22023) — and pgbouncer's DISCARD ALL does
    not change that. Two clients in parallel transactions take both server sessions."""
    c1, c2 = (psycopg.connect(b.dsn(b.w.role_name("loader")), prepare_threshold=None) for _ in range(2))
    try:
        for c in (c1, c2):
            c.execute("CREATE TEMP TABLE scratch ON COMMIT DROP AS SELECT 1 AS x")
        pids = {c.execute("SELECT pg_backend_pid()").fetchone()[0] for c in (c1, c2)}
        assert len(pids) == 2
        c1.commit()
        c2.commit()
    finally:
        c1.close()
        c2.close()


def test_connectors_ingest_reconcile_refresh_through_pgbouncer(bouncer, server, template_db, db):
    b, w = bouncer, bouncer.w
    loader = b.dsn(w.role_name("loader"))
    _soil_temp_buffers(b)
    summaries = [ingest_files(loader, s, o, [str(FIX / f)]) for s, o, f in BASE]
    assert all(s["status"] in ("succeeded", "partial") for s in summaries), summaries
    assert all("error" not in m for s in summaries for m in s["read_models"]), summaries
    # the same export twice more in one run (a statement executed many times on one client)
    replay = ingest_files(loader, "salesforce", "Account", [str(FIX / "salesforce/Account.csv")] * 7)
    assert replay["status"] == "succeeded" and [f["landed"] for f in replay["files"]] == [0] * 7
    # nothing of the loads is left on the pooled server sessions (pgbouncer keeps them open)
    assert _temp_tables(w.admin) == []
    assert w.admin.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s",
                           (w.role_name("loader"),)).fetchone()[0] >= 1
    got = _graph(w.admin)

    again = reconcile(loader)
    assert all("error" not in m for m in again["read_models"]), again
    with connect(loader) as conn:
        models = refresh_read_models(conn, all_=True)
    assert models and all("error" not in m for m in models), models
    assert all(m["refreshed"] for m in models), models
    for args in (["reconcile", "--json"], ["refresh", "--all", "--json"]):
        r = run(*args, "--dsn", loader)
        assert r.exit_code == 0, r.output
    assert _temp_tables(w.admin) == []
    after = _graph(w.admin)
    assert {k: v for k, v in after.items() if k != "runs"} == {k: v for k, v in got.items() if k != "runs"}

    # the graph equals what the same loads make on a direct connection
    name = f"crm360_direct_{uuid.uuid4().hex[:10]}"
    janitor = server.janitor(name, template=template_db)
    janitor.init()
    try:
        direct = server.dsn(name)
        with psycopg.connect(direct, autocommit=True) as d:
            dw = World(admin=d, dsn=direct)            # the same logins (their users, their events)
            try:
                _logins(dw)
                for s, o, f in BASE:
                    ingest_files(direct, s, o, [str(FIX / f)])
                ingest_files(direct, "salesforce", "Account", [str(FIX / "salesforce/Account.csv")] * 7)
                want = _graph(d)
            finally:
                dw.close()
    finally:
        janitor.drop()
    diff = {k: (sorted(set(got[k]) - set(want[k])), sorted(set(want[k]) - set(got[k])))
            for k in got if got[k] != want[k]}
    assert not diff, diff
    assert dict((k, int(v)) for k, v, _ in got["nodes"])["org"] >= 4


# ---------------------------------------------------------------------------- services
def _service_world(w) -> tuple[dict, dict]:
    """Teams A, B, C; reps alice (A), bob (B), carol (B and C); 2 accounts per team and one
    unrestricted (admins only), each with an opportunity. Returns (accounts, expected)."""
    for t in ("A", "B", "C"):
        w.team(t)
    for name in ("alice", "bob", "carol"):
        w.login(name, "crm_reader")
    w.join("alice", "A")
    w.join("bob", "B")
    w.join("carol", "B")
    w.join("carol", "C")
    acc = {}
    for t in ("A", "B", "C"):
        for i in (1, 2):
            acc[f"{t}{i}"] = w.node("org", f"Account {t}{i}", [t])
    acc["open"] = w.node("org", "Unrestricted")
    for k, a in acc.items():
        w.own(w.node("opportunity", f"Deal {k}"), a)
    w.admin.execute("SELECT crm.refresh_account_views()")
    w.admin.execute("SELECT crm.refresh_crm_views()")
    sees = {"alice": {"A1", "A2"}, "bob": {"B1", "B2"}, "carol": {"B1", "B2", "C1", "C2"}, None: set()}
    return acc, {(w.users[u] if u else None): {acc[a] for a in s} for u, s in sees.items()}


def test_service_calls_from_8_threads_never_leak_identity(bouncer):
    b, w = bouncer, bouncer.w
    acc, expected = _service_world(w)
    svc = b.dsn(w.role_name("svc"))
    users = list(expected)
    errors: list[str] = []
    pids: list[list[int]] = [[] for _ in range(8)]
    transactions = 40

    def client(k: int) -> None:
        rnd = random.Random(k)
        try:
            with connect(svc) as conn:                       # crm360.db.connect: prepare_threshold=None
                for i in range(transactions):
                    user = rnd.choice(users)
                    if user is not None:
                        account360.act_as(conn, str(user))   # SET LOCAL ROLE crm_service + crm.act_as
                    pids[k].append(conn.execute("SELECT pg_backend_pid()").fetchone()[0])
                    actor = conn.execute("SELECT crm.current_actor()").fetchone()[0]
                    orgs = {r[0] for r in conn.execute(ORGS)}
                    if actor != user or orgs != expected[user]:
                        errors.append(f"client {k} txn {i}: acting for {user}, actor {actor}, "
                                      f"{len(orgs - expected[user])} foreign account(s)")
                    # mostly visible accounts (a refusal rolls back a savepoint, and psycopg
                    # forgets its prepared statements on any ROLLBACK: that would hide them)
                    mine = sorted(expected[user])
                    target = rnd.choice(mine if mine and rnd.random() < 0.85 else list(acc.values()))
                    try:
                        with conn.transaction():
                            data = account360.fetch(conn, target, 30)
                        got = uuid.UUID(data["summary"]["account"]["id"])
                    except psycopg.errors.NoDataFound:
                        got = None
                    if got != (target if target in expected[user] else None):
                        errors.append(f"client {k} txn {i}: acting for {user}, summary of {target} -> {got}")
                    if i % 5 == 4 and user is not None:
                        # a careless client copies its identity to session level (DESIGN §6 trap)
                        conn.execute("SELECT set_config('crm.act_as_user', current_setting('crm.act_as_user'), "
                                     "false), set_config('crm.act_as_token', current_setting('crm.act_as_token'), "
                                     "false)")
                    if i % 10 == 9:
                        conn.rollback()
                    else:
                        conn.commit()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"client {k}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors[:10]
    seen_pids = Counter(p for per_client in pids for p in per_client)
    assert sum(seen_pids.values()) == 8 * transactions
    assert len(seen_pids) <= 2, seen_pids               # 8 clients took turns on 2 server sessions


def test_psycopg_prepared_statements_break_through_pgbouncer_crm360_connect_does_not(bouncer):
    """Why crm360.db.connect sets prepare_threshold=None: psycopg's default prepares a statement
    on its fifth execution on the server session of that moment; through pgbouncer a later
    transaction runs on a session that never saw it (or that DISCARD ALL emptied)."""
    b, w = bouncer, bouncer.w
    svc = b.dsn(w.role_name("svc"))
    with connect(svc) as conn:
        assert conn.prepare_threshold is None
        for _ in range(20):
            conn.execute("SELECT count(*) FROM crm.nodes WHERE node_type = %s", ("org",)).fetchone()
            conn.commit()
    if not b.reset:
        return              # without a reset the outcome depends on which session a client gets
    failed = None
    with psycopg.connect(svc) as raw:                     # psycopg's default prepare_threshold = 5
        for _ in range(20):
            try:
                raw.execute("SELECT count(*) FROM crm.nodes WHERE node_type = %s", ("org",)).fetchone()
                raw.commit()
            except psycopg.Error as e:
                failed = e.sqlstate
                break
    assert failed in ("26000", "42P05"), failed           # invalid statement name / already exists


# ------------------------------------------------------------------------------- the CLI
def test_cli_account_as_and_user_add_through_pgbouncer(bouncer):
    b, w = bouncer, bouncer.w
    acc, expected = _service_world(w)
    svc = b.dsn(w.role_name("svc"))
    r = run("account", str(acc["A1"]), "--as", str(w.users["alice"]), "--json", "--dsn", svc)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["summary"]["account"]["id"] == str(acc["A1"])
    r = run("account", str(acc["A1"]), "--as", str(w.users["bob"]), "--json", "--dsn", svc)
    assert r.exit_code == 1 and "P0002" in r.output, r.output       # bob cannot see it: not found
    # the next pooled transactions carry nothing of those
    with connect(svc) as conn:
        assert conn.execute("SELECT crm.current_actor()").fetchone()[0] is None
        assert conn.execute(ORGS).fetchall() == []

    # the DBA creates a login through the pooler; it works (directly: it is not in the userlist)
    dba = b.dsn("postgres")
    login = f"t_pooled_{w.suffix}"
    w.roles.append(login)
    r = run("user", "add", login, "--role", "reader", "--name", "Pooled Reader", "--email",
            f"pooled.{w.suffix}@example.com", "--password-env", "POOLED_PW", "--dsn", dba,
            env={"POOLED_PW": "pooled-secret"})
    assert r.exit_code == 0, r.output
    r = run("user", "list", "--json", "--dsn", dba)
    assert r.exit_code == 0, r.output
    assert login in r.output
    uid = w.admin.execute("SELECT user_id FROM crm.logins WHERE login_role = %s", (login,)).fetchone()[0]
    w.admin.execute("SELECT crm.add_user_to_team(%s, %s)", (uid, w.teams["C"]))
    params = psycopg.conninfo.conninfo_to_dict(w.dsn)
    params.update(user=login, password="pooled-secret")
    with psycopg.connect(**params) as c:
        assert {r[0] for r in c.execute(ORGS)} == {acc["C1"], acc["C2"]}


@pytest.mark.parametrize("reset", ["documented", "lean"])
def test_the_documented_resets_leave_nothing_for_the_next_client(world, db, reset):
    """Both resets the docs offer — DISCARD ALL, and the lean one without DISCARD PLANS (which
    costs pooled services most of their throughput: benchmarks/RESULTS.md) — leave the next client
    of a server session nothing of the previous one: temp table, temp function, WITH HOLD
    cursor, session settings (incl. copied identity), prepared statement, session role; and
    crm.act_as works for it (no CR034)."""
    why = pgbouncer_missing()
    if why:
        pytest.skip(why)
    w = world
    _logins(w)
    w.team("T")
    w.login("rep", "crm_reader")
    w.join("rep", "T")
    acct = w.node("org", "Visible", ["T"])
    secret = w.node("org", "Hidden")
    role = w.role_name("svc")
    with start_pgbouncer(db, {role: PASSWORD}, reset=True if reset == "documented" else LEAN_RESET_QUERY,
                         pool_size=1) as b:
        c1, c2 = connect(b.dsn(role)), connect(b.dsn(role))
        c1.execute("SELECT crm.act_as(%s)", (w.users["boss"],))
        c1.execute("CREATE TEMP TABLE leak AS SELECT id FROM crm.nodes WHERE node_type = 'org'")
        c1.execute("CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        c1.execute("DECLARE held CURSOR WITH HOLD FOR SELECT id FROM crm.nodes WHERE node_type = 'org'")
        c1.execute("SELECT set_config('work_mem', '77MB', false), "
                   "set_config('crm.act_as_user', current_setting('crm.act_as_user'), false), "
                   "set_config('crm.act_as_token', current_setting('crm.act_as_token'), false)")
        c1.execute("PREPARE p AS SELECT 1")
        c1.execute("SET SESSION ROLE crm_service")
        pid = c1.execute("SELECT pg_backend_pid()").fetchone()[0]
        c1.commit()
        assert c2.execute("SELECT pg_backend_pid()").fetchone()[0] == pid        # the same server session
        assert c2.execute("SELECT current_user, current_setting('work_mem'), "
                          "current_setting('crm.act_as_user', true), crm.current_actor()").fetchone()[:2] == (
            role, w.admin.execute("SELECT current_setting('work_mem')").fetchone()[0])
        assert c2.execute("SELECT crm.current_actor()").fetchone()[0] is None
        assert c2.execute("SELECT count(*) FROM pg_catalog.pg_class WHERE relpersistence = 't'").fetchone()[0] == 0
        assert c2.execute("SELECT count(*) FROM pg_catalog.pg_cursors").fetchone()[0] == 0
        assert c2.execute("SELECT count(*) FROM pg_catalog.pg_prepared_statements").fetchone()[0] == 0
        assert c2.execute("SELECT crm.act_as(%s)", (w.users["rep"],)).fetchone()[0] == w.users["rep"]
        assert {r[0] for r in c2.execute(ORGS)} == {acct} and secret != acct
        c2.commit()
        c1.close()
        c2.close()
