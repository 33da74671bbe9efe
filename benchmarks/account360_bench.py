"""Account 360 benchmark (issue 6) — not a test.

For each scale, a fresh database is migrated and filled set-based in SQL (INSERT ... SELECT
generate_series, triggers off via session_replication_role = replica, the denormalised ACL
columns written directly, exactly as the triggers would), with a CONSTANT per-account subgraph:
TICKETS tickets (each with a ticket_status and a ticket_opened event), 2 opportunities (stage,
value, probability), 2 contracts, 4 invoices and 8 meetings/calls/emails. Accounts are
restricted in blocks of 50 to one team each. A sales rep — an ordinary LOGIN role mapped to a
CRM user in one team, so seeing ~50 accounts — then calls crm.get_account_summary and
crm.recent_activity for random visible accounts. p50/p95 per scale and the p95 growth ratio
from the smallest to the largest scale show whether the cost follows the account's subgraph
rather than the database size.

    PYTHONPATH=. python benchmarks/account360_bench.py --scales 1000,10000,50000 --tickets 20

Writes benchmarks/out/account360-<timestamp>.json and, with --results, appends a section to
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from crm360.migrator import Migrator  # noqa: E402

LOAD_SQL = """
SET session_replication_role = replica;
CREATE TEMP TABLE b_team AS
  SELECT g AS k, gen_random_uuid() AS id FROM generate_series(0, (%(n)s - 1) / 50) g;
INSERT INTO crm.nodes (id, node_type, label, properties)
  SELECT id, 'team', 'Team ' || k, jsonb_build_object('name', 'Team ' || k) FROM b_team;
CREATE TEMP TABLE b_acct AS
  SELECT g, gen_random_uuid() AS id, ARRAY[t.id] AS acl
    FROM generate_series(0, %(n)s - 1) g JOIN b_team t ON t.k = g / 50;
INSERT INTO crm.nodes (id, node_type, label, properties, external_source, external_id, restricted_to, acl)
  SELECT id, 'org', 'Account ' || g,
         jsonb_build_object('name', 'Account ' || g, 'domain', 'account' || g || '.example'),
         'salesforce', 'B' || lpad(g::text, 8, '0'), acl, acl
    FROM b_acct;
CREATE TEMP TABLE b_child AS
  SELECT a.g, a.id AS aid, a.acl, t.node_type, s.i, gen_random_uuid() AS id
    FROM b_acct a
    CROSS JOIN (VALUES ('ticket', %(t)s), ('opportunity', 2), ('contract', 2), ('invoice', 4)) t (node_type, n)
    CROSS JOIN LATERAL generate_series(1, t.n) s (i);
INSERT INTO crm.nodes (id, node_type, label, properties, acl)
  SELECT c.id, c.node_type, c.node_type || ' ' || c.g || '-' || c.i,
         CASE c.node_type
           WHEN 'ticket' THEN jsonb_build_object('subject', 'Ticket ' || c.i,
                'priority', (ARRAY['low','normal','high','urgent'])[1 + (c.i %% 4)],
                'opened_at', (now() - make_interval(days => c.i))::text)
           WHEN 'opportunity' THEN jsonb_build_object('name', 'Deal ' || c.i, 'code', 'OPP-B-' || c.g || '-' || c.i,
                'close_date', (current_date + 30 * c.i)::text, 'is_closed', false)
           WHEN 'contract' THEN jsonb_build_object('title', 'Contract ' || c.i,
                'effective_date', (current_date - 100 * c.i)::text, 'end_date', (current_date + 200 - 150 * c.i)::text,
                'annual_value', 10000 * c.i)
           ELSE jsonb_build_object('number', 'INV-' || c.g || '-' || c.i, 'currency', 'USD',
                'amount_remaining', 100 * c.i, 'due_date', (current_date + 20 - 10 * c.i)::text)
         END, c.acl
    FROM b_child c;
INSERT INTO crm.edges (edge_type, source_id, target_id, source_acl, target_acl)
  SELECT 'owned_by', c.id, c.aid, c.acl, c.acl FROM b_child c;
INSERT INTO crm.assertions (assertion_type, subject_node_id, claim, acl, sensitive)
  SELECT x.atype, c.id, x.claim, c.acl, x.atype = 'deal_value'
    FROM b_child c
    CROSS JOIN LATERAL (
      SELECT * FROM (VALUES
        ('ticket_status', jsonb_build_object('status', CASE WHEN c.i %% 3 = 0 THEN 'solved' ELSE 'open' END)),
        ('deal_stage', jsonb_build_object('stage', 'proposal', 'pipeline', 'PL-SFDC')),
        ('deal_value', jsonb_build_object('amount', 1000 * c.i, 'currency', 'USD')),
        ('win_probability', jsonb_build_object('probability', 0.25)),
        ('contract_status', jsonb_build_object('status', 'active', 'annual_value', 10000 * c.i)),
        ('invoice_status', jsonb_build_object('status', 'open', 'amount_remaining', 100 * c.i))) v (atype, claim)
      WHERE (c.node_type = 'ticket' AND v.atype = 'ticket_status')
         OR (c.node_type = 'opportunity' AND v.atype IN ('deal_stage', 'deal_value', 'win_probability'))
         OR (c.node_type = 'contract' AND v.atype = 'contract_status')
         OR (c.node_type = 'invoice' AND v.atype = 'invoice_status')) x;
CREATE TEMP TABLE b_event AS
  SELECT gen_random_uuid() AS id, a.id AS aid, NULL::uuid AS subject, a.acl,
         (ARRAY['meeting','phone_call','email','note'])[1 + (s.i %% 4)] AS event_type,
         now() - make_interval(hours => 7 * s.i + (a.g %% 5)) AS occurred_at
    FROM b_acct a CROSS JOIN generate_series(1, 8) s (i)
  UNION ALL
  SELECT gen_random_uuid(), c.aid, c.id, c.acl, 'ticket_opened', now() - make_interval(days => c.i)
    FROM b_child c WHERE c.node_type = 'ticket';
INSERT INTO crm.events (id, event_type, occurred_at, summary, acl, actor_system)
  SELECT id, event_type, occurred_at, initcap(replace(event_type, '_', ' ')), acl, 'bench' FROM b_event;
INSERT INTO crm.event_participants (event_id, node_id, role, acl, event_acl)
  SELECT id, aid, 'account', acl, acl FROM b_event
  UNION ALL
  SELECT id, subject, 'subject', acl, acl FROM b_event WHERE subject IS NOT NULL;
SET session_replication_role = origin;
"""


def dsn_for(base: str, dbname: str, **kw) -> str:
    p = conninfo_to_dict(base)
    p["dbname"] = dbname
    p.update(kw)
    return make_conninfo(**p)


def build(base: str, n: int, tickets: int) -> tuple[str, dict]:
    name = f"crm360_bench_a360_{n}"
    with psycopg.connect(dsn_for(base, "postgres"), autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = dsn_for(base, name)
    Migrator(dsn, echo=lambda s: None).migrate()
    t0 = time.monotonic()
    with psycopg.connect(dsn) as c:
        c.execute(LOAD_SQL % {"n": int(n), "t": int(tickets)})
        c.commit()
    load_s = time.monotonic() - t0
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("VACUUM ANALYZE")
        c.execute("CHECKPOINT")   # measure steady state, not the load's dirty pages being flushed
        sizes = dict(c.execute("""SELECT relname, n_live_tup FROM pg_stat_user_tables
                                   WHERE schemaname = 'crm' AND relname IN
                                   ('nodes','edges','assertions','events','event_participants')""").fetchall())
        db_mb = c.execute("SELECT pg_database_size(current_database()) / 1048576").fetchone()[0]
        role = f"bench_rep_{n}"
        c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        c.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'bench' IN ROLE crm_reader").format(sql.Identifier(role)))
        uid = c.execute("SELECT crm.create_user('Bench Rep', %s, %s)", (f"rep{n}@bench.example", role)).fetchone()[0]
        team = c.execute("SELECT id FROM crm.nodes WHERE node_type = 'team' AND label = 'Team 7'").fetchone()[0]
        c.execute("SELECT crm.add_user_to_team(%s, %s)", (uid, team))
    return dsn_for(base, name, user=role, password="bench"), {"load_s": round(load_s, 1), "rows": sizes,
                                                               "db_mb": int(db_mb)}


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def measure(rep_dsn: str, calls: int, seed: int) -> dict:
    rng = random.Random(seed)
    out = {}
    with psycopg.connect(rep_dsn, autocommit=True) as c:
        ids = [r[0] for r in c.execute("SELECT id FROM crm.nodes WHERE node_type = 'org'")]
        assert 40 <= len(ids) <= 60, f"the rep should see ~50 accounts, sees {len(ids)}"
        for name, q in (("get_account_summary", "SELECT crm.get_account_summary(%s)"),
                        ("recent_activity", "SELECT * FROM crm.recent_activity(%s, 30)")):
            for a in ids:                                        # warm-up: plans, and each visible
                c.execute(q, (a,)).fetchall()                    # account's pages once
            ts = []
            rows = 0
            for _ in range(calls):
                a = rng.choice(ids)
                t0 = time.perf_counter()
                rows += len(c.execute(q, (a,)).fetchall())
                ts.append((time.perf_counter() - t0) * 1000)
            out[name] = {"p50_ms": round(statistics.median(ts), 3), "p95_ms": round(pct(ts, 95), 3),
                         "max_ms": round(max(ts), 3), "calls": calls, "rows_per_call": round(rows / calls, 1),
                         "visible_accounts": len(ids)}
        # sanity: what the rep gets is the subgraph we built
        s = c.execute("SELECT crm.get_account_summary(%s)", (ids[0],)).fetchone()[0]
        out["sample_summary"] = {"open_tickets": s["open_tickets"]["count"],
                                 "active_opportunities": s["active_opportunities"]["count"],
                                 "pipeline_value_visible": s["active_opportunities"]["pipeline_value"]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsn", default=None, help="superuser DSN of the server (default: the embedded dev server)")
    ap.add_argument("--scales", default="1000,10000,50000", help="comma-separated account counts")
    ap.add_argument("--tickets", type=int, default=20, help="tickets per account (constant across scales)")
    ap.add_argument("--calls", type=int, default=300, help="timed calls per function and scale")
    ap.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    ap.add_argument("--results", action="store_true", help="append a section to benchmarks/RESULTS.md")
    a = ap.parse_args()
    base = a.dsn
    if not base:
        from crm360 import server
        base = server.start(HERE.parent / ".crm360" / "bench-pgdata").url()
    scales = [int(x) for x in a.scales.split(",")]
    report = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
              "machine": platform.machine(), "cpus": __import__("os").cpu_count(), "tickets_per_account": a.tickets,
              "command": "PYTHONPATH=. python " + " ".join(sys.argv), "scales": {}}
    for n in scales:
        print(f"scale {n} accounts: building ...", flush=True)
        rep_dsn, info = build(base, n, a.tickets)
        print(f"  loaded in {info['load_s']} s, {info['db_mb']} MB, rows {info['rows']}", flush=True)
        m = measure(rep_dsn, a.calls, seed=n)
        report["scales"][str(n)] = {**info, **m}
        print("  " + ", ".join(f"{k} p50 {v['p50_ms']} ms p95 {v['p95_ms']} ms" for k, v in m.items()
                               if k != "sample_summary"), flush=True)
        if not a.keep:
            with psycopg.connect(dsn_for(base, "postgres"), autocommit=True) as c:
                c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(f"crm360_bench_a360_{n}")))
                c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(f"bench_rep_{n}")))
    lo, hi = str(scales[0]), str(scales[-1])
    report["p95_growth"] = {f: round(report["scales"][hi][f]["p95_ms"] / report["scales"][lo][f]["p95_ms"], 2)
                            for f in ("get_account_summary", "recent_activity")}
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    path = out / f"account360-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1, default=str))
    print(json.dumps(report["p95_growth"]), "→", path)
    if a.results:
        lines = ["", "## Account 360 (issue 6): get_account_summary and recent_activity as a sales rep", "",
                 f"Measured {report['when']} ({report['cpus']} CPUs). Command: `{report['command']}`. "
                 f"Per-account subgraph constant: {a.tickets} tickets (+ status, + ticket_opened event), "
                 "2 opportunities, 2 contracts, 4 invoices, 8 meetings/calls/emails/notes. The rep is an ordinary "
                 "LOGIN role (crm_reader) mapped to a user in one team that restricts 50 accounts; "
                 f"{a.calls} timed calls per function and scale on random visible accounts, client-side wall "
                 "time over the Unix socket, after one warm-up call per visible account. Raw JSON: "
                 f"`benchmarks/out/{path.name}`.", "",
                 "| accounts | nodes | events | DB size | summary p50 | summary p95 | recent_activity p50 | "
                 "recent_activity p95 |", "|---|---|---|---|---|---|---|---|"]
        for n, r in report["scales"].items():
            lines.append(f"| {int(n):,} | {r['rows'].get('nodes', 0):,} | {r['rows'].get('events', 0):,} | "
                         f"{r['db_mb']} MB | {r['get_account_summary']['p50_ms']} ms | "
                         f"{r['get_account_summary']['p95_ms']} ms | {r['recent_activity']['p50_ms']} ms | "
                         f"{r['recent_activity']['p95_ms']} ms |")
        g = report["p95_growth"]
        lines += ["", f"p95 growth {int(lo):,} → {int(hi):,} accounts: get_account_summary "
                      f"{g['get_account_summary']}×, recent_activity {g['recent_activity']}× "
                      "(target ≤ 1.5×; target p95 ≤ 10 ms at the largest scale).", ""]
        with (HERE / "RESULTS.md").open("a") as f:
            f.write("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
