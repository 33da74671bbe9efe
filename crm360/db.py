"""Connection resolution and error rendering shared by every command.

Order: an explicit `--dsn`, else `$DATABASE_URL`, else the embedded server (started if
it is not running — and we say so on stderr). Only `crm360 db start` and `crm360 demo`
create a new embedded server; every other command refuses when there is none
(`NoDatabase`), saying where it looked.

Every connection crm360's own code opens (`connect`) works through a transaction-mode
pooler (pgbouncer, DESIGN §9): no server-side prepared statements (psycopg prepares a
query on its fifth execution by default; through pgbouncer the next transaction may run on
another server session, where `_pg3_0` does not exist or already exists), and no session
state — settings are `SET LOCAL`, temporary tables `ON COMMIT DROP`, locks transaction-level.
See docs/operations-pooling-replicas.md.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import quote, urlencode

import psycopg
from psycopg.conninfo import conninfo_to_dict


class CrmError(Exception):
    """An error to show the user: message, optional SQLSTATE, detail and hint."""

    def __init__(self, message: str, *, sqlstate: str | None = None, detail: str | None = None,
                 hint: str | None = None, exit_code: int = 1, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate
        self.detail = detail
        self.hint = hint
        self.exit_code = exit_code      # what the CLI exits with (1; 2 for usage-like errors)
        self.extra = extra or {}        # more fields of the JSON error object (e.g. candidates)

    def as_dict(self) -> dict:
        """The `error` object of the CLI's JSON errors: {"error": as_dict()}."""
        return {"sqlstate": self.sqlstate, "message": self.message, "detail": self.detail,
                "hint": self.hint, **self.extra}

    @classmethod
    def from_psycopg(cls, e: psycopg.Error) -> CrmError:
        diag = getattr(e, "diag", None)
        msg = (diag.message_primary if diag and diag.message_primary else str(e)).strip()
        return cls(msg, sqlstate=getattr(e, "sqlstate", None),
                   detail=diag.message_detail if diag else None,
                   hint=diag.message_hint if diag else None)

    def render(self) -> str:
        head = f"ERROR [{self.sqlstate}]: {self.message}" if self.sqlstate else f"ERROR: {self.message}"
        lines = [head]
        if self.detail:
            lines.append(f"DETAIL: {self.detail}")
        if self.hint:
            lines.append(f"HINT: {self.hint}")
        return "\n".join(lines)


def no_database_error(data_dir) -> CrmError:
    where = ("$CRM360_DATA_DIR" if os.environ.get("CRM360_DATA_DIR") else
             "./.crm360/pgdata: the default, relative to the current directory")
    return CrmError(
        "no database: no --dsn, no DATABASE_URL, and no embedded server in "
        f"{data_dir} ({where})",
        hint="run `crm360 demo` (creates the embedded server here and loads the demo) or "
             "`crm360 db start` (an empty one); or cd to the directory holding .crm360/, set "
             "CRM360_DATA_DIR to an existing data dir, or pass --dsn / set DATABASE_URL")


def resolve_dsn(dsn: str | None = None, *, quiet: bool = False, create: bool = False) -> str:
    """Return the DSN to use, starting the embedded server when none is configured. A data
    dir that was never initialised is created only with `create` (db start, demo); otherwise
    CrmError says where we looked and how to fix it."""
    if dsn:
        return dsn
    env = os.environ.get("DATABASE_URL")
    if env:
        return env
    from crm360 import server

    st = server.status()
    if not st.initialized and not create:
        raise no_database_error(st.data_dir)
    if not st.running:
        if not quiet:
            print(f"crm360: starting the embedded PostgreSQL server in {st.data_dir} ...", file=sys.stderr)
        st = server.start()
    else:
        server._ensure_database(st)
    return st.url()


def connect(dsn: str, **kwargs) -> psycopg.Connection:
    """psycopg.connect(dsn) that is safe through a transaction-mode pooler: server-side
    prepared statements are off unless the caller passes `prepare_threshold` itself.
    (crm360's commands run each statement a handful of times: preparing them gains nothing.)"""
    kwargs.setdefault("prepare_threshold", None)
    try:
        return psycopg.connect(dsn, **kwargs)
    except psycopg.OperationalError as e:
        raise CrmError(f"cannot connect to the database: {str(e).strip()}",
                       hint="check --dsn / DATABASE_URL, or run `crm360 db start`") from e


def to_yoyo_url(dsn: str) -> str:
    """Turn any libpq DSN (URL or key=value) into a yoyo URL using psycopg 3."""
    params = conninfo_to_dict(dsn)
    user = params.pop("user", None) or os.environ.get("PGUSER")
    password = params.pop("password", None)
    host = params.pop("host", None)
    port = params.pop("port", None)
    dbname = params.pop("dbname", None) or os.environ.get("PGDATABASE") or user or ""
    netloc = ""
    if user:
        netloc = quote(user, safe="")
        if password:
            netloc += ":" + quote(password, safe="")
        netloc += "@"
    args = {k: str(v) for k, v in params.items()}
    if host and (host.startswith("/") or "," in host):
        args["host"] = host
        if port:
            args["port"] = str(port)
    elif host:
        netloc += host + (f":{port}" if port else "")
    elif port:
        args["port"] = str(port)
    query = ("?" + urlencode(args)) if args else ""
    return f"postgresql+psycopg://{netloc}/{quote(dbname, safe='')}{query}"
