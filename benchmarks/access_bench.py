"""Benchmark suite 'access' — issue 4 acceptance.

10k accounts (scale 1) restricted to 200 teams (one rep per team), 200k children owned_by
their account (8 opportunities, 8 persons, 4 tickets per account), deal_stage and
deal_value assertions, employs / primary_contact / assigned_to edges, materialized views
refreshed. Measured as a sales rep (crm_writer login mapped to the rep of team 1) vs as
admin (crm_admin login; both non-superuser, both through RLS), with superuser as an extra
baseline: count(*) and a first page (ORDER BY ... LIMIT 50) of crm.opportunities_active,
crm.opportunities_active_live, crm.contacts_directory, crm.contacts_directory_live, an
account's children listing, and the analytics views crm.opportunities and crm.tickets (issue 12).
Target: rep ≤ 1.5× admin on every path.
"""

from __future__ import annotations

import psycopg

from benchmarks.bench_data import build_graph
from crm360 import bench

DB = "crm360_bench_access"
REP, ADMIN = "crm360_bench_access_rep", "crm360_bench_access_admin"
TARGET = 1.5

CHILDREN = (
    "SELECT n.* FROM crm.edges e JOIN crm.nodes n ON n.id = e.source_id "
    "WHERE e.target_id = %s AND e.edge_type = 'owned_by'")

PATHS = [
    ("count crm.opportunities_active", "SELECT count(*) FROM crm.opportunities_active", False),
    ("page crm.opportunities_active",
     "SELECT * FROM crm.opportunities_active ORDER BY label, node_id LIMIT 50", False),
    ("count crm.opportunities_active_live", "SELECT count(*) FROM crm.opportunities_active_live", False),
    ("page crm.opportunities_active_live",
     "SELECT * FROM crm.opportunities_active_live ORDER BY label, node_id LIMIT 50", False),
    ("count crm.contacts_directory", "SELECT count(*) FROM crm.contacts_directory", False),
    ("page crm.contacts_directory",
     "SELECT * FROM crm.contacts_directory ORDER BY last_name, first_name, node_id LIMIT 50", False),
    ("count crm.contacts_directory_live", "SELECT count(*) FROM crm.contacts_directory_live", False),
    ("page crm.contacts_directory_live",
     "SELECT * FROM crm.contacts_directory_live ORDER BY last_name, first_name, node_id LIMIT 50", False),
    ("account children listing", CHILDREN, True),
    # the flat analytics views of issue 12 (live, security_invoker)
    ("count crm.opportunities", "SELECT count(*) FROM crm.opportunities", False),
    ("page crm.opportunities", "SELECT * FROM crm.opportunities ORDER BY close_date, opportunity_id LIMIT 50", False),
    ("count crm.tickets", "SELECT count(*) FROM crm.tickets", False),
    ("page crm.tickets", "SELECT * FROM crm.tickets ORDER BY opened_at DESC, ticket_id LIMIT 50", False),
]


def run(dsn: str, scale: float, out_dir) -> dict:
    accounts = max(20, round(10000 * scale))
    teams = max(2, round(200 * min(scale, 1.0)))
    repeat = 15 if scale >= 0.1 else 5
    result: dict = {"suite": "access", "scale": scale, "setup": {}, "measurements": [], "ratios": [],
                    "targets": [], "notes": [],
                    "params": {"accounts": accounts, "teams": teams, "children_per_account": 20,
                               "children": accounts * 20, "repeat": repeat, "database": DB,
                               "rep_role": REP, "admin_role": ADMIN}}
    setup = result["setup"]
    with bench.phase(setup, "create_and_migrate_s"):
        db = bench.fresh_database(dsn, DB)
    su = psycopg.connect(db, autocommit=True)
    try:
        g = build_graph(su, accounts=accounts, teams=teams, opps=8, persons=8, tickets=4)
        setup.update(g.setup)
        result["params"]["nodes"] = g.nodes
        bench.create_login(su, REP, "crm_writer")
        bench.create_login(su, ADMIN, "crm_admin")
        su.execute("SELECT crm.map_login(%s, %s)", (REP, g.rep_user_ids[0]))
        # an account of the rep's team with all its children (the same one for every role)
        account = su.execute(
            "SELECT id FROM crm.nodes WHERE node_type = 'org' AND restricted_to = ARRAY[%s]::uuid[] "
            "ORDER BY label LIMIT 1", (g.team_ids[0],)).fetchone()[0]
        result["params"]["account"] = str(account)
        rep = bench.connect_as(db, REP)
        adm = bench.connect_as(db, ADMIN)
        try:
            _measure(result, su, rep, adm, account, repeat)
        finally:
            rep.close()
            adm.close()
    finally:
        su.close()
        bench.cleanup(dsn, DB, [REP, ADMIN])
    return result


def _measure(result, su, rep, adm, account, repeat) -> None:
    ms = result["measurements"]
    plans = {}
    for name, q, takes_account in PATHS:
        params = (account,) if takes_account else None
        got = {}
        for conn, who in ((su, "superuser"), (adm, "admin"), (rep, "rep")):
            raw, rows = bench.time_query(conn, q, params, repeat=repeat)
            if q.lstrip().lower().startswith("select count("):
                rows = conn.execute(q, params).fetchone()[0]
            got[who] = bench.measurement(name, who, raw, rows=rows)
            ms.append(got[who])
        r = bench.ratio(f"{name}: rep / admin", got["rep"], got["admin"], target=TARGET)
        result["ratios"].append(r)
        result["ratios"].append(bench.ratio(f"{name}: admin / superuser", got["admin"], got["superuser"]))
        plans[name] = {"rep": bench.explain(rep, q, params), "admin": bench.explain(adm, q, params)}
    result["plans"] = plans
    met = [r for r in result["ratios"] if "met" in r]
    result["targets"].append(bench.target("read paths with rep ≤ 1.5× admin", sum(1 for r in met if r["met"]),
                                          len(met), "paths"))
