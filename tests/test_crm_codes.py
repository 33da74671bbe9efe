"""Seed 001 §3: codes {PREFIX}-{YYMM}-{SEQ} — unique, increasing, per UTC month, concurrent
without waiting for each other's commit, indexed."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import psycopg
import pytest

from tests.crm_helpers import last_code_number, opportunity, org, person, raises_sqlstate, val

YYMM = datetime.now(UTC).strftime("%y%m")


def test_code_format_and_storage(conn):
    c1 = val(conn, "SELECT crm.generate_crm_code('OPP')")
    c2 = val(conn, "SELECT crm.generate_crm_code('OPP')")
    assert c1 == f"OPP-{YYMM}-0001" and c2 == f"OPP-{YYMM}-0002"
    assert val(conn, "SELECT crm.generate_crm_code('CMP')") == f"CMP-{YYMM}-0001"   # per prefix
    p = person(conn)
    code, ext, src = conn.execute("SELECT properties->>'code', external_id, external_source FROM crm.nodes "
                                  "WHERE id = %s", (p,)).fetchone()
    assert re.fullmatch(rf"CON-{YYMM}-\d{{4}}", code) and ext == code and src == "internal"
    o = org(conn)
    assert val(conn, "SELECT properties->>'code' FROM crm.nodes WHERE id = %s", (o,)) == f"ORG-{YYMM}-0001"
    opp = opportunity(conn)
    assert val(conn, "SELECT external_id FROM crm.nodes WHERE id = %s", (opp,)) == f"OPP-{YYMM}-0003"


def test_unknown_prefix(conn):
    with raises_sqlstate("22023") as e:
        conn.execute("SELECT crm.generate_crm_code('XYZ')")
    for p in ("OPP", "CON", "ORG", "CMP", "TER"):
        assert p in e.value.diag.message_hint
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.generate_crm_code('opp')")       # exact match only
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.generate_crm_code(NULL)")
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.generate_crm_code('OPP', NULL)")
    for at in ("infinity", "-infinity"):
        with raises_sqlstate("22023") as e:
            conn.execute("SELECT crm.generate_crm_code('OPP', %s::timestamptz)", (at,))
        assert "finite" in e.value.diag.message_primary


def test_month_rollover_uses_utc(conn):
    a = val(conn, "SELECT crm.generate_crm_code('TER', '2024-03-15 12:00+00')")
    b = val(conn, "SELECT crm.generate_crm_code('TER', '2024-04-02 12:00+00')")
    assert (a, b) == ("TER-2403-0001", "TER-2404-0001")
    # 23:30 on 31 March at UTC-2 is already April in UTC
    assert val(conn, "SELECT crm.generate_crm_code('TER', '2024-03-31 23:30-02')") == "TER-2404-0002"
    assert val(conn, "SELECT crm.generate_crm_code('TER', '2024-03-31 23:30+00')") == "TER-2403-0002"


def test_rolled_back_call_leaves_a_gap_and_a_refused_create_uses_no_code(conn):
    assert val(conn, "SELECT crm.generate_crm_code('CMP', '2024-01-10')") == "CMP-2401-0001"
    with conn.transaction(force_rollback=True):
        assert val(conn, "SELECT crm.generate_crm_code('CMP', '2024-01-10')") == "CMP-2401-0002"
    # a number handed out is never handed out again, even when its transaction rolled back
    assert val(conn, "SELECT crm.generate_crm_code('CMP', '2024-01-10')") == "CMP-2401-0003"
    # the first code of a month rolled back takes its sequence with it: the month starts again
    with conn.transaction(force_rollback=True):
        assert val(conn, "SELECT crm.generate_crm_code('CMP', '2024-02-10')") == "CMP-2402-0001"
    assert val(conn, "SELECT to_regclass('crm_private.code_cmp_2402')") is None
    assert val(conn, "SELECT crm.generate_crm_code('CMP', '2024-02-10')") == "CMP-2402-0001"
    # create_opportunity checks everything before it takes a code: a refused call uses none
    with raises_sqlstate("P0002"):
        opportunity(conn, pipeline="NOPE")
    first = val(conn, "SELECT properties->>'code' FROM crm.nodes WHERE id = %s", (opportunity(conn),))
    assert first == f"OPP-{YYMM}-0001"
    assert last_code_number(conn, "OPP") == 1


def test_ten_thousandth_code_is_not_truncated(conn):
    conn.execute("SELECT crm.generate_crm_code('OPP', '2024-03-01')")
    conn.execute("SELECT setval('crm_private.code_opp_2403', 9999)")
    assert val(conn, "SELECT crm.generate_crm_code('OPP', '2024-03-09')") == "OPP-2403-10000"
    assert val(conn, "SELECT crm.generate_crm_code('OPP', '2024-03-09')") == "OPP-2403-10001"


def test_an_open_transaction_holds_no_other_caller_up(db):
    """A writer allocates a code and leaves its transaction open (a psql session in BEGIN, a
    long reconciliation): other callers get the next numbers at once — nothing waits for its
    commit (with one counter row locked until commit, every other caller waited 5 s and got
    55P03)."""
    with psycopg.connect(db, autocommit=True) as a, psycopg.connect(db) as holder, \
            psycopg.connect(db, autocommit=True) as b:
        assert val(a, "SELECT crm.generate_crm_code('OPP', '2024-05-02')") == "OPP-2405-0001"   # the sequence exists
        assert val(holder, "SELECT crm.generate_crm_code('OPP', '2024-05-02')") == "OPP-2405-0002"  # stays open
        b.execute("SET lock_timeout = '500ms'")
        assert val(b, "SELECT crm.generate_crm_code('OPP', '2024-05-02')") == "OPP-2405-0003"
        new_org = val(b, "SELECT crm.create_org('Not held up')")
        assert val(b, "SELECT properties ->> 'code' FROM crm.nodes WHERE id = %s", (new_org,)).startswith("ORG-")
        holder.rollback()
        assert val(b, "SELECT crm.generate_crm_code('OPP', '2024-05-02')") == "OPP-2405-0004"


@pytest.mark.parametrize("creator_ends", ["commit", "rollback"])
def test_the_first_code_of_a_month_waits_only_for_its_creator(db, creator_ends):
    """The first call of a prefix-month creates its sequence; a concurrent first call waits for
    that transaction (the catalog's unique index) and then uses the creator's sequence
    (commit) or creates it itself (rollback): distinct numbers either way, no error."""
    with psycopg.connect(db) as creator, psycopg.connect(db, autocommit=True) as other:
        assert val(creator, "SELECT crm.generate_crm_code('TER', '2023-07-04')") == "TER-2307-0001"
        got: list = []
        t = threading.Thread(target=lambda: got.append(
            val(other, "SELECT crm.generate_crm_code('TER', '2023-07-20')")))
        t.start()
        t.join(0.5)
        assert t.is_alive(), "the concurrent first call did not wait for the creator's transaction"
        getattr(creator, creator_ends)()
        t.join(10)
        assert not t.is_alive()
        assert got == (["TER-2307-0002"] if creator_ends == "commit" else ["TER-2307-0001"])


def test_fifty_parallel_callers_get_fifty_consecutive_codes(db):
    n = 50
    barrier = threading.Barrier(n)
    codes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker():
        try:
            with psycopg.connect(db, autocommit=True) as c:
                barrier.wait(timeout=30)
                code = c.execute("SELECT crm.generate_crm_code('OPP', '2024-03-05')").fetchone()[0]
            with lock:
                codes.append(code)
        except BaseException as e:  # noqa: BLE001 - asserted below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(codes) == [f"OPP-2403-{i:04d}" for i in range(1, n + 1)]


def test_seed_code_lookups_run_unchanged_and_use_indexes(conn):
    # 50k nodes, set-based: opportunities spread over 25 months, plus people.
    conn.execute("""
        INSERT INTO crm.nodes (node_type, label, properties, external_id, external_source)
        SELECT 'opportunity', 'Deal ' || g,
               jsonb_build_object('name', 'Deal ' || g,
                                  'code', format('OPP-%s-%s', to_char(date '2023-01-01' + (g % 25) * interval '1 month', 'YYMM'),
                                                 lpad((g / 25)::text, 4, '0'))),
               format('OPP-%s-%s', to_char(date '2023-01-01' + (g % 25) * interval '1 month', 'YYMM'),
                      lpad((g / 25)::text, 4, '0')), 'internal'
          FROM generate_series(1, 40000) AS g""")
    conn.execute("""
        INSERT INTO crm.nodes (node_type, label, properties)
        SELECT 'person', 'P ' || g, jsonb_build_object('first_name', 'P', 'last_name', g::text,
                                                     'code', 'CON-2403-' || lpad(g::text, 5, '0'))
          FROM generate_series(1, 10000) AS g""")
    assert val(conn, "SELECT count(*) FROM crm.nodes") >= 50000
    conn.execute("ANALYZE crm.nodes")
    conn.execute("SET search_path = crm")
    exact = """SELECT * FROM nodes WHERE properties @> '{"code": "OPP-2403-0042"}'"""
    prefix = """SELECT * FROM nodes
WHERE node_type = 'opportunity'
AND properties->>'code' LIKE 'OPP-2403-%'"""
    rows = conn.execute(exact).fetchall()
    assert len(rows) == 1
    n_prefix = len(conn.execute(prefix.replace("%", "%%")).fetchall())
    assert n_prefix == 40000 // 25
    plan_exact = "\n".join(r[0] for r in conn.execute("EXPLAIN " + exact))
    plan_prefix = "\n".join(r[0] for r in conn.execute("EXPLAIN " + prefix.replace("%", "%%")))
    assert "Seq Scan on nodes" not in plan_exact, plan_exact
    assert "nodes_properties" in plan_exact, plan_exact
    assert "Seq Scan on nodes" not in plan_prefix, plan_prefix
    assert "nodes_code" in plan_prefix, plan_prefix
