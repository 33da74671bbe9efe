"""Finding 8: a crm_reader blocks reconciliation and code allocation, and burns codes."""

from __future__ import annotations

import psycopg
import pytest

from tests.crm_helpers import last_code_number
from tests.security.conftest import statement_timeout


def _completes(conn: psycopg.Connection, query: str, params=None, within_ms: int = 2000) -> bool:
    """Whether `query` completes (returns) within the time limit."""
    with statement_timeout(conn, within_ms):
        try:
            conn.execute(query, params).fetchall()
            return True
        except psycopg.Error:
            return False


def _counter(admin: psycopg.Connection, prefix: str) -> int:
    return last_code_number(admin, prefix)


def test_reader_cannot_hold_up_reconciliation(sec):
    """Finding 8a — a crm_reader takes the advisory lock crm.reconcile serializes on
    (hashtextextended('crm360/reconcile', 0)) and keeps it.
    Property: a connector's crm.reconcile() still completes (within 3 s) while the reader
    holds whatever it could take.
    """
    w = sec
    w.login("conn", "crm_connector", user=False)
    w.admin.execute("SELECT crm.allow_source(%s, '*')", (w.role_name("conn"),))   # README: connectors get their sources
    rita = w.connect("rita")
    try:
        rita.execute("SELECT pg_advisory_lock(hashtextextended('crm360/reconcile', 0))")
    except psycopg.Error:
        pass
    done = _completes(w.connect("conn"), "SELECT * FROM crm.reconcile()", within_ms=3000)
    assert done, "crm.reconcile() hangs while a reader holds its lock"


def test_writer_cannot_take_the_reconcile_lock(sec):
    """Finding 8, writers — crm360's lock keys are salted with a secret; writers may take the
    assertion locks their own writes take (crm_private.assertion_lock), nothing else. Eve
    (writer) tries every way she has to take the reconcile lock and keeps her transaction open.
    Property: a connector's crm.reconcile() still completes (within 3 s).
    """
    w = sec
    w.login("conn", "crm_connector", user=False)
    w.admin.execute("SELECT crm.allow_source(%s, '*')", (w.role_name("conn"),))
    eve = w.connect("eve", autocommit=False)
    for attempt in ("SELECT pg_advisory_lock(hashtextextended('crm360/reconcile', 0))",
                    "SELECT crm_private.xact_lock('crm360/reconcile')",
                    "SELECT crm_private.assertion_lock(NULL, 'x', 'y')"):
        try:
            with eve.transaction():
                eve.execute(attempt)
        except psycopg.Error:
            pass
    eve.execute("SELECT crm_private.assertion_lock(gen_random_uuid(), 'crm360', 'reconcile')")   # stays open
    done = _completes(w.connect("conn"), "SELECT * FROM crm.reconcile()", within_ms=3000)
    eve.rollback()
    assert done, "crm.reconcile() hangs while a writer holds a lock"


def test_reader_cannot_burn_codes(sec):
    """Finding 8b — codes are allocated for the deals, contacts and accounts writers
    create. A crm_reader calls crm.generate_crm_code('OPP') 20 times.
    Property: the OPP code sequence of the month (ground truth) does not move.
    """
    w = sec
    before = _counter(w.admin, "OPP")
    rita = w.connect("rita")
    for _ in range(20):
        try:
            rita.execute("SELECT crm.generate_crm_code('OPP')")
        except psycopg.Error:
            pass
    burned = _counter(w.admin, "OPP") - before
    assert burned == 0, f"a reader burned {burned} OPP codes"


@pytest.mark.parametrize("call", ["generate_crm_code", "create_opportunity"])
def test_reader_open_transaction_does_not_block_writers(sec, call):
    """Finding 8c — a crm_reader calls crm.generate_crm_code('OPP') and leaves its
    transaction open (with the former counter row, it stayed locked until it ended).
    Property: a writer's crm.generate_crm_code('OPP') / crm.create_opportunity(...) still
    completes (within 2 s).
    """
    w = sec
    rita = w.connect("rita", autocommit=False)
    try:
        rita.execute("SELECT crm.generate_crm_code('OPP')")
    except psycopg.Error:
        rita.rollback()
    query = {"generate_crm_code": "SELECT crm.generate_crm_code('OPP')",
             "create_opportunity": "SELECT crm.create_opportunity('Blocked deal', 'PL-SALES', NULL)"}[call]
    try:
        done = _completes(w.connect("alice"), query)
        assert done, f"a writer's {call} waits for a reader's open transaction"
    finally:
        rita.rollback()
