"""Customer-model benchmark (issue 15) — not a test.

Builds a scratch database with N customers (persons; default 100,000) in 500 companies
(employs edges; companies restricted in blocks to 20 teams), ~25 % of them tagged (8 tags),
fit assessments for a product on two criteria for 30 %, and one activity event for 40 %
(generated set-based with triggers off, ACLs written directly: the generator is not what is
measured). Then, through the real API:

* 20 dynamic segments (filters over country, title, tags, company, owner, fit, last activity,
  combined with all/any/not) — crm.refresh_segments() the first time (everyone joins), again with
  nothing changed, and again after 1 % of the customers changed (country moved, a tag added or
  removed, a new fit score): the target is <= 2 s for the 1 % refresh;
* crm.bulk_tag of 10,000 customers, as an admin LOGIN role and as a sales rep (a LOGIN role in a
  team that can see >= 10,000 of them): target <= 2 s.

    PYTHONPATH=. python benchmarks/customers_bench.py --customers 100000 \
        --dsn 'postgresql://postgres@/postgres?host=...&port=5432'

Writes benchmarks/out/customers-<timestamp>.json and prints a summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from account360_bench import dsn_for  # noqa: E402

from crm360.migrator import Migrator  # noqa: E402

LOAD_SQL = """
SET session_replication_role = replica;   -- generator only: triggers off, ACLs written here
INSERT INTO crm.nodes (node_type, label, properties, external_source, external_id)
SELECT 'team', 'Bench team ' || t, jsonb_build_object('name', 'Bench team ' || t), 'crm360_team', 'bench-team-' || t
  FROM generate_series(0, 19) t;
CREATE TEMP TABLE b_team AS
  SELECT (substring(external_id FROM 'bench-team-(\\d+)'))::int AS t, id FROM crm.nodes WHERE node_type = 'team';
INSERT INTO crm.nodes (node_type, label, properties, restricted_to, acl)
SELECT 'org', 'Company ' || c,
       jsonb_build_object('name', 'Company ' || c, 'domain', 'company' || c || '.example',
                          'industry', (ARRAY['Robotics','Retail','Banking','Health','Energy'])[1 + c %% 5]),
       ARRAY[tm.id], ARRAY[tm.id]
  FROM generate_series(0, 499) c JOIN b_team tm ON tm.t = c %% 20;
CREATE TEMP TABLE b_org AS
  SELECT (substring(label FROM 'Company (\\d+)'))::int AS c, id, acl FROM crm.nodes WHERE node_type = 'org';
CREATE TEMP TABLE b_p AS
  SELECT i, gen_random_uuid() AS id, o.id AS org_id, o.acl FROM generate_series(0, %(n)s - 1) i
    JOIN b_org o ON o.c = i %% 500;
INSERT INTO crm.nodes (id, node_type, label, properties, acl, created_at)
SELECT p.id, 'person', 'Person ' || p.i,
       jsonb_build_object('first_name', 'Person', 'last_name', p.i::text,
                          'country', (ARRAY['DE','FR','US','GB','ES','IT','NL','PL','SE','PT'])[1 + p.i %% 10],
                          'title', (ARRAY['CTO','CEO','Engineer','VP Sales','Analyst','Head of IT','Buyer'])[1 + (p.i / 10) %% 7],
                          'email', 'p' || p.i || '@company' || (p.i %% 500) || '.example'),
       p.acl, now() - make_interval(days => (p.i %% 700))
  FROM b_p p;
INSERT INTO crm.edges (edge_type, source_id, target_id, source_acl, target_acl, effective_from)
SELECT 'owned_by', p.id, p.org_id, p.acl, p.acl, NULL FROM b_p p
UNION ALL
SELECT 'employs', p.org_id, p.id, p.acl, p.acl, now() - interval '1 year' FROM b_p p;
INSERT INTO crm.tags (name) SELECT 'tag-' || k FROM generate_series(0, 7) k;
INSERT INTO crm.node_tags (node_id, tag_id, added_at)
SELECT p.id, t.id, now() - interval '30 days'
  FROM b_p p JOIN crm.tags t ON t.name = 'tag-' || (p.i %% 8)
 WHERE p.i %% 4 = 0;
INSERT INTO crm.nodes (node_type, label, properties) VALUES ('product', 'Bench product', '{"name": "Bench product"}');
INSERT INTO crm.fit_criteria (product_id, name, weight)
SELECT id, c.name, c.w FROM crm.nodes, (VALUES ('size', 2), ('engagement', 1)) c(name, w) WHERE node_type = 'product';
INSERT INTO crm.assertions (assertion_type, subject_node_id, assertion_key, claim, acl)
SELECT 'fit_assessment', p.id, c.id::text,
       jsonb_build_object('product_id', c.product_id::text, 'criterion', c.name, 'score', (p.i * 37 + length(c.name)) %% 101,
                          'assessed_by', 'model'), p.acl
  FROM b_p p CROSS JOIN crm.fit_criteria c WHERE p.i %% 10 < 3;
CREATE TEMP TABLE b_ev AS
  SELECT p.id AS node_id, p.acl, gen_random_uuid() AS event_id, now() - make_interval(days => (p.i %% 120)) AS at
    FROM b_p p WHERE p.i %% 5 < 2;
INSERT INTO crm.events (id, event_type, occurred_at, summary, properties, acl, about)
SELECT event_id, 'email_replied', at, 'Reply', '{}', acl, ARRAY[node_id] FROM b_ev;
INSERT INTO crm.event_participants (event_id, node_id, role, acl, event_acl)
SELECT event_id, node_id, 'subject', acl, acl FROM b_ev;
SET session_replication_role = origin;
"""


def segments(product: str, company: str, user: str) -> list[dict]:
    fit = {"field": "fit", "product": product}
    return [
        {"field": "country", "op": "eq", "value": "DE"},
        {"field": "country", "op": "in", "value": ["FR", "ES", "IT"]},
        {"field": "title", "op": "contains", "value": "head"},
        {"field": "tag", "op": "has", "value": "tag-1"},
        {"field": "tag", "op": "has_any", "value": ["tag-2", "tag-3"]},
        {"field": "tag", "op": "has_none", "value": ["tag-0", "tag-4"]},
        {**fit, "op": "gte", "value": 70},
        {**fit, "op": "lt", "value": 30},
        {"field": "last_activity", "op": "within_days", "value": 30},
        {"field": "last_activity", "op": "older_than_days", "value": 90},
        {"field": "company.industry", "op": "eq", "value": "Robotics"},
        {"field": "company", "op": "eq", "value": company},
        {"field": "owner", "op": "is_empty"},
        {"field": "owner", "op": "eq", "value": user},
        {"field": "email_domain", "op": "ends_with", "value": "7.example"},
        {"all": [{"field": "country", "op": "eq", "value": "US"}, {"field": "tag", "op": "has", "value": "tag-4"}]},
        {"any": [{"field": "title", "op": "eq", "value": "CTO"}, {**fit, "op": "gte", "value": 90}]},
        {"not": {"field": "country", "op": "in", "value": ["DE", "FR"]}},
        {"all": [{"field": "created_at", "op": "within_days", "value": 365},
                 {"not": {"field": "tag", "op": "has", "value": "tag-5"}}]},
        {"all": [{"field": "channel", "op": "not_has", "value": "phone"}, {"field": "title", "op": "in",
                                                                          "value": ["buyer", "analyst"]}]},
    ]


def timed(conn, q: str, params=None) -> tuple[float, list]:
    t0 = time.perf_counter()
    rows = conn.execute(q, params).fetchall()
    return time.perf_counter() - t0, rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dsn", required=True, help="superuser DSN of the server (a scratch database is created)")
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--bulk", type=int, default=10_000)
    args = ap.parse_args()
    n = args.customers
    name = f"crm360_bench_customers_{n}"
    with psycopg.connect(dsn_for(args.dsn, "postgres"), autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = dsn_for(args.dsn, name)
    Migrator(dsn, echo=lambda s: None).migrate()
    res: dict = {"customers": n, "host": platform.node(), "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    t0 = time.monotonic()
    with psycopg.connect(dsn) as c:
        c.execute(LOAD_SQL % {"n": n})
        c.commit()
    res["load_s"] = round(time.monotonic() - t0, 1)
    suffix = str(int(time.time()))
    admin_role, rep_role = f"bench_admin_{suffix}", f"bench_rep_{suffix}"
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("VACUUM ANALYZE")
        c.execute("CHECKPOINT")
        for role, grp in ((admin_role, "crm_admin"), (rep_role, "crm_writer")):
            c.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'bench'").format(sql.Identifier(role)))
            c.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(grp), sql.Identifier(role)))
        rep_user = c.execute("SELECT crm.create_user('Bench Rep', 'rep@bench.example', %s)", (rep_role,)).fetchone()[0]
        # the rep's teams see 4 of the 20 blocks of companies (20 % of the customers)
        for t in range(4):
            c.execute("SELECT crm.add_user_to_team(%s, (SELECT id FROM crm.nodes WHERE external_id = %s))",
                      (rep_user, f"bench-team-{t}"))
        product = c.execute("SELECT id FROM crm.nodes WHERE node_type = 'product'").fetchone()[0]
        company = c.execute("SELECT id FROM crm.nodes WHERE node_type = 'org' ORDER BY label LIMIT 1").fetchone()[0]
        c.execute("UPDATE crm.nodes SET claimed_by = %s WHERE node_type = 'person' AND label LIKE 'Person %%3'", (rep_user,))
        for i, d in enumerate(segments(str(product), str(company), str(rep_user))):
            c.execute("SELECT crm.create_segment(%s, 'dynamic', %s, NULL, 'analysis')", (f"bench segment {i:02d}", Jsonb(d)))
    admin_dsn = dsn_for(args.dsn, name, user=admin_role, password="bench")
    rep_dsn = dsn_for(args.dsn, name, user=rep_role, password="bench")

    with psycopg.connect(admin_dsn, autocommit=True) as a:
        secs, rows = timed(a, "SELECT * FROM crm.refresh_segments()")
        res["refresh_initial_s"] = round(secs, 3)
        res["members_initial"] = sum(r[2] for r in rows)
        a.execute("VACUUM ANALYZE crm.segment_memberships")
        a.execute("VACUUM ANALYZE crm.events")
        a.execute("VACUUM ANALYZE crm.event_participants")
        secs, rows = timed(a, "SELECT * FROM crm.refresh_segments()")
        res["refresh_unchanged_s"] = round(secs, 3)
        # 1 % of the customers change: country, tags, a new fit score
        changed = n // 100
        ids = [r[0] for r in a.execute("SELECT id FROM crm.nodes WHERE node_type = 'person' ORDER BY md5(id::text) LIMIT %s",
                                       (changed,))]
        q = len(ids) // 4
        a.execute("""UPDATE crm.nodes SET properties = properties || jsonb_build_object('country',
                        CASE properties ->> 'country' WHEN 'DE' THEN 'FR' ELSE 'DE' END) WHERE id = ANY (%s)""", (ids[:2 * q],))
        a.execute("SELECT crm.bulk_tag(%s, 'tag-1')", (ids[2 * q:3 * q],))
        a.execute("SELECT crm.bulk_untag(%s, 'tag-1')", (ids[:q // 2],))
        crit = a.execute("SELECT id FROM crm.fit_criteria WHERE name = 'size'").fetchone()[0]
        for pid in ids[3 * q:3 * q + 200]:
            a.execute("SELECT crm.assess_fit(%s, %s, 95)", (pid, crit))
        secs, rows = timed(a, "SELECT * FROM crm.refresh_segments()")
        res["refresh_1pct_s"] = round(secs, 3)
        res["refresh_1pct_changes"] = sum(r[2] + r[3] for r in rows)
        # per-segment profile of the 1 % refresh (one refresh per segment)
        per = []
        for sid, label in a.execute("SELECT id, label FROM crm.nodes WHERE node_type = 'segment' ORDER BY label").fetchall():
            s, _ = timed(a, "SELECT * FROM crm.refresh_segments(ARRAY[%s]::uuid[])", (sid,))
            per.append((label, round(s * 1000, 1)))
        res["refresh_per_segment_ms"] = per

    bulk = args.bulk
    with psycopg.connect(admin_dsn, autocommit=True) as a:
        ids = [r[0] for r in a.execute("SELECT id FROM crm.nodes WHERE node_type = 'person' ORDER BY id LIMIT %s", (bulk,))]
        secs, rows = timed(a, "SELECT crm.bulk_tag(%s, 'bulk-admin')", (ids,))
        res["bulk_tag_admin_s"] = round(secs, 3)
        res["bulk_tag_admin_n"] = rows[0][0]
        secs, rows = timed(a, "SELECT crm.bulk_untag(%s, 'bulk-admin')", (ids,))
        res["bulk_untag_admin_s"] = round(secs, 3)
    with psycopg.connect(rep_dsn, autocommit=True) as r:
        ids = [x[0] for x in r.execute(
            "SELECT id FROM crm.nodes WHERE node_type = 'person' AND (claimed_by IS NULL OR claimed_by = crm.current_actor()) "
            "ORDER BY id LIMIT %s", (bulk,))]
        res["bulk_tag_rep_visible"] = len(ids)
        secs, rows = timed(r, "SELECT crm.bulk_tag(%s, 'bulk-rep')", (ids,))
        res["bulk_tag_rep_s"] = round(secs, 3)
        res["bulk_tag_rep_n"] = rows[0][0]

    out = HERE / "out" / f"customers-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=2, default=str))
    print(json.dumps({k: v for k, v in res.items() if k != "refresh_per_segment_ms"}, indent=2, default=str))
    print("per segment (1 % changed state, ms):", ", ".join(f"{lbl[-2:]}={ms}" for lbl, ms in res["refresh_per_segment_ms"]))
    print(f"wrote {out}")
    with psycopg.connect(dsn_for(args.dsn, name), autocommit=True) as c:
        for role in (admin_role, rep_role):
            c.execute(sql.SQL("REASSIGN OWNED BY {} TO CURRENT_USER").format(sql.Identifier(role)))
            c.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            c.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
