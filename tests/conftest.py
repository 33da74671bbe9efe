"""Test harness: a real PostgreSQL for every test, never a mock.

* Session: the embedded server (own data dir under .crm360/test-pgdata, or
  $CRM360_TEST_DATA_DIR), or the server in $DATABASE_URL.
* Session: a template database migrated once through the real Migrator code path.
* Per test: a fresh database cloned from the template (pytest-postgresql's
  DatabaseJanitor, noproc), dropped afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pytest_postgresql.janitor import DatabaseJanitor

from crm360.migrator import Migrator, sql_dir

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    """Connection parameters of the test server (superuser)."""

    params: dict

    def dsn(self, dbname: str, **overrides) -> str:
        p = dict(self.params)
        p["dbname"] = dbname
        p.update(overrides)
        return make_conninfo(**p)

    def janitor(self, dbname: str, template: str | None = None, as_template: bool = False) -> DatabaseJanitor:
        return DatabaseJanitor(
            user=self.params.get("user", "postgres"), host=self.params.get("host", "localhost"),
            port=self.params.get("port", 5432), password=self.params.get("password"),
            dbname=dbname, template_dbname=template, as_template=as_template)



@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    url = os.environ.get("DATABASE_URL")
    if url:
        params = conninfo_to_dict(url)
        params.setdefault("dbname", "postgres")
        yield Server(params)
        return
    from crm360 import server as embedded

    data = Path(os.environ.get("CRM360_TEST_DATA_DIR", ROOT / ".crm360" / "test-pgdata")).resolve()
    st = embedded.start(data)
    yield Server({"user": "postgres", "host": str(st.socket_dir), "port": st.port or 5432,
                  "dbname": "postgres"})
    if not os.environ.get("CRM360_KEEP_TEST_SERVER"):
        embedded.stop(data)


def _sql_fingerprint() -> str:
    h = hashlib.sha256()
    for p in sorted(sql_dir().rglob("*.sql")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:10]


@pytest.fixture(scope="session")
def template_db(server: Server) -> Iterator[str]:
    name = f"crm360_tmpl_{_sql_fingerprint()}_{os.getpid()}"
    janitor = server.janitor(name, as_template=True)
    with contextlib.suppress(Exception):
        janitor.drop()
    janitor.init()
    Migrator(server.dsn(name), echo=lambda s: None).migrate()
    yield name
    janitor.drop()


@contextlib.contextmanager
def _fresh_db(server: Server, template_db: str) -> Iterator[str]:
    name = f"crm360_t_{uuid.uuid4().hex[:12]}"
    janitor = server.janitor(name, template=template_db)
    janitor.init()
    try:
        yield server.dsn(name)
    finally:
        janitor.drop()


@pytest.fixture
def db(server: Server, template_db: str) -> Iterator[str]:
    """DSN of a fresh, fully migrated database for this test."""
    with _fresh_db(server, template_db) as dsn:
        yield dsn


@pytest.fixture
def db2(server: Server, template_db: str) -> Iterator[str]:
    """A second fresh, fully migrated database (to compare two ways of loading the same data)."""
    with _fresh_db(server, template_db) as dsn:
        yield dsn


@pytest.fixture
def empty_db(server: Server) -> Iterator[str]:
    """DSN of an empty (unmigrated) database."""
    name = f"crm360_e_{uuid.uuid4().hex[:12]}"
    janitor = server.janitor(name)
    janitor.init()
    try:
        yield server.dsn(name)
    finally:
        janitor.drop()


@pytest.fixture
def conn(db: str) -> Iterator[psycopg.Connection]:
    """An autocommit superuser connection to the per-test database."""
    with psycopg.connect(db, autocommit=True) as c:
        yield c


def sqlstate_of(excinfo) -> str | None:
    return getattr(excinfo.value, "sqlstate", None)


@contextlib.contextmanager
def as_role(conn: psycopg.Connection, role: str):
    """Run statements on `conn` as `role` (SET ROLE), in a transaction rolled back at the end."""
    with conn.transaction(force_rollback=True):
        conn.execute(psycopg.sql.SQL("SET LOCAL ROLE {}").format(psycopg.sql.Identifier(role)))
        yield conn


@pytest.fixture
def world(conn, db):
    """Access-control world: create login roles/users/teams with world.login/team/join."""
    from tests.access_helpers import World

    w = World(admin=conn, dsn=db)
    try:
        yield w
    finally:
        w.close()
