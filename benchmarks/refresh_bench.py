"""Read-model refresh benchmark (issue 12) — not a test.

For each scale, the Account 360 bench graph of benchmarks/account360_bench.py is built in a
fresh database (constant per-account subgraph: TICKETS tickets, 2 opportunities, 2 contracts,
4 invoices, 8 meetings/calls/emails; accounts restricted in blocks of 50 to one team), then
every materialized read model is refreshed REPEAT times through the same function
`crm.refresh_read_models(true)` calls (crm_private.refresh_read_model: for the Account 360
this includes the data-quality snapshot — orphans, identity mismatches, duplicate
candidates — and the CONCURRENTLY refresh). Reports min / median wall time per read model
and scale, and the time of one `crm.refresh_read_models()` with nothing stale (the cost of
a scheduled call that has nothing to do).

    PYTHONPATH=. python benchmarks/refresh_bench.py --scales 1000,10000,100000 --tickets 20

Writes benchmarks/out/refresh-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from account360_bench import build, dsn_for  # noqa: E402

READ_MODELS = ("crm_private.opportunities_active_mv", "crm_private.contacts_directory_mv",
               "crm_private.accounts_360_mv")


def measure(dsn: str, repeat: int) -> dict:
    out: dict = {}
    with psycopg.connect(dsn, autocommit=True) as c:
        for rm in READ_MODELS:
            ts = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                c.execute("SELECT * FROM crm_private.refresh_read_model(%s)", (rm,)).fetchall()
                ts.append(time.perf_counter() - t0)
            rows = c.execute(f"SELECT count(*) FROM {rm}").fetchone()[0]   # noqa: S608 - fixed names
            out[rm] = {"min_s": round(min(ts), 3), "median_s": round(statistics.median(ts), 3), "rows": rows}
        # the duplicate-candidate and data-quality part of the Account 360 refresh on its own
        t0 = time.perf_counter()
        q = c.execute("SELECT count(*) FROM crm_private.quality_items_all()").fetchone()[0]
        out["quality_items_all"] = {"s": round(time.perf_counter() - t0, 3), "rows": q}
        ts = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            c.execute("SELECT * FROM crm.refresh_read_models()").fetchall()
            ts.append(time.perf_counter() - t0)
        out["refresh_read_models_nothing_stale"] = {"median_ms": round(statistics.median(ts) * 1000, 2)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", default=None, help="superuser DSN of the server (default: the embedded dev server)")
    ap.add_argument("--scales", default="1000,10000,100000", help="comma-separated account counts")
    ap.add_argument("--tickets", type=int, default=20, help="tickets per account (constant across scales)")
    ap.add_argument("--repeat", type=int, default=3, help="refreshes per read model and scale")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    a = ap.parse_args()
    base = a.dsn
    if not base:
        from crm360 import server
        base = server.start(HERE.parent / ".crm360" / "bench-pgdata").url()
    report = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
              "machine": platform.machine(), "cpus": os.cpu_count(), "tickets_per_account": a.tickets,
              "command": "PYTHONPATH=. python " + " ".join(sys.argv), "scales": {}}
    for n in [int(x) for x in a.scales.split(",")]:
        print(f"scale {n} accounts: building ...", flush=True)
        _, info = build(base, n, a.tickets)
        dsn = dsn_for(base, f"crm360_bench_a360_{n}")
        m = measure(dsn, a.repeat)
        report["scales"][n] = {**info, **m}
        print(json.dumps(report["scales"][n], indent=1), flush=True)
        if not a.keep:
            with psycopg.connect(dsn_for(base, "postgres"), autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "crm360_bench_a360_{n}" WITH (FORCE)')
    out = HERE / "out" / f"refresh-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(f"JSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
