"""Connectors: parse each source's native export and land it in crm_raw — nothing more.

`ingest_files(dsn, source, object, paths)` opens a sync run (`crm_raw.start_run`), streams
every file through `COPY` into a temporary table (`pg_temp.crm_stage`), lands it with ONE
set-based `crm_raw.land_staged` call per file (COPY FROM is refused on RLS tables), then —
unless told not to — runs `crm.reconcile(source)` and `crm.reconcile_orphans()`, closes
the run (`crm_raw.finish_run`) and refreshes the read models the run made stale
(`crm.refresh_read_models()`, CONCURRENTLY: readers are never blocked). All decisions about
what the data means are SQL.

A file that cannot be read at all fails the run (sync_runs.status = failed, the error
recorded, nothing of the run landed) and raises CrmError with SQLSTATE CR040.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg.types.json import Jsonb

from crm360.connectors.formats import FileContext, SourceFileError, display_name, read_records
from crm360.db import CrmError, connect

__all__ = ["ingest_files", "reconcile", "refresh_read_models", "SourceFileError"]

# ON COMMIT DROP: nothing of a load outlives its transaction (through a transaction-mode pooler
# the next transaction may run on another server session, and a leftover temporary table makes
# crm.act_as refuse the pooled connection, CR034).
STAGE_DDL = "CREATE TEMP TABLE IF NOT EXISTS crm_stage (ord bigint, payload text, error text) ON COMMIT DROP"
RECONCILE_COLUMNS = ("source", "object", "applied", "rejected", "orphans", "skipped", "removed")
REFRESH_COLUMNS = ("read_model", "public_view", "refreshed", "as_of", "duration_ms", "reason")
# Landing and reconciliation work in temporary tables (pg_temp.crm_stage, crm_private.rc_prepare).
# With PostgreSQL's default 8 MB of temp buffers a batch of ~30k records spills them to disk on
# every pass (measured: reconcile 17% slower). temp_buffers can only be changed before the
# session's first temporary table; after that PostgreSQL refuses any other value (22023).
TEMP_BUFFERS = "256MB"
# Raised for the current transaction only (is_local = true), first thing in every transaction
# that creates temporary tables — never at session level, which a transaction-mode pooler
# cannot keep (the next transaction may run on another server session) and which fails on a
# server session whose temporary buffers are already in use at another size. There it is
# skipped (the exception block rolls the attempt back): the load runs with the buffers the
# session has. The first temporary table of a fresh server session fixes its buffers at
# 256 MB for the session's life. A pooled loader can set it per login instead:
# ALTER ROLE loader SET temp_buffers = '256MB' (applies to every server session of the login).
RAISE_TEMP_BUFFERS = f"""DO $tb$
BEGIN
    IF pg_catalog.pg_size_bytes(pg_catalog.current_setting('temp_buffers'))
       < pg_catalog.pg_size_bytes('{TEMP_BUFFERS}') THEN
        PERFORM pg_catalog.set_config('temp_buffers', '{TEMP_BUFFERS}', true);
    END IF;
EXCEPTION WHEN invalid_parameter_value THEN
    NULL;   -- this server session's temporary buffers are already allocated
END
$tb$"""


def _connect_for_load(dsn: str) -> psycopg.Connection:
    return connect(dsn)


def _land_file(conn: psycopg.Connection, run_id: int, source: str, obj: str, path: str,
               on_progress: Callable[[int], None] | None) -> dict:
    ctx = FileContext(display_name(path))
    conn.execute("TRUNCATE pg_temp.crm_stage")
    n = 0
    with conn.cursor() as cur, cur.copy("COPY pg_temp.crm_stage (ord, payload, error) FROM STDIN") as cp:
        for payload, error in read_records(path, source, obj, ctx):
            n += 1
            cp.write_row((n, payload, error))
            if on_progress and n % 5000 == 0:
                on_progress(5000)
    if on_progress:
        on_progress(n % 5000)
    row = conn.execute("SELECT * FROM crm_raw.land_staged(%s, %s)", (run_id, Jsonb(ctx.as_context()))).fetchone()
    return {"file": ctx.name, "format": ctx.format, "received": row[0], "landed": row[1],
            "duplicates": row[2], "rejected": row[3]}


def ingest_files(dsn: str, source: str, object: str, paths: Sequence[str], *,  # noqa: A002 - the documented name
                 full_refresh: bool | None = None, reconcile: bool = True,
                 retry_orphans: bool | None = None, refresh: bool = True,
                 on_progress: Callable[[int], None] | None = None,
                 on_phase: Callable[[str], None] | None = None) -> dict:
    """Land `paths` (files, `.gz`, or `-` for stdin) as one sync run of `source`/`object`.

    Returns the run summary (crm_raw.finish_run) plus `files` (per-file landing counts) and
    `reconcile` (per source object counts). full_refresh None = the object's default
    (CLM and Stripe: full refresh). `retry_orphans` None = retry every orphan only after a
    Salesforce Account load that landed something (new canonical accounts are what orphans wait for; seed 000:
    "reconcile orphans nightly" — `crm360 reconcile` retries them too). With `refresh` (and
    reconcile), the read models the run made stale are refreshed after the run is closed:
    `read_models` lists them (`{"error": ...}` when the refresh could not run — the data is
    in, `crm360 refresh` retries). Raises CrmError (CR040) when a file cannot be read.
    `on_phase(name)` is told when each phase starts (land FILE, reconcile SOURCE, retry
    orphans, refresh read models); `on_progress(n)` counts the records landed.
    """
    phase = on_phase or (lambda name: None)
    if not paths:
        raise CrmError("no input files", sqlstate="22023", hint="pass one or more files, or - for stdin")
    with _connect_for_load(dsn) as conn:
        run_id = conn.execute("SELECT crm_raw.start_run(%s, %s, %s, %s)",
                              (source, object, full_refresh, [display_name(p) for p in paths])).fetchone()[0]
        conn.commit()
        files = []
        try:
            conn.execute(RAISE_TEMP_BUFFERS)
            conn.execute(STAGE_DDL)
            for path in paths:
                phase(f"land {display_name(path)}")
                files.append(_land_file(conn, run_id, source, object, path, on_progress))
            conn.commit()
        except BaseException as e:
            conn.rollback()
            message = str(e) if isinstance(e, SourceFileError) else f"{type(e).__name__}: {e}"
            conn.execute("SELECT crm_raw.finish_run(%s, %s)", (run_id, message))
            conn.commit()
            if isinstance(e, SourceFileError):
                raise CrmError(message, sqlstate="CR040", detail=f"sync run {run_id} failed; nothing of it was landed",
                               hint="check the path, compression and format; see crm_raw.sync_runs.error") from e
            raise
        rec = []
        if reconcile:
            phase(f"reconcile {source}")
            conn.execute(RAISE_TEMP_BUFFERS)
            rec = conn.execute("SELECT * FROM crm.reconcile(%s)", (source,)).fetchall()
            # new canonical accounts are what orphans wait for: a replay (nothing landed) brings none
            if retry_orphans or (retry_orphans is None and (source, object) == ("salesforce", "Account")
                                 and any(f["landed"] for f in files)):
                phase("retry orphans")
                rec += conn.execute("SELECT * FROM crm.reconcile_orphans()").fetchall()
            conn.commit()
        summary = conn.execute("SELECT crm_raw.finish_run(%s)", (run_id,)).fetchone()[0]
        conn.commit()
        if reconcile and refresh:
            phase("refresh read models")
        summary["read_models"] = refresh_read_models(conn) if reconcile and refresh else []
    summary["files"] = files
    summary["reconcile"] = [dict(zip(RECONCILE_COLUMNS, r, strict=True)) for r in rec]
    return summary


def refresh_read_models(conn: psycopg.Connection, *, all_: bool = False, max_age: str | None = None) -> list[dict]:
    """crm.refresh_read_models() in its own transaction: one dict per read model. A failure
    (another refresh holding the view past lock_timeout, a missing privilege) is returned as
    `[{"error": ..., "sqlstate": ...}]`, never raised: the data is applied either way."""
    try:
        rows = conn.execute("SELECT * FROM crm.refresh_read_models(%s, %s::interval)", (all_, max_age)).fetchall()
        conn.commit()
    except psycopg.Error as e:
        conn.rollback()
        return [{"error": str(e).splitlines()[0] if str(e) else type(e).__name__, "sqlstate": e.sqlstate}]
    return [dict(zip(REFRESH_COLUMNS, r, strict=True)) for r in rows]


RETRY_SQLSTATES = ("40P01", "40001")   # deadlock detected, serialization failure


def _reconcile_call(dsn: str, source: str | None, objects: list[str] | None, attempts: int = 3) -> list:
    """One crm.reconcile(source, objects) in its own session and transaction (committed). A
    call chosen as a deadlock victim (or failing to serialize) was rolled back whole: it is
    run again, up to `attempts` times (what it applies is idempotent)."""
    for attempt in range(1, attempts + 1):
        try:
            with _connect_for_load(dsn) as conn:
                conn.execute(RAISE_TEMP_BUFFERS)
                rows = conn.execute("SELECT * FROM crm.reconcile(%s, %s)", (source, objects)).fetchall()
                conn.commit()
            return rows
        except psycopg.Error as e:
            if e.sqlstate not in RETRY_SQLSTATES or attempt == attempts:
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def reconcile(dsn: str, source: str | None = None, *, orphans: bool = True, refresh: bool = True,
              on_phase: Callable[[str], None] | None = None, jobs: int = 1) -> dict:
    """Run crm.reconcile(source) (and crm.reconcile_orphans()), then refresh the read models
    that became stale. Returns {"reconcile": per source object counts, "read_models": ...}.
    `on_phase(name)` is told when each phase starts.

    jobs > 1: the steps of crm.reconcile_plan(source) instead of one call — step 1 (accounts,
    people, users) in one session, then each source's children and activities in up to `jobs`
    sessions at once (each call commits; the server decides what may run together). A failed
    call stops before the next step and is raised once the others of its step have finished
    (what they applied stays applied: a re-run applies the rest)."""
    if jobs < 1:
        raise CrmError(f"jobs must be at least 1 (got {jobs})", sqlstate="22023", hint="e.g. --jobs 2")
    phase = on_phase or (lambda name: None)
    rows: list = []
    plan: list = []
    if jobs > 1:
        with _connect_for_load(dsn) as conn:
            plan = conn.execute("SELECT step, source, objects FROM crm.reconcile_plan(%s)", (source,)).fetchall()
        for step in sorted({p[0] for p in plan}):
            calls = [(src, objs) for st, src, objs in plan if st == step]   # largest first (the plan's order)
            phase(f"reconcile step {step}: " + ", ".join(src or "identity" for src, _ in calls))
            with ThreadPoolExecutor(max_workers=min(jobs, len(calls))) as pool:
                futures = [pool.submit(_reconcile_call, dsn, src, objs) for src, objs in calls]
                errors = []
                for f in futures:
                    try:
                        rows += f.result()
                    except psycopg.Error as e:
                        errors.append(e)
            if errors:
                raise errors[0]
    with _connect_for_load(dsn) as conn:
        conn.execute(RAISE_TEMP_BUFFERS)
        if not plan:
            # one call (also: a source the plan does not list, so that crm.reconcile says why)
            phase(f"reconcile {source or 'every source'}")
            rows = conn.execute("SELECT * FROM crm.reconcile(%s)", (source,)).fetchall()
        if orphans:
            phase("retry orphans")
            rows += conn.execute("SELECT * FROM crm.reconcile_orphans()").fetchall()
        conn.commit()
        if refresh:
            phase("refresh read models")
        read_models = refresh_read_models(conn) if refresh else []
    return {"reconcile": [dict(zip(RECONCILE_COLUMNS, r, strict=True)) for r in rows], "read_models": read_models}


