"""Analytics views benchmark (issue 12, item 5) — not a test.

Builds the Account 360 bench graph (benchmarks/account360_bench.py: per account TICKETS
tickets with a ticket_status and a ticket_opened event, 2 opportunities, 2 contracts, 4
invoices, 8 meetings/calls/emails/notes; accounts restricted in blocks of 50 to one team),
refreshes the read models, and reads the BI views through row-level security as
* rep    — an ordinary LOGIN role (crm_reader) mapped to a user of one team: sees 50 accounts,
* admin  — a LOGIN role in crm_admin (not a superuser: through the policies, sees everything),
* superuser — no row-level security at all (the baseline for admin), up to --admin-max-accounts,
with, for each view: count(*), a first page (ORDER BY ... LIMIT 50) and one account's rows.
The rep's plain `SELECT count(*) FROM crm.nodes WHERE node_type = ...` (row-level security on
the base table, no view) is measured as the baseline the view's overhead is judged against.

    PYTHONPATH=. python benchmarks/analytics_bench.py --dsn postgresql://postgres@/postgres?host=... \
        --scales 10000,100000 --tickets 20

Writes benchmarks/out/analytics-<timestamp>.json and prints a table (medians, p95, rows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from account360_bench import LOAD_SQL, dsn_for, pct  # noqa: E402

from crm360.migrator import Migrator  # noqa: E402

ADMIN, REP = "bench_analytics_admin", "bench_analytics_rep"


def build(base: str, n: int, tickets: int) -> tuple[str, str, dict]:
    """The Account 360 bench graph in its own database (own names: the 360 bench may run
    on the same server); returns (database, rep DSN, info)."""
    name = f"crm360_bench_analytics_{n}"
    with psycopg.connect(dsn_for(base, "postgres"), autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = dsn_for(base, name)
    Migrator(dsn, echo=lambda s: None).migrate()
    t0 = time.monotonic()
    with psycopg.connect(dsn) as c:
        c.execute(LOAD_SQL % {"n": int(n), "t": int(tickets)})
        c.commit()
    info = {"load_s": round(time.monotonic() - t0, 1)}
    with psycopg.connect(dsn, autocommit=True) as c:
        t0 = time.monotonic()
        c.execute("SELECT crm.refresh_crm_views()")
        info["refresh_crm_views_s"] = round(time.monotonic() - t0, 1)
        c.execute("VACUUM ANALYZE")
        c.execute("CHECKPOINT")
        info["rows"] = dict(c.execute("""SELECT relname, n_live_tup FROM pg_stat_user_tables
                                          WHERE schemaname = 'crm' AND relname IN
                                          ('nodes','edges','assertions','events','event_participants')""").fetchall())
        info["db_mb"] = int(c.execute("SELECT pg_database_size(current_database()) / 1048576").fetchone()[0])
        for role, grp in ((REP, "crm_reader"), (ADMIN, "crm_admin")):
            c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
            c.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'bench' IN ROLE {}").format(sql.Identifier(role),
                                                                                          sql.Identifier(grp)))
        uid = c.execute("SELECT crm.create_user('Bench Rep', 'rep@analytics.bench.example', %s)", (REP,)).fetchone()[0]
        team = c.execute("SELECT id FROM crm.nodes WHERE node_type = 'team' AND label = 'Team 7'").fetchone()[0]
        c.execute("SELECT crm.add_user_to_team(%s, %s)", (uid, team))
    return name, dsn_for(base, name, user=REP, password="bench"), info

# (name, query, per-account?) — the account filter takes the account id
QUERIES = [
    ("base: count crm.nodes tickets (RLS, no view)", "SELECT count(*) FROM crm.nodes WHERE node_type = 'ticket'", False),
    ("count crm.tickets", "SELECT count(*) FROM crm.tickets", False),
    ("page crm.tickets", "SELECT * FROM crm.tickets ORDER BY opened_at DESC, ticket_id LIMIT 50", False),
    ("account crm.tickets", "SELECT * FROM crm.tickets WHERE account_id = %s", True),
    ("tickets opened per account, 30 days",
     "SELECT account_id, count(*) FROM crm.tickets WHERE opened_at >= now() - interval '30 days' GROUP BY 1", False),
    ("count crm.invoices", "SELECT count(*) FROM crm.invoices", False),
    ("overdue per account crm.invoices",
     "SELECT account_id, count(*), sum(amount_remaining) FROM crm.invoices WHERE is_overdue GROUP BY 1", False),
    ("count crm.contracts", "SELECT count(*) FROM crm.contracts", False),
    ("count crm.opportunities", "SELECT count(*) FROM crm.opportunities", False),
    ("page crm.opportunities", "SELECT * FROM crm.opportunities ORDER BY close_date, opportunity_id LIMIT 50", False),
    ("count crm.opportunities_active", "SELECT count(*) FROM crm.opportunities_active", False),
    ("page crm.opportunities_active",
     "SELECT * FROM crm.opportunities_active ORDER BY close_date, node_id LIMIT 50", False),
    ("base: count crm.events (RLS, no view)", "SELECT count(*) FROM crm.events", False),
    ("count crm.activities", "SELECT count(*) FROM crm.activities", False),
    ("page crm.activities", "SELECT * FROM crm.activities ORDER BY occurred_at DESC, event_id LIMIT 50", False),
    ("account crm.activities", "SELECT * FROM crm.activities WHERE account_id = %s", True),
    ("ticket_opened per account, 30 days",
     "SELECT account_id, count(*) FROM crm.activities WHERE event_type = 'ticket_opened' "
     "AND occurred_at >= now() - interval '30 days' GROUP BY 1", False),
    ("count crm.tickets_detail", "SELECT count(*) FROM crm.tickets_detail", False),
]


def timed(conn, q, params, repeat) -> tuple[list[float], int]:
    conn.execute(q, params).fetchall()                # warm-up (plan, pages)
    ts, rows = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        rows = len(r := conn.execute(q, params).fetchall())
        ts.append((time.perf_counter() - t0) * 1000)
    if q.lstrip().lower().startswith("select count("):
        rows = r[0][0]
    return ts, rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", default=None, help="superuser DSN of the server (default: the embedded bench server)")
    ap.add_argument("--scales", default="1000,10000", help="comma-separated account counts")
    ap.add_argument("--tickets", type=int, default=20, help="tickets per account")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per query and role")
    ap.add_argument("--admin-max-accounts", type=int, default=10000,
                    help="measure the admin role only up to this scale (full scans of millions of rows)")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    a = ap.parse_args()
    base = a.dsn
    if not base:
        from crm360 import server
        base = server.start(HERE.parent / ".crm360" / "bench-pgdata").url()
    report = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
              "cpus": __import__("os").cpu_count(), "tickets_per_account": a.tickets,
              "command": "PYTHONPATH=. python " + " ".join(sys.argv), "scales": {}}
    for n in [int(x) for x in a.scales.split(",")]:
        print(f"scale {n} accounts: building ...", flush=True)
        db, rep_dsn, info = build(base, n, a.tickets)
        with psycopg.connect(dsn_for(base, db), autocommit=True) as su:
            account = su.execute("SELECT n.id FROM crm.nodes n JOIN crm.nodes t ON t.id = ANY (n.restricted_to) "
                                 "WHERE n.node_type = 'org' AND t.label = 'Team 7' ORDER BY n.label LIMIT 1"
                                 ).fetchone()[0]
        print(f"  loaded in {info['load_s']} s, {info['db_mb']} MB, refresh {info['refresh_crm_views_s']} s",
              flush=True)
        roles = {"rep": rep_dsn}
        if n <= a.admin_max_accounts:
            roles["admin"] = dsn_for(base, db, user=ADMIN, password="bench")
            roles["superuser"] = dsn_for(base, db)        # no row-level security: the baseline
        res = {}
        for who, dsn in roles.items():
            with psycopg.connect(dsn, autocommit=True) as c:
                for name, q, per_account in QUERIES:
                    ts, rows = timed(c, q, (account,) if per_account else None, a.repeat)
                    res.setdefault(name, {})[who] = {"median_ms": round(statistics.median(ts), 2),
                                                     "p95_ms": round(pct(ts, 95), 2), "rows": rows}
                    print(f"  {who:9} {name:45} {statistics.median(ts):9.2f} ms  rows {rows}", flush=True)
        report["scales"][str(n)] = {**info, "queries": res}
        if not a.keep:
            with psycopg.connect(dsn_for(base, "postgres"), autocommit=True) as c:
                c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
                for role in (REP, ADMIN):
                    c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    path = out / f"analytics-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1, default=str))
    print("→", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
