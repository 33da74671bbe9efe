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

from crm360 import account360, demo_customers, demo_data
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


# What `crm360 demo` may write into: an empty database, or one holding only crm360 (its
# schemas, the migrator's bookkeeping in public, extensions) and data the demo itself loaded.
CRM360_SCHEMAS = ("crm", "crm_raw", "crm_private", "extensions")
FOREIGN_RELATIONS_SQL = r"""
SELECT format('%%I.%%I', n.nspname, c.relname)
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
   AND n.nspname <> ALL (%(ours)s || ARRAY['pg_catalog', 'information_schema', 'pg_toast'])
   AND n.nspname !~ '^pg_(toast_)?temp_'
   AND NOT (n.nspname = 'public' AND (c.relname LIKE '\_yoyo\_%%' OR c.relname LIKE 'yoyo\_%%'
                                      OR c.relname LIKE '\_crm360\_%%'))
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 1
"""


def demo_file_names() -> set[str]:
    return {Path(f).name for _s, _o, files in [*demo_data.INGEST_PLAN, demo_data.BROKEN] for f in files}


def foreign_reason(conn: psycopg.Connection) -> str | None:
    """Why `crm360 demo` must not write into this database (None: it may). "Foreign" means:
    a table, view or sequence outside crm360's schemas (crm, crm_raw, crm_private, extensions)
    and the migrator's bookkeeping in public — e.g. an application's or an ELT tool's schema; or
    crm360 data the demo did not load: unless the demo's showcase account is there, sync runs
    of other files than the demo's, or accounts while no sync run exists (made through the API)."""
    other = [r[0] for r in conn.execute(FOREIGN_RELATIONS_SQL, {"ours": list(CRM360_SCHEMAS)})]
    if other:
        more = f" and {len(other) - 5} more" if len(other) > 5 else ""
        return f"it has {len(other)} table(s)/view(s) outside crm360's schemas: {', '.join(other[:5])}{more}"
    if conn.execute("SELECT to_regclass('crm_raw.sync_runs') IS NULL OR to_regclass('crm.nodes') IS NULL").fetchone()[0]:
        return None
    # the demo's showcase account has the same Salesforce id whatever the seed
    if conn.execute("SELECT EXISTS (SELECT 1 FROM crm.nodes WHERE node_type = 'org' AND external_source = 'salesforce' "
                    "AND external_id = %s)", (demo_data.sf_id("001", 10_001),)).fetchone()[0]:
        return None
    runs = conn.execute("SELECT f, count(*) OVER () FROM (SELECT DISTINCT unnest(files) AS f FROM crm_raw.sync_runs) "
                        "x WHERE f <> ALL (%s) ORDER BY f LIMIT 3", (sorted(demo_file_names()),)).fetchall()
    if runs:
        return (f"it holds crm360 data the demo did not load: sync runs of {runs[0][1]} other file(s), e.g. "
                + ", ".join(r[0] for r in runs))
    orgs = conn.execute("SELECT count(*) FROM crm.nodes WHERE node_type = 'org' AND NOT EXISTS "
                        "(SELECT 1 FROM crm_raw.sync_runs)").fetchone()[0]
    if orgs:
        return f"it holds {orgs:,} account(s) and no sync run of the demo's files"
    return None


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


def ingest(dsn: str, out: Path, console: Console, progress=None) -> None:
    """Ingest the demo files; `progress` (crm360.cli.Phases) shows the phases live on a TTY."""
    import contextlib

    connectors = _connectors()
    t = Table(title="Ingestion: COPY into crm_raw, crm.reconcile, refresh (crm360 ingest)")
    for c in ("source object", "new", "applied", "rejected", "orphans", "s"):
        t.add_column(c, justify="left" if c == "source object" else "right", no_wrap=True)
    failed = []
    with progress if progress is not None else contextlib.nullcontext(None) as ph:
        hooks = {"on_phase": ph.phase, "on_progress": ph.advance} if ph is not None else {}
        for source, obj, files in demo_data.INGEST_PLAN:
            t1 = time.monotonic()
            res = connectors.ingest_files(dsn, source, obj, [out / f for f in files], reconcile=True, **hooks)
            t.add_row(f"{source} {obj}", f"{res['landed']:,}", f"{res['new_applied']:,}", f"{res['new_rejected']:,}",
                      f"{res['orphans']:,}", f"{time.monotonic() - t1:.1f}")
        source, obj, files = demo_data.BROKEN
        t1 = time.monotonic()
        try:
            connectors.ingest_files(dsn, source, obj, [out / f for f in files], reconcile=True, **hooks)
        except Exception as e:  # the planted failed run: the file cannot be parsed at all
            failed.append((f"{source} {obj}", str(e).splitlines()[0]))
            t.add_row(f"{source} {obj}", "[red]failed[/red]", "", "", "", f"{time.monotonic() - t1:.1f}")
    console.print(t)
    for what, why in failed:
        console.print(f"[red]planted failure[/red] {what}: {why}", highlight=False)
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


# The two reps the demo gives a login (Salesforce users 0 and 1 own the showcase account and
# its planted duplicate): the README tells a DBA to do exactly this, `crm360 user add`.
REPS = (("demo_ana", 0), ("demo_ben", 1))
SEES_SQL = """
SELECT count(*), coalesce(sum(open_tickets), 0), sum(pipeline_value), coalesce(sum(arr), 0),
       coalesce(sum(overdue_invoices), 0), count(*) FILTER (WHERE crm_id = %s)
  FROM crm.accounts_360
"""


def _rep_logins(conn: psycopg.Connection, manifest: dict, console: Console) -> list[tuple[str, str, str]]:
    """Login roles for two reps, mapped by email to the Salesforce users ingestion created, and
    a read grant on the deal values their team sees (crm.access_grants). [(login, name, email)];
    [] when the connecting role may not create roles (the demo then shows the admin's view only)."""
    from crm360 import users

    made = []
    for login, k in REPS:
        email = manifest["planted"]["reps"][k]["email"]
        row = conn.execute("SELECT label, properties ->> 'email' FROM crm.nodes WHERE node_type = 'user' "
                           "AND archived_at IS NULL AND lower(properties ->> 'email') = lower(%s)", (email,)).fetchone()
        if row is None:
            continue
        try:
            exists = conn.execute("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (login,)).fetchone()
            users.add_user(conn, login, "writer", email=email, existing=exists is not None)
            conn.execute("""
                INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope)
                SELECT %(team)s, 'team', 'assertion', 'read', '{"assertion_type": "deal_value"}'::jsonb
                 WHERE NOT EXISTS (SELECT 1 FROM crm.access_grants g WHERE g.grantee = %(team)s
                                      AND g.scope ->> 'assertion_type' = 'deal_value' AND g.revoked_at IS NULL)""",
                         {"team": row[0]})
        except psycopg.Error as e:
            console.print(f"[yellow]no rep logins[/yellow] ({e.sqlstate}: {str(e).splitlines()[0]}) — the "
                          "connecting role needs CREATEROLE and crm_admin for this part", highlight=False)
            return []
        made.append((login, row[0], row[1]))
    return made


def _sees(conn: psycopg.Connection, crm_id: str, role: str | None = None) -> tuple:
    with conn.transaction():
        if role:
            # the rep's own login, in this session (trusted only because we may SET ROLE to it)
            conn.execute(psycopg.sql.SQL("SET LOCAL ROLE {}").format(psycopg.sql.Identifier(role)))
        return conn.execute(SEES_SQL, (crm_id,)).fetchone()


def rep_vs_admin(conn: psycopg.Connection, manifest: dict, console: Console) -> None:
    reps = _rep_logins(conn, manifest, console)
    if not reps:
        return
    showcase = manifest["planted"]["showcase_account"]
    t = Table(title="Who sees what: the same crm.accounts_360, as each login")
    for c in ("login", "accounts", "open tickets", "pipeline", "ARR", "overdue", "Acme"):
        t.add_column(c, justify="left" if c == "login" else "right", no_wrap=c != "login")
    rows = [("you (admin)", None)] + [(f"{login} (rep)", login) for login, _name, _ in reps]
    for label, role in rows:
        n, tickets, pipeline, arr, overdue, acme = _sees(conn, showcase, role)
        t.add_row(label, f"{n:,}", f"{tickets:,}", account360.short_money(pipeline),
                  account360.short_money(arr), f"{overdue:,}", "yes" if acme else "no")
    console.print(t)
    login = reps[0][0]
    console.print(f"Logins made with [bold]crm360 user add {login} --role writer --email {reps[0][2]}[/bold].\n"
                  f"Try it: [bold]crm360 db psql --user {login} -c 'SELECT name, open_tickets, arr FROM "
                  "crm.accounts_360'[/bold]", highlight=False)


def quality_report(conn: psycopg.Connection, console: Console) -> None:
    try:
        from crm360 import quality
    except ImportError:
        quality = None
    if quality is not None and hasattr(quality, "render_report"):
        quality.render_report(conn, console, limit=4)
        return
    totals = {kind: conn.execute(f"SELECT count(*) FROM {rel}").fetchone()[0]
              for kind, rel in (("orphan", "crm.orphans"), ("identity mismatch", "crm.identity_mismatches"),
                                ("duplicate candidate", "crm.duplicate_candidates"))}
    console.print("Data quality: " + ", ".join(f"{v:,} {k}{'' if v == 1 else 's'}" for k, v in totals.items())
                  + " (crm.orphans, crm.identity_mismatches, crm.duplicate_candidates)", highlight=False)


DEMO_QUERY = "renewal outage"


def search_showcase(conn: psycopg.Connection, account_id, console: Console) -> None:
    """End of the demo: a search in the featured account (crm.search_in_account). With the
    offline model installed (`pip install 'crm360[embed]'`, as the README's first command
    does) the demo first embeds the chunks that lack an embedding (what `crm360 embed` does:
    ~15k chunks, a few seconds the first time, none on a rerun) and searches hybrid; without
    it, text only."""
    if not conn.execute("SELECT to_regprocedure('crm.search_in_account(uuid, text, extensions.vector, integer)') "
                        "IS NOT NULL").fetchone()[0]:
        return
    from crm360 import embeddings
    from crm360.cli import _print_search

    emb, mode = None, "text only — run `crm360 embed` for hybrid search"
    prov = embeddings.default_provider()
    if prov is not None:
        done = embeddings.embed_pending(conn, prov)
        console.print(f"\n[bold]crm360 embed[/bold] — {done['embedded']:,} chunk(s) embedded with {prov.model} "
                      f"in {done['seconds']} s (incremental: the rest already had one)", highlight=False)
    if prov is not None and embeddings.account_has_embeddings(conn, prov.model, account_id):
        embeddings.register(conn)
        emb, mode = embeddings.query_vector(prov, DEMO_QUERY), f"hybrid ({prov.model})"
    name = conn.execute("SELECT label FROM crm.nodes WHERE id = %s", (account_id,)).fetchone()[0]
    cur = conn.execute("SELECT * FROM crm.search_in_account(%s, %s, %s, 5)", (account_id, DEMO_QUERY, emb))
    cols = [d.name for d in cur.description]
    rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    console.print(f"\n[bold]crm360 search {DEMO_QUERY!r} --account {name!r}[/bold]", highlight=False)
    _print_search(DEMO_QUERY, rows, {"name": name}, mode)


def run(dsn: str, console: Console, *, seed: int = 42, accounts: int = 200, as_of: dt.date | None = None,
        out: Path | None = None, progress=None) -> None:
    """`progress`: a crm360.cli.Phases (not entered) showing the ingestion phases on a TTY."""
    t0 = time.monotonic()
    as_of = as_of or dt.date.today()
    console.print("[bold]crm360 demo[/bold] — migrating")
    result = Migrator(dsn, echo=lambda s: None).migrate()
    console.print(f"  {len(result.applied)} migration(s) applied, {len(result.repeatables)} repeatable files applied")
    out = out or demo_dir(seed)
    manifest, fresh = ensure_files(out, seed, accounts, as_of)
    console.print(f"  export files {'written' if fresh else 'reused'} in {out}: {len(manifest['files'])} files, "
                  f"{sum(manifest['counts'].values()):,} records", highlight=False)

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
        console.print("  demo data already loaded: ingestion skipped (unchanged; re-running is a no-op)")
    else:
        ingest(dsn, out, console, progress)
    with psycopg.connect(dsn, autocommit=True) as conn:
        # ingestion refreshed what it changed; the simulated stale source and a re-run: catch up
        conn.execute("SELECT * FROM crm.refresh_read_models()")
        acct = conn.execute("SELECT id FROM crm.nodes WHERE external_source = 'salesforce' AND external_id = %s "
                            "AND node_type = 'org'", (showcase,)).fetchone()
        if acct:
            account360.render(console, account360.fetch(conn, acct[0]), activity_limit=8)
        rep_vs_admin(conn, manifest, console)
        quality_report(conn, console)
        account360.render_digest(console, conn.execute("SELECT crm.daily_digest()").fetchone()[0], max_teams=2)
        if acct:
            demo_customers.showcase(conn, acct[0], console)
            search_showcase(conn, acct[0], console)
    console.print(f"done in {time.monotonic() - t0:.1f}s")
