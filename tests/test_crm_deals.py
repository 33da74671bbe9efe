"""Seed 001 §4-§5: pipelines, create_opportunity, advance_deal_stage, deal value/probability."""

from __future__ import annotations

import threading

import psycopg

from tests.crm_helpers import current_stage, opportunity, org, person, raises_sqlstate, val

STAGES_3 = '[{"key":"open","label":"Open","order":1},{"key":"won","order":2,"terminal":true}]'


# ---------------------------------------------------------------- pipelines
def test_seeded_sales_pipeline(conn):
    rows = conn.execute("SELECT properties FROM crm.nodes WHERE node_type = 'pipeline' "
                        "AND properties->>'code' = 'PL-SALES'").fetchall()
    assert len(rows) == 1
    props = rows[0][0]
    assert props["default_stage"] == "prospecting"
    assert [s["key"] for s in props["stages"]] == ["prospecting", "qualification", "proposal", "negotiation",
                                                   "closed_won", "closed_lost"]
    assert [s["key"] for s in props["stages"] if s.get("terminal")] == ["closed_won", "closed_lost"]


def test_create_pipeline_normalizes_and_validates(conn):
    pid = val(conn, "SELECT crm.create_pipeline('Renewals', 'PL-RENEW', %s)",
              ('[{"key":"churned","order":3,"terminal":true},{"key":"open","order":1},{"key":"renewed","order":2,"terminal":true}]',))
    props = val(conn, "SELECT properties FROM crm.nodes WHERE id = %s", (pid,))
    assert [s["key"] for s in props["stages"]] == ["open", "renewed", "churned"]     # sorted by order
    assert props["stages"][0] == {"key": "open", "label": "Open", "order": 1, "terminal": False}
    assert props["default_stage"] == "open"
    bad = [
        ("", "PL-X", STAGES_3, None),                                                # blank name
        ("X", "bad code", STAGES_3, None),                                           # code with a space
        ("X", "PL-X", "[]", None),                                                   # no stages
        ("X", "PL-X", '{"key":"a"}', None),                                          # not an array
        ("X", "PL-X", '[{"key":"a"},{"key":"a"}]', None),                            # duplicate keys
        ("X", "PL-X", '[{"key":"a","order":1},{"key":"b","order":1}]', None),        # duplicate orders
        ("X", "PL-X", '[{"key":"Bad Key"}]', None),                                  # key not snake_case
        ("X", "PL-X", '[{"key":"a","terminal":"yes"}]', None),                       # terminal not boolean
        ("X", "PL-X", '[{"key":"a","terminal":true}]', None),                        # all terminal
        ("X", "PL-X", STAGES_3, "nope"),                                             # default not a stage
        ("X", "PL-X", STAGES_3, "won"),                                              # default terminal
    ]
    for args in bad:
        with raises_sqlstate("22023"):
            conn.execute("SELECT crm.create_pipeline(%s, %s, %s, %s)", args)
    with raises_sqlstate("23505"):
        conn.execute("SELECT crm.create_pipeline('Again', 'PL-RENEW', %s)", (STAGES_3,))
    with raises_sqlstate("23505"):
        conn.execute("SELECT crm.create_pipeline('Again', 'PL-SALES', %s)", (STAGES_3,))


# ---------------------------------------------------------------- create_opportunity
def test_create_opportunity_full_shape(conn):
    owner = person(conn, "Olga", "Owner")
    opp = opportunity(conn, "Acme expansion", assignee=owner, props='{"estimated_value": 50000, "code": "X"}',
                      teams=["sales", "emea"])
    n = conn.execute("SELECT node_type, label, properties, attrs, external_id, external_source "
                     "FROM crm.nodes WHERE id = %s", (opp,)).fetchone()
    assert n[0] == "opportunity" and n[1] == "Acme expansion"
    assert n[2]["name"] == "Acme expansion" and n[2]["estimated_value"] == 50000
    assert n[2]["code"] == n[4] and n[4].startswith("OPP-") and n[5] == "internal"    # caller's code ignored
    assert n[3] == {"teams": ["sales", "emea"]}
    claim = val(conn, "SELECT claim FROM crm.current_assertions WHERE subject_node_id = %s "
                      "AND assertion_type = 'deal_stage'", (opp,))
    assert claim == {"stage": "prospecting", "pipeline": "PL-SALES"}
    edges = conn.execute("""SELECT e.edge_type, t.node_type, e.properties ? 'entered_at', e.properties->>'role',
                                   e.effective_from IS NOT NULL, e.effective_to
                              FROM crm.edges e JOIN crm.nodes t ON t.id = e.target_id
                             WHERE e.source_id = %s ORDER BY 1""", (opp,)).fetchall()
    assert edges == [("assigned_to", "person", False, "owner", True, None),
                     ("pipeline_member", "pipeline", True, None, False, None)]
    # without an assignee: no assigned_to edge
    opp2 = opportunity(conn, "Solo")
    assert val(conn, "SELECT count(*) FROM crm.edges WHERE source_id = %s", (opp2,)) == 1


def test_create_opportunity_errors(conn):
    o = org(conn)
    with raises_sqlstate("P0002"):
        opportunity(conn, pipeline="PL-NOPE")
    with raises_sqlstate("P0002"):
        opportunity(conn, pipeline=None)
    with raises_sqlstate("22023"):
        opportunity(conn, name="  ")
    with raises_sqlstate("22023"):
        opportunity(conn, props="[1]")
    with raises_sqlstate("P0002"):
        opportunity(conn, assignee="00000000-0000-0000-0000-000000000001")
    with raises_sqlstate("CR012"):
        opportunity(conn, assignee=o)
    gone = person(conn, "Gone", "Person")
    conn.execute("SELECT crm.archive_node(%s)", (gone,))
    with raises_sqlstate("CR020"):
        opportunity(conn, assignee=gone)
    assert val(conn, "SELECT count(*) FROM crm.nodes WHERE node_type = 'opportunity'") == 0
    # a user can be the assignee too
    u = val(conn, "INSERT INTO crm.nodes (node_type, label, properties) VALUES ('user', 'U', '{\"name\":\"U\"}') "
                  "RETURNING id")
    assert opportunity(conn, assignee=u)
    # a custom pipeline's default stage is used
    conn.execute("SELECT crm.create_pipeline('Mini', 'PL-MINI', %s)", (STAGES_3,))
    assert current_stage(conn, opportunity(conn, pipeline="PL-MINI")) == "open"


# ---------------------------------------------------------------- advance_deal_stage
def test_advance_records_event_assertion_and_history(conn):
    opp = opportunity(conn)
    a1 = val(conn, "SELECT id FROM crm.current_assertions WHERE subject_node_id = %s", (opp,))
    a2 = val(conn, "SELECT crm.advance_deal_stage(%s, 'qualification', 'BANT done', 'alice')", (opp,))
    old = conn.execute("SELECT superseded_at IS NOT NULL, superseded_by FROM crm.assertions WHERE id = %s",
                       (a1,)).fetchone()
    assert old == (True, a2)
    claim, ev = conn.execute("SELECT claim, source_event_id FROM crm.assertions WHERE id = %s", (a2,)).fetchone()
    assert claim == {"stage": "qualification", "pipeline": "PL-SALES", "moved_from": "prospecting",
                     "reason": "BANT done"}
    e = conn.execute("SELECT event_type, properties, actor_system FROM crm.events WHERE id = %s", (ev,)).fetchone()
    assert e[0] == "stage_change" and e[2] == "alice"
    assert e[1]["from_stage"] == "prospecting" and e[1]["to_stage"] == "qualification"
    assert e[1]["reason"] == "BANT done"
    assert conn.execute("SELECT node_id, role FROM crm.event_participants WHERE event_id = %s",
                        (ev,)).fetchall() == [(opp, "subject")]
    # default actor: session_user
    a3 = val(conn, "SELECT crm.advance_deal_stage(%s, 'proposal')", (opp,))
    assert val(conn, "SELECT e.actor_system FROM crm.assertions a JOIN crm.events e ON e.id = a.source_event_id "
                     "WHERE a.id = %s", (a3,)) == val(conn, "SELECT session_user")
    # same stage: a no-op returning the current assertion
    n_events = val(conn, "SELECT count(*) FROM crm.events")
    assert val(conn, "SELECT crm.advance_deal_stage(%s, 'proposal', 'again')", (opp,)) == a3
    assert val(conn, "SELECT count(*) FROM crm.events") == n_events
    hist = conn.execute("SELECT sequence, stage, moved_from, is_current, left_at IS NULL, "
                        "time_in_stage >= interval '0' FROM crm.opportunity_stage_history "
                        "WHERE opportunity_id = %s ORDER BY sequence", (opp,)).fetchall()
    assert hist == [(1, "prospecting", None, False, False, True),
                    (2, "qualification", "prospecting", False, False, True),
                    (3, "proposal", "qualification", True, True, True)]


def test_advance_errors(conn):
    opp = opportunity(conn)
    with raises_sqlstate("P0002"):
        conn.execute("SELECT crm.advance_deal_stage('00000000-0000-0000-0000-000000000001', 'proposal')")
    with raises_sqlstate("P0002"):                              # a node that is not an opportunity
        conn.execute("SELECT crm.advance_deal_stage(%s, 'proposal')", (person(conn),))
    with raises_sqlstate("CR001") as e:
        conn.execute("SELECT crm.advance_deal_stage(%s, 'won_big')", (opp,))
    assert "negotiation" in e.value.diag.message_hint and "closed_lost" in e.value.diag.message_hint
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.advance_deal_stage(%s, NULL)", (opp,))
    conn.execute("SELECT crm.archive_node(%s)", (opp,))
    with raises_sqlstate("CR020"):
        conn.execute("SELECT crm.advance_deal_stage(%s, 'proposal')", (opp,))
    conn.execute("SELECT crm.restore_node(%s)", (opp,))
    assert val(conn, "SELECT crm.advance_deal_stage(%s, 'proposal')", (opp,))


def test_terminal_stage_needs_reopen(conn):
    opp = opportunity(conn)
    conn.execute("SELECT crm.advance_deal_stage(%s, 'closed_lost', 'budget cut')", (opp,))
    for stage in ("negotiation", "closed_won"):
        with raises_sqlstate("CR002"):
            conn.execute("SELECT crm.advance_deal_stage(%s, %s)", (opp, stage))
    assert current_stage(conn, opp) == "closed_lost"
    a = val(conn, "SELECT crm.advance_deal_stage(%s, 'negotiation', 'budget back', p_reopen => true)", (opp,))
    claim = val(conn, "SELECT claim FROM crm.assertions WHERE id = %s", (a,))
    assert claim["moved_from"] == "closed_lost" and claim["stage"] == "negotiation"
    assert val(conn, "SELECT e.properties->>'reopened' FROM crm.assertions a JOIN crm.events e "
                     "ON e.id = a.source_event_id WHERE a.id = %s", (a,)) == "true"
    # custom pipeline: its own terminal flags count
    conn.execute("SELECT crm.create_pipeline('Mini', 'PL-MINI', %s)", (STAGES_3,))
    m = opportunity(conn, pipeline="PL-MINI")
    conn.execute("SELECT crm.advance_deal_stage(%s, 'won')", (m,))
    with raises_sqlstate("CR002"):
        conn.execute("SELECT crm.advance_deal_stage(%s, 'open')", (m,))
    with raises_sqlstate("CR001"):                              # a PL-SALES stage is not a PL-MINI stage
        conn.execute("SELECT crm.advance_deal_stage(%s, 'proposal', p_reopen => true)", (m,))


def test_twenty_parallel_advances_keep_one_true_chain(db, conn):
    opp = opportunity(conn)
    stages = ["qualification", "proposal", "negotiation", "prospecting"]
    n = 20
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def worker(i: int):
        try:
            with psycopg.connect(db, autocommit=True) as c:
                barrier.wait(timeout=30)
                c.execute("SELECT crm.advance_deal_stage(%s, %s, %s, %s)",
                          (opp, stages[i % len(stages)], f"thread {i}", f"t{i}"))
        except BaseException as e:  # noqa: BLE001 - asserted below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    current = conn.execute("SELECT id FROM crm.assertions WHERE subject_node_id = %s AND assertion_type = "
                           "'deal_stage' AND superseded_at IS NULL", (opp,)).fetchall()
    assert len(current) == 1
    rows = {r[0]: r[1:] for r in conn.execute(
        "SELECT id, claim, superseded_by, asserted_at, superseded_at FROM crm.assertions "
        "WHERE subject_node_id = %s AND assertion_type = 'deal_stage'", (opp,))}
    heads = set(rows) - {r[1] for r in rows.values() if r[1]}
    assert len(heads) == 1
    chain, cur = [], heads.pop()
    while cur:
        chain.append(cur)
        cur = rows[cur][1]
    assert len(chain) == len(rows)                              # the chain covers every row
    assert chain[-1] == current[0][0]
    changes = 0
    for prev, nxt in zip(chain, chain[1:], strict=False):
        assert rows[nxt][0]["moved_from"] == rows[prev][0]["stage"]
        assert rows[nxt][0]["stage"] != rows[prev][0]["stage"]
        assert rows[prev][3] == rows[nxt][2]                     # left == next entered
        assert rows[prev][2] <= rows[nxt][2]                     # time runs forward along the chain
        changes += 1
    # every thread either changed the stage or found it already there (a no-op)
    n_events = val(conn, "SELECT count(*) FROM crm.event_participants ep JOIN crm.events e ON e.id = ep.event_id "
                         "WHERE ep.node_id = %s AND e.event_type = 'stage_change'", (opp,))
    assert n_events == changes and 1 <= changes <= n
    hist = [r[0] for r in conn.execute("SELECT assertion_id FROM crm.opportunity_stage_history "
                                       "WHERE opportunity_id = %s ORDER BY sequence", (opp,))]
    assert hist == chain


# ---------------------------------------------------------------- value and probability
def test_deal_value_and_win_probability_keep_history(conn):
    opp = opportunity(conn)
    v1 = val(conn, "SELECT crm.set_deal_value(%s, 1000, 'eur')", (opp,))
    v2 = val(conn, "SELECT crm.set_deal_value(%s, 1500.50, 'EUR', 'revised quote')", (opp,))
    assert val(conn, "SELECT superseded_by FROM crm.assertions WHERE id = %s", (v1,)) == v2
    assert val(conn, "SELECT claim FROM crm.assertions WHERE id = %s", (v2,)) == \
        {"amount": 1500.50, "currency": "EUR", "basis": "revised quote"}
    w1 = val(conn, "SELECT crm.set_win_probability(%s, 0.25)", (opp,))
    w2 = val(conn, "SELECT crm.set_win_probability(%s, 1, 'signed')", (opp,))
    assert val(conn, "SELECT superseded_by FROM crm.assertions WHERE id = %s", (w1,)) == w2
    for sql, args in [("SELECT crm.set_deal_value(%s, -1, 'EUR')", (opp,)),
                      ("SELECT crm.set_deal_value(%s, NULL, 'EUR')", (opp,)),
                      ("SELECT crm.set_deal_value(%s, 10, 'EURO')", (opp,)),
                      ("SELECT crm.set_deal_value(%s, 10, NULL)", (opp,)),
                      ("SELECT crm.set_win_probability(%s, 1.01)", (opp,)),
                      ("SELECT crm.set_win_probability(%s, -0.1)", (opp,)),
                      ("SELECT crm.set_win_probability(%s, NULL)", (opp,))]:
        with raises_sqlstate("22023"):
            conn.execute(sql, args)
    p = person(conn)
    with raises_sqlstate("P0002"):
        conn.execute("SELECT crm.set_deal_value(%s, 1, 'EUR')", (p,))
    with raises_sqlstate("P0002"):
        conn.execute("SELECT crm.set_win_probability(%s, 0.5)", (p,))
    conn.execute("SELECT crm.archive_node(%s)", (opp,))
    with raises_sqlstate("CR020"):
        conn.execute("SELECT crm.set_deal_value(%s, 1, 'EUR')", (opp,))
    with raises_sqlstate("CR020"):
        conn.execute("SELECT crm.set_win_probability(%s, 0.5)", (opp,))
