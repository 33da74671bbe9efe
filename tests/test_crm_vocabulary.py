"""Seed 001 §2: the registered vocabularies are enforced on write (CR010..CR014)."""

from __future__ import annotations

from tests.crm_helpers import opportunity, org, person, raises_sqlstate, val


def test_unknown_node_edge_assertion_event_types_are_refused(conn):
    p = person(conn)
    with raises_sqlstate("CR010"):
        conn.execute("INSERT INTO crm.nodes (node_type, label) VALUES ('spaceship', 'x')")
    o = org(conn)
    with raises_sqlstate("CR010"):
        conn.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('likes', %s, %s)", (p, o))
    with raises_sqlstate("CR010"):
        conn.execute("INSERT INTO crm.assertions (assertion_type, subject_node_id, claim) "
                     "VALUES ('mood', %s, '{}')", (p,))
    with raises_sqlstate("CR010"):
        conn.execute("INSERT INTO crm.events (event_type) VALUES ('telepathy')")
    with raises_sqlstate("CR010"):
        conn.execute("SELECT crm.log_crm_activity('telepathy', 's', '{}', NULL, ARRAY[%s]::uuid[], ARRAY['x'])", (p,))


def test_missing_required_property(conn):
    with raises_sqlstate("CR011"):
        conn.execute("""INSERT INTO crm.nodes (node_type, label, properties)
                        VALUES ('person', 'Ana', '{"first_name": "Ana"}')""")
    with raises_sqlstate("CR011"):
        conn.execute("""INSERT INTO crm.nodes (node_type, label, properties)
                        VALUES ('campaign', 'Spring', '{"name": "Spring", "campaign_type": "  "}')""")
    # the same rows with every required property pass
    conn.execute("""INSERT INTO crm.nodes (node_type, label, properties)
                    VALUES ('campaign', 'Spring', '{"name": "Spring", "campaign_type": "email"}')""")


def test_wrong_endpoint(conn):
    p, o = person(conn), org(conn)
    # employs is org -> person: the reverse direction is refused
    with raises_sqlstate("CR012"):
        conn.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('employs', %s, %s)", (p, o))
    conn.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('employs', %s, %s)", (o, p))
    # assigned_to must end at a person or user
    opp = opportunity(conn)
    with raises_sqlstate("CR012"):
        conn.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('assigned_to', %s, %s)",
                     (opp, o))


def test_malformed_claim_and_invalid_subject(conn):
    p = person(conn)
    opp = opportunity(conn)
    with raises_sqlstate("CR013"):   # required key missing
        conn.execute("SELECT crm.supersede_assertion(NULL, 'deal_value', %s, NULL, '{\"amount\": 5}')", (opp,))
    with raises_sqlstate("CR013"):   # wrong JSON type
        conn.execute("SELECT crm.supersede_assertion(NULL, 'deal_value', %s, NULL, "
                     "'{\"amount\": \"5\", \"currency\": \"EUR\"}')", (opp,))
    with raises_sqlstate("CR013"):   # rule: probability within 0..1
        conn.execute("SELECT crm.supersede_assertion(NULL, 'win_probability', %s, NULL, '{\"probability\": 1.5}')",
                     (opp,))
    with raises_sqlstate("CR014"):   # deal_value is about an opportunity, not a person
        conn.execute("SELECT crm.supersede_assertion(NULL, 'deal_value', %s, NULL, "
                     "'{\"amount\": 5, \"currency\": \"EUR\"}')", (p,))
    ok = val(conn, "SELECT crm.supersede_assertion(NULL, 'deal_value', %s, NULL, "
                   "'{\"amount\": 5, \"currency\": \"EUR\"}')", (opp,))
    assert ok is not None


def test_registry_documents_code_property_and_new_error_codes(conn):
    rows = conn.execute("SELECT node_type FROM crm.node_types WHERE code_prefix IS NOT NULL "
                        "AND NOT ('code' = ANY (required_properties || optional_properties))").fetchall()
    assert rows == []
    codes = {r[0] for r in conn.execute("SELECT sqlstate FROM crm.error_codes")}
    assert {"CR001", "CR002", "CR020", "55000", "22023", "P0002"} <= codes
    prefixes = {r[0] for r in conn.execute("SELECT code_prefix FROM crm.node_types WHERE code_prefix IS NOT NULL")}
    assert prefixes == {"OPP", "CON", "ORG", "CMP", "TER"}
