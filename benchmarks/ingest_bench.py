"""Ingestion benchmark (issue 5): N mixed source records, end to end, vs a plain COPY.

    python benchmarks/ingest_bench.py --n 200000 [--dsn postgresql://.../postgres]

Generates N records in each system's native export format (Salesforce Bulk CSV + REST
JSON, Zendesk JSON pages, CLM CSV, Stripe list JSON + NDJSON) in a temp dir, creates a
fresh database `crm360_bench` on the server (embedded one by default), migrates it, then
measures (1) a plain COPY of the same raw rows (source, object, key, payload) into an
unindexed table — the floor — and (2) `crm360 ingest` of every file (parse, COPY, landing,
crm.reconcile, then crm.refresh_read_models() as `crm360 ingest` does), object by object, and (3) the write floor of the result: the rows the load
produced, inserted once into empty copies of their tables (same indexes; then + foreign keys);
then a replay, an incremental batch, and (4) the ELT path in a second fresh database: every
export landed first, then one reconcile and one refresh. Prints a table and writes benchmarks/out/ingest-<ts>.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from crm360 import bench
from crm360.connectors import ingest_files, reconcile, refresh_read_models
from crm360.migrator import Migrator

OUT = Path(__file__).resolve().parent / "out"
DB = "crm360_bench_ingest"   # the suite's database (the script's own runs use crm360_bench)

# share of N per object (sums to 1)
MIX = {("salesforce", "User"): 0.001, ("salesforce", "Account"): 0.03, ("salesforce", "Contact"): 0.12,
       ("salesforce", "Opportunity"): 0.08, ("salesforce", "Event"): 0.08, ("salesforce", "Task"): 0.12,
       ("zendesk", "organizations"): 0.02, ("zendesk", "users"): 0.08, ("zendesk", "tickets"): 0.16,
       ("zendesk", "ticket_comments"): 0.139, ("clm", "contracts"): 0.03, ("stripe", "customers"): 0.03,
       ("stripe", "invoices"): 0.11}


def generate(n: int, d: Path) -> dict:
    rnd = random.Random(42)
    k = {so: max(1, int(n * share)) for so, share in MIX.items()}
    files = {}
    ts = "2024-03-05T10:22:31.000Z"
    n_acc, n_user, n_con, n_opp = k[("salesforce", "Account")], k[("salesforce", "User")], k[("salesforce", "Contact")], k[("salesforce", "Opportunity")]
    acc = [f"001{i:012d}" for i in range(n_acc)]
    usr = [f"005{i:012d}" for i in range(n_user)]
    con = [f"003{i:012d}" for i in range(n_con)]
    opp = [f"006{i:012d}" for i in range(n_opp)]

    def write_csv(name, header, rows):
        p = d / name
        with p.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)
        return p

    files[("salesforce", "User")] = write_csv("User.csv", ["Id", "Name", "Email", "IsActive", "LastModifiedDate"],
                                              ([u, f"Rep {i}", f"rep{i}@ourco.example", "true", ts] for i, u in enumerate(usr)))
    files[("salesforce", "Account")] = write_csv(
        "Account.csv", ["Id", "Name", "Website", "Industry", "BillingCountry", "AnnualRevenue", "OwnerId", "LastModifiedDate", "IsDeleted"],
        ([a, f"Company {i}", f"https://www.company{i}.example", "Software", rnd.choice(["Germany", "France", "United States"]),
          str(rnd.randint(1, 10**7)), rnd.choice(usr), ts, "false"] for i, a in enumerate(acc)))
    files[("salesforce", "Contact")] = write_csv(
        "Contact.csv", ["Id", "AccountId", "FirstName", "LastName", "Email", "Phone", "Title", "OwnerId", "LastModifiedDate", "IsDeleted"],
        ([c, acc[i % n_acc], f"First{i}", f"Last{i}", f"person{i}@company{i % n_acc}.example", "", "Engineer", usr[0], ts, "false"]
         for i, c in enumerate(con)))
    files[("salesforce", "Opportunity")] = write_csv(
        "Opportunity.csv", ["Id", "AccountId", "Name", "StageName", "Amount", "CloseDate", "Probability", "IsClosed", "IsWon", "OwnerId", "LastModifiedDate", "IsDeleted"],
        ([o, acc[i % n_acc], f"Deal {i}", rnd.choice(["Prospecting", "Qualification", "Negotiation/Review"]), str(rnd.randint(1000, 99999)),
          "2024-09-30", "20", "false", "false", rnd.choice(usr), ts, "false"] for i, o in enumerate(opp)))
    for obj, prefix, extra in (("Event", "00U", {"StartDateTime": "2024-03-07T14:00:00.000+0000", "EndDateTime": "2024-03-07T15:00:00.000+0000"}),
                               ("Task", "00T", {"ActivityDate": "2024-03-08", "Status": "Completed"})):
        recs = []
        for i in range(k[("salesforce", obj)]):
            r = {"attributes": {"type": obj}, "Id": f"{prefix}{i:012d}", "WhatId": opp[i % n_opp] if i % 2 else acc[i % n_acc],
                 "WhoId": con[i % n_con], "Subject": f"{obj} {i}", "Description": "Notes " * 10, "OwnerId": usr[0],
                 "LastModifiedDate": ts, **extra}
            if obj == "Task":
                r["TaskSubtype"] = rnd.choice(["Call", "Email", "Task"])
            recs.append(r)
        p = d / f"{obj}.json"
        p.write_text(json.dumps({"totalSize": len(recs), "done": True, "records": recs}))
        files[("salesforce", obj)] = p
    n_org, n_zu, n_t = k[("zendesk", "organizations")], k[("zendesk", "users")], k[("zendesk", "tickets")]
    orgs = [{"id": 10_000 + i, "name": f"Company {i}", "external_id": acc[i % n_acc] if i % 3 else None,
             "domain_names": [f"company{i % n_acc}.example"], "updated_at": "2024-03-05T10:00:00Z"} for i in range(n_org)]
    users = [{"id": 500_000 + i, "name": f"User {i}", "email": f"person{i}@company{i % n_acc}.example" if i % 4 else f"zd{i}@company{i % n_acc}.example",
              "organization_id": 10_000 + (i % n_org), "role": "end-user", "updated_at": "2024-03-05T10:00:00Z"} for i in range(n_zu)]
    tickets = [{"id": 900_000 + i, "subject": f"Problem {i}", "description": "It broke " * 8, "status": rnd.choice(["new", "open", "pending", "solved"]),
                "priority": "normal", "type": "incident", "requester_id": 500_000 + (i % n_zu), "organization_id": 10_000 + (i % n_org),
                "tags": ["x"], "created_at": "2024-03-06T09:00:00Z", "updated_at": "2024-03-06T09:00:00Z"} for i in range(n_t)]
    comments = [{"id": 7_000_000 + i, "ticket_id": 900_000 + (i % n_t), "author_id": 500_000 + (i % n_zu), "body": "Comment " * 12,
                 "public": True, "created_at": "2024-03-06T10:00:00Z"} for i in range(k[("zendesk", "ticket_comments")])]
    for obj, key, rows in (("organizations", "organizations", orgs), ("users", "users", users), ("tickets", "tickets", tickets),
                           ("ticket_comments", "comments", comments)):
        p = d / f"zd_{obj}.json"
        p.write_text(json.dumps({key: rows, "next_page": None, "count": len(rows)}))
        files[("zendesk", obj)] = p
    files[("clm", "contracts")] = write_csv(
        "contracts.csv", ["contract_id", "title", "account_id", "counterparty_name", "counterparty_domain", "status", "effective_date",
                          "end_date", "annual_value", "currency", "auto_renew", "updated_at"],
        ([f"C-{i}", f"Contract {i}", acc[i % n_acc] if i % 2 else "", f"Company {i % n_acc}", f"company{i % n_acc}.example",
          rnd.choice(["draft", "active", "expired"]), "2024-01-01", "2024-12-31", "12000", "eur", "true", "2024-01-02T08:00:00Z"]
         for i in range(k[("clm", "contracts")])))
    n_cus = k[("stripe", "customers")]
    p = d / "customers.ndjson"
    with p.open("w") as f:
        for i in range(n_cus):
            f.write(json.dumps({"id": f"cus_{i}", "email": f"billing{i}@company{i % n_acc}.example", "name": f"Billing {i}",
                                "metadata": {"salesforce_account_id": acc[i % n_acc]} if i % 2 else {}, "created": 1704067200}) + "\n")
    files[("stripe", "customers")] = p
    inv = [{"id": f"in_{i}", "number": f"INV-{i:07d}", "customer": f"cus_{i % n_cus}", "customer_email": f"billing{i % n_cus}@company{(i % n_cus) % n_acc}.example",
            "status": rnd.choice(["open", "paid"]), "amount_due": 12000, "amount_paid": 0, "amount_remaining": 12000, "currency": "eur",
            "created": 1709251200, "due_date": 1711929600, "metadata": {}} for i in range(k[("stripe", "invoices")])]
    p = d / "invoices.json"
    p.write_text(json.dumps({"object": "list", "has_more": False, "data": inv}))
    files[("stripe", "invoices")] = p
    return files


def plain_copy(dsn: str, files: dict) -> tuple[int, float]:
    """The floor: COPY the same raw rows (source, object, key, payload) into an unindexed table."""
    from crm360.connectors.formats import FileContext, read_records

    rows = 0
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TEMP TABLE plain_raw (source text, object text, external_id text, payload jsonb)")
        t = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY plain_raw FROM STDIN") as cp:
            for (source, obj), path in files.items():
                for payload, _err in read_records(str(path), source, obj, FileContext(path.name)):
                    cp.write_row((source, obj, None, payload))
                    rows += 1
        return rows, time.perf_counter() - t


FLOOR_TABLES = ("crm.nodes", "crm.edges", "crm.events", "crm.event_participants", "crm.assertions",
                "crm.artifacts", "crm.node_sources", "crm_raw.records")


def write_floor(dsn: str) -> dict:
    """The least any implementation of this schema must spend: the graph and raw rows the load
    produced, INSERTed once (INSERT ... SELECT, one statement per table) into empty copies of
    their tables with the same indexes — no lookups, no updates, no triggers — then again with
    the same foreign keys added. Rolled back."""
    out = {}
    for with_fks in (False, True):
        with psycopg.connect(dsn) as c:
            c.execute("CREATE SCHEMA floor")
            spent = 0.0
            for t in FLOOR_TABLES:
                name = t.split(".")[1]
                c.execute(f"CREATE TABLE floor.{name} (LIKE {t} INCLUDING DEFAULTS INCLUDING GENERATED "
                          "INCLUDING INDEXES INCLUDING CONSTRAINTS)")
                if with_fks:
                    for (fk,) in c.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                           "WHERE conrelid = %s::regclass AND contype = 'f'", (t,)).fetchall():
                        c.execute(f"ALTER TABLE floor.{name} ADD {fk}")
                cols = [r[0] for r in c.execute(
                    "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                    "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum", (t,)).fetchall()]
                collist = ", ".join(f'"{x}"' for x in cols)
                t0 = time.perf_counter()
                c.execute(f"INSERT INTO floor.{name} ({collist}) OVERRIDING SYSTEM VALUE SELECT {collist} FROM {t}")
                spent += time.perf_counter() - t0
            c.rollback()
        out["indexes_fks_s" if with_fks else "indexes_s"] = round(spent, 2)
    return out


GRAPH_ROWS = ("SELECT (SELECT count(*) FROM crm.nodes) + (SELECT count(*) FROM crm.edges) + "
              "(SELECT count(*) FROM crm.assertions) + (SELECT count(*) FROM crm.events) + "
              "(SELECT count(*) FROM crm.event_participants)")


def replay_phase(dsn: str, files: dict, rows: int) -> dict:
    """The same exports again, as `crm360 ingest` runs them: everything is unchanged, so
    nothing but the run records should be written (graph row counts before and after)."""
    with psycopg.connect(dsn) as c:
        before = c.execute(GRAPH_ROWS).fetchone()[0]
        # the raw records a replay rewrites: versions whose xmin is newer than this transaction
        xid = int(c.execute("SELECT txid_current() % 4294967296").fetchone()[0])
        deliveries = (c.execute("SELECT count(*) FROM crm_raw.run_deliveries").fetchone()[0]
                      if c.execute("SELECT to_regclass('crm_raw.run_deliveries') IS NOT NULL").fetchone()[0] else None)
    t0 = time.perf_counter()
    for (source, _obj), path in files.items():
        ingest_files(dsn, source, _obj, [str(path)], reconcile=False)
        reconcile(dsn, source, orphans=False, refresh=False)
        with psycopg.connect(dsn) as rc:
            refresh_read_models(rc)
    secs = time.perf_counter() - t0
    with psycopg.connect(dsn) as c:
        after = c.execute(GRAPH_ROWS).fetchone()[0]
        rewritten = c.execute("SELECT count(*) FROM crm_raw.records WHERE xmin::text::bigint > %s", (xid,)).fetchone()[0]
        listed = (c.execute("SELECT count(*) FROM crm_raw.run_deliveries").fetchone()[0]
                  if deliveries is not None else None)
    return {"s": round(secs, 3), "rows_per_s": round(rows / secs), "graph_rows_written": after - before,
            "graph_rows": before, "raw_records_rewritten": rewritten,
            "run_deliveries_before": deliveries, "run_deliveries_after": listed}


def incremental_phase(dsn: str, files: dict, d: Path, n: int = 100) -> dict:
    """100 tickets change status (solved) in a small incremental export: land, reconcile and
    refresh, timed; then whether crm.accounts_360 (the stored read model) shows it."""
    src = json.loads(files[("zendesk", "tickets")].read_text())["tickets"]
    batch = [dict(t, status="solved", updated_at="2024-03-07T09:00:00Z") for t in src if t["status"] != "solved"][:n]
    p = d / "zd_tickets_incremental.json"
    p.write_text(json.dumps({"tickets": batch, "next_page": None, "count": len(batch)}))
    q = "SELECT (SELECT sum(open_tickets) FROM crm.accounts_360), (SELECT sum(open_tickets) FROM crm.accounts_360_live)"
    with psycopg.connect(dsn) as c:
        stored0, live0 = c.execute(q).fetchone()
    t0 = time.perf_counter()
    ingest_files(dsn, "zendesk", "tickets", [str(p)], reconcile=False)
    t1 = time.perf_counter()
    reconcile(dsn, "zendesk", orphans=False, refresh=False)
    t2 = time.perf_counter()
    # visible before any refresh? (the touched accounts are computed live: crm_private.changed_accounts)
    with psycopg.connect(dsn) as c:
        stored1, live1 = c.execute(q).fetchone()
    t2b = time.perf_counter()
    with psycopg.connect(dsn) as rc:
        refresh_read_models(rc)
    t3 = time.perf_counter()
    with psycopg.connect(dsn) as c:
        stored2, live2 = c.execute(q).fetchone()
    return {"records": len(batch), "land_s": round(t1 - t0, 3), "reconcile_s": round(t2 - t1, 3),
            "read_s": round(t2b - t2, 3), "visible_after_s": round(t2 - t0, 3),
            "visible_before_refresh": stored1 == live1 and live1 < live0,
            "refresh_s": round(t3 - t2b, 3), "total_s": round(t3 - t0, 3),
            "open_tickets_before": int(stored0 or 0), "open_tickets_after": int(stored2 or 0),
            "visible": stored2 == live2 and live2 < live0}


def bulk_phase(base: str, dbname: str, files: dict, jobs: int = 1) -> dict:
    """The ELT path, in a second fresh database: land every export first (`crm360 ingest
    --no-reconcile` per file, as dlt or a connector lands them), then one `crm360 reconcile
    --jobs N` (jobs 1: every source in one call, in apply order; more: the steps of
    crm.reconcile_plan, each source's children and activities in parallel sessions) and one
    refresh of the read models — instead of reconcile and refresh after each object. Same
    records, same resulting graph."""
    params = conninfo_to_dict(base)
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    params["dbname"] = dbname
    dsn = make_conninfo(**params)
    try:
        Migrator(dsn, echo=lambda s: None).migrate()
        t0 = time.perf_counter()
        for (source, obj), path in files.items():
            ingest_files(dsn, source, obj, [str(path)], reconcile=False)
        t1 = time.perf_counter()
        reconcile(dsn, None, orphans=False, refresh=False, jobs=jobs)
        t2 = time.perf_counter()
        with psycopg.connect(dsn) as rc:
            refresh_read_models(rc)
        t3 = time.perf_counter()
        with psycopg.connect(dsn) as c:
            graph_rows = c.execute(GRAPH_ROWS).fetchone()[0]
    finally:
        with psycopg.connect(base, autocommit=True) as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
    return {"s": round(t3 - t0, 3), "land_s": round(t1 - t0, 3), "reconcile_s": round(t2 - t1, 3),
            "refresh_s": round(t3 - t2, 3), "graph_rows": graph_rows, "jobs": jobs}


def measure(base: str, n: int, dbname: str = "crm360_bench") -> dict:
    """Generate n records, load them into a fresh database ``dbname`` on the server of ``base``
    and measure every phase (see the module docstring); return the result (JSON-able)."""
    params = conninfo_to_dict(base)
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    params["dbname"] = dbname
    dsn = make_conninfo(**params)
    Migrator(dsn, echo=lambda s: None).migrate()
    with tempfile.TemporaryDirectory() as tmp:
        files = generate(n, Path(tmp))
        rows, copy_s = plain_copy(dsn, files)
        per = []
        t0 = time.perf_counter()
        for (source, obj), path in files.items():
            t = time.perf_counter()
            s = ingest_files(dsn, source, obj, [str(path)], reconcile=False)
            land = time.perf_counter() - t
            t = time.perf_counter()
            # what `crm360 ingest` runs after landing: reconcile, then refresh the read models
            # the object made stale (timed apart)
            rec = reconcile(dsn, source, orphans=False, refresh=False)["reconcile"]
            rec_s = time.perf_counter() - t
            t = time.perf_counter()
            with psycopg.connect(dsn) as rc:
                refreshed = refresh_read_models(rc)
            ref_s = time.perf_counter() - t
            per.append({"source": source, "object": obj, "records": s["received"], "land_s": round(land, 3),
                        "reconcile_s": round(rec_s, 3), "refresh_s": round(ref_s, 3),
                        "refreshed": [r.get("public_view", r.get("error")) for r in refreshed
                                      if r.get("refreshed") or "error" in r],
                        "applied": sum(r["applied"] for r in rec if r["object"] == obj),
                        "orphans": sum(r["orphans"] for r in rec if r["object"] == obj)})
        total = time.perf_counter() - t0
        replay = replay_phase(dsn, files, rows)
        incremental = incremental_phase(dsn, files, Path(tmp))
        bulk = bulk_phase(base, dbname + "_bulk", files)
        bulk["rows_per_s"] = round(rows / bulk["s"])
        bulk2 = bulk_phase(base, dbname + "_bulk", files, jobs=2)
        bulk2["rows_per_s"] = round(rows / bulk2["s"])
    with psycopg.connect(dsn) as c:
        graph = dict(zip(("nodes", "edges", "assertions", "events"), c.execute(
            "SELECT (SELECT count(*) FROM crm.nodes), (SELECT count(*) FROM crm.edges), "
            "(SELECT count(*) FROM crm.assertions), (SELECT count(*) FROM crm.events)").fetchone(), strict=True))
    floor = write_floor(dsn)
    return {"n": rows, "plain_copy_s": round(copy_s, 3), "plain_copy_rows_per_s": round(rows / copy_s),
            "end_to_end_s": round(total, 3), "end_to_end_rows_per_s": round(rows / total),
            "ratio_to_plain_copy": round(total / copy_s, 2), "per_object": per, "graph": graph,
            "write_floor": floor, "replay": replay, "incremental": incremental, "bulk": bulk, "bulk_parallel": bulk2,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def run(dsn: str, scale: float, out_dir) -> dict:
    """``crm360 bench --suite ingest``: scale 1.0 = 200,000 records (the issue-16 figure) in a
    fresh database crm360_bench_ingest, dropped afterwards unless --keep. Measurements: each
    phase per object (records/s), end to end, the write floor (same run), replay and the
    incremental batch; ratios against the write floor; the issue's targets."""
    n = max(400, int(200_000 * scale))
    r = measure(dsn, n, DB)
    try:
        ms = []
        for p in r["per_object"]:
            for phase in ("land", "reconcile", "refresh"):
                ms.append(bench.measurement(f"{phase} {p['source']} {p['object']}", "superuser",
                                            [p[f"{phase}_s"] * 1000.0], kind="throughput", group=phase,
                                            calls=p["records"], rows=p["records"]))
        e2e = bench.measurement("end to end (land + reconcile + refresh)", "superuser", [r["end_to_end_s"] * 1000.0],
                                kind="throughput", calls=r["n"], rows=r["n"])
        floor_idx = bench.measurement("write floor (indexes)", "superuser", [r["write_floor"]["indexes_s"] * 1000.0],
                                      kind="throughput", calls=r["n"], rows=r["n"])
        floor_fk = bench.measurement("write floor (indexes + foreign keys)", "superuser",
                                     [r["write_floor"]["indexes_fks_s"] * 1000.0], kind="throughput", calls=r["n"],
                                     rows=r["n"])
        replay = bench.measurement("replay of the whole export", "superuser", [r["replay"]["s"] * 1000.0],
                                   kind="throughput", calls=r["n"], rows=r["n"])
        inc = bench.measurement("incremental batch visible in crm.accounts_360", "superuser",
                                [r["incremental"]["visible_after_s"] * 1000.0], rows=r["incremental"]["records"])
        bulk = bench.measurement("end to end, land every export then reconcile and refresh once (ELT)", "superuser",
                                 [r["bulk"]["s"] * 1000.0], kind="throughput", calls=r["n"], rows=r["n"])
        bulk2 = bench.measurement("end to end, ELT with 2 reconcile sessions (crm360 reconcile --jobs 2)", "superuser",
                                  [r["bulk_parallel"]["s"] * 1000.0], kind="throughput", calls=r["n"], rows=r["n"])
        ms += [e2e, bulk, bulk2, floor_idx, floor_fk, replay, inc]
        ratios = [bench.ratio("end to end / write floor with foreign keys (records/s)", e2e, floor_fk,
                              stat="per_s", target=0.7, higher_is_better=True),
                  bench.ratio("end to end (ELT: land all, reconcile once) / write floor with foreign keys",
                              bulk, floor_fk, stat="per_s", target=0.7, higher_is_better=True),
                  bench.ratio("end to end (ELT, 2 reconcile sessions) / write floor with foreign keys",
                              bulk2, floor_fk, stat="per_s", target=0.7, higher_is_better=True)]
        targets = [bench.target("end to end", e2e["per_s"], 5000, "records/s"),
                   bench.target("end to end (ELT: land all, reconcile once)", bulk["per_s"], 5000, "records/s"),
                   bench.target("end to end (ELT, 2 reconcile sessions)", bulk2["per_s"], 5000, "records/s"),
                   bench.target("replay", replay["per_s"], 50000, "records/s"),
                   bench.target("incremental batch visible after", inc["median_ms"], 1000, "ms",
                                higher_is_better=False)]
        return {"measurements": ms, "ratios": ratios, "targets": targets,
                "setup": {"records": r["n"], "plain_copy_s": r["plain_copy_s"]},
                "params": {"records": n, "graph": r["graph"], "per_object": r["per_object"],
                           "incremental": r["incremental"], "replay": r["replay"], "write_floor": r["write_floor"],
                           "bulk": r["bulk"], "bulk_parallel": r["bulk_parallel"]},
                "notes": ["scale 1.0 = 200,000 source records; the 1M figure: --scale 5"]}
    finally:
        bench.cleanup(dsn, DB, [])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--dsn", default=None, help="server (any database); default: the embedded server")
    a = ap.parse_args()
    if a.dsn:
        base = a.dsn
    else:
        from crm360 import server
        base = server.start().url()
    result = measure(base, a.n)
    rows, copy_s, total, per, graph, floor = (result["n"], result["plain_copy_s"], result["end_to_end_s"],
                                              result["per_object"], result["graph"], result["write_floor"])
    replay, incremental = result["replay"], result["incremental"]
    OUT.mkdir(exist_ok=True)
    out = OUT / f"ingest-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"{'source':<11}{'object':<17}{'records':>9}{'land s':>9}{'reconcile s':>13}{'refresh s':>11}{'applied':>9}{'orphans':>9}")
    for p in per:
        print(f"{p['source']:<11}{p['object']:<17}{p['records']:>9}{p['land_s']:>9}{p['reconcile_s']:>13}"
              f"{p['refresh_s']:>11}{p['applied']:>9}{p['orphans']:>9}")
    refresh_total = sum(p["refresh_s"] for p in per)
    print(f"\n{rows} records: plain COPY {copy_s:.1f}s ({result['plain_copy_rows_per_s']}/s); "
          f"ingest+reconcile+refresh {total:.1f}s ({result['end_to_end_rows_per_s']}/s) = "
          f"{result['ratio_to_plain_copy']}x plain COPY; of which read-model refreshes {refresh_total:.1f}s")
    print(f"graph: {graph}")
    print(f"write floor (the resulting rows INSERTed once into empty copies of their tables): "
          f"{floor['indexes_s']}s with the indexes ({round(rows / floor['indexes_s'])}/s), "
          f"{floor['indexes_fks_s']}s with indexes + foreign keys ({round(rows / floor['indexes_fks_s'])}/s)")
    print(f"replay of the same {rows} records (ingest + reconcile + refresh): {replay['s']}s "
          f"({replay['rows_per_s']}/s); graph rows written by it: {replay['graph_rows_written']}; "
          f"raw records rewritten: {replay.get('raw_records_rewritten')}; full-refresh delivery list "
          f"{replay.get('run_deliveries_before')} -> {replay.get('run_deliveries_after')} rows")
    print(f"incremental batch of {incremental['records']} changed tickets: land {incremental['land_s']}s, "
          f"reconcile {incremental['reconcile_s']}s -> visible in crm.accounts_360 (checked as the DBA against the live twin in "
          f"{incremental['read_s']}s) after {incremental['visible_after_s']}s: {incremental['visible_before_refresh']}; "
          f"then refresh {incremental['refresh_s']}s (total {incremental['total_s']}s, visible: {incremental['visible']})")
    b = result["bulk"]
    print(f"ELT path (land every export, then one reconcile and one refresh; fresh database): {b['s']}s "
          f"({b['rows_per_s']}/s): land {b['land_s']}s, reconcile {b['reconcile_s']}s, refresh {b['refresh_s']}s; "
          f"graph rows {b['graph_rows']} (object by object: {replay['graph_rows']})")
    b = result["bulk_parallel"]
    print(f"ELT path with 2 reconcile sessions (crm360 reconcile --jobs 2): {b['s']}s ({b['rows_per_s']}/s): "
          f"land {b['land_s']}s, reconcile {b['reconcile_s']}s, refresh {b['refresh_s']}s; graph rows {b['graph_rows']}")
    print(f"written {out}")


if __name__ == "__main__":
    main()
