"""`crm360 demo` — the main job: start, migrate, write the demo world as the four systems'
native export files, ingest them through the connector API, reconcile, refresh, and print
the 360 of one account, the data-quality report and the digest.

Idempotent and fast on re-runs: the files are reused when the manifest matches (seed, size,
day) and ingestion is skipped when the showcase account is already in the database.
Ingestion goes through `crm360.connectors.ingest_files` (issue 5); without it the demo says
so and stops after writing the files.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from crm360 import account360, demo_data
from crm360.migrator import Migrator

SUMMARY_SQL = """
SELECT n.nspname AS schema,
       count(*) FILTER (WHERE c.relkind IN ('r', 'p')) AS tables,
       count(*) FILTER (WHERE c.relkind = 'v') AS views,
       count(*) FILTER (WHERE c.relkind = 'm') AS matviews,
       (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = n.oid) AS functions
  FROM pg_namespace n
  LEFT JOIN pg_class c ON c.relnamespace = n.oid
 WHERE n.nspname IN ('crm', 'crm_raw', 'crm_private')
 GROUP BY n.oid, n.nspname
 ORDER BY n.nspname
"""


def demo_dir(seed: int) -> Path:
    return Path(".crm360") / "demo" / str(seed)


def ensure_files(out: Path, seed: int, accounts: int, as_of: dt.date) -> tuple[dict, bool]:
    """The manifest of the demo files, (re)generating them unless they match."""
    mf = out / "manifest.json"
    if mf.exists():
        with __import__("contextlib").suppress(ValueError, OSError):
            m = json.loads(mf.read_text())
            if (m.get("format_version"), m.get("seed"), m.get("accounts"), m.get("as_of")) == \
                    (demo_data.FORMAT_VERSION, seed, accounts, as_of.isoformat()) \
                    and all((out / f).exists() for f in m["files"]):
                return m, False
    return demo_data.generate(out, seed=seed, accounts=accounts, as_of=as_of), True


def _connectors():
    try:
        from crm360 import connectors  # issue 5
    except ImportError:
        return None
    return connectors if hasattr(connectors, "ingest_files") else None


def ingest(dsn: str, out: Path, console: Console) -> None:
    connectors = _connectors()
    t = Table(title="Ingestion (crm360.connectors.ingest_files: COPY into crm_raw, then crm.reconcile)")
    for c in ("source", "object", "status", "landed", "rejected", "applied", "orphans", "s"):
        t.add_column(c, justify="right" if c not in ("source", "object", "status") else "left")

    def row(source, obj, res, secs):
        t.add_row(source, obj, str(res.get("status", "")), *(str(res.get(k, "")) for k in
                  ("landed", "rejected", "applied", "orphans")), f"{secs:.1f}")

    for source, obj, files in demo_data.INGEST_PLAN:
        t1 = time.monotonic()
        res = connectors.ingest_files(dsn, source, obj, [out / f for f in files], reconcile=True)
        row(source, obj, res, time.monotonic() - t1)
    source, obj, files = demo_data.BROKEN
    t1 = time.monotonic()
    try:
        res = connectors.ingest_files(dsn, source, obj, [out / f for f in files], reconcile=True)
        row(source, obj, res, time.monotonic() - t1)
    except Exception as e:  # the planted failed run: the file cannot be parsed at all
        t.add_row(source, obj, f"[red]failed (planted): {str(e).splitlines()[0][:60]}[/red]", "", "", "", "",
                  f"{time.monotonic() - t1:.1f}")
    console.print(t)
    with psycopg.connect(dsn) as conn:
        for s, o, interval in demo_data.SCHEDULES:
            conn.execute("UPDATE crm_raw.source_schedules SET expected_interval = %s::interval "
                         "WHERE source = %s AND object = %s", (interval, s, o))
        # The planted stale source: the CLM export was last delivered 3 days ago (we cannot wait
        # three days in a demo, so the run that just loaded it is dated back — said out loud).
        conn.execute("UPDATE crm_raw.sync_runs SET started_at = started_at - interval '3 days', "
                     "finished_at = finished_at - interval '3 days' WHERE source = 'clm' "
                     "AND started_at > now() - interval '1 day'")
    console.print("[yellow]simulated:[/yellow] the CLM run was dated back 3 days (daily schedule) "
                  "to show a stale source")


def quality_report(conn: psycopg.Connection, console: Console) -> None:
    t = Table(title="Data-quality report")
    for c in ("kind", "source", "account", "detected", "evidence"):
        t.add_column(c)
    total = {}
    for kind, rel in (("orphan", "crm.orphans"), ("identity mismatch", "crm.identity_mismatches"),
                      ("duplicate candidate", "crm.duplicate_candidates")):
        total[kind] = conn.execute(f"SELECT count(*) FROM {rel}").fetchone()[0]
        for r in conn.execute(f"SELECT q.source, a.label, q.detected_at, q.evidence FROM {rel} q "
                              "LEFT JOIN crm.nodes a ON a.id = q.account_id ORDER BY q.detected_at DESC LIMIT 4"):
            t.add_row(kind, r[0], r[1] or "—", str(r[2])[:16], json.dumps(r[3], default=str)[:70])
    console.print(t)
    console.print("totals: " + ", ".join(f"{v} {k}(s)" for k, v in total.items()), highlight=False)


def run(dsn: str, console: Console, *, seed: int = 42, accounts: int = 200, as_of: dt.date | None = None,
        out: Path | None = None) -> None:
    t0 = time.monotonic()
    as_of = as_of or dt.date.today()
    console.print("[bold]crm360 demo[/bold] — migrating")
    result = Migrator(dsn, echo=lambda s: None).migrate()
    console.print(f"  {len(result.applied)} migration(s) applied, {len(result.repeatables)} repeatable files applied")
    out = out or demo_dir(seed)
    manifest, fresh = ensure_files(out, seed, accounts, as_of)
    counts = ", ".join(f"{v} {k}" for k, v in manifest["counts"].items())
    console.print(f"  export files {'written' if fresh else 'reused'} in {out}: {counts}", highlight=False)

    if _connectors() is None:
        console.print("[yellow]Ingestion is not installed yet[/yellow] (crm360.connectors.ingest_files, issue 5): "
                      f"the demo stops after writing the export files under {out}.")
        with psycopg.connect(dsn) as conn:
            t = Table(title="crm360 schemas")
            for col in ("schema", "tables", "views", "materialized views", "functions"):
                t.add_column(col)
            for row in conn.execute(SUMMARY_SQL):
                t.add_row(*[str(x) for x in row])
            console.print(t)
        console.print(f"done in {time.monotonic() - t0:.1f}s")
        return

    showcase = manifest["planted"]["showcase_account"]
    with psycopg.connect(dsn) as conn:
        loaded = conn.execute("SELECT count(*) FROM crm.nodes WHERE external_source = 'salesforce' "
                              "AND external_id = %s", (showcase,)).fetchone()[0]
    if loaded:
        console.print("  demo data already loaded: ingestion skipped (re-running is a no-op)")
    else:
        ingest(dsn, out, console)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT crm.refresh_crm_views()")
        conn.execute("SELECT crm.refresh_account_views()")
        acct = conn.execute("SELECT id FROM crm.nodes WHERE external_source = 'salesforce' AND external_id = %s "
                            "AND node_type = 'org'", (showcase,)).fetchone()
        if acct:
            account360.render(console, account360.fetch(conn, acct[0]))
        quality_report(conn, console)
        account360.render_digest(console, conn.execute("SELECT crm.daily_digest()").fetchone()[0])
    console.print(f"done in {time.monotonic() - t0:.1f}s")
