"""The `crm360` command line (also reachable as `python migrate.py ...`)."""

from __future__ import annotations

import datetime
import functools
import subprocess
import sys

import click
import psycopg
from rich.console import Console
from rich.table import Table

from crm360 import server
from crm360.db import CrmError, resolve_dsn
from crm360.users import KINDS

console = Console()
err_console = Console(stderr=True)

dsn_option = click.option(
    "--dsn", envvar="DATABASE_URL", default=None, show_envvar=True,
    help="libpq connection string or URL; default: the embedded server")


def handle_errors(fn):
    """Show database and domain errors as SQLSTATE + message + detail + hint, exit 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except CrmError as e:
            err_console.print(e.render(), style="red", markup=False, highlight=False)
            sys.exit(1)
        except psycopg.Error as e:
            err_console.print(CrmError.from_psycopg(e).render(), style="red", markup=False,
                              highlight=False)
            sys.exit(1)

    return wrapper


@click.group()
@click.version_option(package_name="crm360")
def cli():
    """crm360 — a Customer-360 CRM layer in PostgreSQL."""


# --------------------------------------------------------------------------- db
@cli.group()
def db():
    """Manage the embedded PostgreSQL server (data dir ./.crm360/pgdata or $CRM360_DATA_DIR)."""


@db.command("start")
@handle_errors
def db_start():
    """Initialise (first time) and start the embedded server."""
    st = server.status()
    if st.running:
        click.echo(f"already running (pid {st.pid}) in {st.data_dir}")
    else:
        st = server.start()
        click.echo(f"started (pid {st.pid}) in {st.data_dir}")
    click.echo(st.url())


@db.command("stop")
@handle_errors
def db_stop():
    """Stop the embedded server."""
    click.echo("stopped" if server.stop() else "not running")


@db.command("status")
def db_status():
    """Show whether the embedded server is running (exit 3 if it is not)."""
    st = server.status()
    if st.running:
        click.echo(f"running (pid {st.pid}) data dir {st.data_dir}\n{st.url()}")
    else:
        state = "stopped" if st.initialized else "not initialised"
        click.echo(f"{state}: data dir {st.data_dir}")
        sys.exit(3)


@db.command("url")
@handle_errors
def db_url():
    """Print the connection URL of the embedded server (starting it if needed)."""
    click.echo(resolve_dsn(None))


@db.command("psql", context_settings={"ignore_unknown_options": True})
@click.argument("psql_args", nargs=-1, type=click.UNPROCESSED)
@click.option("--user", "login", default=None, metavar="LOGIN",
              help="connect as this login role instead (e.g. a rep made with `crm360 user add`)")
@dsn_option
@handle_errors
def db_psql(psql_args, login, dsn):
    """Open psql (the server's own) on the database; other arguments go to psql."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    url = resolve_dsn(dsn)
    if login:
        params = conninfo_to_dict(url)
        params["user"] = login
        url = make_conninfo(**params)
    psql = server.bin_dir() / "psql"
    sys.exit(subprocess.call([str(psql), url, *psql_args]))


# --------------------------------------------------------------------- migrate
@cli.command()
@dsn_option
@click.option("--status", "show_status", is_flag=True, help="list applied/pending migrations and repeatable files")
@click.option("--break-lock", is_flag=True, help="remove a stale migration lock left by a crashed migrator")
@click.option("--lock-timeout", default=300, show_default=True, help="seconds to wait for another migrator")
@handle_errors
def migrate(dsn, show_status, break_lock, lock_timeout):
    """Apply pending numbered migrations, then re-apply functions, views and policies."""
    from crm360.migrator import Migrator

    m = Migrator(resolve_dsn(dsn), lock_timeout=lock_timeout, echo=click.echo)
    if break_lock:
        m.break_lock()
        click.echo("migration lock removed")
        return
    if show_status:
        _print_status(m)
        return
    result = m.migrate()
    changed = result.repeatables_changed
    if not result.applied and not changed:
        click.echo(f"Database is up to date: no pending migrations; "
                   f"{len(result.repeatables)} repeatable files unchanged.")
    else:
        click.echo(f"Applied {len(result.applied)} migration(s); "
                   f"{len(changed)} of {len(result.repeatables)} repeatable files new or changed.")


def _print_status(m) -> None:
    migrations, repeatables = m.status()
    t = Table(title="Numbered migrations", show_lines=False)
    for col in ("migration", "state", "applied at (UTC)", "sha256", "rollback"):
        t.add_column(col)
    for i in migrations:
        state = "MODIFIED" if i.modified else ("applied" if i.applied else "pending")
        t.add_row(i.id, state, i.applied_at or "", i.sha256[:16], "yes" if i.has_rollback else "no")
    console.print(t)
    r = Table(title="Repeatable files (re-applied on every migrate)")
    for col in ("file", "state", "sha256"):
        r.add_column(col)
    for x in repeatables:
        r.add_row(x.name, x.state, x.sha256[:16])
    console.print(r)
    pending = sum(1 for i in migrations if not i.applied)
    console.print(f"{len(migrations) - pending} applied, {pending} pending")


@cli.command()
@dsn_option
@click.option("--count", default=1, show_default=True, help="how many migrations to roll back")
@click.option("--all", "all_", is_flag=True, help="roll back every applied migration")
@handle_errors
def rollback(dsn, count, all_):
    """Roll back the most recently applied numbered migration(s)."""
    from crm360.migrator import Migrator

    m = Migrator(resolve_dsn(dsn), echo=click.echo)
    done = m.rollback(10**6 if all_ else count)
    click.echo(f"rolled back {len(done)} migration(s)" + (": " + ", ".join(done) if done else ""))
    if done:
        click.echo("run `crm360 migrate` to re-apply; repeatable files are re-applied then.")


# ------------------------------------------------------------------------ demo
@cli.command()
@dsn_option
@click.option("--seed", default=42, show_default=True, help="seed of the demo world (same seed, same files)")
@click.option("--accounts", default=200, show_default=True, help="number of accounts to generate")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD", help="the demo's today (default: today)")
@handle_errors
def demo(dsn, seed, accounts, as_of):
    """Start, migrate, write the demo world as native export files (./.crm360/demo/SEED), ingest,
    reconcile, refresh, and print the 360 of one account, the data-quality report and the digest."""
    import datetime as dt

    from crm360 import demo as demo_mod

    demo_mod.run(resolve_dsn(dsn), console, seed=seed, accounts=accounts,
                 as_of=dt.date.fromisoformat(as_of) if as_of else None)


# --------------------------------------------------------------------- account 360
@cli.command()
@click.argument("name_or_id")
@click.option("--json", "as_json", is_flag=True, help="print JSON (for scripts) instead of tables")
@click.option("--as", "as_user", default=None, metavar="USER",
              help="see what this CRM user (id or email) sees: SET LOCAL ROLE crm_service + crm.act_as; "
                   "the connecting role must be allowed to SET ROLE crm_service (superuser or member)")
@click.option("--days", default=30, show_default=True, help="window of the recent activity")
@dsn_option
@handle_errors
def account(name_or_id, as_json, as_user, days, dsn):
    """Print the 360 of one account: summary, open items, recent activity, freshness, data quality.

    NAME_OR_ID: an account id, a CRM (Salesforce) id, a name (exact or similar), a domain,
    an email address or URL. Several candidates: they are listed and the command exits 2.
    """
    import json

    from crm360 import account360
    from crm360.db import connect

    with connect(resolve_dsn(dsn)) as conn, conn.transaction():
        if as_user:
            account360.act_as(conn, as_user)
        try:
            match = account360.resolve(conn, name_or_id)
        except account360.Ambiguous as e:
            if as_json:
                click.echo(json.dumps({"error": "ambiguous", "candidates": e.candidates}, default=str, indent=2))
            else:
                account360.render_candidates(err_console, e)
            sys.exit(2)
        data = account360.fetch(conn, match["account_id"], days)
    if as_json:
        click.echo(json.dumps(data, default=str, indent=2))
    else:
        account360.render(console, data)


@cli.command()
@click.option("--day", default=None, metavar="YYYY-MM-DD", help="the day to report (default: today)")
@click.option("--webhook", default=None, metavar="URL", envvar="CRM360_DIGEST_WEBHOOK", show_envvar=True,
              help="POST the digest as Slack-compatible JSON ({text, blocks}) to this URL")
@click.option("--json", "as_json", is_flag=True, help="print the digest JSON instead of text")
@click.option("--tries", default=4, show_default=True, help="delivery attempts (5xx, timeouts, connection errors)")
@click.option("--backoff", default=1.0, show_default=True, help="first retry delay in seconds (doubles each time)")
@click.option("--timeout", default=10.0, show_default=True, help="seconds per HTTP attempt")
@dsn_option
@handle_errors
def digest(day, webhook, as_json, tries, backoff, timeout, dsn):
    """The daily data digest per account team: connector failures, stale sources, new data-quality issues.

    Without --webhook it is printed. With --webhook it is posted; a 5xx, a timeout or a
    connection error is retried with exponential backoff (--tries attempts); a 4xx is not.
    Exit 0 when delivered, 1 when it could not be delivered (the reason is printed).
    """
    import json

    from crm360 import account360
    from crm360.db import connect

    with connect(resolve_dsn(dsn)) as conn:
        d = conn.execute("SELECT crm.daily_digest(coalesce(%s::date, current_date))", (day,)).fetchone()[0]
    if not webhook:
        if as_json:
            click.echo(json.dumps(d, default=str, indent=2))
        else:
            account360.render_digest(console, d)
        return
    result = account360.post_webhook(webhook, account360.slack_payload(d), tries=max(1, tries),
                                     backoff=backoff, timeout=timeout)
    if result.ok:
        click.echo(f"digest for {d['day']} {result.message} after {result.attempts} attempt(s)")
        return
    err_console.print(f"ERROR: {result.message}", style="red", markup=False, highlight=False)
    sys.exit(1)


# ----------------------------------------------------------------------- bench
@cli.command()
@click.option("--suite", default="all", show_default=True,
              help="core, access, another registered suite (crm360.bench.SUITES), or all")
@click.option("--scale", default=1.0, show_default=True, type=float,
              help="data size: 1.0 is the size the targets are stated for (core: 100k nodes; "
                   "access: 10k accounts, 200k children)")
@dsn_option
@click.option("--out", "out_dir", default="benchmarks/out", show_default=True,
              type=click.Path(file_okay=False), help="directory for the JSON results")
@click.option("--keep", is_flag=True, help="keep the crm360_bench_<suite> database and its login roles")
@handle_errors
def bench(suite, scale, dsn, out_dir, keep):
    """Run benchmark suites on a fresh database crm360_bench_<suite>; write JSON, print tables.

    Every figure is reported with a baseline measured in the same run (ratios)."""
    import os
    from pathlib import Path

    from crm360 import bench as bench_mod

    if keep:
        os.environ["CRM360_BENCH_KEEP"] = "1"
    names = bench_mod.available_suites() if suite == "all" else [suite]
    if suite == "all":
        missing = sorted(set(bench_mod.SUITES) - set(names))
        if missing:
            err_console.print(f"skipping suites not available here: {', '.join(missing)}")
    url = resolve_dsn(dsn)
    for name in names:
        try:
            bench_mod.load_suite(name)
        except LookupError as e:
            raise CrmError(str(e), hint=f"known suites: {', '.join(sorted(bench_mod.SUITES))}") from e
        console.print(f"[bold]suite {name}[/bold] (scale {scale}) ...")
        result, path = bench_mod.run_suite(name, url, scale, Path(out_dir))
        bench_mod.render(result, console)
        console.print(f"JSON: {path}")


# ------------------------------------------------------------------ ingestion
EXIT_REJECTED = 3


def _progress(enabled: bool):
    """A rich progress counter on a terminal, nothing otherwise (context manager + callback)."""
    import contextlib

    if not enabled:
        return contextlib.nullcontext(None)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} records"),
                    TimeElapsedColumn(), console=err_console, transient=True)


def _print_reconcile(rows: list[dict]) -> None:
    if not rows:
        return
    t = Table(title="Reconcile")
    for col in ("source", "object", "applied", "rejected", "orphans", "skipped", "removed"):
        t.add_column(col)
    for r in rows:
        t.add_row(*(str(r[c]) for c in ("source", "object", "applied", "rejected", "orphans", "skipped", "removed")))
    console.print(t)


@cli.command()
@click.argument("source")
@click.argument("object_name", metavar="OBJECT")
@click.argument("files", nargs=-1, required=True)
@dsn_option
@click.option("--full-refresh/--incremental", "full_refresh", default=None,
              help="the files are the complete set (missing contracts/invoices are removed); default: the object's setting (clm, stripe: full refresh)")
@click.option("--no-reconcile", is_flag=True, help="only land the raw records (crm_raw.records); reconcile later")
@click.option("--no-refresh", is_flag=True, help="do not refresh the read models afterwards (crm360 refresh does)")
@click.option("--json", "as_json", is_flag=True, help="print the run summary as JSON")
@handle_errors
def ingest(source, object_name, files, dsn, full_refresh, no_reconcile, no_refresh, as_json):
    """Land FILE… (CSV, JSON, NDJSON; .gz; - for stdin) of SOURCE OBJECT, reconcile, and
    refresh the read models the run made stale (CONCURRENTLY: readers are never blocked).

    Exit codes: 0 everything landed and applied (orphans are listed, not errors; a replay of
    records already ingested is "unchanged", even when some of them were rejected before);
    3 records this run delivered for the first time were rejected (kept in crm_raw.records
    with their reason, the rest applied); 1 the run failed (a file cannot be read: CR040, or a
    database error); 2 usage error.
    """
    import json as json_mod

    from crm360.connectors import ingest_files

    url = resolve_dsn(dsn)
    show = not as_json and sys.stderr.isatty()
    with _progress(show) as progress:
        task = progress.add_task(f"{source} {object_name}", total=None) if progress else None
        summary = ingest_files(url, source, object_name, list(files), full_refresh=full_refresh,
                               reconcile=not no_reconcile, refresh=not no_refresh,
                               on_progress=(lambda n: progress.advance(task, n)) if progress else None)
    if as_json:
        click.echo(json_mod.dumps(summary, indent=2, default=str))
    else:
        for line in _describe_run(summary):
            click.echo(line)
        _print_reconcile(summary["reconcile"])
        _print_read_models(summary.get("read_models") or [])
        for r in summary["first_rejections"] if summary["new_rejected"] else []:
            err_console.print(f"rejected {r['external_id'] or '(no key)'}: {r['reason']}", markup=False,
                              highlight=False)
    if summary["new_rejected"]:
        if not as_json:
            err_console.print(f"{summary['new_rejected']} new record(s) rejected [CR041]: "
                              "SELECT reason, payload FROM crm_raw.records WHERE status = 'rejected'",
                              markup=False, highlight=False)
        sys.exit(EXIT_REJECTED)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _describe_run(s: dict) -> list[str]:
    """What `crm360 ingest` prints about a run: new data first, a replay as "unchanged"."""
    head = f"run {s['run_id']} {s['source']} {s['object']}: {s['status']}"
    if s["received"] and not s["landed"]:
        note = (f" ({_plural(s['rejected'], 'record')} rejected before: "
                "SELECT reason FROM crm_raw.records WHERE status = 'rejected')" if s["rejected"] else "")
        return [f"{head} — unchanged: all {_plural(s['received'], 'record')} identical to what was "
                f"already ingested{note}"]
    return [f"{head} — received {s['received']:,}, new {s['landed']:,}, unchanged {s['unchanged']:,}; "
            f"applied {s['new_applied']:,}, rejected {s['new_rejected']:,}, orphans {s['orphans']:,}"]


def _print_read_models(rows: list[dict]) -> None:
    if not rows:
        return
    if "error" in rows[0]:
        err_console.print(f"read models not refreshed [{rows[0].get('sqlstate')}]: {rows[0]['error']} — "
                          "run `crm360 refresh`", markup=False, highlight=False)
        return
    done = [r for r in rows if r["refreshed"]]
    if done:
        click.echo("refreshed " + ", ".join(f"{r['public_view']} ({r['duration_ms'] / 1000:.1f} s)" for r in done))
    for r in rows:
        if _refresh_failed(r):
            err_console.print(f"{r['public_view']} not refreshed: {r['reason']} — it stays stale "
                              "(crm.read_models); run `crm360 refresh`", markup=False, highlight=False)


def _refresh_failed(row: dict) -> bool:
    return not row.get("refreshed") and str(row.get("reason") or "").startswith("failed")


@cli.command("reconcile")
@dsn_option
@click.option("--source", default=None, help="only this source (salesforce, zendesk, clm, stripe)")
@click.option("--no-orphans", is_flag=True, help="do not retry orphan records")
@click.option("--no-refresh", is_flag=True, help="do not refresh the read models afterwards")
@click.option("--json", "as_json", is_flag=True, help="print the counts as JSON")
@handle_errors
def reconcile_cmd(dsn, source, no_orphans, no_refresh, as_json):
    """Apply pending raw records to the graph (crm.reconcile), retry orphans, then refresh the
    read models that became stale (crm.refresh_read_models)."""
    import json as json_mod

    from crm360.connectors import reconcile

    out = reconcile(resolve_dsn(dsn), source, orphans=not no_orphans, refresh=not no_refresh)
    if as_json:
        click.echo(json_mod.dumps(out, indent=2, default=str))
        return
    if out["reconcile"]:
        _print_reconcile(out["reconcile"])
    else:
        click.echo("nothing to reconcile")
    _print_read_models(out["read_models"])


@cli.command("refresh")
@dsn_option
@click.option("--all", "all_", is_flag=True, help="refresh every read model, stale or not")
@click.option("--max-age", default=None, metavar="INTERVAL",
              help="also refresh read models older than this (e.g. '15 minutes'): covers writes made through the API")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
@handle_errors
def refresh_cmd(dsn, all_, max_age, as_json):
    """Refresh the materialized read models that are stale (crm.refresh_read_models):
    reconciliation applied data they read since their last refresh. CONCURRENTLY: readers are
    never blocked. Exit 1 when a read model could not be refreshed (each one is refreshed on its
    own: the others are)."""
    import json as json_mod

    from crm360.connectors import refresh_read_models
    from crm360.db import connect

    with connect(resolve_dsn(dsn)) as conn:
        rows = refresh_read_models(conn, all_=all_, max_age=max_age)
    if rows and "error" in rows[0]:
        state = rows[0].get("sqlstate")
        hint = ("admins and connectors may refresh; everyone may read crm.read_models" if state == "42501"
                else "--max-age takes a PostgreSQL interval, e.g. '15 minutes'" if state in ("22007", "22023", "22015")
                else "see crm.read_models")
        raise CrmError(rows[0]["error"], sqlstate=state, hint=hint)
    if as_json:
        click.echo(json_mod.dumps(rows, indent=2, default=str))
        if any(_refresh_failed(r) for r in rows):
            raise SystemExit(1)
        return
    t = Table(title="Read models")
    for col in ("read model", "refreshed", "as of (UTC)", "s", "why"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["public_view"], "yes" if r["refreshed"] else "no",
                  r["as_of"].astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S") if r["as_of"] else "never",
                  f"{r['duration_ms'] / 1000:.1f}" if r["duration_ms"] is not None else "", r["reason"])
    console.print(t)
    if any(_refresh_failed(r) for r in rows):
        raise SystemExit(1)


# ---------------------------------------------------------------- data quality
@cli.group("quality", invoke_without_command=True)
@click.option("--kind", "kinds", multiple=True, type=click.Choice(["duplicates", "orphans", "mismatches"]),
              help="only this list (repeatable); default: all three")
@click.option("--limit", type=click.IntRange(min=0), default=None,
              help="rows per list (default: 20 in tables, all with --csv/--json)")
@click.option("--json", "as_json", is_flag=True, help="print JSON: {kind: {total, rows: [flat objects]}}")
@click.option("--csv", "as_csv", is_flag=True, help="print one list as CSV (needs exactly one --kind)")
@dsn_option
@click.pass_context
@handle_errors
def quality(ctx, kinds, limit, as_json, as_csv, dsn):
    """The data-quality queue: duplicate candidates (most likely first, with score and reasons),
    orphans (records with no account) and identity mismatches, with readable columns.

    Orphans and mismatches are for admins and connectors; other roles see the duplicate pairs
    among the accounts they may see. Merge a pair with `crm360 quality merge KEEP DROP`."""
    if ctx.invoked_subcommand is not None:
        return
    from crm360 import quality as q
    from crm360.db import connect

    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    if as_csv and len(set(kinds)) != 1:
        raise click.UsageError("--csv prints one list: add --kind duplicates, --kind orphans or --kind mismatches")
    wanted = list(dict.fromkeys(kinds)) or list(q.KINDS)
    if limit is None and not (as_json or as_csv):
        limit = 20
    with connect(resolve_dsn(dsn)) as conn:
        sections = q.fetch(conn, wanted, limit, strict=bool(kinds))
    if as_json:
        click.echo(q.to_json(sections))
    elif as_csv:
        click.echo(q.to_csv(sections[0]), nl=False)
    else:
        q.render(console, sections)


@quality.command("merge")
@click.argument("keep")
@click.argument("drop")
@click.option("--reason", default=None, help="why (kept on the merged_into link and the nodes_merged event)")
@click.option("--no-retry", is_flag=True, help="do not retry orphan records afterwards")
@click.option("--no-refresh", is_flag=True, help="do not refresh the read models afterwards (crm360 refresh later)")
@click.option("--json", "as_json", is_flag=True, help="print what happened as JSON")
@dsn_option
@handle_errors
def quality_merge(keep, drop, reason, no_retry, no_refresh, as_json, dsn):
    """Merge account DROP into account KEEP (crm.merge_nodes), then retry orphan records
    (crm.reconcile_orphans()) — records that matched both accounts now resolve — and refresh
    the read models the merge made stale (crm.refresh_read_models()).

    KEEP and DROP: an account id (uuid) or a Salesforce Account Id, as `crm360 quality`
    shows them. Admins, and connectors for accounts of their sources. Exit 1 with the
    SQLSTATE on bad input (P0002 unknown, 22023 same account or not an account, 42501 not allowed)."""
    import json

    from crm360 import quality as q

    result = q.merge(resolve_dsn(dsn), keep, drop, reason=reason, retry_orphans=not no_retry,
                     refresh=not no_refresh)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, default=str))
    else:
        q.render_merge(console, result)


# ------------------------------------------------------------------------ users
@cli.group()
def user():
    """Create and list the login roles of crm360 users (README "Logins")."""


def _kinds_help() -> str:
    return "; ".join(f"{n}: {k.statement_timeout} / {k.idle_in_transaction_session_timeout} / {k.lock_timeout}"
                     for n, k in KINDS.items())


@user.command("add")
@click.argument("login")
@click.option("--role", "kind", required=True,
              type=click.Choice(list(KINDS)),
              help="reader (BI, analysts), writer, service (pooled, crm.act_as), connector, admin")
@click.option("--name", default=None, help="the CRM user's name: creates the user when no CRM user has --email")
@click.option("--email", default=None, help="the CRM user's email: maps the login to the live user with it (e.g. a "
              "Salesforce user from ingestion)")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
@click.option("--password-env", metavar="VAR", default=None,
              help="read the password from environment variable VAR (never on the command line)")
@click.option("--source", "sources", multiple=True, metavar="SRC",
              help="connector: a source it may land and reconcile (repeatable; '*' = every source)")
@click.option("--elt-schema", default=None, metavar="SCHEMA",
              help="connector: create SCHEMA and SCHEMA_staging owned by the login, for an ELT tool (dlt's "
                   "dataset_name) to load into (docs/elt.md)")
@click.option("--statement-timeout", default=None, metavar="DURATION",
              help="statement_timeout of the login (default per role; 0 = none)")
@click.option("--idle-timeout", default=None, metavar="DURATION",
              help="idle_in_transaction_session_timeout of the login (default per role)")
@click.option("--lock-timeout", default=None, metavar="DURATION",
              help="lock_timeout of the login (default per role)")
@click.option("--existing", is_flag=True,
              help="the role exists already: grant, configure and map it instead of refusing")
@click.option("--json", "as_json", is_flag=True, help="print what was done as JSON")
@dsn_option
@handle_errors
def user_add(login, kind, name, email, password_stdin, password_env, sources, elt_schema, statement_timeout,
             idle_timeout, lock_timeout, existing, as_json, dsn):
    """Create login role LOGIN for a crm360 user, in one transaction: CREATE ROLE ... LOGIN,
    GRANT crm_<role>, per-login session timeouts (ALTER ROLE ... SET), then the CRM user mapped
    to it (reader, writer, admin: the live user with --email, e.g. the Salesforce user ingestion
    created for a rep, else a new one named --name) or the connector's sources. Nothing is left
    half-done.

    Defaults (statement / idle in transaction / lock timeout) — """
    import json
    import os

    from crm360 import users
    from crm360.db import connect

    if password_stdin and password_env:
        raise click.UsageError("give the password with --password-stdin or --password-env, not both")
    k = KINDS[kind]
    if not k.crm_user and (name or email):
        raise click.UsageError(f"--name/--email create a CRM user: a {kind} login is not one "
                               "(reader, writer and admin logins are)")
    if k.crm_user and not existing and not (name and name.strip()) and not (email and email.strip()):
        raise click.UsageError(f"a {kind} login is a CRM user: give --email (maps the CRM user with that email, "
                               "e.g. the Salesforce user ingestion created) or --name (creates one)")
    if kind != "connector" and sources:
        raise click.UsageError("--source applies to connector logins only")
    if kind == "connector" and not sources:
        raise click.UsageError("a connector login needs at least one --source (or --source '*' for every source)")
    if kind != "connector" and elt_schema:
        raise click.UsageError("--elt-schema applies to connector logins only")
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif password_env:
        password = os.environ.get(password_env)
        if password is None:
            raise click.UsageError(f"environment variable {password_env} is not set")
    settings = {"statement_timeout": statement_timeout, "idle_in_transaction_session_timeout": idle_timeout,
                "lock_timeout": lock_timeout}
    with connect(resolve_dsn(dsn), autocommit=True) as conn:
        done = users.add_user(conn, login, kind, name=name, email=email, password=password, sources=sources,
                              settings=settings, existing=existing, elt_schema=elt_schema)
    if as_json:
        click.echo(json.dumps(done, indent=2))
    else:
        for line in users.describe(done):
            click.echo(line)


user_add.help += _kinds_help() + "."


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
@dsn_option
@handle_errors
def user_list(as_json, dsn):
    """Login roles that are members of a crm role: their crm roles, mapped CRM user, connector
    sources and session timeouts (pg_db_role_setting)."""
    import json

    from crm360 import users
    from crm360.db import connect

    with connect(resolve_dsn(dsn), autocommit=True) as conn:
        rows = users.list_users(conn)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    t = Table(title="crm360 logins (timeouts: statement / idle in transaction / lock)")
    t.add_column("login", no_wrap=True)
    t.add_column("roles")
    t.add_column("CRM user")
    t.add_column("sources")
    for col in ("statement", "idle in tx", "lock"):
        t.add_column(col, no_wrap=True)
    for r in rows:
        who = (r["user_name"] or "") + (f" <{r['email']}>" if r["email"] else "")
        s = r["settings"]
        t.add_row(r["login"] + (" (bypasses RLS)" if r["bypasses_rls"] else ""),
                  ", ".join(g.removeprefix("crm_") for g in r["crm_roles"]), who, ", ".join(r["sources"]),
                  *(s[k] or "-" for k in ("statement_timeout", "idle_in_transaction_session_timeout", "lock_timeout")))
    console.print(t)
    if not rows:
        console.print("no login role is a member of a crm role yet: crm360 user add LOGIN --role reader --name NAME")


def main():
    cli(prog_name="crm360")


if __name__ == "__main__":
    main()
