"""The six-table core: registry validation, supersession invariant, no hard delete, archive/restore."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg.types.json import Jsonb


def new_node(conn, node_type: str, props: dict, **kw) -> str:
    cols = ["node_type", "properties"] + list(kw)
    vals = [node_type, Jsonb(props)] + list(kw.values())
    q = f"INSERT INTO crm.nodes ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(vals))}) RETURNING id"
    return conn.execute(q, vals).fetchone()[0]


def expect_sqlstate(conn, sql: str, params=None, *, state: str) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as e:
        conn.execute(sql, params)
    assert e.value.sqlstate == state, f"{e.value.sqlstate}: {e.value}"
    return e.value


# ------------------------------------------------------------------ registry
def test_org_without_name_is_refused(conn):
    e = expect_sqlstate(conn, "INSERT INTO crm.nodes (node_type, label, properties) VALUES ('org', 'Acme', '{}')",
                        state="CR011")
    assert e.diag.message_hint  # tells what to add


def test_blank_required_property_is_refused(conn):
    expect_sqlstate(conn, """INSERT INTO crm.nodes (node_type, properties)
                             VALUES ('person', '{"first_name": "Ada", "last_name": "  "}')""", state="CR011")


def test_unknown_node_type(conn):
    e = expect_sqlstate(conn, "INSERT INTO crm.nodes (node_type, label) VALUES ('spaceship', 'x')", state="CR010")
    assert "org" in e.diag.message_hint


def test_label_is_derived(conn):
    pid = new_node(conn, "person", {"first_name": "Ada", "last_name": "Lovelace"})
    oid = new_node(conn, "org", {"name": "Acme Corp."})
    labels = dict(conn.execute("SELECT id, label FROM crm.nodes WHERE id IN (%s, %s)", (pid, oid)).fetchall())
    assert labels == {pid: "Ada Lovelace", oid: "Acme Corp."}


def test_edge_endpoint_types_are_checked(conn):
    org = new_node(conn, "org", {"name": "Acme"})
    person = new_node(conn, "person", {"first_name": "Ada", "last_name": "L"})
    # employs is org -> person; the reverse direction is refused
    expect_sqlstate(conn, "INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('employs', %s, %s)",
                    (person, org), state="CR012")
    expect_sqlstate(conn, "INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('flies_to', %s, %s)",
                    (org, person), state="CR010")
    eid, eff = conn.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('employs', %s, %s) "
                            "RETURNING id, effective_from", (org, person)).fetchone()
    assert eff is not None  # temporal edge got effective_from
    expect_sqlstate(conn, "UPDATE crm.edges SET target_id = %s WHERE id = %s", (org, eid), state="CR015")


def test_edge_to_missing_or_archived_node(conn):
    org = new_node(conn, "org", {"name": "Acme"})
    person = new_node(conn, "person", {"first_name": "Ada", "last_name": "L"})
    expect_sqlstate(conn, "INSERT INTO crm.edges (edge_type, source_id, target_id) "
                          "VALUES ('employs', %s, gen_random_uuid())", (org,), state="23503")
    conn.execute("SELECT crm.archive_node(%s)", (person,))
    expect_sqlstate(conn, "INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('employs', %s, %s)",
                    (org, person), state="CR020")


def test_assertion_claim_shapes(conn):
    opp = new_node(conn, "opportunity", {"name": "Deal", "code": "OPP-2401-0001"})
    person = new_node(conn, "person", {"first_name": "Ada", "last_name": "L"})
    ins = "INSERT INTO crm.assertions (assertion_type, subject_node_id, claim) VALUES (%s, %s, %s)"
    expect_sqlstate(conn, ins, ("deal_value", opp, Jsonb({"currency": "EUR"})), state="CR013")  # amount missing
    expect_sqlstate(conn, ins, ("deal_value", opp, Jsonb({"amount": "10", "currency": "EUR"})), state="CR013")
    expect_sqlstate(conn, ins, ("deal_value", opp, Jsonb({"amount": 10, "currency": "euro"})), state="CR013")
    expect_sqlstate(conn, ins, ("win_probability", opp, Jsonb({"probability": 1.5})), state="CR013")
    expect_sqlstate(conn, ins, ("deal_stage", person, Jsonb({"stage": "x"})), state="CR014")
    expect_sqlstate(conn, ins, ("mood", opp, Jsonb({})), state="CR010")
    expect_sqlstate(conn, ins, ("do_not_contact", person, Jsonb({"reason": "asked", "expires": "soon"})),
                    state="CR013")
    aid = conn.execute(ins + " RETURNING id", ("deal_value", opp, Jsonb({"amount": 10, "currency": "EUR"}))).fetchone()[0]
    expect_sqlstate(conn, "UPDATE crm.assertions SET claim = '{\"amount\": 11, \"currency\": \"EUR\"}' WHERE id = %s",
                    (aid,), state="CR015")


def test_unknown_event_type(conn):
    expect_sqlstate(conn, "INSERT INTO crm.events (event_type, summary) VALUES ('party', 'x')", state="CR010")


def test_external_id_unique_among_live_nodes(conn):
    a = new_node(conn, "org", {"name": "Acme"}, external_id="001A", external_source="salesforce")
    expect_sqlstate(conn, "INSERT INTO crm.nodes (node_type, properties, external_id, external_source) "
                          "VALUES ('org', '{\"name\": \"Acme 2\"}', '001A', 'salesforce')", state="23505")
    # another source may use the same id
    new_node(conn, "org", {"name": "Acme Z"}, external_id="001A", external_source="zendesk")
    conn.execute("SELECT crm.archive_node(%s)", (a,))
    b = new_node(conn, "org", {"name": "Acme 2"}, external_id="001A", external_source="salesforce")
    # restoring the archived one would create a second live 001A
    expect_sqlstate(conn, "SELECT crm.restore_node(%s)", (a,), state="23505")
    conn.execute("SELECT crm.archive_node(%s)", (b,))
    assert conn.execute("SELECT crm.restore_node(%s)", (a,)).fetchone()[0] is True


# ------------------------------------------------------------------ no hard delete
@pytest.mark.parametrize("table", ["nodes", "edges", "events", "event_participants", "assertions", "artifacts"])
def test_delete_and_truncate_refused(conn, table):
    new_node(conn, "org", {"name": "Acme"})
    e = expect_sqlstate(conn, f"DELETE FROM crm.{table}", state="42501")
    assert e.diag.message_hint
    expect_sqlstate(conn, f"TRUNCATE crm.{table} CASCADE", state="42501")


def test_delete_node_hint_says_archive(conn):
    nid = new_node(conn, "org", {"name": "Acme"})
    e = expect_sqlstate(conn, "DELETE FROM crm.nodes WHERE id = %s", (nid,), state="42501")
    assert "archive" in e.diag.message_hint
    assert conn.execute("SELECT count(*) FROM crm.nodes WHERE id = %s", (nid,)).fetchone()[0] == 1


def test_setting_purge_flag_does_not_help_a_non_owner(conn):
    nid = new_node(conn, "org", {"name": "Acme"})
    conn.execute("DROP ROLE IF EXISTS core_test_intruder")
    conn.execute("CREATE ROLE core_test_intruder")
    conn.execute("GRANT USAGE ON SCHEMA crm, crm_private TO core_test_intruder")
    conn.execute("GRANT SELECT, DELETE ON crm.nodes TO core_test_intruder")
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET LOCAL ROLE core_test_intruder")
            conn.execute("SET LOCAL crm.purge = 'on'")
            expect_sqlstate(conn, "DELETE FROM crm.nodes WHERE id = %s", (nid,), state="42501")
    finally:
        conn.execute("REVOKE ALL ON crm.nodes FROM core_test_intruder")
        conn.execute("REVOKE ALL ON SCHEMA crm, crm_private FROM core_test_intruder")
        conn.execute("DROP ROLE core_test_intruder")


# ------------------------------------------------------------------ archive / restore
def test_archive_and_restore_log_events(conn):
    nid = new_node(conn, "org", {"name": "Acme"})
    assert conn.execute("SELECT crm.archive_node(%s, 'dup')", (nid,)).fetchone()[0] is True
    assert conn.execute("SELECT crm.archive_node(%s)", (nid,)).fetchone()[0] is False
    assert conn.execute("SELECT archived_at IS NOT NULL FROM crm.nodes WHERE id = %s", (nid,)).fetchone()[0]
    assert conn.execute("SELECT crm.restore_node(%s)", (nid,)).fetchone()[0] is True
    types = [r[0] for r in conn.execute(
        "SELECT e.event_type FROM crm.events e JOIN crm.event_participants p ON p.event_id = e.id "
        "WHERE p.node_id = %s ORDER BY e.recorded_at, e.event_type", (nid,))]
    assert sorted(types) == ["node_archived", "node_restored"]
    expect_sqlstate(conn, "SELECT crm.archive_node(gen_random_uuid())", state="P0002")


# ------------------------------------------------------------------ supersession
def supersede(conn, old, node, claim, key=""):
    return conn.execute("SELECT crm.supersede_assertion(%s, 'lead_score', %s, NULL, %s, NULL, 1.0, %s)",
                        (old, node, Jsonb(claim), key)).fetchone()[0]


def test_supersede_keeps_history(conn):
    p = new_node(conn, "person", {"first_name": "Ada", "last_name": "L"})
    a1 = supersede(conn, None, p, {"score": 1})
    a2 = supersede(conn, a1, p, {"score": 2})
    a3 = supersede(conn, None, p, {"score": 3})  # NULL = whatever is current
    rows = conn.execute("SELECT id, superseded_by, superseded_at IS NULL FROM crm.assertions "
                        "WHERE subject_node_id = %s", (p,)).fetchall()
    chain = {r[0]: r[1] for r in rows}
    assert chain == {a1: a2, a2: a3, a3: None}
    current = conn.execute("SELECT id, claim->>'score' FROM crm.current_assertions "
                           "WHERE subject_node_id = %s", (p,)).fetchall()
    assert current == [(a3, "3")]
    # another key is independent
    supersede(conn, None, p, {"score": 9, "model": "b"}, key="model_b")
    assert conn.execute("SELECT count(*) FROM crm.current_assertions WHERE subject_node_id = %s",
                        (p,)).fetchone()[0] == 2


def test_supersede_errors(conn):
    p = new_node(conn, "person", {"first_name": "Ada", "last_name": "L"})
    q = new_node(conn, "person", {"first_name": "Bob", "last_name": "M"})
    a1 = supersede(conn, None, p, {"score": 1})
    supersede(conn, a1, p, {"score": 2})
    with pytest.raises(psycopg.Error) as e:  # stale: a1 is no longer current
        supersede(conn, a1, p, {"score": 3})
    assert e.value.sqlstate == "40001"
    with pytest.raises(psycopg.Error) as e:
        supersede(conn, a1, q, {"score": 3})  # a1 is about another subject
    assert e.value.sqlstate == "22023"
    with pytest.raises(psycopg.Error) as e:
        conn.execute("SELECT crm.supersede_assertion(gen_random_uuid(), 'lead_score', %s, NULL, '{\"score\": 1}')", (p,))
    assert e.value.sqlstate == "P0002"
    with pytest.raises(psycopg.Error) as e:
        conn.execute("SELECT crm.supersede_assertion(NULL, 'lead_score', %s, gen_random_uuid(), '{\"score\": 1}')", (p,))
    assert e.value.sqlstate == "22023"
    with pytest.raises(psycopg.Error) as e:
        supersede(conn, None, p, {"model": "no score"})
    assert e.value.sqlstate == "CR013"
    # a failed call changed nothing
    assert conn.execute("SELECT count(*) FROM crm.assertions WHERE subject_node_id = %s", (p,)).fetchone()[0] == 2


def test_direct_second_current_assertion_is_refused(conn):
    p = new_node(conn, "person", {"first_name": "Ada", "last_name": "L"})
    supersede(conn, None, p, {"score": 1})
    with pytest.raises(psycopg.Error) as e:
        conn.execute("INSERT INTO crm.assertions (assertion_type, subject_node_id, claim) "
                     "VALUES ('lead_score', %s, '{\"score\": 2}')", (p,))
    assert e.value.sqlstate == "23505"


def test_supersession_invariant_under_8_concurrent_connections(conn, db):
    p = new_node(conn, "person", {"first_name": "Ada", "last_name": "L"})
    workers, per_worker = 8, 25
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work(w: int):
        try:
            with psycopg.connect(db, autocommit=True) as c:
                barrier.wait()
                for i in range(per_worker):
                    with c.transaction():
                        supersede(c, None, p, {"score": w * 1000 + i})
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = conn.execute("SELECT id, superseded_by, superseded_at FROM crm.assertions "
                        "WHERE subject_node_id = %s", (p,)).fetchall()
    assert len(rows) == workers * per_worker
    current = [r for r in rows if r[2] is None]
    assert len(current) == 1
    nxt = {r[0]: r[1] for r in rows}
    # exactly one head (no predecessor), and following superseded_by from it visits every row once
    preds = {v for v in nxt.values() if v}
    heads = [k for k in nxt if k not in preds]
    assert len(heads) == 1
    seen, cur = [], heads[0]
    while cur:
        seen.append(cur)
        cur = nxt[cur]
    assert len(seen) == len(rows) and seen[-1] == current[0][0]
