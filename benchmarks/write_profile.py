"""Profile the three write functions as the core suite's rep (issue 16): pg_stat_statements
(track = all, track_planning) and pg_stat_user_functions (track_functions = all) per function.

Needs a core-suite database (``crm360 bench --suite core --keep``) on a server with
``shared_preload_libraries = 'pg_stat_statements'``; run as the superuser DSN of that database:

    PYTHONPATH=. python benchmarks/write_profile.py 1000 --dsn postgresql://postgres@/crm360_bench_core?host=...

Prints, per function, calls/s and the top statements with their share of the top-level call
(nested statements are included in their callers' time) and calls per call.
"""

from __future__ import annotations

import argparse
import time

import psycopg
from psycopg.types.json import Jsonb

from benchmarks.bench_data import OPEN_STAGES, PIPELINE_CODE
from benchmarks.core_bench import REP
from crm360 import bench

TOP = """SELECT total_exec_time + total_plan_time, calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 110)
           FROM pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND query NOT LIKE '%%pg_stat%%'
          ORDER BY 1 DESC LIMIT %s"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("calls", type=int)
    ap.add_argument("--dsn", required=True)
    ap.add_argument("functions", nargs="*", default=["create_opportunity", "advance_deal_stage", "log_crm_activity"])
    a = ap.parse_args()
    su = psycopg.connect(a.dsn, autocommit=True)
    su.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    db = su.info.dbname
    for setting, value in (("pg_stat_statements.track", "all"), ("pg_stat_statements.track_planning", "on"),
                           ("track_functions", "all")):
        su.execute(f"ALTER DATABASE {db} SET {setting} = '{value}'")
    rep = bench.connect_as(a.dsn, REP)
    user = rep.execute("SELECT crm.current_actor()").fetchone()[0]
    n = a.calls
    ids = [rep.execute("SELECT crm.create_opportunity(%s, %s, %s, %s)", (f"p{i}", PIPELINE_CODE, user, Jsonb({})))
           .fetchone()[0] for i in range(n)]
    calls = {
        "create_opportunity": ("SELECT crm.create_opportunity(%s, %s, %s, %s)",
                               [(f"q{i}", PIPELINE_CODE, user, Jsonb({})) for i in range(n)]),
        "advance_deal_stage": ("SELECT crm.advance_deal_stage(%s, %s, %s)",
                               [(o, OPEN_STAGES[1 + i % 3], "q") for i, o in enumerate(ids)]),
        "log_crm_activity": ("SELECT crm.log_crm_activity(%s, %s, %s, %s, %s::uuid[], %s::text[])",
                             [("note", "n", Jsonb({}), None, [o], ["subject"]) for o in ids]),
    }
    for w in a.functions:
        q, ps = calls[w]
        time.sleep(1.2)   # let the statistics of the previous phase flush before the reset
        su.execute("SELECT pg_stat_statements_reset(), pg_stat_reset()")
        time.sleep(0.6)
        t0 = time.perf_counter()
        for p in ps:
            rep.execute(q, p).fetchone()
        dt = time.perf_counter() - t0
        time.sleep(0.6)
        print(f"\n=== {w}: {n} calls, {n / dt:.0f}/s, {dt / n * 1000:.3f} ms/call")
        rows = su.execute(TOP, (22,)).fetchall()
        tot = rows[0][0]
        print(f"top-level total {tot:.1f} ms")
        for t, c, text in rows:
            print(f"{100 * t / tot:5.1f}% {c / n:6.1f}/call  {text}")
        print("-- functions (self time)")
        for f, c, tt, st in su.execute("SELECT schemaname || '.' || funcname, calls, total_time, self_time "
                                       "FROM pg_stat_user_functions ORDER BY self_time DESC LIMIT 18").fetchall():
            print(f"{100 * st / tot:5.1f}% self {100 * tt / tot:5.1f}% incl {c / n:6.1f}/call  {f}")


if __name__ == "__main__":
    main()
