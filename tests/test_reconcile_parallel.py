"""Parallel reconciliation (issue 16 item 3): crm.reconcile_plan's steps, run with several
sessions (`crm360 reconcile --jobs N`), apply what one crm.reconcile call applies; runs that
resolve identity (accounts, people, users) stay one at a time, runs of children and activities
over different sources proceed together, two over the same source one after the other. Decided
from what is observed: the resulting graph, and which session waits (pg_stat_activity)."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from click.testing import CliRunner

from crm360.cli import cli
from crm360.connectors import reconcile
from tests.test_ingest import BASE, ingest

# the graph without ids (random uuids differ between databases): every node by its source key
# or label, edges by their endpoints' keys, claims, events and participants, raw statuses
FINGERPRINT = """
WITH k AS (SELECT n.id, n.node_type || ':' || coalesce(n.external_source || '/' || n.external_id, n.label) AS key
             FROM crm.nodes n)
SELECT 'node', k.key || '|' || n.label || '|' || (n.archived_at IS NULL)::text || '|' || n.properties::text
  FROM crm.nodes n JOIN k ON k.id = n.id
UNION ALL
SELECT 'edge', e.edge_type || '|' || s.key || '|' || t.key || '|' || (e.archived_at IS NULL AND e.effective_to IS NULL)::text
  FROM crm.edges e JOIN k s ON s.id = e.source_id JOIN k t ON t.id = e.target_id
UNION ALL
SELECT 'claim', a.assertion_type || '|' || s.key || '|' || a.claim::text || '|' || (a.superseded_at IS NULL)::text
  FROM crm.assertions a JOIN k s ON s.id = a.subject_node_id
UNION ALL
SELECT 'event', e.event_type || '|' || coalesce(e.external_source || '/' || e.external_id, e.summary) || '|'
       || coalesce((SELECT string_agg(p.role || '>' || pk.key, ',' ORDER BY p.role, pk.key)
                      FROM crm.event_participants p JOIN k pk ON pk.id = p.node_id WHERE p.event_id = e.id), '')
  FROM crm.events e
UNION ALL
SELECT 'record', r.source || '/' || r.object || '/' || coalesce(r.external_id, '') || '|' || r.status || '|'
       || coalesce(r.reason, '')
  FROM crm_raw.records r
UNION ALL
SELECT 'chunk', c.kind || '|' || nk.key || '|' || coalesce(ev.external_source || '/' || ev.external_id, ev.summary, '')
       || '#' || c.chunk_no || '|' || md5(c.body)
  FROM crm.chunks c JOIN k nk ON nk.id = c.node_id LEFT JOIN crm.events ev ON ev.id = c.event_id
"""


def fingerprint(dsn):
    with psycopg.connect(dsn) as c:
        return sorted(c.execute(FINGERPRINT).fetchall())


def land_all(dsn):
    for source, obj, f in BASE:
        ingest(dsn, source, obj, f, reconcile=False)


def test_the_plan_puts_identity_first_then_one_call_per_source(conn):
    plan = conn.execute("SELECT step, source, objects FROM crm.reconcile_plan()").fetchall()
    assert plan[0] == (1, None, ["salesforce/User", "salesforce/Account", "salesforce/Contact",
                                 "zendesk/organizations", "zendesk/users", "stripe/customers"])
    assert sorted(p[1:] for p in plan[1:]) == [
        ("clm", ["clm/contracts"]),
        ("salesforce", ["salesforce/Opportunity", "salesforce/Event", "salesforce/Task"]),
        ("stripe", ["stripe/invoices"]),
        ("zendesk", ["zendesk/tickets", "zendesk/ticket_comments"])]
    assert {p[0] for p in plan[1:]} == {2}
    # every registered object is in exactly one call
    objs = [o for p in plan for o in p[2]]
    assert sorted(objs) == sorted(r[0] for r in conn.execute(
        "SELECT source || '/' || object FROM crm_raw.source_objects").fetchall())


def test_a_parallel_reconcile_applies_what_one_call_applies(db, db2):
    """The same exports landed in two databases: one crm.reconcile() in the first, the plan's
    steps with 4 sessions in the second — the same graph, claims, events, chunks and statuses."""
    land_all(db)
    land_all(db2)
    one = reconcile(db, None, orphans=True, refresh=False)
    many = reconcile(db2, None, orphans=True, refresh=False, jobs=4)
    key = lambda r: (r["source"], r["object"])  # noqa: E731
    assert sorted(one["reconcile"], key=key) == sorted(many["reconcile"], key=key)
    a, b = fingerprint(db), fingerprint(db2)
    assert len(a) > 100
    assert a == b


def _waiting(admin, pid):
    return admin.execute("SELECT wait_event_type = 'Lock' AND wait_event = 'advisory' FROM pg_stat_activity "
                         "WHERE pid = %s", (pid,)).fetchone()[0]


def _run_in_thread(dsn, sql, params=()):
    """Runs sql in its own session and thread; returns (thread, result dict with pid/error)."""
    out: dict = {}
    ready = threading.Event()

    def work():
        with psycopg.connect(dsn, autocommit=True) as c:
            out["pid"] = c.info.backend_pid
            ready.set()
            try:
                out["rows"] = c.execute(sql, params).fetchall()
            except psycopg.Error as e:
                out["error"] = e
    t = threading.Thread(target=work, daemon=True)
    t.start()
    ready.wait(10)
    return t, out


def _settles(admin, pid, seconds=3.0):
    """True when the session is waiting on an advisory lock within `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if _waiting(admin, pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("second, waits", [
    ("SELECT * FROM crm.reconcile(NULL, ARRAY['stripe/invoices'])", False),   # other source, children: parallel
    ("SELECT * FROM crm.reconcile('clm')", True),                            # same source: after
    ("SELECT * FROM crm.reconcile('stripe')", True),                         # resolves identity: alone
    ("SELECT * FROM crm.reconcile_orphans()", True),                         # every source: alone
])
def test_who_waits_for_an_open_run_of_contracts(db, conn, second, waits):
    """Session A reconciles CLM contracts (children only) and keeps its transaction open. A run
    of another source's children completes meanwhile; a second run of the same source, a run
    that resolves identity and the orphan retry wait for A's commit, then complete."""
    land_all(db)
    a = psycopg.connect(db)
    try:
        a.execute("SELECT * FROM crm.reconcile('clm')").fetchall()     # transaction left open
        t, out = _run_in_thread(db, second)
        if waits:
            assert _settles(conn, out["pid"]), "expected the second run to wait for the open one"
            assert t.is_alive()
            a.commit()
        t.join(30)
        assert not t.is_alive() and "error" not in out, out.get("error")
        if not waits:
            assert a.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS   # A still open
    finally:
        a.rollback()
        a.close()


def test_a_run_of_children_waits_for_an_open_identity_run(db, conn):
    land_all(db)
    a = psycopg.connect(db)
    try:
        a.execute("SELECT * FROM crm.reconcile('salesforce', ARRAY['salesforce/Account'])").fetchall()
        t, out = _run_in_thread(db, "SELECT * FROM crm.reconcile('clm')")
        assert _settles(conn, out["pid"])
        a.commit()
        t.join(30)
        assert not t.is_alive() and "error" not in out
    finally:
        a.close()


def test_objects_are_checked(conn, world, db):
    for args, state in ((("clm", ["clm/nope"]), "22023"), ((None, ["contracts"]), "22023"),
                        (("clm", ["stripe/invoices"]), "22023"), ((None, [None]), "22023")):
        with pytest.raises(psycopg.Error) as e:
            conn.execute("SELECT * FROM crm.reconcile(%s, %s::text[])", args)
        assert e.value.sqlstate == state, args
    # a connector allowed CLM only: the plan lists CLM only; naming another source's object is 42501
    w = world
    w.login("conny", "crm_connector", user=False)
    w.admin.execute("SELECT crm.allow_source(%s, 'clm')", (w.role_name("conny"),))
    conny = w.connect("conny")
    assert conny.execute("SELECT step, source, objects FROM crm.reconcile_plan()").fetchall() == [
        (2, "clm", ["clm/contracts"])]
    with pytest.raises(psycopg.Error) as e:
        conny.execute("SELECT * FROM crm.reconcile(NULL, ARRAY['stripe/invoices'])")
    assert e.value.sqlstate == "42501"


def test_cli_jobs(db):
    land_all(db)
    r = CliRunner().invoke(cli, ["reconcile", "--dsn", db, "--jobs", "2", "--json", "--no-refresh"])
    assert r.exit_code == 0, r.output
    assert "clm" in r.output and "zendesk" in r.output
    r = CliRunner().invoke(cli, ["reconcile", "--dsn", db, "--jobs", "0"])
    assert r.exit_code == 2 and "--jobs" in r.output
