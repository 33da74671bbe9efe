"""WAL written per write call as the core suite's rep (issue 16): CHECKPOINT, then ``calls``
create_opportunity, advance_deal_stage and log_crm_activity calls, each phase measured as the
difference of pg_current_wal_insert_lsn() — so the first phase carries the full-page images
that follow a checkpoint, as a busy server's writes do.

    PYTHONPATH=. python benchmarks/wal_per_call.py --calls 2000 \\
        --dsn 'postgresql://postgres@/crm360_bench_core?host=...&port=5432'
"""

from __future__ import annotations

import argparse

import psycopg
from psycopg.types.json import Jsonb

from benchmarks.bench_data import OPEN_STAGES, PIPELINE_CODE
from benchmarks.core_bench import REP


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--dsn", required=True, help="superuser DSN of crm360_bench_core")
    a = ap.parse_args()
    n = a.calls
    with psycopg.connect(a.dsn, autocommit=True) as su, psycopg.connect(a.dsn, autocommit=True) as c:
        c.execute(f"SET ROLE {REP}")
        user = c.execute("SELECT crm.current_actor()").fetchone()[0]

        def lsn():
            return su.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]

        def per_call(a_, b_):
            return float(su.execute("SELECT pg_wal_lsn_diff(%s, %s)", (b_, a_)).fetchone()[0]) / n

        su.execute("CHECKPOINT")
        start = lsn()
        opps = [c.execute("SELECT crm.create_opportunity(%s, %s, %s, %s)",
                          (f"wal {i}", PIPELINE_CODE, user, Jsonb({}))).fetchone()[0] for i in range(n)]
        after_create = lsn()
        for o in opps:
            c.execute("SELECT crm.advance_deal_stage(%s, %s, %s)", (o, OPEN_STAGES[2], "wal"))
        after_advance = lsn()
        for i, o in enumerate(opps):
            c.execute("SELECT crm.log_crm_activity(%s, %s, %s, %s, %s::uuid[], %s::text[])",
                      ("note", f"n{i}", Jsonb({"body": "b"}), None, [o], ["subject"]))
        after_log = lsn()
        print(f"WAL bytes per call: create_opportunity {per_call(start, after_create):,.0f}, "
              f"advance_deal_stage {per_call(after_create, after_advance):,.0f}, "
              f"log_crm_activity {per_call(after_advance, after_log):,.0f}")


if __name__ == "__main__":
    main()
