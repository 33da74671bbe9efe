"""Benchmark suite 'core' — the DESIGN §8 bar.

* Write throughput, as a SALES REP (a non-superuser LOGIN role in crm_writer, mapped to a
  CRM user, through RLS) on one connection: generate_crm_code('OPP'), create_opportunity,
  advance_deal_stage, log_crm_activity — each ``calls`` times in autocommit (one transaction
  per call, as services call them) and again batched in one transaction; the same
  autocommit calls as superuser, and a ``SELECT 1`` round trip, are the baselines; then the
  three calls from 8 client processes at once (each warmed up, on its own deals; target 1.5x
  the 1-client calls/s).
* Reads on a ~100k-node graph (scale 1; the rep's team holds 1/20 of the accounts):
  count(*) on crm.nodes, crm.opportunities_active_live, crm.opportunities_active and
  crm.contacts_directory, and a page of 50 rows of crm.nodes, crm.opportunities_active and
  crm.contacts_directory, as rep, as admin (crm_admin login, non-superuser) and as superuser
  (targets: admin <= 1.2x, rep <= 1.5x superuser).
* Name search: resolve an account name fragment by ILIKE on org labels (and
  crm.resolve_account when it exists) as rep, admin and superuser.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time

import psycopg
from psycopg.types.json import Jsonb

from benchmarks.bench_data import OPEN_STAGES, PIPELINE_CODE, build_graph
from crm360 import bench

DB = "crm360_bench_core"
REP, ADMIN = "crm360_bench_core_rep", "crm360_bench_core_admin"

PREDECESSOR = {"generate_crm_code": 1270, "create_opportunity": 70, "advance_deal_stage": 144,
               "log_crm_activity": 1029}
GOALS = {"create_opportunity": 1000, "advance_deal_stage": 1000}
SCALING_GOAL = 1.5      # issue 16: at 8 clients >= 1.5x the 1-client calls/s
WARMUP_CALLS = 20       # per client and function, before the 8-client phases (not measured)

NAME_SEARCH = ("SELECT n.id, n.label FROM crm.nodes n WHERE n.node_type = 'org' AND n.archived_at IS NULL "
               "AND n.label ILIKE '%%' || %s || '%%' ORDER BY n.label LIMIT 20")


def _write_calls(conn, calls: int, rep_user, tag: str, *, batched: bool) -> tuple[list, dict]:
    """Run the four write functions ``calls`` times each; return (measurements, created ids)."""
    ms = []
    suffix = " (1 tx)" if batched else ""
    role = conn.info.user
    mode = "batched" if batched else "autocommit"
    raw = bench.time_calls(conn, "SELECT crm.generate_crm_code('OPP')", [None] * calls, batched=batched)
    ms.append(bench.measurement("generate_crm_code" + suffix, role, raw, kind="throughput",
                                group="generate_crm_code", mode=mode))
    opp_ids: list = []

    def create_params():
        for i in range(calls):
            yield (f"Bench {tag} deal {i}", PIPELINE_CODE, rep_user, Jsonb({"estimated_value": 1000 + i}))

    q = "SELECT crm.create_opportunity(%s, %s, %s, %s)"
    raw = []
    # like bench.time_calls, but keeping the returned ids
    with conn.transaction() if batched else contextlib.nullcontext():
        for p in create_params():
            t0 = time.perf_counter()
            opp_ids.append(conn.execute(q, p).fetchone()[0])
            raw.append((time.perf_counter() - t0) * 1000.0)
        t1 = time.perf_counter()
    if batched and raw:
        raw[-1] += (time.perf_counter() - t1) * 1000.0
    ms.append(bench.measurement("create_opportunity" + suffix, role, raw, kind="throughput",
                                group="create_opportunity", mode=mode))
    adv = [(o, OPEN_STAGES[1 + i % (len(OPEN_STAGES) - 1)], "bench") for i, o in enumerate(opp_ids)]
    raw = bench.time_calls(conn, "SELECT crm.advance_deal_stage(%s, %s, %s)", adv, batched=batched)
    ms.append(bench.measurement("advance_deal_stage" + suffix, role, raw, kind="throughput",
                                group="advance_deal_stage", mode=mode))
    act = [("note", f"note {i}", Jsonb({"body": "bench"}), None, [o], ["subject"]) for i, o in enumerate(opp_ids)]
    raw = bench.time_calls(conn, "SELECT crm.log_crm_activity(%s, %s, %s, %s, %s::uuid[], %s::text[])", act,
                           batched=batched)
    ms.append(bench.measurement("log_crm_activity" + suffix, role, raw, kind="throughput",
                                group="log_crm_activity", mode=mode))
    return ms, {"opportunities": opp_ids}


def _client(db: str, i: int, per: int, rep_user, barrier, out) -> None:
    """One client of _concurrent_writes, in its own process: its own rep connection and its own
    deals; the three phases in order, each started at the shared barrier. Puts
    (phase, monotonic start, monotonic end, latencies in ms) per phase, or ("error", text)."""
    try:
        with bench.connect_as(db, REP) as conn:
            opp_ids: list = []

            def timed(q, p, lat):
                t0 = time.perf_counter()
                r = conn.execute(q, p).fetchone()[0]
                lat.append((time.perf_counter() - t0) * 1000.0)
                return r

            n_calls = [WARMUP_CALLS]
            phases = (
                ("create_opportunity", lambda lat: [opp_ids.append(timed(
                    "SELECT crm.create_opportunity(%s, %s, %s, %s)",
                    (f"Bench c{i} deal {k}", PIPELINE_CODE, rep_user, Jsonb({"estimated_value": k})), lat))
                    for k in range(n_calls[0])]),
                ("advance_deal_stage", lambda lat: [timed(
                    "SELECT crm.advance_deal_stage(%s, %s, %s)",
                    (o, OPEN_STAGES[1 + k % (len(OPEN_STAGES) - 1)], "bench"), lat)
                    for k, o in enumerate(opp_ids)]),
                ("log_crm_activity", lambda lat: [timed(
                    "SELECT crm.log_crm_activity(%s, %s, %s, %s, %s::uuid[], %s::text[])",
                    ("note", f"note {k}", Jsonb({"body": "bench"}), None, [o], ["subject"]), lat)
                    for k, o in enumerate(opp_ids)]),
            )
            # warm up this session as the 1-client figure's connection is warm (a pooled
            # service's is): plans, compiled functions, the identity cache — not measured
            warm: list[float] = []
            for _name, work in phases:
                work(warm)
            opp_ids.clear()
            n_calls[0] = per
            for name, work in phases:
                lat: list[float] = []
                barrier.wait()
                t0 = time.monotonic()
                work(lat)
                out.put((name, t0, time.monotonic(), lat))
    except Exception as e:  # noqa: BLE001 — reported by the parent
        out.put(("error", f"client {i}: {e!r}", None, None))
        barrier.abort()


def _concurrent_writes(db: str, clients: int, calls: int, rep_user) -> list:
    """``clients`` rep connections at once, each in its own PROCESS (as separate services
    are; threads of one Python process serialise on the interpreter lock and measured the
    client, not the server) and on its own deals: create_opportunity, then advance_deal_stage,
    then log_crm_activity, ``calls`` in all per function (autocommit). All clients start each
    phase together at a barrier. One throughput measurement per function: calls / wall time of
    the phase (first start to last end, CLOCK_MONOTONIC is system-wide); raw_ms are the
    per-call latencies."""
    ctx = multiprocessing.get_context("spawn")       # no inherited connections or threads
    per = max(1, calls // clients)
    barrier, out = ctx.Barrier(clients), ctx.Queue()
    procs = [ctx.Process(target=_client, args=(db, i, per, rep_user, barrier, out), daemon=True)
             for i in range(clients)]
    for p in procs:
        p.start()
    got: dict[str, list] = {}
    try:
        for _ in range(3 * clients):
            name, t0, t1, lat = out.get(timeout=600)
            if name == "error":
                raise RuntimeError(t0)
            got.setdefault(name, []).append((t0, t1, lat))
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    result = []
    for name in ("create_opportunity", "advance_deal_stage", "log_crm_activity"):
        runs = got[name]
        wall = max(r[1] for r in runs) - min(r[0] for r in runs)
        raw = [x for r in runs for x in r[2]]
        m = bench.measurement(f"{name} ({clients} clients)", "rep", raw, kind="throughput",
                              group=name, mode=f"autocommit, {clients} client processes")
        m["total_s"] = round(wall, 4)
        m["per_s"] = round(len(raw) / wall, 1)
        result.append(m)
    return result


def run(dsn: str, scale: float, out_dir) -> dict:
    accounts = max(20, round(5000 * scale))
    teams = 20
    calls = max(20, round(2000 * min(scale, 1.0)))
    repeat = 15 if scale >= 0.1 else 5
    result: dict = {"suite": "core", "scale": scale, "setup": {}, "measurements": [], "ratios": [],
                    "targets": [], "notes": [],
                    "params": {"accounts": accounts, "teams": teams, "children_per_account": 19,
                               "calls": calls, "repeat": repeat, "database": DB, "rep_role": REP,
                               "admin_role": ADMIN}}
    setup = result["setup"]
    with bench.phase(setup, "create_and_migrate_s"):
        db = bench.fresh_database(dsn, DB)
    su = psycopg.connect(db, autocommit=True)
    try:
        g = build_graph(su, accounts=accounts, teams=teams, opps=7, persons=8, tickets=4)
        setup.update(g.setup)
        result["params"]["nodes"] = g.nodes
        bench.create_login(su, REP, "crm_writer")
        bench.create_login(su, ADMIN, "crm_admin")
        su.execute("SELECT crm.map_login(%s, %s)", (REP, g.rep_user_ids[0]))
        rep = bench.connect_as(db, REP)
        adm = bench.connect_as(db, ADMIN)
        try:
            _measure(result, su, rep, adm, g, calls, repeat, out_dir, db)
        finally:
            rep.close()
            adm.close()
    finally:
        su.close()
        bench.cleanup(dsn, DB, [REP, ADMIN])
    return result


def _measure(result, su, rep, adm, g, calls, repeat, out_dir, db=None) -> None:
    ms = result["measurements"]
    rep_user = g.rep_user_ids[0]

    # ---- baselines: round trip
    result["params"]["synchronous_commit"] = rep.execute("SHOW synchronous_commit").fetchone()[0]
    for conn, who in ((rep, "rep"), (su, "superuser")):
        raw = bench.time_calls(conn, "SELECT 1", [None] * calls)
        ms.append(bench.measurement("SELECT 1 (round trip)", who, raw, kind="throughput", group="round_trip",
                                    mode="autocommit"))
        # the floor of any autocommit write: a transaction that takes an xid commits with a WAL flush
        raw = bench.time_calls(conn, "SELECT pg_current_xact_id()", [None] * calls)
        ms.append(bench.measurement("empty write tx (commit floor)", who, raw, kind="throughput",
                                    group="commit_floor", mode="autocommit"))
    # ---- writes as the rep: autocommit then batched
    w_auto, _ = _write_calls(rep, calls, rep_user, "auto", batched=False)
    for m in w_auto:
        m["role"] = "rep"
    w_batch, _ = _write_calls(rep, calls, rep_user, "batch", batched=True)
    for m in w_batch:
        m["role"] = "rep"
    # ---- the same autocommit calls as superuser (baseline: cost of RLS + identity on writes)
    w_su, _ = _write_calls(su, calls, rep_user, "su", batched=False)
    for m in w_su:
        m["role"] = "superuser"
    ms.extend(w_auto + w_batch + w_su)
    # ---- the same writes as the rep from 8 clients at once (each on its own deals)
    if db is not None:
        w_conc = _concurrent_writes(db, 8, calls, rep_user)
        ms.extend(w_conc)
        by_group = {m["group"]: m for m in w_auto}
        for m in w_conc:
            one = by_group[m["group"]]
            result["ratios"].append({"name": f"{m['group']}: 8 clients / 1 client (calls/s)",
                                     "numerator": m["name"], "denominator": one["name"], "stat": "per_s",
                                     "ratio": round(m["per_s"] / one["per_s"], 3) if one.get("per_s") else None,
                                     "target": SCALING_GOAL, "higher_is_better": True,
                                     "met": bool(one.get("per_s")) and m["per_s"] / one["per_s"] >= SCALING_GOAL})
    for a, b in zip(w_auto, w_su, strict=True):
        result["ratios"].append(bench.ratio(f"{a['group']}: rep / superuser (per call, autocommit)", a, b))
    for m in w_auto + w_batch:
        g_ = m["group"]
        if g_ in GOALS:
            result["targets"].append(bench.target(f"{m['name']} as rep", m["per_s"], GOALS[g_], "calls/s"))
        elif g_ in PREDECESSOR:
            result["targets"].append(bench.target(f"{m['name']} as rep (predecessor bar)", m["per_s"],
                                                  PREDECESSOR[g_], "calls/s"))
    su.execute("VACUUM ANALYZE")
    su.execute("SELECT crm.refresh_crm_views()")

    # ---- reads: count(*) as rep / admin / superuser
    # issue 16 item 2: count(*) and a page (50 rows) of visible nodes, opportunities and
    # contacts; targets admin <= 1.2x and rep <= 1.5x the same query as superuser
    reads = [("count(*) crm.nodes", "SELECT count(*) FROM crm.nodes"),
             ("page crm.nodes (50 by id)", "SELECT count(*) FROM (SELECT id, node_type, label FROM crm.nodes "
                                           "ORDER BY id LIMIT 50) p"),
             ("count(*) crm.opportunities_active_live", "SELECT count(*) FROM crm.opportunities_active_live"),
             ("count(*) crm.opportunities_active", "SELECT count(*) FROM crm.opportunities_active"),
             ("page crm.opportunities_active (50)", "SELECT count(*) FROM (SELECT * FROM crm.opportunities_active "
                                                    "LIMIT 50) p"),
             ("count(*) crm.contacts_directory", "SELECT count(*) FROM crm.contacts_directory"),
             ("page crm.contacts_directory (50)", "SELECT count(*) FROM (SELECT * FROM crm.contacts_directory "
                                                  "LIMIT 50) p"),
             # the same pages with every column fetched, as a BI preview does: the columns that
             # name other nodes (contact, owner, account, employer) are masked by visibility too
             ("page crm.opportunities_active (50, all columns)", "SELECT * FROM crm.opportunities_active LIMIT 50"),
             ("page crm.contacts_directory (50, all columns)", "SELECT * FROM crm.contacts_directory LIMIT 50")]
    for name, q in reads:
        got = {}
        for conn, who in ((su, "superuser"), (adm, "admin"), (rep, "rep")):
            raw, _ = bench.time_query(conn, q, repeat=repeat)
            count = (conn.execute(q).fetchone()[0] if q.startswith("SELECT count(*)")
                     else len(conn.execute(q).fetchall()))
            got[who] = bench.measurement(name, who, raw, rows=count)
            ms.append(got[who])
        result["ratios"].append(bench.ratio(f"{name}: admin / superuser", got["admin"], got["superuser"],
                                            target=1.2))
        result["ratios"].append(bench.ratio(f"{name}: rep / superuser", got["rep"], got["superuser"], target=1.5))

    # ---- name search
    term = "Harbor Log"
    has_trgm = su.execute("""
        SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_am am ON am.oid = c.relam JOIN pg_opclass oc ON oc.oid = i.indclass[0]
         WHERE i.indrelid = 'crm.nodes'::regclass AND oc.opcname LIKE '%%trgm%%'""").fetchone()[0] > 0
    result["params"]["trigram_index_on_nodes"] = has_trgm
    if not has_trgm:
        result["notes"].append("no trigram index on crm.nodes.label: the name search is an ILIKE scan of the "
                               "org rows (crm.resolve_account with a trigram index is being added separately)")
    searches = [("name search ILIKE org label", NAME_SEARCH, (term,))]
    if su.execute("SELECT to_regproc('crm.resolve_account') IS NOT NULL").fetchone()[0]:
        searches.append(("crm.resolve_account", "SELECT * FROM crm.resolve_account(%s)", (term,)))
    for name, q, p in searches:
        got = {}
        for conn, who in ((su, "superuser"), (adm, "admin"), (rep, "rep")):
            try:
                raw, rows = bench.time_query(conn, q, p, repeat=repeat)
            except psycopg.Error as e:
                result["notes"].append(f"{name} as {who} failed: {e.sqlstate} {str(e).strip()}")
                continue
            got[who] = bench.measurement(name, who, raw, rows=rows)
            ms.append(got[who])
            result["targets"].append(bench.target(f"{name} as {who}", got[who]["median_ms"], 50, "ms",
                                                  higher_is_better=False))
        if "rep" in got and "superuser" in got:
            result["ratios"].append(bench.ratio(f"{name}: rep / superuser", got["rep"], got["superuser"],
                                                target=1.2))
    # EXPLAIN of the read paths as the rep (for the report)
    plans = {}
    for name, q in reads:
        plans[name] = bench.explain(rep, q)
    plans["name search ILIKE org label"] = bench.explain(rep, NAME_SEARCH, (term,))
    result["plans_rep"] = plans
