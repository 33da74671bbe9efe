"""Shared fixtures of the security regression tests (adversarial review, findings 1-14).

Every attack runs as an ordinary LOGIN role created the way the README tells a DBA to
(CREATE ROLE ... LOGIN; GRANT crm_reader/crm_writer/...; crm.create_user(name, email, login)).
The superuser connection (`world.admin`) only sets the world up and reads the ground truth.

The tests decide from what is observed after the attack (rows seen, memberships in effect,
current_user recorded inside attacker code, ...), never from an error alone: a fixed system
may refuse an attack with any error or silently ignore it, and the tests still pass.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from crm360.connectors import ingest_files
from tests.access_helpers import PASSWORD, ids

FIX = Path(__file__).resolve().parent.parent / "fixtures"

# keys in tests/fixtures/salesforce
ACME_SF_ID = "001000000000ACM"          # Account "Acme Corp", owner 005000000000AAA (Ada Ackerman)
JANE_EMAIL = "jane.doe@acme.com"        # Contact 003000000000JD1 (normalized email)


@pytest.fixture
def sec(world):
    """The access world the attacks run in (as in tests/test_access.py, plus attackers).

    Teams: Sales > Sales EMEA, Support, Eve Team. Logins: alice (writer, Sales EMEA),
    bob (writer, Sales), carol (reader, Support), eve (writer, Eve Team: the attacking
    writer), rita (reader, no team: the attacking reader), svc (crm_service, unmapped),
    boss (crm_admin). Accounts: acme (Sales EMEA), globex (Sales), umbrella (Support),
    initech (unrestricted: admins only), each with children owned_by it.
    """
    w = world
    w.team("Sales")
    w.team("Sales EMEA", parent="Sales")
    w.team("Support")
    w.team("Eve Team")
    w.login("alice", "crm_writer")
    w.join("alice", "Sales EMEA")
    w.login("bob", "crm_writer")
    w.join("bob", "Sales")
    w.login("carol", "crm_reader")
    w.join("carol", "Support")
    w.login("eve", "crm_writer")
    w.join("eve", "Eve Team")
    w.login("rita", "crm_reader")
    w.login("svc", "crm_service", user=False)
    w.login("boss", "crm_admin")
    n = {}
    n["acme"] = w.node("org", "Acme", ["Sales EMEA"])
    n["globex"] = w.node("org", "Globex", ["Sales"])
    n["umbrella"] = w.node("org", "Umbrella", ["Support"])
    n["initech"] = w.node("org", "Initech")
    for child, typ, parent in [("acme_contact", "person", "acme"), ("acme_opp", "opportunity", "acme"),
                               ("acme_ticket", "ticket", "acme"), ("globex_opp", "opportunity", "globex"),
                               ("umbrella_contact", "person", "umbrella"),
                               ("umbrella_ticket", "ticket", "umbrella")]:
        n[child] = w.node(typ, child)
        w.own(n[child], n[parent])
    n["pipeline"] = w.node("pipeline", "Test pipeline")
    w.n = n
    yield w
    _wait_for_sessions_to_end(w)


def _wait_for_sessions_to_end(w) -> None:
    """Close the world's connections and wait until their backends are gone: a backend
    drops its temporary objects (tables, functions, domains the attacks create) only while
    exiting, and until then `DROP ROLE` in world.close would fail and leave the role behind
    (some of these roles have made themselves superusers)."""
    for c in w.conns:
        with contextlib.suppress(Exception):
            c.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and w.admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE usename::text = ANY (%s)", (w.roles,)).fetchone()[0]:
        time.sleep(0.02)


def visible(conn: psycopg.Connection, node_type: str | None = None) -> set:
    """Ids of the nodes (of a type) the connection's user sees in crm.nodes; empty on error."""
    q = "SELECT id FROM crm.nodes" + (" WHERE node_type = %s" if node_type else "")
    try:
        return ids(conn, q, (node_type,) if node_type else None)
    except psycopg.Error:
        _recover(conn)
        return set()


def attempt(conn: psycopg.Connection, query, params=None) -> psycopg.Error | None:
    """Run an attack statement; a refusal (any error) is fine — return it, don't raise."""
    try:
        conn.execute(query, params)
    except psycopg.Error as e:
        _recover(conn)
        return e
    return None


def _recover(conn: psycopg.Connection) -> None:
    if not conn.autocommit and conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
        conn.rollback()


def dsn_of(world, name: str) -> str:
    """DSN of the per-test database for one of the world's login roles."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(world.dsn)
    params.update(user=world.role_name(name), password=PASSWORD)
    return make_conninfo(**params)


def ingest(dsn: str, source: str, obj: str, *files: str, **kw) -> dict:
    return ingest_files(dsn, source, obj, [str(FIX / f) for f in files], **kw)


def is_superuser(admin: psycopg.Connection, role: str) -> bool:
    return admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (role,)).fetchone()[0]


# --- attacker code that records who runs it (findings 1 and 2) ----------------------------
#
# pg_temp.crm_probe() RAISEs a NOTICE naming current_user and whether it is a superuser (a
# NOTICE reaches the client even when the surrounding statement fails later), then tries to
# make the session's login a superuser (ignored when not allowed). Unqualified names inside
# are avoided: it may run under the definer's search_path.
PROBE_FUNCTION = """
CREATE OR REPLACE FUNCTION pg_temp.crm_probe() RETURNS boolean
LANGUAGE plpgsql AS $probe$
DECLARE
    v_super boolean;
BEGIN
    SELECT r.rolsuper INTO v_super FROM pg_catalog.pg_roles r WHERE r.rolname = current_user;
    RAISE NOTICE 'crm360-probe user=% superuser=%', current_user, v_super;
    BEGIN
        EXECUTE pg_catalog.format('ALTER ROLE %I SUPERUSER', session_user);
    EXCEPTION WHEN OTHERS THEN
        NULL;
    END;
    RETURN true;
END
$probe$
"""

PROBE_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION pg_temp.crm_probe_trigger() RETURNS trigger
LANGUAGE plpgsql AS $probe$
BEGIN
    PERFORM pg_temp.crm_probe();
    RETURN NULL;
END
$probe$
"""

_PROBE_RE = re.compile(r"crm360-probe user=(\S+) superuser=(\S+)")


class ProbeLog:
    """Collects the probe's NOTICEs on a connection: [(current_user, superuser), ...]."""

    def __init__(self, conn: psycopg.Connection):
        self.runs: list[tuple[str, str]] = []
        conn.add_notice_handler(self._on_notice)

    def _on_notice(self, diag) -> None:
        m = _PROBE_RE.search(diag.message_primary or "")
        if m:
            self.runs.append((m.group(1), m.group(2)))

    def foreign_runs(self, own_role: str) -> list[tuple[str, str]]:
        """Probe runs under any role other than the attacker's own (privilege escalation)."""
        return [r for r in self.runs if r[0] != own_role]


def assert_probe_ran_only_as(probe: ProbeLog, admin: psycopg.Connection, role: str) -> None:
    """The attacker's code ran as the attacker only (or not at all), and it is no superuser."""
    assert not is_superuser(admin, role), f"{role} made itself a superuser (probe runs: {probe.runs})"
    assert probe.foreign_runs(role) == [], f"{role}'s code ran as (role, superuser): {probe.foreign_runs(role)}"


def install_probe(conn: psycopg.Connection) -> ProbeLog:
    log = ProbeLog(conn)
    conn.execute(PROBE_FUNCTION)
    conn.execute(PROBE_TRIGGER_FUNCTION)
    return log


def uid() -> str:
    return uuid.uuid4().hex[:8]


@contextlib.contextmanager
def statement_timeout(conn: psycopg.Connection, ms: int):
    conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(f"{ms}ms")))
    try:
        yield
    finally:
        with contextlib.suppress(psycopg.Error):
            _recover(conn)
            conn.execute("RESET statement_timeout")
