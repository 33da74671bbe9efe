"""The `crm360` command line (also reachable as `python migrate.py ...`)."""

from __future__ import annotations

import datetime
import functools
import json
import subprocess
import sys
from typing import NoReturn

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


def fail(e: CrmError, as_json: bool = False) -> NoReturn:
    """Print an error and exit with its code: under --json as {"error": {sqlstate, message,
    detail, hint}} on stdout (where the command's JSON goes), else SQLSTATE, message, DETAIL and
    HINT lines on stderr."""
    if as_json:
        click.echo(json.dumps({"error": e.as_dict()}, indent=2, default=str))
    else:
        # soft_wrap: never break a line of a hint (it may hold SQL to copy)
        err_console.print(e.render(), style="red", markup=False, highlight=False, soft_wrap=True)
    sys.exit(e.exit_code)


def handle_errors(fn):
    """Show database and domain errors as SQLSTATE + message + detail + hint and exit 1 (or the
    error's own code). Under the command's --json the error is JSON on stdout, for scripts —
    usage errors found by the command itself too (exit 2)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        as_json = bool(kwargs.get("as_json"))
        try:
            return fn(*args, **kwargs)
        except CrmError as e:
            fail(e, as_json)
        except psycopg.Error as e:
            fail(CrmError.from_psycopg(e), as_json)
        except click.UsageError as e:
            if not as_json:
                raise
            cmd = e.ctx.command_path if e.ctx else "crm360"
            fail(CrmError(e.format_message(), hint=f"{cmd} --help", exit_code=e.exit_code), True)

    return wrapper


@click.group()
@click.version_option(package_name="crm360")
def cli():
    """crm360 — a Customer-360 CRM layer in PostgreSQL."""


# --------------------------------------------------------------------------- db
@cli.group()
def db():
    """Manage the embedded PostgreSQL server (data dir ./.crm360/pgdata or $CRM360_DATA_DIR)."""


def _listening(st) -> str:
    tcp = (f"; TCP {st.listen} port {st.port} (scram-sha-256 passwords)" if st.listen
           else " (no TCP)")
    return f"listening: Unix socket in {st.socket_dir}{tcp}"


@db.command("start")
@click.option("--listen", metavar="ADDR", default=None,
              help="also serve TCP on ADDR: an IP address, a host name, a comma-separated list, "
                   "or '*' (every address); kept for later starts")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="the port (TCP and socket name; default 5432); kept for later starts; "
                   "--port without --listen listens on 127.0.0.1")
@click.option("--socket-only", is_flag=True, help="serve the Unix socket only again (the default); kept")
@click.option("--restart", is_flag=True,
              help="restart a running server to apply other settings (disconnects every session)")
@handle_errors
def db_start(listen, port, socket_only, restart):
    """Initialise (first time) and start the embedded server.

    By default it serves a Unix socket in the data dir only (mode 0700: this OS user).
    With --listen/--port it also serves TCP, where every login needs a password
    (scram-sha-256): give one with `crm360 user add … --password-stdin` or
    `crm360 user password LOGIN --password-stdin`; `crm360 db url --tcp --user LOGIN` prints
    the URL for a BI tool. The settings are kept in <data dir>/crm360-server.json: a later
    `db start` without options keeps them. See docs/connecting.md."""
    if socket_only and listen:
        raise click.UsageError("give --listen or --socket-only, not both")
    pgdata = server.data_dir()
    st = server.status(pgdata)
    saved = server.load_settings(pgdata) if st.initialized else server.Settings()
    want = server.Settings(saved.listen, saved.port)
    if listen is not None:
        want.listen = server.check_listen(listen)
    if socket_only:
        want.listen = None
    if port is not None:
        want.port = port
        if listen is None and not socket_only and not want.listen:
            want.listen = "127.0.0.1"
    restarted = False
    if st.running and server.running_differs(st, want):
        if not restart:
            raise CrmError(f"the embedded server is running with {server.Settings(st.listen, st.port).describe()}; "
                           f"{want.describe()} needs a restart", sqlstate="55000",
                           detail="nothing was changed",
                           hint="add --restart (disconnects every session), or `crm360 db stop` first")
        server.stop(pgdata)
        restarted = True
        st = server.status(pgdata)
    if st.running:
        if want != saved or not (pgdata / server.SETTINGS_FILE).exists():
            server.save_settings(pgdata, want)
        click.echo(f"already running (pid {st.pid}) in {st.data_dir}")
    else:
        try:
            st = server.start(pgdata, want)
        except CrmError as e:
            if not restarted:
                raise
            server.start(pgdata, saved)        # back as it was: nothing half-done
            e.hint = (e.hint or "") + f"; the server runs again with {saved.describe()}"
            raise
        click.echo(f"started (pid {st.pid}) in {st.data_dir}")
    click.echo(_listening(st))
    click.echo(st.url())
    if st.listen:
        click.echo(f"for BI tools: crm360 db url --tcp --user LOGIN  ({st.tcp_url()})")


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
        click.echo(f"running (pid {st.pid}) data dir {st.data_dir}\n{_listening(st)}\n{st.url()}")
    else:
        state = "stopped" if st.initialized else "not initialised"
        kept = f"; starts with {st.settings.describe()}" if st.initialized else ""
        click.echo(f"{state}: data dir {st.data_dir}{kept}")
        sys.exit(3)


@db.command("url")
@click.option("--tcp", is_flag=True, help="the TCP URL, for BI tools and clients running as other OS "
              "users or elsewhere (needs `db start --listen`)")
@click.option("--user", "login", default=None, metavar="LOGIN",
              help="put this login in the URL (the password is never printed: the client asks for it)")
@handle_errors
def db_url(tcp, login):
    """Print the connection URL of the embedded server (starting it if it is stopped).

    Without --tcp: the Unix-socket URL (user postgres, the superuser, unless --user)."""
    st = server.status()
    if not st.initialized:
        from crm360.db import no_database_error

        raise no_database_error(st.data_dir)
    if not st.running:
        err_console.print(f"crm360: starting the embedded PostgreSQL server in {st.data_dir} ...",
                          markup=False, highlight=False)
        st = server.start(st.data_dir)
    if not tcp:
        click.echo(st.url(user=login or "postgres"))
        return
    if not st.listen:
        raise CrmError("the embedded server does not listen on TCP", sqlstate="55000",
                       hint="crm360 db start --listen 127.0.0.1 --port 5433 --restart "
                            "(or --listen '*' for other machines)")
    click.echo(st.tcp_url(user=login))


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
# Exit codes of `migrate --status` and `migrate --dry-run` (docs/operations.md):
EXIT_UP_TO_DATE = 0   # nothing to apply
EXIT_ERROR = 1        # an error (connection, privileges, server), printed as ERROR [SQLSTATE]
EXIT_PENDING = 3      # pending migrations, or repeatable files new or changed since last applied
EXIT_MODIFIED = 4     # an applied migration file was edited: migrate would refuse (CR900)


def _status_exit_code(st) -> int:
    if st.modified:
        return EXIT_MODIFIED
    return EXIT_UP_TO_DATE if st.up_to_date else EXIT_PENDING


@cli.command()
@dsn_option
@click.option("--status", "show_status", is_flag=True,
              help="read-only: applied, pending and modified migrations; repeatable files as counts. "
                   "Exit 0 up to date, 3 something to apply, 4 an applied file was modified, 1 error")
@click.option("--dry-run", is_flag=True,
              help="read-only: run the prechecks (server, extensions, privileges) and print what migrate "
                   "would run; exit codes as --status")
@click.option("--json", "as_json", is_flag=True, help="with --status or --dry-run: machine-readable JSON")
@click.option("--verbose", "-v", is_flag=True,
              help="with --status or --dry-run: list every repeatable file and show sha256s")
@click.option("--print-bootstrap", is_flag=True,
              help="print the SQL a superuser runs once so the installing role migrates without superuser "
                   "(does not connect)")
@click.option("--owner", default=None, metavar="ROLE",
              help="with --print-bootstrap: the installing role (default: the user of --dsn, $PGUSER, "
                   "or the OS user)")
@click.option("--break-lock", is_flag=True, help="remove a stale migration lock left by a crashed migrator")
@click.option("--lock-timeout", default=300, show_default=True, help="seconds to wait for another migrator")
@handle_errors
def migrate(dsn, show_status, dry_run, as_json, verbose, print_bootstrap, owner, break_lock, lock_timeout):
    """Apply pending numbered migrations, then re-apply functions, views and policies."""
    from crm360.migrator import Migrator

    if print_bootstrap:
        click.echo(_bootstrap_script(dsn, owner), nl=False)
        return
    m = Migrator(resolve_dsn(dsn), lock_timeout=lock_timeout, echo=click.echo)
    if break_lock:
        m.break_lock()
        click.echo("migration lock removed")
        return
    if show_status or dry_run:
        st = m.plan() if dry_run else m.inspect()
        if as_json:
            click.echo(json.dumps(_status_json(m, st, verbose, dry_run), indent=2))
        else:
            _print_status(m, st, verbose, dry_run)
        sys.exit(_status_exit_code(st))
    result = m.migrate()
    changed = result.repeatables_changed
    if not result.applied and not changed:
        click.echo(f"Database is up to date: no pending migrations; "
                   f"{len(result.repeatables)} repeatable files unchanged.")
    else:
        click.echo(f"Applied {len(result.applied)} migration(s); "
                   f"{len(changed)} of {len(result.repeatables)} repeatable files new or changed.")


def _bootstrap_script(dsn: str | None, owner: str | None) -> str:
    """The bootstrap SQL for the role and database named by --owner / the DSN, without connecting."""
    import getpass
    import os

    from psycopg.conninfo import conninfo_to_dict

    from crm360.migrator import Migrator

    params = conninfo_to_dict(dsn) if dsn else {}
    owner = owner or params.get("user") or os.environ.get("PGUSER") or getpass.getuser()
    database = params.get("dbname") or os.environ.get("PGDATABASE") or (params.get("user") if dsn else None)
    database = database or (owner if dsn else server.DB_NAME)
    return Migrator("").bootstrap_script(owner, database)


def _runs_as(m, info) -> str:
    return "the connecting role" if m.privileged(info.path) else "crm_owner"


def _status_json(m, st, verbose: bool, dry_run: bool) -> dict:
    counts = st.repeatable_counts()
    reps: dict = dict(counts)
    reps["changed_files"] = [r.name for r in st.repeatables if r.state == "changed"]
    reps["new_files"] = [r.name for r in st.repeatables if r.state == "new"]
    if verbose:
        reps["files"] = [{"name": r.name, "state": r.state, "sha256": r.sha256,
                          "recorded_sha256": r.recorded_sha256} for r in st.repeatables]
    out = {
        "database": st.database, "user": st.user, "up_to_date": st.up_to_date,
        "exit_code": _status_exit_code(st),
        "summary": {"applied": sum(1 for i in st.migrations if i.applied and not i.modified),
                    "pending": len(st.pending), "modified": len(st.modified)},
        "migrations": [{"id": i.id, "file": i.path.name, "state": i.state, "applied_at": i.applied_at,
                        "sha256": i.sha256, "recorded_sha256": i.recorded_sha256,
                        "rollback": i.has_rollback, "runs_as": _runs_as(m, i)} for i in st.migrations],
        "repeatables": reps,
    }
    if dry_run:
        out["dry_run"] = True
        out["would_refuse"] = [i.id for i in st.modified]
        out["would_apply"] = [] if st.modified else [i.id for i in st.pending]
        out["would_reapply_repeatables"] = 0 if st.modified else counts["total"]
    return out


def _print_status(m, st, verbose: bool, dry_run: bool) -> None:
    """Short plain lines (never truncated): one per numbered migration, repeatables as counts."""
    counts = st.repeatable_counts()
    n_applied = sum(1 for i in st.migrations if i.applied)
    click.echo(f"database {st.database} (as {st.user}): {n_applied} applied, {len(st.pending)} pending, "
               f"{len(st.modified)} modified")
    width = max((len(i.id) for i in st.migrations), default=10)
    for i in st.migrations:
        line = f"  {i.id:<{width}}  {i.state:<8}  {i.applied_at or '':<26}"
        if verbose:
            line += f"  sha256 {i.sha256[:16]}  rollback {'yes' if i.has_rollback else 'no'}"
        click.echo(line.rstrip())
    click.echo(f"repeatable files: {counts['total']} ({counts['unchanged']} unchanged, "
               f"{counts['changed']} changed, {counts['new']} new)"
               + ("" if verbose or not counts["total"] else "; --verbose lists them"))
    if verbose:
        rwidth = max((len(r.name) for r in st.repeatables), default=10)
        for r in st.repeatables:
            click.echo(f"  {r.name:<{rwidth}}  {r.state:<9}  sha256 {r.sha256[:16]}")
    if st.modified:
        click.echo(f"MODIFIED after being applied: {', '.join(i.path.name for i in st.modified)} — migrate "
                   "refuses (CR900): restore the file(s) and put the change in a new migration (exit 4)")
        return
    if dry_run:
        click.echo(f"dry run: prechecks passed for {st.user}; nothing has been changed")
        if st.pending:
            click.echo(f"migrate would apply {len(st.pending)} migration(s), each in its own transaction:")
            for i in st.pending:
                click.echo(f"  {i.path.name:<{width + 4}}  as {_runs_as(m, i)}")
        click.echo(f"migrate would re-apply all {counts['total']} repeatable files in one transaction "
                   f"({counts['changed']} changed, {counts['new']} new)")
    if st.up_to_date:
        click.echo("up to date (exit 0)")
    else:
        click.echo(f"to apply: {len(st.pending)} migration(s), {counts['changed'] + counts['new']} repeatable "
                   "file(s) new or changed — run `crm360 migrate` (exit 3)")


@cli.command()
@dsn_option
@click.option("--count", default=1, show_default=True, help="how many migrations to roll back")
@click.option("--all", "all_", is_flag=True, help="roll back every applied migration (needs --yes)")
@click.option("--yes", is_flag=True,
              help="confirm a rollback that drops crm360's schemas and all their data (--all, or one that "
                   "reaches 0001_foundation)")
@handle_errors
def rollback(dsn, count, all_, yes):
    """Roll back the most recently applied numbered migration(s).

    --all (or any rollback that reaches 0001_foundation) drops the schemas crm, crm_raw and
    crm_private with every row in them; without --yes it only says what it would drop and exits 2.
    """
    from crm360.migrator import Migrator

    m = Migrator(resolve_dsn(dsn), echo=click.echo)
    n = 10**6 if all_ else count
    if not yes:
        applied = [i for i in m.inspect().migrations if i.applied]
        applied.sort(key=lambda i: (i.applied_at or "", i.id), reverse=True)
        todo = applied[:n]
        if todo and (all_ or any(i.id == "0001_foundation" for i in todo)):
            what = ("rollback --all" if all_ else f"rollback --count {count}")
            err_console.print(
                f"refusing without --yes: {what} would roll back {len(todo)} migration(s) "
                f"({', '.join(i.id for i in todo) or 'none applied'})"
                + (" and DROP the schemas crm, crm_raw and crm_private with every table, view, function and "
                   "row in them (all CRM data; 0001_foundation.rollback.sql). The roles and the extensions "
                   "stay." if any(i.id == "0001_foundation" for i in todo) else ".")
                + f"\nRun `crm360 rollback {'--all' if all_ else f'--count {count}'} --yes` to do it.",
                style="red", markup=False, highlight=False, soft_wrap=True)
            sys.exit(2)
    done = m.rollback(n)
    click.echo(f"rolled back {len(done)} migration(s)" + (": " + ", ".join(done) if done else ""))
    if done:
        click.echo("run `crm360 migrate` to re-apply; repeatable files are re-applied then.")


# ------------------------------------------------------------------------ demo
@cli.command()
@dsn_option
@click.option("--seed", default=42, show_default=True, help="seed of the demo world (same seed, same files)")
@click.option("--accounts", default=200, show_default=True, help="number of accounts to generate")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD", help="the demo's today (default: today)")
@click.option("--force", is_flag=True,
              help="write the demo into a database that holds other data (see docs/connecting.md)")
@handle_errors
def demo(dsn, seed, accounts, as_of, force):
    """Start, migrate, write the demo world as native export files (./.crm360/demo/SEED), ingest,
    reconcile, refresh, and print the 360 of one account, the data-quality report and the digest.

    Without --dsn/DATABASE_URL it creates the embedded server here when there is none. It
    refuses (exit 1, nothing written) a database that holds anything but crm360 and its demo
    data — tables of other schemas, or crm360 data the demo did not load — unless --force."""
    import datetime as dt

    from crm360 import demo as demo_mod
    from crm360.db import connect

    url = resolve_dsn(dsn, create=True)
    if not force:
        with connect(url) as conn:
            why = demo_mod.foreign_reason(conn)
        if why:
            raise CrmError("this database is not empty and not a crm360 demo database: "
                           "the demo would mix invented accounts into it", sqlstate="55000", detail=why,
                           hint="point --dsn/DATABASE_URL at an empty database (createdb crm360_demo), unset "
                                "DATABASE_URL to use the embedded server, or add --force")
    demo_mod.run(url, console, seed=seed, accounts=accounts,
                 as_of=dt.date.fromisoformat(as_of) if as_of else None,
                 progress=_phases(sys.stderr.isatty()))


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
                fail(CrmError(f"{len(e.candidates)} accounts match {name_or_id!r}", sqlstate="21000",
                              hint="give the account id or CRM id of one of the candidates", exit_code=2,
                              extra={"candidates": e.candidates}), True)
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
    raise CrmError(result.message,
                   hint="check the webhook URL; --tries/--backoff/--timeout tune the retries")


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


class InputFile(click.Path):
    """An input file of `crm360 ingest`: it must exist and open for reading (or be - for stdin),
    checked before anything is recorded: a usage error (exit 2) naming the path, no sync run."""

    def __init__(self):
        super().__init__(exists=True, dir_okay=False, readable=True, allow_dash=True)

    def convert(self, value, param, ctx):
        value = super().convert(value, param, ctx)
        if value != "-":
            try:
                with open(value, "rb") as f:
                    f.read(1)
            except OSError as e:
                self.fail(f"{click.format_filename(value)!r}: {e.strerror or e}", param, ctx)
        return value


class Phases:
    """Progress by phase on a terminal (stderr): each phase by name (land FILE, reconcile
    SOURCE, retry orphans, refresh read models) with its record count when it has one and its
    elapsed time; finished phases are ticked. Does nothing when disabled (not a TTY, --json).
    `phase(name)` starts a phase (ending the previous one), `advance(n)` counts records."""

    KEEP = 6

    def __init__(self, enabled: bool, unit: str = "records"):
        self.enabled = enabled
        self.unit = unit
        self._p = None
        self._task = None

    def __enter__(self) -> Phases:
        if self.enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.table import Column

            self._p = Progress(SpinnerColumn(finished_text="[green]✓[/green]"),
                               TextColumn("{task.description}", table_column=Column(
                                   no_wrap=True, overflow="ellipsis", max_width=44)),
                               TextColumn("{task.fields[count]}"),
                               TimeElapsedColumn(), console=err_console, transient=True)
            self._p.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._finish()
        if self._p is not None:
            self._p.__exit__(*exc)
            self._p = None

    def phase(self, name: str) -> None:
        if self._p is None:
            return
        self._finish()
        for old in self._p.task_ids[:-(self.KEEP - 1)]:     # the last few phases stay in view
            self._p.remove_task(old)
        self._task = self._p.add_task(name, total=None, count="")

    def advance(self, n: int) -> None:
        if self._p is None or self._task is None:
            return
        self._p.advance(self._task, n)
        done = int(self._p.tasks[-1].completed)
        self._p.update(self._task, count=f"{done:,} {self.unit}")

    def _finish(self) -> None:
        if self._p is not None and self._task is not None:
            done = self._p.tasks[-1].completed or 1
            self._p.update(self._task, total=done, completed=done)
            self._p.stop_task(self._task)
            self._task = None


def _phases(enabled: bool) -> Phases:
    return Phases(enabled)


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
@click.argument("files", nargs=-1, required=True, type=InputFile())
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
    with their reason, the rest applied); 1 the run failed (a file cannot be parsed: CR040,
    or a database error); 2 usage error, e.g. a FILE that does not exist or cannot be opened
    (checked first: nothing is recorded, no sync run).
    """
    import json as json_mod

    from crm360.connectors import ingest_files

    url = resolve_dsn(dsn)
    with _phases(not as_json and sys.stderr.isatty()) as ph:
        summary = ingest_files(url, source, object_name, list(files), full_refresh=full_refresh,
                               reconcile=not no_reconcile, refresh=not no_refresh,
                               on_progress=ph.advance, on_phase=ph.phase)
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
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="sessions at once: accounts, people and users first, then each source's children and "
                   "activities in parallel (crm.reconcile_plan)")
@click.option("--json", "as_json", is_flag=True, help="print the counts as JSON")
@handle_errors
def reconcile_cmd(dsn, source, no_orphans, no_refresh, jobs, as_json):
    """Apply pending raw records to the graph (crm.reconcile), retry orphans, then refresh the
    read models that became stale (crm.refresh_read_models). With --jobs N, the steps of
    crm.reconcile_plan: identity first, then the sources' other objects N at a time."""
    import json as json_mod

    from crm360.connectors import reconcile

    url = resolve_dsn(dsn)
    with _phases(not as_json and sys.stderr.isatty()) as ph:
        out = reconcile(url, source, orphans=not no_orphans, refresh=not no_refresh, on_phase=ph.phase, jobs=jobs)
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

    with connect(resolve_dsn(dsn)) as conn, _phases(not as_json and sys.stderr.isatty()) as ph:
        ph.phase("refresh read models")
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
    """Create and list the login roles of crm360 users (docs/security.md, "Logins")."""


def _kinds_help() -> str:
    return "; ".join(f"{n}: {k.statement_timeout} / {k.idle_in_transaction_session_timeout} / {k.lock_timeout}"
                     for n, k in KINDS.items())


def _read_password(password_stdin: bool, password_env: str | None) -> str | None:
    """The password from the first line of stdin or from an environment variable; None when
    neither is asked for. Never from the command line (it would show in ps and shell history)."""
    import os

    if password_stdin and password_env:
        raise click.UsageError("give the password with --password-stdin or --password-env, not both")
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            raise click.UsageError(f"environment variable {password_env} is not set")
        return password
    return None


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
    password = _read_password(password_stdin, password_env)
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


@user.command("password")
@click.argument("login")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
@click.option("--password-env", metavar="VAR", default=None,
              help="read the password from environment variable VAR (never on the command line)")
@click.option("--none", "remove", is_flag=True, help="remove the password (the login cannot log in over TCP then)")
@click.option("--json", "as_json", is_flag=True, help="print what was done as JSON")
@dsn_option
@handle_errors
def user_password(login, password_stdin, password_env, remove, as_json, dsn):
    """Set the password of crm360 login LOGIN (hashed with SCRAM-SHA-256 on this machine: the
    server and its logs never see it). Logins need one to connect over TCP, e.g. a BI tool
    through `crm360 db start --listen` (docs/connecting.md)."""
    from crm360 import users
    from crm360.db import connect

    if remove and (password_stdin or password_env):
        raise click.UsageError("--none removes the password: do not give one")
    password = None if remove else _read_password(password_stdin, password_env)
    if password is None and not remove:
        raise click.UsageError("give the password with --password-stdin or --password-env VAR (or --none)")
    with connect(resolve_dsn(dsn), autocommit=True) as conn, conn.transaction():
        done = users.set_password(conn, login, password)
    if as_json:
        click.echo(json.dumps(done, indent=2))
    else:
        click.echo(f"{'set' if done['password'] else 'removed'} the password of login {login}")


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


# --------------------------------------------------------------------------- embed, mcp, search
@cli.command()
@click.option("--provider", type=click.Choice(["wordllama", "openai"]), default="wordllama", show_default=True,
              help="wordllama: offline, 256-d, weights in the wheel; openai: an OpenAI-compatible HTTP endpoint")
@click.option("--base-url", default=None, metavar="URL", envvar="OPENAI_BASE_URL", show_envvar=True,
              help="--provider openai: the API base, e.g. https://api.openai.com/v1 (POST URL/embeddings)")
@click.option("--model", default=None, metavar="NAME",
              help="--provider openai: the model (default text-embedding-3-small)")
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(1, 10000),
              help="chunks per provider call and per transaction")
@click.option("--timeout", default=60.0, show_default=True, help="--provider openai: seconds per HTTP request")
@click.option("--json", "as_json", is_flag=True, help="print the run summary as JSON")
@dsn_option
@handle_errors
def embed(provider, base_url, model, batch, timeout, as_json, dsn):
    """Embed every text chunk that has no embedding for the provider's model yet
    (crm_private.chunks_to_embed -> provider -> crm_private.store_embeddings), BATCH at a time.
    Incremental: a second run embeds 0. The model name is recorded per chunk."""
    import json as json_mod

    from crm360 import embeddings
    from crm360.db import connect

    if provider == "wordllama" and (base_url and not click.get_current_context().get_parameter_source(
            "base_url").name == "ENVIRONMENT"):
        raise click.UsageError("--base-url is for --provider openai")
    prov = embeddings.get_provider(provider, base_url=base_url if provider == "openai" else None,
                                   model=model, timeout=timeout)
    with connect(resolve_dsn(dsn), autocommit=True) as conn, \
            _phases(not as_json and sys.stderr.isatty()) as ph:
        ph.unit = "chunks"
        ph.phase(f"embed with {prov.model}")
        summary = embeddings.embed_pending(conn, prov, batch=batch, on_progress=ph.advance)
    if as_json:
        click.echo(json_mod.dumps(summary, indent=2))
    elif summary["embedded"] == 0:
        click.echo(f"nothing to embed: every chunk already has a {summary['model']} embedding")
    else:
        click.echo(f"embedded {summary['embedded']:,} chunk(s) with {summary['model']} "
                   f"({summary['dim']}-d) in {summary['seconds']:.1f} s "
                   f"({summary['chunks_per_second']:,.0f} chunks/s, {summary['batches']} batch(es))")


@cli.command("mcp")
@click.option("--as", "as_user", default=None, metavar="USER",
              help="answer as this CRM user (id or email): SET LOCAL ROLE crm_service + crm.act_as in each "
                   "transaction; without it, as the DSN's login role")
@click.option("--account", default=None, metavar="NAME_OR_ID",
              help="the account the session starts on (the switch_account tool changes it)")
@click.option("--lock", is_flag=True, help="with --account: the session can never switch to another account")
@dsn_option
@handle_errors
def mcp_cmd(as_user, account, lock, dsn):
    """Serve the Account assistant's tools over MCP (stdio) for an AI client: resolve_account,
    switch_account, get_account_summary, search_in_account, recent_activity, timeline — read-only,
    scoped to one account per session, with the identity of the connecting user.
    See docs/assistant.md for the client configuration."""
    try:
        import mcp  # noqa: F401
    except ImportError as e:
        raise CrmError("crm360 mcp needs the MCP SDK, which is not installed",
                       hint="pip install 'crm360[mcp]'") from e
    from crm360 import assistant

    assistant.serve(resolve_dsn(dsn, quiet=True), as_user=as_user, account=account, locked=lock)


def _clip(text, width: int) -> str:
    t = " ".join(str(text or "").split())
    return t if len(t) <= width else t[: max(0, width - 1)] + "…"


@cli.command()
@click.argument("query")
@click.option("--account", default=None, metavar="NAME_OR_ID",
              help="search only this account's subgraph (crm.search_in_account, hybrid when embeddings exist)")
@click.option("--type", "types", multiple=True, metavar="TYPE",
              help="without --account: only these node types (repeatable), e.g. --type ticket")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--as", "as_user", default=None, metavar="USER",
              help="search as this CRM user (id or email): SET LOCAL ROLE crm_service + crm.act_as")
@click.option("--json", "as_json", is_flag=True, help="print JSON (for scripts) instead of a table")
@dsn_option
@handle_errors
def search(query, account, types, limit, as_user, as_json, dsn):
    """Search accounts, contacts, deals, tickets and notes (crm.search), or within one account
    (--account: crm.search_in_account, text + vector when the chunks have embeddings of the
    default model). Only what the caller (or --as USER) may see."""
    import json as json_mod

    from crm360 import account360, embeddings
    from crm360.db import connect

    if account and types:
        raise click.UsageError("--type is for the search across accounts (without --account)")
    mode = "text"
    match = None
    with connect(resolve_dsn(dsn)) as conn, conn.transaction():
        if as_user:
            account360.act_as(conn, as_user)
        if account:
            try:
                match = account360.resolve(conn, account)
            except account360.Ambiguous as e:
                if as_json:
                    fail(CrmError(f"{len(e.candidates)} accounts match {account!r}", sqlstate="21000",
                                  hint="give the account id or CRM id of one of the candidates", exit_code=2,
                                  extra={"candidates": e.candidates}), True)
                account360.render_candidates(err_console, e)
                sys.exit(2)
            emb = None
            prov = embeddings.default_provider() if embeddings.wordllama_available() else None
            if prov is not None and embeddings.account_has_embeddings(conn, prov.model, match["account_id"]):
                embeddings.register(conn)
                emb = embeddings.query_vector(prov, query)
                mode = f"hybrid ({prov.model})"
            cur = conn.execute("SELECT * FROM crm.search_in_account(%s, %s, %s, %s)",
                               (match["account_id"], query, emb, limit))
        else:
            cur = conn.execute("SELECT * FROM crm.search(%s, %s, %s)", (query, list(types) or None, limit))
        cols = [d.name for d in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    for r in rows:
        r.pop("embedding", None)
    if as_json:
        out = {"query": query, "mode": mode, "results": rows}
        if match:
            out["account"] = {k: match[k] for k in ("account_id", "name", "domain", "crm_id")}
        click.echo(json_mod.dumps(out, indent=2, default=str))
        return
    _print_search(query, rows, match, mode)


def _print_search(query: str, rows: list[dict], match: dict | None, mode: str) -> None:
    """One block per hit, fitting 80 columns: kind · title · when, then a snippet line and the
    citation (source record)."""
    where = f" in {match['name']}" if match else ""
    if not rows:
        click.echo(f"no results for {query!r}{where}")
        return
    console.print(f"{len(rows)} result(s) for {query!r}{where}", style="bold", markup=False, highlight=False)
    console.print(f"search: {mode}", style="dim", markup=False, highlight=False)
    width = min(console.width or 80, 100)

    def pick(r, *names):
        for n in names:
            if r.get(n) not in (None, ""):
                return r[n]
        return None

    for i, r in enumerate(rows, 1):
        kind = pick(r, "kind", "node_type", "type") or ""
        title = pick(r, "title", "label", "name", "subject") or ""
        when = pick(r, "occurred_at", "updated_at")
        score = pick(r, "score", "rank")
        head = f"{i:>2}. [{kind}] " if kind else f"{i:>2}. "
        tail = (f"  {str(when)[:10]}" if when else "") + (f"  {float(score):.2f}" if score is not None else "")
        console.print(head + _clip(title, max(10, width - len(head) - len(tail))) + tail,
                      markup=False, highlight=False)
        body = pick(r, "snippet", "headline", "body", "summary", "text")
        if body:
            # crm.search_in_account marks the matched words **like this**: bold on a terminal
            import re

            from rich.markup import escape

            clipped = _clip(body, width - 4 + 4 * str(body).count("**") // 2)
            console.print("    " + re.sub(r"\*\*(.+?)\*\*", r"[bold]\1[/bold]", escape(clipped)), highlight=False)
        src = pick(r, "source")
        rec = pick(r, "source_record", "external_id")
        acct = pick(r, "account_name")
        ref = " · ".join(x for x in (
            str(acct) if acct and not match and acct != title else None,
            f"{src} {rec}" if src or rec else None,
            f"node {pick(r, 'node_id', 'id')}" if pick(r, "node_id", "id") else None) if x)
        if ref:
            console.print("    " + _clip(ref, width - 4), style="dim", markup=False, highlight=False)


def main():
    cli(prog_name="crm360")


if __name__ == "__main__":
    main()
