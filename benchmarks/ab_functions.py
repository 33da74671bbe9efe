"""A/B two sets of function files on the kept core database (issue 16): load set A, time the
three write calls as the core suite's rep, load set B, time them, for ``rounds`` rounds.

Needs ``crm360 bench --suite core --keep`` (database crm360_bench_core). Each set is a folder of
``*.sql`` files (e.g. the old and new versions of the functions a change touches), applied as
crm_owner in name order, as the migrator applies repeatable files. The last set loaded stays.

    PYTHONPATH=. python benchmarks/ab_functions.py /tmp/old /tmp/new --calls 1000 --rounds 3 \\
        --dsn 'postgresql://postgres@/crm360_bench_core?host=...&port=5432'

Prints calls/s per round for create_opportunity, advance_deal_stage and log_crm_activity.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from benchmarks.bench_data import OPEN_STAGES, PIPELINE_CODE
from benchmarks.core_bench import REP


def load(dsn: str, folder: Path) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SET ROLE crm_owner")
        for f in sorted(folder.glob("*.sql")):
            c.execute(f.read_text())


def one_round(dsn: str, calls: int, k: int) -> dict[str, float]:
    out = {}
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f"SET ROLE {REP}")
        user = c.execute("SELECT crm.current_actor()").fetchone()[0]
        opps = [c.execute("SELECT crm.create_opportunity(%s, %s, %s, %s)",
                          (f"ab {k} {i}", PIPELINE_CODE, user, Jsonb({}))).fetchone()[0] for i in range(calls)]
        for name, q, mk in (
                ("create", "SELECT crm.create_opportunity(%s, %s, %s, %s)",
                 lambda i: (f"ab c{k} {i}", PIPELINE_CODE, user, Jsonb({}))),
                ("advance", "SELECT crm.advance_deal_stage(%s, %s, %s)",
                 lambda i: (opps[i], OPEN_STAGES[1 + k % (len(OPEN_STAGES) - 1)], "ab")),
                ("log", "SELECT crm.log_crm_activity(%s, %s, %s, %s, %s::uuid[], %s::text[])",
                 lambda i: ("note", f"n{i}", Jsonb({"body": "b"}), None, [opps[i]], ["subject"]))):
            t = time.perf_counter()
            for i in range(calls):
                c.execute(q, mk(i)).fetchall()
            out[name] = calls / (time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="+", type=Path, help="folders of .sql function files")
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dsn", required=True, help="superuser DSN of crm360_bench_core")
    a = ap.parse_args()
    res: dict[Path, dict[str, list[float]]] = {s: {} for s in a.sets}
    k = 0
    for _ in range(a.rounds):
        for s in a.sets:
            load(a.dsn, s)
            k += 1
            for name, v in one_round(a.dsn, a.calls, k).items():
                res[s].setdefault(name, []).append(v)
    for s, r in res.items():
        print(s, "  ".join(f"{n}: " + "/".join(f"{x:,.0f}" for x in v) for n, v in r.items()))


if __name__ == "__main__":
    main()
