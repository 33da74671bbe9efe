"""Seed 001 §6 and §8: materialized read models, their refresh, live twins, cross-domain view."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg

from tests.crm_helpers import opportunity, org, person, raises_sqlstate, val

OA_COLS = ("node_id, label, code, name, estimated_value, teams, stage, pipeline, stage_since, current_value, "
           "win_probability, primary_contact_name, primary_contact_id, assigned_to_name, assigned_to_id, created_at, "
           "node_id_text, account_id, account_id_text, account_name, close_date, currency, primary_contact_id_text, "
           "assigned_to_email, assigned_to_id_text")
CD_COLS = ("node_id, label, code, first_name, last_name, email, phone, title, organization, org_id, created_at, "
           "node_id_text, org_id_text, contact_info_email, contact_info_phone, contact_info_address, "
           "preferred_contact, sentiment, sentiment_confidence, sentiment_notes")


def rows(conn, sql, params=None):
    return conn.execute(sql, params).fetchall()


def edge(conn, edge_type, src, tgt, props="{}"):
    return val(conn, "INSERT INTO crm.edges (edge_type, source_id, target_id, properties) "
                     "VALUES (%s, %s, %s, %s) RETURNING id", (edge_type, src, tgt, props))


def build_graph(conn):
    ana, bo = person(conn, "Ana", "Silva", '{"email": "ana@acme.example"}'), person(conn, "Bo", "Berg")
    acme = org(conn, "Acme")
    conn.execute("SELECT crm.link_employment(%s, %s, 'CTO')", (acme, ana))
    conn.execute("""SELECT crm.set_contact_info(%s, '{"phone": "+1 555"}')""", (ana,))
    conn.execute("""SELECT crm.supersede_assertion(NULL, 'sentiment', %s, NULL, '{"stance": "positive"}')""", (ana,))
    deal = opportunity(conn, "Big deal", assignee=bo, props='{"estimated_value": "12000.5"}', teams=["sales"])
    edge(conn, "primary_contact", deal, ana)
    conn.execute("SELECT crm.set_deal_value(%s, 9000, 'USD')", (deal,))
    conn.execute("SELECT crm.set_win_probability(%s, 0.3)", (deal,))
    conn.execute("SELECT crm.advance_deal_stage(%s, 'proposal')", (deal,))
    won = opportunity(conn, "Won deal")
    conn.execute("SELECT crm.advance_deal_stage(%s, 'closed_won')", (won,))
    gone = opportunity(conn, "Archived deal")
    conn.execute("SELECT crm.archive_node(%s)", (gone,))
    return {"ana": ana, "bo": bo, "acme": acme, "deal": deal, "won": won, "gone": gone}


def test_read_models_match_live_views_and_expected_rows(conn):
    g = build_graph(conn)
    assert rows(conn, "SELECT count(*) FROM crm.opportunities_active") == [(0,)]     # not refreshed yet
    refreshed = rows(conn, "SELECT view_name, duration_ms >= 0 FROM crm.refresh_crm_views() ORDER BY 1")
    assert refreshed == [("crm_private.contacts_directory_mv", True), ("crm_private.opportunities_active_mv", True)]
    oa = rows(conn, f"SELECT {OA_COLS} FROM crm.opportunities_active ORDER BY node_id")
    assert oa == rows(conn, f"SELECT {OA_COLS} FROM crm.opportunities_active_live ORDER BY node_id")
    assert len(oa) == 1                                     # won (terminal) and archived deals excluded
    r = conn.execute(f"SELECT {OA_COLS} FROM crm.opportunities_active").fetchone()
    d = dict(zip([c.strip() for c in OA_COLS.split(",")], r, strict=True))
    assert d["node_id"] == g["deal"] and d["stage"] == "proposal" and d["pipeline"] == "PL-SALES"
    assert float(d["estimated_value"]) == 12000.5 and float(d["current_value"]) == 9000
    assert float(d["win_probability"]) == 0.3 and d["teams"] == "sales" and d["currency"] == "USD"
    assert (d["primary_contact_id"], d["primary_contact_name"]) == (g["ana"], "Ana Silva")
    assert (d["assigned_to_id"], d["assigned_to_name"]) == (g["bo"], "Bo Berg")
    assert d["node_id_text"] == str(g["deal"]) and d["account_id"] is None    # not owned by an account
    types = dict(rows(conn, "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                            "WHERE attrelid = 'crm.opportunities_active'::regclass AND attnum > 0"))
    assert types["estimated_value"] == types["current_value"] == "numeric(18,2)"
    assert types["win_probability"] == "numeric(5,4)" and types["close_date"] == "date"

    cd = rows(conn, f"SELECT {CD_COLS} FROM crm.contacts_directory ORDER BY node_id")
    assert cd == rows(conn, f"SELECT {CD_COLS} FROM crm.contacts_directory_live ORDER BY node_id")
    by_id = {r[0]: r for r in cd}
    assert set(by_id) == {g["ana"], g["bo"]}
    ana = by_id[g["ana"]]
    assert ana[5] == "ana@acme.example" and ana[8] == "Acme" and ana[9] == g["acme"]
    assert ana[12] == str(g["acme"]) and ana[14] == "+1 555" and ana[13] is None and ana[17] == "positive"
    detail = rows(conn, "SELECT current_contact_info, current_sentiment FROM crm.contacts_directory_detail "
                        "WHERE node_id = %s", (g["ana"],))
    assert detail == [({"phone": "+1 555"}, {"stance": "positive"})]
    assert by_id[g["bo"]][8] is None
    # refresh log: one row per view, updated on every refresh
    first = dict(rows(conn, "SELECT view_name, refreshed_at FROM crm_private.view_refreshes"))
    conn.execute("SELECT crm.refresh_crm_views()")
    second = dict(rows(conn, "SELECT view_name, refreshed_at FROM crm_private.view_refreshes"))
    crm_views = {"crm_private.opportunities_active_mv", "crm_private.contacts_directory_mv"}
    assert set(first) == set(second) and crm_views <= set(first)
    assert all(second[k] > first[k] for k in crm_views)
    assert all(second[k] == first[k] for k in set(first) - crm_views)
    # the wrappers say when their stored rows were computed
    assert {r[0] for r in rows(conn, "SELECT as_of FROM crm.contacts_directory")} == \
        {second["crm_private.contacts_directory_mv"]}
    assert {r[0] for r in rows(conn, "SELECT as_of FROM crm.opportunities_active")} <= \
        {second["crm_private.opportunities_active_mv"]}
    # after the employment ends, the directory shows no organization
    conn.execute("SELECT crm.end_employment(%s, %s)", (g["acme"], g["ana"]))
    conn.execute("SELECT crm.refresh_crm_views()")
    assert val(conn, "SELECT organization FROM crm.contacts_directory WHERE node_id = %s", (g["ana"],)) is None


def test_materialized_views_never_fan_out(conn):
    deal = opportunity(conn, "Crowded")
    p1, p2, o1, o2 = (person(conn, "P", str(i)) for i in range(4))
    edge(conn, "primary_contact", deal, p1)
    edge(conn, "primary_contact", deal, p2)
    edge(conn, "assigned_to", deal, o1, '{"role": "owner"}')
    edge(conn, "assigned_to", deal, o2, '{"role": "owner"}')
    acme, beta = org(conn, "Acme"), org(conn, "Beta")
    conn.execute("SELECT crm.link_employment(%s, %s)", (acme, p1))
    conn.execute("SELECT crm.link_employment(%s, %s)", (beta, p1))
    for _ in range(2):                                     # superseded assertions must not add rows either
        conn.execute("SELECT crm.set_deal_value(%s, 5, 'EUR')", (deal,))
        conn.execute("""SELECT crm.set_contact_info(%s, '{"email": "p@x.example"}')""", (p1,))
    # a second current lead_score under another key is allowed, and must not fan out either
    conn.execute("""SELECT crm.supersede_assertion(NULL, 'lead_score', %s, NULL, '{"score": 1}', NULL, 1, 'm1')""",
                 (deal,))
    conn.execute("SELECT crm.refresh_crm_views()")
    assert rows(conn, "SELECT count(*), count(DISTINCT node_id) FROM crm.opportunities_active") == [(1, 1)]
    assert rows(conn, "SELECT count(*), count(DISTINCT node_id) FROM crm.contacts_directory") == [(4, 4)]
    assert rows(conn, "SELECT count(*) FROM crm.opportunities_active_live") == [(1,)]
    assert rows(conn, "SELECT count(*) FROM crm.contacts_directory_live") == [(4,)]
    # the first primary contact (by creation) is shown
    assert val(conn, "SELECT primary_contact_id FROM crm.opportunities_active") == p1


def test_refresh_does_not_block_readers(db, conn):
    build_graph(conn)
    conn.execute("SELECT crm.refresh_crm_views()")
    reader_ready, release = threading.Event(), threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def reader():
        try:
            with psycopg.connect(db) as c:                     # not autocommit: holds a transaction open
                c.execute("BEGIN")
                seen.append(len(c.execute("SELECT * FROM crm.opportunities_active").fetchall()))
                seen.append(len(c.execute("SELECT * FROM crm.contacts_directory").fetchall()))
                reader_ready.set()
                release.wait(timeout=30)
                seen.append(len(c.execute("SELECT * FROM crm.opportunities_active").fetchall()))
                c.execute("COMMIT")
        except BaseException as e:  # noqa: BLE001 - asserted below
            errors.append(e)
            reader_ready.set()

    t = threading.Thread(target=reader)
    t.start()
    assert reader_ready.wait(timeout=30)
    try:
        opportunity(conn, "Added while reading")
        with psycopg.connect(db, autocommit=True) as w:
            w.execute("SET statement_timeout = '5s'")
            got = w.execute("SELECT view_name FROM crm.refresh_crm_views()").fetchall()
        assert len(got) == 2
    finally:
        release.set()
        t.join()
    assert errors == []
    assert seen[0] == 1 and seen[2] in (1, 2)
    assert val(conn, "SELECT count(*) FROM crm.opportunities_active") == 2


def test_refresh_function_is_definer_with_pinned_search_path_and_not_public(conn):
    secdef, config, public_exec = conn.execute(
        "SELECT prosecdef, proconfig, has_function_privilege('public', oid, 'EXECUTE') FROM pg_proc "
        "WHERE oid = 'crm.refresh_crm_views()'::regprocedure").fetchone()
    assert secdef and config[0] == "search_path=pg_catalog, pg_temp" and "crm.bulk_apply=off" in config
    assert not public_exec
    for mv in ("crm_private.opportunities_active_mv", "crm_private.contacts_directory_mv"):
        assert val(conn, "SELECT relacl FROM pg_class WHERE oid = %s::regclass", (mv,)) is None or \
            not val(conn, "SELECT has_table_privilege('public', %s, 'SELECT')", (mv,))
    # MVs reference base tables and their own migration-made definition only (no repeatable
    # view of sql/views): re-applying the views cannot drop them
    deps = rows(conn, """SELECT DISTINCT c.relname FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
                           JOIN pg_class c ON c.oid = d.refobjid
                          WHERE r.ev_class IN ('crm_private.opportunities_active_mv'::regclass,
                                               'crm_private.contacts_directory_mv'::regclass)
                            AND c.oid <> r.ev_class AND c.relkind <> 'r'
                          ORDER BY 1""")
    assert deps == [("contacts_directory_rows",), ("opportunities_active_rows",)]
    views_sql = "".join(p.read_text() for p in (Path(__file__).resolve().parent.parent / "sql" / "views").glob("*.sql"))
    assert "VIEW crm_private." not in views_sql


def test_every_crm_view_has_a_comment_and_only_mv_wrappers_are_definer_views(conn):
    bad = rows(conn, """SELECT c.relname FROM pg_class c
                         WHERE c.relnamespace = 'crm'::regnamespace AND c.relkind = 'v'
                           AND (obj_description(c.oid, 'pg_class') IS NULL
                                OR (NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)
                                    AND c.relname NOT IN ('opportunities_active', 'contacts_directory', 'accounts_360')))""")
    assert bad == []
    bad_mv = rows(conn, """SELECT c.relname FROM pg_class c WHERE c.relkind IN ('m', 'r')
                            AND c.relnamespace = 'crm_private'::regnamespace
                            AND obj_description(c.oid, 'pg_class') IS NULL""")
    assert bad_mv == []


# ---------------------------------------------------------------- seed §8
SEED_8 = """
SELECT
opp.properties->>'code' AS opp_code,
con.label AS contact_name,
ticket.label AS ticket_title,
ticket_stg.claim->>'status' AS ticket_status
FROM nodes opp
JOIN edges pc ON pc.source_id = opp.id
AND pc.edge_type IN ('primary_contact', 'secondary_contact')
AND pc.archived_at IS NULL
JOIN nodes con ON con.id = pc.target_id
JOIN edges filed ON filed.source_id = con.id
AND filed.edge_type = 'filed'
AND filed.archived_at IS NULL
JOIN nodes ticket ON ticket.id = filed.target_id AND ticket.node_type = 'ticket'
LEFT JOIN current_assertions ticket_stg
ON ticket_stg.subject_node_id = ticket.id AND ticket_stg.assertion_type = 'ticket_status'
WHERE opp.node_type = 'opportunity' AND opp.archived_at IS NULL
AND (ticket_stg.claim->>'status' NOT IN ('resolved', 'closed')
OR ticket_stg.claim->>'status' IS NULL);
"""


def ticket(conn, subject, status=None):
    t = val(conn, "INSERT INTO crm.nodes (node_type, label, properties) VALUES ('ticket', %s, "
                  "jsonb_build_object('subject', %s::text)) RETURNING id", (subject, subject))
    if status:
        conn.execute("SELECT crm.supersede_assertion(NULL, 'ticket_status', %s, NULL, "
                     "jsonb_build_object('status', %s::text))", (t, status))
    return t


def test_open_tickets_on_active_opportunities(conn):
    ana, bo, cy = person(conn, "Ana", "A"), person(conn, "Bo", "B"), person(conn, "Cy", "C")
    deal = opportunity(conn, "Active")
    won = opportunity(conn, "Won")
    conn.execute("SELECT crm.advance_deal_stage(%s, 'closed_won')", (won,))
    edge(conn, "primary_contact", deal, ana)
    edge(conn, "secondary_contact", deal, bo)
    edge(conn, "primary_contact", won, cy)
    t_open = ticket(conn, "Login broken", "open")
    t_new = ticket(conn, "No status yet")
    t_solved = ticket(conn, "Solved one", "solved")
    t_closed = ticket(conn, "Closed one", "closed")
    t_gone = ticket(conn, "Archived one", "pending")
    t_cy = ticket(conn, "Cy's ticket", "open")
    for who, t in [(ana, t_open), (ana, t_solved), (bo, t_new), (bo, t_closed), (bo, t_gone), (cy, t_cy)]:
        edge(conn, "filed", who, t)
    conn.execute("SELECT crm.archive_node(%s)", (t_gone,))
    code = val(conn, "SELECT properties->>'code' FROM crm.nodes WHERE id = %s", (deal,))
    won_code = val(conn, "SELECT properties->>'code' FROM crm.nodes WHERE id = %s", (won,))

    got = rows(conn, "SELECT opp_code, contact_name, contact_role, ticket_title, ticket_status "
                     "FROM crm.open_tickets_on_active_opportunities ORDER BY ticket_title")
    assert got == [(code, "Ana A", "primary_contact", "Login broken", "open"),
                   (code, "Bo B", "secondary_contact", "No status yet", None)]

    # The seed's query runs unchanged with search_path = crm. It has no archived/terminal
    # filters and treats only resolved/closed as closed, hence its extra rows.
    conn.execute("SET search_path = crm")
    seed = sorted(rows(conn, SEED_8), key=lambda r: (r[2], r[0]))
    assert seed == sorted([(code, "Ana A", "Login broken", "open"),
                           (code, "Ana A", "Solved one", "solved"),
                           (code, "Bo B", "No status yet", None),
                           (code, "Bo B", "Archived one", "pending"),
                           (won_code, "Cy C", "Cy's ticket", "open")], key=lambda r: (r[2], r[0]))
    # resolving the ticket removes it from the view
    conn.execute("SELECT crm.supersede_assertion(NULL, 'ticket_status', %s, NULL, '{\"status\": \"resolved\"}')",
                 (t_open,))
    assert rows(conn, "SELECT ticket_title FROM crm.open_tickets_on_active_opportunities") == [("No status yet",)]


def test_stage_history_view_error_free_for_fresh_and_unknown(conn):
    with raises_sqlstate("P0002"):
        conn.execute("SELECT crm.advance_deal_stage(%s, 'proposal')", ("00000000-0000-0000-0000-000000000002",))
    opp = opportunity(conn)
    h = rows(conn, "SELECT sequence, stage, moved_from, is_current, left_at FROM crm.opportunity_stage_history "
                   "WHERE opportunity_id = %s", (opp,))
    assert h == [(1, "prospecting", None, True, None)]
