"""Duplicate candidates at scale (issue 12, item 4) — not a test.

For each scale, a fresh database is migrated and filled through the Salesforce connector with
the realistic account list of crm360/dup_data.py (numbered families, shared first words,
legal-form siblings, look-alikes, ~12 % without a website, 10 % planted duplicates, 10 %
near-miss decoys); ingestion restricts each account to its owner's team (8 owners). Then
`SELECT * FROM crm.duplicate_candidates` (execute + fetch all) is timed as the superuser, as an
admin login (row-level security applies, sees everything) and as a rep login (member of one
owner team, sees ~1/8 of the accounts), next to a baseline measured in the same run: reading
the same accounts (`SELECT id, label, properties FROM crm.nodes WHERE node_type = 'org'`) as
the same role. Precision and recall against the generator's truth are reported for every scale.

    PYTHONPATH=. python benchmarks/duplicates_bench.py --scales 10000,100000

Writes benchmarks/out/duplicates-<timestamp>.json; --results appends a section to
benchmarks/RESULTS.md. A run function `run(dsn, scale, out_dir)` (scale 1.0 = 100,000
accounts) lets `crm360 bench` register it as a suite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from crm360 import bench, dup_data  # noqa: E402
from crm360.connectors import ingest_files  # noqa: E402
from crm360.db import resolve_dsn  # noqa: E402

VIEW = "SELECT * FROM crm.duplicate_candidates"
BASELINE = "SELECT id, label, properties FROM crm.nodes WHERE node_type = 'org'"


def one_scale(dsn: str, accounts: int, seed: int, keep: bool = False) -> dict:
    name = f"crm360_bench_dups_{accounts}"
    setup: dict = {}
    with bench.phase(setup, "migrate_s"):
        target = bench.fresh_database(dsn, name)
    world = dup_data.generate(accounts, seed=seed)
    with tempfile.TemporaryDirectory() as tmp, bench.phase(setup, "ingest_s"):
        users, accts = dup_data.write_files(world, tmp)
        ingest_files(target, "salesforce", "User", [str(users)])
        summary = ingest_files(target, "salesforce", "Account", [str(accts)])
    assert summary["applied"] == len(world.accounts), summary
    admin_role, rep_role = f"bench_dups_admin_{accounts}", f"bench_dups_rep_{accounts}"
    with psycopg.connect(target, autocommit=True) as su:
        su.execute("ANALYZE crm.nodes")
        bench.create_login(su, admin_role, "crm_admin")
        bench.create_login(su, rep_role, "crm_writer")
        team = su.execute("SELECT restricted_to[1] FROM crm.nodes WHERE node_type = 'org' "
                          "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]
        uid = su.execute("SELECT crm.create_user('Bench Rep', %s, %s)",
                         (f"rep{accounts}@bench.example", rep_role)).fetchone()[0]
        su.execute("SELECT crm.add_user_to_team(%s, %s)", (uid, team))
        su.execute("SELECT crm.create_user('Bench Admin', %s, %s)", (f"admin{accounts}@bench.example", admin_role))
        t0 = time.perf_counter()
        listed = {frozenset(r) for r in su.execute("SELECT account_crm_id, other_crm_id FROM crm.duplicate_candidates")}
        setup["first_run_s"] = round(time.perf_counter() - t0, 3)
    judged = dup_data.judge(world, listed)
    measurements, ratios = [], []
    try:
        for role in ("postgres", admin_role, rep_role):
            conn = psycopg.connect(target, autocommit=True) if role == "postgres" else bench.connect_as(target, role)
            with conn:
                base_ms, base_rows = bench.time_query(conn, BASELINE, warmup=1, repeat=5)
                view_ms, view_rows = bench.time_query(conn, VIEW, warmup=1, repeat=3, max_seconds=60)
            label = "superuser" if role == "postgres" else ("admin" if role == admin_role else "rep")
            b = bench.measurement("read accounts", label, base_ms, rows=base_rows)
            v = bench.measurement("duplicate_candidates", label, view_ms, rows=view_rows)
            measurements += [b, v]
            ratios.append(bench.ratio(f"view / reading the accounts ({label})", v, b))
    finally:
        if not keep:
            with psycopg.connect(bench.dsn_with(dsn, dbname="postgres"), autocommit=True) as su:
                bench.drop_database(dsn, name)
                bench.drop_login(su, admin_role)
                bench.drop_login(su, rep_role)
    return {"accounts": accounts, "seed": seed, "setup": setup, "measurements": measurements, "ratios": ratios,
            "quality": {k: v for k, v in judged.items() if k not in ("false_pairs", "planted_missed")}
            | {"planted_missed": len(judged["planted_missed"])}}


def run(dsn: str, scale: float, out_dir) -> dict:
    """`crm360 bench` suite entry point: scale 1.0 = 100,000 accounts (and a tenth of it)."""
    big = max(200, int(100_000 * scale))
    scales = sorted({max(100, big // 10), big})
    results = [one_scale(dsn, n, 12) for n in scales]
    return {"suite": "duplicates", "scale": scale, "scales": results,
            "measurements": [m | {"name": f"{m['name']} @ {r['accounts']}"} for r in results for m in r["measurements"]],
            "ratios": [x | {"name": f"{x['name']} @ {r['accounts']}"} for r in results for x in r["ratios"]]}


def render(result: dict) -> str:
    lines = ["| accounts | role | duplicate_candidates median (ms) | rows | read accounts median (ms) | ratio |",
             "|---:|---|---:|---:|---:|---:|"]
    for r in result["scales"]:
        by = {(m["name"], m["role"]): m for m in r["measurements"]}
        for role in ("superuser", "admin", "rep"):
            v, b = by[("duplicate_candidates", role)], by[("read accounts", role)]
            lines.append(f"| {r['accounts']:,} | {role} | {v['median_ms']:,.0f} | {v['rows']:,} | "
                         f"{b['median_ms']:,.0f} | {v['median_ms'] / b['median_ms']:.1f}× |")
    lines += ["", "| accounts | listed | true | false | precision | planted found | decoys listed |",
              "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result["scales"]:
        q = r["quality"]
        lines.append(f"| {r['accounts']:,} | {q['listed']:,} | {q['true']:,} | {q['false']:,} | "
                     f"{100 * q['precision']:.1f} % | {q['planted_found']:,} / {q['planted']:,} | "
                     f"{q['decoys_listed']:,} / {q['decoys']:,} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dsn", default=None, help="superuser DSN of the server (default: $DATABASE_URL or embedded)")
    p.add_argument("--scales", default="10000,100000")
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--keep", action="store_true", help="keep the databases and login roles")
    p.add_argument("--results", action="store_true", help="append the tables to benchmarks/RESULTS.md")
    a = p.parse_args(argv)
    dsn = resolve_dsn(a.dsn)
    started = dt.datetime.now(dt.UTC)
    scales = [one_scale(dsn, int(n), a.seed, a.keep) for n in a.scales.split(",")]
    result = {"suite": "duplicates", "started": started.isoformat(), "machine": platform.platform(),
              "cpus": __import__("os").cpu_count(), "scales": scales}
    with psycopg.connect(dsn) as c:
        result["postgres"] = c.execute("SHOW server_version").fetchone()[0]
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    path = out / f"duplicates-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=1, default=str))
    table = render(result)
    print(table)
    print(f"JSON: {path}")
    if a.results:
        with (HERE / "RESULTS.md").open("a", encoding="utf-8") as f:
            f.write(f"\n## Duplicate candidates at scale (issue 12) — {started:%Y-%m-%d}\n\n"
                    f"`PYTHONPATH=. python benchmarks/duplicates_bench.py --scales {a.scales} --results` "
                    f"({result['machine']}, {result['cpus']} CPUs, PostgreSQL {result['postgres']}). "
                    "Generated accounts (crm360/dup_data.py) loaded through the Salesforce connector, "
                    "restricted per owner team (8 owners); `SELECT * FROM crm.duplicate_candidates` "
                    "executed and fetched, median of 3 after a warm-up, next to reading the same "
                    "accounts as the same role.\n\n" + table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
