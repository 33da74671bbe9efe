"""Pooler and replica benchmark (issue 13) — not a test.

Service calls as a pooled service does them: one transaction per call,
`SELECT crm.act_as(<rep>)` then `SELECT crm.get_account_summary(<a visible account>)`, COMMIT —
from THREADS threads, each with its own client connection (psycopg, prepare_threshold=None as
through any transaction-mode pooler). The data is account360_bench's (N accounts restricted in
blocks of 50 to one team each, a constant subgraph per account); the rep sees ~50 accounts.

Compared, on the same database and machine, in one run:
* direct: THREADS persistent connections to PostgreSQL (Unix socket);
* pgbouncer (Debian package, transaction mode, default_pool_size = POOL), with the documented
  reset (server_reset_query = DISCARD ALL, server_reset_query_always = 1) and without (pgbouncer's
  default) — clients over TCP 127.0.0.1, pgbouncer to PostgreSQL over the Unix socket;
* a connection per call (connect, call, close), direct and through pgbouncer;
* a streaming hot standby of the same server (pg_basebackup -R -X stream, as tests/test_standby.py
  makes it): the same calls on the standby vs the primary, and the replay lag of a small write
  (commit on the primary until pg_last_wal_replay_lsn() on the standby has reached it).

    PYTHONPATH=. python benchmarks/pooler_replica_bench.py --accounts 5000 --calls 400 \\
        --dsn 'postgresql://postgres@/postgres?host=<socket dir>&port=5432'

Writes benchmarks/out/pooler-replica-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import platform
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from account360_bench import build, dsn_for, pct  # noqa: E402

from tests.pgbouncer_helpers import LEAN_RESET_QUERY, pgbouncer_missing, start_pgbouncer  # noqa: E402
from tests.test_standby import _session_primary, hot_standby, wait_for_replay  # noqa: E402

SVC_PASSWORD = "bench"


def add_service(base_db: str, n: int) -> tuple[str, str, list]:
    """A crm_service login; returns (its name, the rep's user id, the rep's visible accounts)."""
    role = f"bench_svc_{n}"
    with psycopg.connect(base_db, autocommit=True) as c:
        c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        c.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE crm_service").format(
            sql.Identifier(role), sql.Literal(SVC_PASSWORD)))
        uid = c.execute("SELECT user_id FROM crm.logins WHERE login_role = %s", (f"bench_rep_{n}",)).fetchone()[0]
    with psycopg.connect(dsn_for(base_db, conninfo_to_dict(base_db)["dbname"], user=role, password=SVC_PASSWORD)) as c:
        c.execute("SELECT crm.act_as(%s)", (uid,))
        accounts = [r[0] for r in c.execute("SELECT id FROM crm.nodes WHERE node_type = 'org'")]
    assert 40 <= len(accounts) <= 60, len(accounts)
    return role, str(uid), accounts


def one_call(conn: psycopg.Connection, uid: str, account) -> None:
    conn.execute("SELECT crm.act_as(%s)", (uid,))
    s = conn.execute("SELECT crm.get_account_summary(%s)", (account,)).fetchone()[0]
    conn.commit()
    assert s["account"]["id"] == str(account)


def run(dsn: str, uid: str, accounts: list, threads: int, calls: int, *, per_call_connect: bool = False,
        warmup: int = 30) -> dict:
    """THREADS clients x CALLS calls; latency per call (ms) and total calls/s over the wall time."""
    lat: list[list[float]] = [[] for _ in range(threads)]
    errors: list[str] = []
    barrier = threading.Barrier(threads + 1)

    def client(k: int) -> None:
        rnd = random.Random(k)
        try:
            conn = psycopg.connect(dsn, prepare_threshold=None)
            for _ in range(warmup):
                one_call(conn, uid, rnd.choice(accounts))
            if per_call_connect:
                conn.close()
            barrier.wait()
            for _ in range(calls):
                a = rnd.choice(accounts)
                t0 = time.perf_counter()
                if per_call_connect:
                    with psycopg.connect(dsn, prepare_threshold=None) as c:
                        one_call(c, uid, a)
                else:
                    one_call(conn, uid, a)
                lat[k].append((time.perf_counter() - t0) * 1000)
            if not per_call_connect:
                conn.close()
        except Exception as e:  # noqa: BLE001 - reported
            errors.append(f"{type(e).__name__}: {e}")
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.abort()

    ts = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in ts:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise RuntimeError(errors[:3])
    xs = [x for per in lat for x in per]
    return {"threads": threads, "calls": len(xs), "p50_ms": round(statistics.median(xs), 2),
            "p95_ms": round(pct(xs, 95), 2), "max_ms": round(max(xs), 1),
            "calls_per_s": round(len(xs) / wall, 1), "wall_s": round(wall, 2)}


def replay_lag(primary: psycopg.Connection, standby: psycopg.Connection, account, samples: int) -> dict:
    """Commit a one-row change on the primary; time until the standby has replayed it."""
    lags = []
    for i in range(samples):
        primary.execute("UPDATE crm.nodes SET label = %s WHERE id = %s", (f"Account lag {i}", account))
        t0 = time.perf_counter()
        wait_for_replay(primary, standby, timeout=10)
        lags.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.02)
    return {"samples": samples, "p50_ms": round(statistics.median(lags), 2), "p95_ms": round(pct(lags, 95), 2),
            "max_ms": round(max(lags), 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", required=True, help="superuser DSN of a server on this machine (Unix socket)")
    ap.add_argument("--accounts", type=int, default=5000)
    ap.add_argument("--tickets", type=int, default=10)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--calls", type=int, default=400, help="timed calls per thread")
    ap.add_argument("--pool", type=int, default=4, help="pgbouncer default_pool_size")
    ap.add_argument("--out", default=str(HERE / "out"))
    a = ap.parse_args()
    why = pgbouncer_missing()
    if why:
        print(why, file=sys.stderr)
        return 2
    started = dt.datetime.now(dt.UTC)
    n = a.accounts
    print(f"building {n} accounts ...", file=sys.stderr)
    _rep_dsn, info = build(a.dsn, n, a.tickets)
    dbname = f"crm360_bench_a360_{n}"
    base_db = dsn_for(a.dsn, dbname)
    svc, uid, accounts = add_service(base_db, n)
    svc_direct = dsn_for(a.dsn, dbname, user=svc, password=SVC_PASSWORD)
    res: dict = {"started": started.isoformat(), "accounts": n, "tickets_per_account": a.tickets,
                 "visible_accounts": len(accounts), "data": info, "pool_size": a.pool,
                 "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()}}
    with psycopg.connect(base_db) as c:
        res["server"] = c.execute("SHOW server_version").fetchone()[0]

    def step(name: str, fn) -> None:
        print(f"  {name} ...", file=sys.stderr)
        res[name] = fn()
        print(f"  {name}: {res[name]}", file=sys.stderr)

    threads, calls = a.threads, a.calls
    step("direct_1_thread", lambda: run(svc_direct, uid, accounts, 1, calls))
    step("direct", lambda: run(svc_direct, uid, accounts, threads, calls))
    with start_pgbouncer(base_db, {svc: SVC_PASSWORD}, reset=True, pool_size=a.pool,
                         max_client_conn=4 * threads) as b:
        step("pgbouncer_reset", lambda: run(b.dsn(svc), uid, accounts, threads, calls))
        step("pgbouncer_reset_connect_per_call",
             lambda: run(b.dsn(svc), uid, accounts, threads, calls // 4, per_call_connect=True))
    with start_pgbouncer(base_db, {svc: SVC_PASSWORD}, reset=LEAN_RESET_QUERY, pool_size=a.pool,
                         max_client_conn=4 * threads) as b:
        step("pgbouncer_lean_reset", lambda: run(b.dsn(svc), uid, accounts, threads, calls))
    with start_pgbouncer(base_db, {svc: SVC_PASSWORD}, reset=False, pool_size=a.pool,
                         max_client_conn=4 * threads) as b:
        step("pgbouncer_no_reset", lambda: run(b.dsn(svc), uid, accounts, threads, calls))
    step("direct_connect_per_call",
         lambda: run(svc_direct, uid, accounts, threads, calls // 4, per_call_connect=True))

    # the hot standby
    root = Path(tempfile.mkdtemp(prefix="crm360-bench-standby-"))
    try:
        with psycopg.connect(base_db, autocommit=True) as admin:
            primary, why = _session_primary(admin, conninfo_to_dict(base_db))
        if primary is None:
            res["standby"] = {"skipped": why}
        else:
            import os
            if primary.os_user is not None:
                os.chown(root, *primary.os_user)
            os.chmod(root, 0o700)
            with hot_standby(primary, root) as standby:
                sb_admin = psycopg.connect(standby.dsn(dbname), autocommit=True)
                with psycopg.connect(base_db, autocommit=True) as padmin:
                    wait_for_replay(padmin, sb_admin, timeout=120)
                    svc_standby = standby.dsn(dbname, user=svc, password=SVC_PASSWORD)
                    step("standby_1_thread", lambda: run(svc_standby, uid, accounts, 1, calls))
                    step("primary_1_thread", lambda: run(svc_direct, uid, accounts, 1, calls))
                    step("standby", lambda: run(svc_standby, uid, accounts, threads, calls))
                    step("primary", lambda: run(svc_direct, uid, accounts, threads, calls))
                    step("replay_lag", lambda: replay_lag(padmin, sb_admin, accounts[0], 100))
                sb_admin.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    with psycopg.connect(dsn_for(a.dsn, "postgres"), autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        for r in (svc, f"bench_rep_{n}"):
            c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(r)))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"pooler-replica-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(res, indent=2, default=str) + "\n")
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
