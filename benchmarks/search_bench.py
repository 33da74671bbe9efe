"""Search benchmark (issue 14) — not a test.

Builds the Account 360 bench graph (benchmarks/account360_bench.py: N accounts restricted in
blocks of 50 to one team each, TICKETS tickets per account), then adds text chunks set-based:
CHUNKS_PER_TICKET per ticket (random text over a 2,000-word vocabulary, 60 words each) and a
random 256-d embedding per chunk; the largest account (one the rep can see) gets LARGEST chunks.
A sales rep — an ordinary LOGIN role in one team (~50 accounts) — then calls

* crm.search(q) for account/ticket names with typos and case changes,
* crm.search_in_account(largest account, q, query embedding) — hybrid (fts + vector),
* crm.search_in_account(largest account, q) — text only (fts + the trigram typo fallback),
* crm.search_in_account(largest account, '', query embedding) — vector only, whose top 10 is
  compared with a brute-force scan of that account's chunks as the superuser (recall@10),

and reports p50/p95 of each. Targets (issue 14): search_in_account p95 <= 20 ms with
recall@10 = 1.00; search p95 <= 50 ms.

    PYTHONPATH=. python benchmarks/search_bench.py --accounts 10000 --tickets 20 --chunks-per-ticket 5 \
        --largest 20000 --calls 200 --dsn 'postgresql://postgres@/postgres?host=...&port=5432'

Writes benchmarks/out/search-<timestamp>.json.
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from account360_bench import build, dsn_for, pct  # noqa: E402

DIM = 256

CHUNKS_SQL = """
SET session_replication_role = replica;
CREATE TEMP TABLE b_words AS
  SELECT array_agg(w ORDER BY g) AS w
    FROM (SELECT g, substr(md5(g::text), 1, 3 + g %% 6) AS w FROM generate_series(1, 2000) g) x;
CREATE TEMP TABLE b_pool AS            -- 5,000 distinct texts, reused (generation cost, not realism)
  SELECT k, (SELECT string_agg(b.w[1 + floor(power(random(), 2) * 2000)::int], ' ')
               FROM b_words b, generate_series(1, 60) WHERE k >= 0) AS body
    FROM generate_series(0, 4999) k;
CREATE TEMP TABLE b_t AS
  SELECT n.id AS ticket_id, e.target_id AS account_id, row_number() OVER () AS r
    FROM crm.nodes n JOIN crm.edges e ON e.source_id = n.id AND e.edge_type = 'owned_by'
   WHERE n.node_type = 'ticket';
-- the largest account: one the rep sees (Team 7 holds accounts 350..399)
CREATE TEMP TABLE b_big AS SELECT id FROM crm.nodes WHERE node_type = 'org' AND label = 'Account 350';
INSERT INTO crm.chunks (account_id, node_id, origin, kind, title, body, chunk_no, occurred_at, source,
                        source_record, embedding, embedding_model, content_hash)
SELECT t.account_id, t.ticket_id, 'bench/' || t.ticket_id, 'ticket_comment', 'Ticket ' || t.r,
       (SELECT p.body FROM b_pool p WHERE p.k = (t.r * 31 + s.i * 17) %% 5000),
       s.i, now() - make_interval(hours => ((t.r * 7 + s.i) %% 5000)::int), 'zendesk', t.r::text,
       (SELECT array_agg((random() - 0.5)::real) FROM generate_series(1, %(dim)s) WHERE s.i > 0)::extensions.vector,
       'bench', md5(t.ticket_id::text || s.i)
  FROM b_t t
  CROSS JOIN LATERAL generate_series(1, CASE WHEN t.account_id IN (SELECT id FROM b_big)
                                             THEN %(largest)s / %(tickets)s ELSE %(per)s END) s (i);
SET session_replication_role = origin;
"""


def vec(rng: random.Random) -> str:
    return "[" + ",".join(f"{rng.random() - 0.5:.5f}" for _ in range(DIM)) + "]"


def timed(c, q: str, params) -> tuple[float, list]:
    t0 = time.perf_counter()
    rows = c.execute(q, params).fetchall()
    return (time.perf_counter() - t0) * 1000, rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", default=None)
    ap.add_argument("--accounts", type=int, default=10000)
    ap.add_argument("--tickets", type=int, default=20)
    ap.add_argument("--chunks-per-ticket", type=int, default=5)
    ap.add_argument("--largest", type=int, default=20000)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--reuse", action="store_true",
                    help="measure the database a previous run built (migrated again: the current functions)")
    a = ap.parse_args()
    if a.dsn is None:
        from crm360 import server
        st = server.start()
        a.dsn = st.url("postgres")
    if a.reuse:
        from crm360.migrator import Migrator
        name = f"crm360_bench_a360_{a.accounts}"
        admin_dsn = dsn_for(a.dsn, name)
        Migrator(admin_dsn, echo=lambda s: None).migrate()
        rep_dsn, info, chunks_s = dsn_for(a.dsn, name, user=f"bench_rep_{a.accounts}", password="bench"), {}, None
    else:
        rep_dsn, info = build(a.dsn, a.accounts, a.tickets)
        admin_dsn = dsn_for(a.dsn, psycopg.conninfo.conninfo_to_dict(rep_dsn)["dbname"])
        t0 = time.monotonic()
        with psycopg.connect(admin_dsn) as c:
            c.execute(CHUNKS_SQL % {"dim": DIM, "largest": a.largest, "tickets": a.tickets, "per": a.chunks_per_ticket})
            c.commit()
        chunks_s = time.monotonic() - t0
    with psycopg.connect(admin_dsn, autocommit=True) as c:
        c.execute("VACUUM ANALYZE crm.chunks")
        c.execute("CHECKPOINT")
        total = c.execute("SELECT count(*) FROM crm.chunks").fetchone()[0]
        big = c.execute("SELECT id FROM crm.nodes WHERE node_type = 'org' AND label = 'Account 350'").fetchone()[0]
        big_n = c.execute("SELECT count(*) FROM crm.chunks WHERE account_id = %s", (big,)).fetchone()[0]
        sample = [r[0] for r in c.execute("SELECT body FROM crm.chunks WHERE account_id = %s LIMIT 50", (big,))]
    rng = random.Random(14)
    res: dict = {}
    with psycopg.connect(rep_dsn, autocommit=True) as rep, psycopg.connect(admin_dsn, autocommit=True) as su:
        # crm.search: account and ticket names, with a typo or a case change
        names = [f"account {rng.randint(350, 399)}" for _ in range(a.calls // 2)] + \
                [f"Acount {rng.randint(350, 399)}" for _ in range(a.calls // 4)] + \
                [f"TICKET {rng.randint(1, a.tickets)}" for _ in range(a.calls // 4)]
        for q in names[:5]:
            rep.execute("SELECT * FROM crm.search(%s)", (q,)).fetchall()           # warm-up
        ts = [timed(rep, "SELECT * FROM crm.search(%s)", (q,))[0] for q in names]
        res["search"] = {"p50_ms": round(pct(ts, 50), 2), "p95_ms": round(pct(ts, 95), 2), "calls": len(ts)}
        # crm.search_in_account, hybrid and vector only, in the largest account
        queries = [" ".join(rng.sample(s.split(), 2)) for s in rng.choices(sample, k=a.calls)]
        th, tv, tt, recalls = [], [], [], []
        for i, q in enumerate(queries):
            e = vec(rng)
            th.append(timed(rep, "SELECT * FROM crm.search_in_account(%s, %s, %s::extensions.vector, 10)", (big, q, e))[0])
            tt.append(timed(rep, "SELECT * FROM crm.search_in_account(%s, %s, NULL, 10)", (big, q))[0])
            t, rows = timed(rep, "SELECT chunk_id FROM crm.search_in_account(%s, '', %s::extensions.vector, 10)", (big, e))
            tv.append(t)
            if i < 50:
                truth = [r[0] for r in su.execute(
                    "SELECT id FROM crm.chunks WHERE account_id = %s ORDER BY embedding OPERATOR(extensions.<=>) %s::extensions.halfvec, id "
                    "LIMIT 10", (big, e))]
                got = [r[0] for r in rows]
                recalls.append(len(set(got) & set(truth)) / 10)
        res["search_in_account_hybrid"] = {"p50_ms": round(pct(th, 50), 2), "p95_ms": round(pct(th, 95), 2)}
        res["search_in_account_text_only"] = {"p50_ms": round(pct(tt, 50), 2), "p95_ms": round(pct(tt, 95), 2)}
        res["search_in_account_vector"] = {"p50_ms": round(pct(tv, 50), 2), "p95_ms": round(pct(tv, 95), 2),
                                           "recall_at_10": round(statistics.mean(recalls), 4)}
    report = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
              "cpus": __import__("os").cpu_count(), "command": " ".join(sys.argv), **info,
              "chunks": total, "largest_account_chunks": big_n, "chunks_load_s": round(chunks_s, 1) if chunks_s is not None else None, **res}
    out = HERE / "out" / f"search-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str))
    print(json.dumps(report, indent=1, default=str))
    print("JSON:", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
