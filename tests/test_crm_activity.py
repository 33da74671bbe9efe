"""Seed 001 §5.3 and §2.2: activities, people/orgs, employment (temporal edges), contact info."""

from __future__ import annotations

from tests.crm_helpers import opportunity, org, person, raises_sqlstate, val

MISSING = "00000000-0000-0000-0000-00000000dead"


def test_log_crm_activity_happy_path_and_idempotent_participants(conn):
    p, opp = person(conn), opportunity(conn)
    ev = val(conn, """SELECT crm.log_crm_activity('meeting', 'Kick-off', '{"location": "Zoom"}', 'bob',
                          ARRAY[%s, %s, %s]::uuid[], ARRAY['attendee', 'subject', 'attendee'],
                          '2024-03-01 10:00+00')""", (p, opp, p))
    e = conn.execute("SELECT event_type, summary, properties, actor_system, occurred_at::text "
                     "FROM crm.events WHERE id = %s", (ev,)).fetchone()
    assert e[:4] == ("meeting", "Kick-off", {"location": "Zoom"}, "bob")
    assert e[4].startswith("2024-03-01 10:00:00")
    parts = conn.execute("SELECT node_id, role FROM crm.event_participants WHERE event_id = %s ORDER BY role",
                         (ev,)).fetchall()
    assert parts == [(p, "attendee"), (opp, "subject")]            # the duplicate collapsed
    ev2 = val(conn, "SELECT crm.log_crm_activity('note', NULL, NULL, NULL, ARRAY[%s]::uuid[], ARRAY['subject'])",
              (p,))
    props, actor = conn.execute("SELECT properties, actor_system FROM crm.events WHERE id = %s", (ev2,)).fetchone()
    assert props == {} and actor == val(conn, "SELECT session_user")


def test_log_crm_activity_validation(conn):
    p = person(conn)
    n_events = val(conn, "SELECT count(*) FROM crm.events")
    cases = [
        ("22023", "ARRAY[]::uuid[]", "ARRAY[]::text[]"),
        ("22023", "NULL", "NULL"),
        ("22023", f"ARRAY['{p}']::uuid[]", "ARRAY['a', 'b']"),
        ("22023", f"ARRAY['{p}']::uuid[]", "NULL"),
        ("22023", f"ARRAY['{p}', NULL]::uuid[]", "ARRAY['a', 'b']"),
        ("22023", f"ARRAY['{p}']::uuid[]", "ARRAY['  ']"),
    ]
    for state, ids, roles in cases:
        with raises_sqlstate(state):
            conn.execute(f"SELECT crm.log_crm_activity('note', 's', '{{}}', NULL, {ids}, {roles})")
    with raises_sqlstate("P0002") as e:
        conn.execute("SELECT crm.log_crm_activity('note', 's', '{}', NULL, ARRAY[%s, %s]::uuid[], ARRAY['a', 'b'])",
                     (p, MISSING))
    assert MISSING in e.value.diag.message_primary and str(p) not in e.value.diag.message_primary
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.log_crm_activity('note', 's', '[1]', NULL, ARRAY[%s]::uuid[], ARRAY['a'])", (p,))
    with raises_sqlstate("CR010"):
        conn.execute("SELECT crm.log_crm_activity('fax', 's', '{}', NULL, ARRAY[%s]::uuid[], ARRAY['a'])", (p,))
    assert val(conn, "SELECT count(*) FROM crm.events") == n_events     # nothing half-written


def test_typed_activity_wrappers_store_bodies_as_artifacts(conn):
    p, opp = person(conn), opportunity(conn)
    em = val(conn, "SELECT crm.log_email('Pricing', 'outbound', ARRAY[%s, %s]::uuid[], 'Hi Ana')", (p, opp))
    props = val(conn, "SELECT properties FROM crm.events WHERE id = %s", (em,))
    assert props["subject"] == "Pricing" and props["direction"] == "outbound"
    art = conn.execute("SELECT id::text, artifact_type, event_id, body, content_hash FROM crm.artifacts "
                       "WHERE event_id = %s", (em,)).fetchall()
    assert len(art) == 1 and art[0][0] == props["body_ref"] and art[0][1] == "email_body" and art[0][3] == "Hi Ana"
    assert art[0][4] == val(conn, "SELECT encode(sha256('Hi Ana'::bytea), 'hex')")
    assert {r[0] for r in conn.execute("SELECT role FROM crm.event_participants WHERE event_id = %s", (em,))} \
        == {"participant"}
    em2 = val(conn, "SELECT crm.log_email('No body', 'inbound', ARRAY[%s]::uuid[])", (p,))
    assert "body_ref" not in val(conn, "SELECT properties FROM crm.events WHERE id = %s", (em2,))
    assert val(conn, "SELECT count(*) FROM crm.artifacts WHERE event_id = %s", (em2,)) == 0

    call = val(conn, "SELECT crm.log_call('inbound', ARRAY[%s]::uuid[], 300, 'callback', 'wants a demo')", (p,))
    et, props = conn.execute("SELECT event_type, properties FROM crm.events WHERE id = %s", (call,)).fetchone()
    assert et == "phone_call" and props["duration"] == 300 and props["outcome"] == "callback"
    assert val(conn, "SELECT artifact_type FROM crm.artifacts WHERE event_id = %s", (call,)) == "call_notes"

    mt = val(conn, "SELECT crm.log_meeting('QBR', ARRAY[%s, %s]::uuid[], 'Berlin', 45)", (p, opp))
    et, props = conn.execute("SELECT event_type, properties FROM crm.events WHERE id = %s", (mt,)).fetchone()
    assert et == "meeting" and props == {"title": "QBR", "location": "Berlin", "duration": 45}
    assert {r[0] for r in conn.execute("SELECT role FROM crm.event_participants WHERE event_id = %s", (mt,))} \
        == {"attendee"}

    nt = val(conn, "SELECT crm.log_note('Prefers email', ARRAY[%s]::uuid[], 'preference', p_actor => 'carol')", (p,))
    et, props, actor = conn.execute("SELECT event_type, properties, actor_system FROM crm.events WHERE id = %s",
                                    (nt,)).fetchone()
    assert et == "note" and props["category"] == "preference" and actor == "carol"
    assert val(conn, "SELECT body FROM crm.artifacts WHERE id = %s::uuid", (props["body_ref"],)) == "Prefers email"


def test_typed_activity_wrapper_errors(conn):
    p = person(conn)
    for sql in ["SELECT crm.log_email('', 'outbound', ARRAY[%s]::uuid[])",
                "SELECT crm.log_email('s', 'sideways', ARRAY[%s]::uuid[])",
                "SELECT crm.log_call('up', ARRAY[%s]::uuid[])",
                "SELECT crm.log_call('inbound', ARRAY[%s]::uuid[], -5)",
                "SELECT crm.log_meeting(' ', ARRAY[%s]::uuid[])",
                "SELECT crm.log_meeting('m', ARRAY[%s]::uuid[], NULL, -1)",
                "SELECT crm.log_note('', ARRAY[%s]::uuid[])"]:
        with raises_sqlstate("22023"):
            conn.execute(sql, (p,))
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.log_note('x', ARRAY[]::uuid[])")
    with raises_sqlstate("P0002"):
        conn.execute("SELECT crm.log_email('s', 'outbound', ARRAY[%s]::uuid[], 'body')", (MISSING,))
    assert val(conn, "SELECT count(*) FROM crm.artifacts") == 0


def test_create_person_and_org(conn):
    p = person(conn, " Ana ", "Silva", '{"email": "ana@acme.example", "first_name": "ignored"}')
    label, props = conn.execute("SELECT label, properties FROM crm.nodes WHERE id = %s", (p,)).fetchone()
    assert label == "Ana Silva" and props["first_name"] == "Ana" and props["email"] == "ana@acme.example"
    o = org(conn, "Acme GmbH", '{"industry": "manufacturing"}')
    assert val(conn, "SELECT properties->>'industry' FROM crm.nodes WHERE id = %s", (o,)) == "manufacturing"
    for sql, args in [("SELECT crm.create_person('', 'X')", None), ("SELECT crm.create_person('X', NULL)", None),
                      ("SELECT crm.create_person('X', 'Y', '[]')", None), ("SELECT crm.create_org(' ')", None),
                      ("SELECT crm.create_org('X', '\"s\"')", None)]:
        with raises_sqlstate("22023"):
            conn.execute(sql, args)


def test_link_and_end_employment(conn):
    o, p = org(conn), person(conn)
    e1 = val(conn, "SELECT crm.link_employment(%s, %s, 'CTO', 'Engineering', '2023-01-15')", (o, p))
    assert val(conn, "SELECT crm.link_employment(%s, %s, 'CTO', 'Engineering')", (o, p)) == e1   # idempotent
    props, frm = conn.execute("SELECT properties, effective_from::date::text FROM crm.edges WHERE id = %s",
                              (e1,)).fetchone()
    assert props == {"title": "CTO", "department": "Engineering", "start_date": "2023-01-15"}
    assert frm == "2023-01-15"
    with raises_sqlstate("23505"):
        conn.execute("SELECT crm.link_employment(%s, %s, 'CEO')", (o, p))
    with raises_sqlstate("P0002"):
        conn.execute("SELECT crm.link_employment(%s, %s)", (MISSING, p))
    with raises_sqlstate("P0002"):
        conn.execute("SELECT crm.link_employment(%s, %s)", (o, MISSING))
    with raises_sqlstate("CR012"):
        conn.execute("SELECT crm.link_employment(%s, %s)", (p, o))
    assert val(conn, "SELECT crm.end_employment(%s, %s, '2024-06-30')", (o, p)) == e1
    assert val(conn, "SELECT effective_to::date::text FROM crm.edges WHERE id = %s", (e1,)) == "2024-06-30"
    with raises_sqlstate("P0002"):                                     # no open employment any more
        conn.execute("SELECT crm.end_employment(%s, %s)", (o, p))
    with raises_sqlstate("55000"):
        conn.execute("SELECT crm.end_edge(%s)", (e1,))
    e2 = val(conn, "SELECT crm.link_employment(%s, %s, 'CEO')", (o, p))   # rejoined: a new edge
    assert e2 != e1
    assert val(conn, "SELECT count(*) FROM crm.edges WHERE edge_type = 'employs'") == 2   # history kept
    gone = person(conn, "Gone", "Person")
    conn.execute("SELECT crm.archive_node(%s)", (gone,))
    with raises_sqlstate("CR020"):
        conn.execute("SELECT crm.link_employment(%s, %s)", (o, gone))


def test_end_edge_errors(conn):
    o, p = org(conn), person(conn)
    opp = opportunity(conn, assignee=p)
    with raises_sqlstate("P0002"):
        conn.execute("SELECT crm.end_edge(%s)", (MISSING,))
    pm = val(conn, "SELECT id FROM crm.edges WHERE source_id = %s AND edge_type = 'pipeline_member'", (opp,))
    with raises_sqlstate("22023"):                                     # not temporal
        conn.execute("SELECT crm.end_edge(%s)", (pm,))
    e = val(conn, "SELECT crm.link_employment(%s, %s, p_start => '2024-01-01')", (o, p))
    with raises_sqlstate("22023"):                                     # before it started
        conn.execute("SELECT crm.end_edge(%s, '2023-01-01')", (e,))
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.end_edge(%s, NULL)", (e,))
    asg = val(conn, "SELECT id FROM crm.edges WHERE source_id = %s AND edge_type = 'assigned_to'", (opp,))
    assert val(conn, "SELECT crm.end_edge(%s)", (asg,)) == asg
    assert val(conn, "SELECT effective_to IS NOT NULL FROM crm.edges WHERE id = %s", (asg,))
    conn.execute("UPDATE crm.edges SET archived_at = now() WHERE id = %s", (e,))
    with raises_sqlstate("CR020"):
        conn.execute("SELECT crm.end_edge(%s)", (e,))


def test_set_contact_info(conn):
    p = person(conn)
    a1 = val(conn, """SELECT crm.set_contact_info(%s, '{"email": "a@x.example", "preferred_contact": "email"}')""",
             (p,))
    a2 = val(conn, """SELECT crm.set_contact_info(%s, '{"phone": "+49 30 1"}')""", (p,))
    assert val(conn, "SELECT superseded_by FROM crm.assertions WHERE id = %s", (a1,)) == a2
    assert val(conn, "SELECT claim FROM crm.current_assertions WHERE subject_node_id = %s "
                     "AND assertion_type = 'contact_info'", (p,)) == {"phone": "+49 30 1"}
    for info in ['{}', '[]', '{"fax": "1"}', '{"email": "a", "preferred_contact": "pigeon"}']:
        with raises_sqlstate("22023"):
            conn.execute("SELECT crm.set_contact_info(%s, %s)", (p, info))
    with raises_sqlstate("CR013"):
        conn.execute("""SELECT crm.set_contact_info(%s, '{"email": 5}')""", (p,))
    with raises_sqlstate("P0002"):
        conn.execute("""SELECT crm.set_contact_info(%s, '{"email": "a"}')""", (org(conn),))
    conn.execute("SELECT crm.archive_node(%s)", (p,))
    with raises_sqlstate("CR020"):
        conn.execute("""SELECT crm.set_contact_info(%s, '{"email": "a"}')""", (p,))
