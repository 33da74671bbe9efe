"""The customer model under the access rules (issue 15, seed 002 ownership scoping) — every test
connects as ordinary LOGIN roles made the way docs/security.md tells a DBA (tests/access_helpers),
and decides from what it observes: rows seen, rows written, counts.

World: team EMEA (alice, writer; carl, reader) owns account Acme with customers ana and abe;
team US (bob, writer) owns Globex with customer gus; boss is an admin login; svc a pooled
service."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.access_helpers import ids
from tests.crm_helpers import val


@pytest.fixture
def w(world):
    world.team("EMEA")
    world.team("US")
    world.login("alice", "crm_writer")
    world.join("alice", "EMEA")
    world.login("carl", "crm_reader")
    world.join("carl", "EMEA")
    world.login("bob", "crm_writer")
    world.join("bob", "US")
    world.login("boss", "crm_admin")
    world.login("svc", "crm_service", user=False)
    n = {"acme": world.node("org", "Acme", ["EMEA"]), "globex": world.node("org", "Globex", ["US"])}
    for name, parent in [("ana", "acme"), ("abe", "acme"), ("gus", "globex")]:
        n[name] = world.node("person", name)
        world.own(n[name], n[parent])
    world.n = n
    return world


def sqlstate(conn, sql, params=None):
    try:
        with conn.transaction():
            conn.execute(sql, params)
    except psycopg.Error as e:
        return e.sqlstate
    return None


def test_a_rep_sees_tags_notes_tasks_and_memberships_only_on_what_they_can_see(w):
    n = w.n
    alice, bob, carl = w.connect("alice"), w.connect("bob"), w.connect("carl")
    # each rep works on their own customers
    alice.execute("SELECT crm.tag(%s, 'vip')", (n["ana"],))
    note = val(alice, "SELECT crm.add_note(%s, 'Budget **approved**')", (n["ana"],))
    alice.execute("SELECT crm.create_task(%s, 'Send quote', now() + interval '1 day')", (n["ana"],))
    bob.execute("SELECT crm.tag(%s, 'vip')", (n["gus"],))
    bob.execute("SELECT crm.add_note(%s, 'Globex note')", (n["gus"],))
    bob.execute("SELECT crm.create_task(%s, 'Call Gus')", (n["gus"],))
    seg = val(w.admin, "SELECT crm.create_segment('All')")
    w.admin.execute("SELECT crm.bulk_add_to_segment(%s, %s)", (seg, [n["ana"], n["abe"], n["gus"]]))

    for who, conn, mine, theirs in [("alice", alice, n["ana"], n["gus"]), ("bob", bob, n["gus"], n["ana"])]:
        assert ids(conn, "SELECT node_id FROM crm.node_tags") == {mine}, who
        assert ids(conn, "SELECT anchor_id FROM crm.notes") == {mine}, who
        assert ids(conn, "SELECT anchor_id FROM crm.tasks") == {mine}, who
        assert theirs not in ids(conn, "SELECT customer_id FROM crm.segment_members")
        assert theirs not in ids(conn, "SELECT customer_id FROM crm.customers")
        assert ids(conn, "SELECT node_id FROM crm.tag_history") == {mine}
        # the audit events of the other team's customer are not visible either
        assert val(conn, """SELECT count(*) FROM crm.events e JOIN crm.event_participants p ON p.event_id = e.id
                             WHERE p.node_id = %s""", (theirs,)) == 0
    # a reader of the team sees the same things as its writer, and the notes' history
    assert ids(carl, "SELECT anchor_id FROM crm.notes") == {n["ana"]}
    assert ids(carl, "SELECT customer_id FROM crm.segment_members") == {n["ana"], n["abe"]}
    assert val(carl, "SELECT tags FROM crm.customers WHERE customer_id = %s", (n["ana"],)) == "vip"
    assert {r[0] for r in carl.execute("SELECT event_type FROM crm.timeline(%s)", (n["ana"],))} >= \
        {"tag_added", "note_added", "task_created", "segment_joined"}
    # crm.segment_members_at answers with the visible members only
    assert ids(alice, "SELECT node_id FROM crm.segment_members_at(%s, now())", (seg,)) == {n["ana"], n["abe"]}
    # bob cannot touch alice's customer, whatever he tries
    assert sqlstate(bob, "SELECT crm.tag(%s, 'x')", (n["ana"],)) == "42501"
    assert sqlstate(bob, "SELECT crm.add_note(%s, 'x')", (n["ana"],)) == "42501"
    assert sqlstate(bob, "SELECT crm.edit_note(%s, 'rewritten')", (note,)) == "42501"
    assert sqlstate(bob, "SELECT crm.create_task(%s, 'x')", (n["ana"],)) == "42501"
    assert sqlstate(bob, "INSERT INTO crm.notes (anchor_id, author_id, body) VALUES (%s, %s, 'x')",
                    (n["ana"], w.users["bob"])) == "42501"
    assert val(w.admin, "SELECT count(*) FROM crm.notes WHERE anchor_id = %s", (n["ana"],)) == 1


def test_notes_are_edited_by_their_author_only_with_history(w):
    n = w.n
    alice = w.connect("alice")
    w.login("ada", "crm_writer")
    w.join("ada", "EMEA")
    ada = w.connect("ada")
    note = val(alice, "SELECT crm.add_note(%s, 'v1')", (n["ana"],))
    assert val(ada, "SELECT body FROM crm.notes WHERE id = %s", (note,)) == "v1"     # same team: sees it
    assert sqlstate(ada, "SELECT crm.edit_note(%s, 'hijacked')", (note,)) == "42501"
    assert sqlstate(ada, "UPDATE crm.notes SET body = 'hijacked' WHERE id = %s", (note,)) is None
    assert val(alice, "SELECT body FROM crm.notes WHERE id = %s", (note,)) == "v1"    # the UPDATE touched nothing
    boss = w.connect("boss")
    assert sqlstate(boss, "SELECT crm.edit_note(%s, 'admin rewrite')", (note,)) == "42501"
    assert val(alice, "SELECT crm.edit_note(%s, 'v2')", (note,)) == 2
    assert val(alice, "SELECT crm.edit_note(%s, 'v3')", (note,)) == 3
    assert alice.execute("SELECT version, body FROM crm.note_versions WHERE note_id = %s ORDER BY version",
                         (note,)).fetchall() == [(1, "v1"), (2, "v2")]
    assert val(ada, "SELECT count(*) FROM crm.note_versions WHERE note_id = %s", (note,)) == 2
    assert val(w.connect("bob"), "SELECT count(*) FROM crm.note_versions") == 0
    assert sqlstate(alice, "INSERT INTO crm.note_versions (note_id, version, body, valid_from, valid_to) "
                           "VALUES (%s, 9, 'forged', now(), now())", (note,)) == "42501"


def test_tasks_pool_claim_and_scope(w):
    n = w.n
    alice, bob = w.connect("alice"), w.connect("bob")
    w.login("ada", "crm_writer")
    w.join("ada", "EMEA")
    ada = w.connect("ada")
    pool = val(alice, "SELECT crm.create_task(%s, 'Follow up', now() - interval '1 hour')", (n["abe"],))
    mine = val(alice, "SELECT crm.create_task(%s, 'Mine', NULL, %s)", (n["ana"], w.users["alice"]))
    assert sqlstate(alice, "SELECT crm.create_task(%s, 'For Ada', NULL, %s)", (n["ana"], w.users["ada"])) == "42501"
    assert ids(ada, "SELECT task_id FROM crm.task_pool") == {pool}
    assert ids(ada, "SELECT task_id FROM crm.overdue_tasks") == {pool}
    assert ids(bob, "SELECT task_id FROM crm.tasks") == set()            # another team's customers
    assert sqlstate(bob, "SELECT crm.claim_task(%s)", (pool,)) == "P0002"
    assert val(ada, "SELECT crm.claim_task(%s)", (pool,)) is True
    assert sqlstate(alice, "SELECT crm.claim_task(%s)", (pool,)) == "CR031"
    assert sqlstate(alice, "SELECT crm.complete_task(%s)", (pool,)) == "42501"   # Ada's now
    assert ids(ada, "SELECT task_id FROM crm.my_tasks") == {pool}
    assert ids(alice, "SELECT task_id FROM crm.my_tasks") == {mine}
    assert val(ada, "SELECT crm.complete_task(%s)", (pool,)) is True
    assert sqlstate(ada, "SELECT crm.complete_task(%s)", (pool,)) == "55000"
    row = w.admin.execute("SELECT status, completed_by FROM crm.task_items WHERE id = %s", (pool,)).fetchone()
    assert row == ("done", w.users["ada"])
    assert sorted(r[0] for r in w.admin.execute(
        "SELECT event_type FROM crm.timeline(%s, p_channels => ARRAY['task'])", (n["abe"],))) == \
        ["task_completed", "task_created"]
    assert val(w.admin, "SELECT count(*) FROM crm.events WHERE event_type IN ('task_created', 'task_completed')") == 3
    # a rep may not assign someone else even through the table
    assert sqlstate(alice, "UPDATE crm.task_items SET assignee_id = %s WHERE id = %s", (w.users["ada"], mine)) == "42501"
    boss = w.connect("boss")
    boss.execute("SELECT crm.create_task(%s, 'Admin assigns', NULL, %s)", (n["gus"], w.users["bob"]))
    assert ids(bob, "SELECT title FROM crm.my_tasks") == {"Admin assigns"}


def test_bot_tags_are_refused_for_ordinary_roles(w):
    n = w.n
    boss, alice = w.connect("boss"), w.connect("alice")
    assert val(boss, "SELECT crm.tag(%s, 'bot:paused')", (n["ana"],)) is True      # a system role
    bot = val(w.admin, "SELECT id FROM crm.tags WHERE name = 'bot:paused'")
    before = val(w.admin, "SELECT count(*) FROM crm.node_tags")
    assert sqlstate(alice, "SELECT crm.tag(%s, 'bot:paused')", (n["abe"],)) == "CR052"
    assert sqlstate(alice, "SELECT crm.tag(%s, 'BOT:autoreply')", (n["abe"],)) == "CR052"
    assert sqlstate(alice, "SELECT crm.untag(%s, 'bot:paused')", (n["ana"],)) == "CR052"
    assert sqlstate(alice, "SELECT crm.create_tag('bot:new')") == "CR052"
    assert sqlstate(alice, "SELECT crm.bulk_tag(%s, 'bot:paused')", ([n["ana"], n["abe"]],)) == "CR052"
    # the table itself refuses, for inserts and for closing the row
    assert sqlstate(alice, "INSERT INTO crm.node_tags (node_id, tag_id) VALUES (%s, %s)", (n["abe"], bot)) == "CR052"
    assert sqlstate(alice, "UPDATE crm.node_tags SET removed_at = now() WHERE tag_id = %s", (bot,)) == "CR052"
    assert sqlstate(alice, "INSERT INTO crm.tags (name) VALUES ('bot:x')") == "CR052"
    assert sqlstate(alice, "UPDATE crm.tags SET name = 'free' WHERE id = %s", (bot,)) == "42501"
    # an admin acting for a user is that user — not a system role; nor is a service acting for one
    svc = w.connect("svc", autocommit=False)
    svc.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
    with pytest.raises(psycopg.Error) as e:
        svc.execute("SELECT crm.tag(%s, 'bot:paused')", (n["abe"],))
    assert e.value.sqlstate == "CR052"
    svc.rollback()
    w.login("chief", "crm_admin", "crm_service", user=False)     # an admin that may act for users
    boss_as = w.connect("chief", autocommit=False)
    boss_as.execute("SET LOCAL ROLE crm_service")           # an admin role acts only as crm_service
    boss_as.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
    with pytest.raises(psycopg.Error) as e:
        boss_as.execute("SELECT crm.tag(%s, 'bot:paused')", (n["abe"],))
    assert e.value.sqlstate == "CR052"
    boss_as.rollback()
    assert val(w.admin, "SELECT count(*) FROM crm.node_tags") == before
    assert val(w.admin, "SELECT count(*) FROM crm.tags WHERE is_system") == 1
    # ordinary tags are fine for the rep
    assert val(alice, "SELECT crm.tag(%s, 'follow-up')", (n["abe"],)) is True


def test_bulk_operations_refuse_out_of_scope_ids_all_or_nothing(w):
    n = w.n
    alice, bob = w.connect("alice"), w.connect("bob")
    w.login("ada", "crm_writer")
    w.join("ada", "EMEA")
    ada = w.connect("ada")
    assert val(ada, "SELECT crm.claim(%s)", (n["abe"],)) is True           # abe is Ada's now
    tags_before = val(w.admin, "SELECT count(*) FROM crm.node_tags")
    for sql, params in [("SELECT crm.bulk_tag(%s, 'spring')", ([n["ana"], n["abe"], n["gus"]],)),
                        ("SELECT crm.bulk_claim(%s)", ([n["ana"], n["abe"], n["gus"]],)),
                        ("SELECT crm.bulk_archive(%s)", ([n["ana"], n["gus"]],)),
                        ("SELECT crm.bulk_release(%s)", ([n["ana"], n["abe"]],))]:
        with pytest.raises(psycopg.Error) as e:
            alice.execute(sql, params)
        assert e.value.sqlstate == "CR055", sql
        refused = set(e.value.diag.message_detail.removeprefix("refused ids: ").split(", "))
        expected = {str(x) for x in params[0] if x != n["ana"]}     # gus: other team; abe: Ada's claim
        assert refused == expected, sql
    assert val(w.admin, "SELECT count(*) FROM crm.node_tags") == tags_before
    assert val(w.admin, "SELECT count(*) FROM crm.nodes WHERE claimed_by = %s", (w.users["alice"],)) == 0
    assert val(w.admin, "SELECT count(*) FROM crm.nodes WHERE archived_at IS NOT NULL") == 0
    seg = val(alice, "SELECT crm.create_segment('Spring')")
    with pytest.raises(psycopg.Error) as e:
        alice.execute("SELECT crm.bulk_add_to_segment(%s, %s)", (seg, [n["ana"], n["gus"]]))
    assert e.value.sqlstate == "CR055" and str(n["gus"]) in e.value.diag.message_detail
    assert val(w.admin, "SELECT count(*) FROM crm.segment_memberships") == 0
    # in scope: one statement, all of them
    assert val(alice, "SELECT crm.bulk_claim(%s)", ([n["ana"]],)) == 1
    assert val(alice, "SELECT crm.bulk_tag(%s, 'spring')", ([n["ana"]],)) == 1
    assert val(alice, "SELECT crm.bulk_add_to_segment(%s, %s)", (seg, [n["ana"]])) == 1
    assert val(bob, "SELECT crm.bulk_tag(%s, 'spring')", ([n["gus"]],)) == 1
    # Bob cannot change Alice's segment's filter or see an error that tells him who is in it
    assert ids(bob, "SELECT customer_id FROM crm.segment_members WHERE segment_id = %s", (seg,)) == set()
    assert val(alice, "SELECT crm.bulk_release(%s)", ([n["ana"]],)) == 1


def test_channels_follow_their_person_and_only_writers_of_the_person_add_them(w):
    n = w.n
    alice, bob, carl = w.connect("alice"), w.connect("bob"), w.connect("carl")
    ch = val(alice, "SELECT crm.add_channel(%s, 'email', 'ana@acme.example', true)", (n["ana"],))
    assert ids(carl, "SELECT channel_id FROM crm.pick_channel(%s, 'email')", (n["ana"],)) == {ch}
    assert ids(bob, "SELECT channel_id FROM crm.pick_channel(%s, 'email')", (n["ana"],)) == set()
    assert ids(bob, "SELECT id FROM crm.nodes WHERE node_type = 'channel'") == set()
    assert sqlstate(bob, "SELECT crm.add_channel(%s, 'email', 'x@globex.example')", (n["ana"],)) == "42501"
    assert sqlstate(bob, "SELECT crm.mark_channel(%s, 'bounced')", (ch,)) == "42501"
    assert sqlstate(bob, "SELECT crm.suppress(%s, 'x')", (n["ana"],)) == "42501"
    # calling the definer behind crm.add_channel directly with someone else's role gets nothing
    assert sqlstate(bob, "SELECT crm_private.add_channel_as(%s, 'email', 'x@y.example', false, %s)",
                    (n["ana"], w.role_name("alice"))) == "42501"
    assert sqlstate(carl, "SELECT crm.add_channel(%s, 'email', 'c@acme.example')", (n["ana"],)) == "42501"
    # the channel taken by a customer Bob cannot see: refused, but nothing about it is returned
    assert sqlstate(bob, "SELECT crm.add_channel(%s, 'email', 'ana@acme.example')", (n["gus"],)) == "CR051"
    assert val(w.admin, "SELECT count(*) FROM crm.nodes WHERE node_type = 'channel'") == 1


def test_dynamic_segments_compute_over_everyone_but_show_each_rep_their_own(w):
    n = w.n
    w.admin.execute("UPDATE crm.nodes SET properties = properties || '{\"country\": \"DE\"}' WHERE id = ANY (%s)",
                    ([n["ana"], n["gus"]],))
    # dynamic segments are admins' (their filters are evaluated over every customer)
    assert sqlstate(w.connect("alice"), "SELECT crm.create_segment('DE', 'dynamic', %s)",
                    (Jsonb({"field": "country", "op": "eq", "value": "DE"}),)) == "42501"
    seg = val(w.connect("boss"), "SELECT crm.create_segment('DE', 'dynamic', %s)",
              (Jsonb({"field": "country", "op": "eq", "value": "DE"}),))
    assert sqlstate(w.connect("alice"), "SELECT crm.refresh_segments()") == "42501"   # a job for admins/connectors
    assert sqlstate(w.connect("bob"), "SELECT crm.set_segment_filter(%s, %s)",
                    (seg, Jsonb({"field": "country", "op": "eq", "value": "US"}))) == "42501"   # the admin's segment
    w.connect("boss").execute("SELECT crm.refresh_segments()")
    assert ids(w.connect("alice"), "SELECT customer_id FROM crm.segment_members WHERE is_member") == {n["ana"]}
    assert ids(w.connect("bob"), "SELECT customer_id FROM crm.segment_members WHERE is_member") == {n["gus"]}
    assert ids(w.admin, "SELECT customer_id FROM crm.segment_members WHERE is_member") == {n["ana"], n["gus"]}


def test_system_events_cannot_be_forged_by_writers(w):
    alice = w.connect("alice")
    for typ, props in [("tag_added", {"tag": "vip"}), ("segment_joined", {"segment_id": "x"}),
                       ("task_completed", {"task_id": "x"}), ("profile_scored", {"product_id": "x"})]:
        assert sqlstate(alice, "INSERT INTO crm.events (event_type, properties) VALUES (%s, %s)",
                        (typ, Jsonb(props))) == "42501", typ
    assert sqlstate(alice, "SELECT crm_private.write_customer_events(ARRAY['tag_added'], ARRAY[%s]::uuid[], "
                           "ARRAY['{}'::jsonb], ARRAY['x'])", (w.n["ana"],)) == "42501"
    # outreach events are the members' to log, about customers they can see
    assert sqlstate(alice, "SELECT crm.log_customer_event(%s, 'email_sent', '{\"subject\": \"Hi\"}')", (w.n["ana"],)) is None
    assert sqlstate(alice, "SELECT crm.log_customer_event(%s, 'email_sent', '{\"subject\": \"Hi\"}')", (w.n["gus"],)) == "P0002"


def test_purge_erases_the_customer_model_rows_too(w):
    n = w.n
    alice = w.connect("alice")
    alice.execute("SELECT crm.tag(%s, 'vip')", (n["ana"],))
    alice.execute("SELECT crm.add_note(%s, 'secret')", (n["ana"],))
    alice.execute("SELECT crm.create_task(%s, 'call')", (n["ana"],))
    alice.execute("SELECT crm.add_channel(%s, 'email', 'ana@acme.example')", (n["ana"],))
    seg = val(alice, "SELECT crm.create_segment('s')")
    alice.execute("SELECT crm.add_to_segment(%s, %s)", (seg, n["ana"]))
    w.connect("boss").execute("SELECT crm.purge_node(%s, 'GDPR request')", (n["ana"],))
    for table, col in [("node_tags", "node_id"), ("notes", "anchor_id"), ("task_items", "anchor_id"),
                       ("segment_memberships", "node_id")]:
        assert val(w.admin, f"SELECT count(*) FROM crm.{table} WHERE {col} = %s", (n["ana"],)) == 0, table
    assert val(w.admin, "SELECT count(*) FROM crm.nodes WHERE node_type = 'channel'") == 0


def test_nobody_but_the_author_can_write_a_notes_history(w):
    n = w.n
    alice = w.connect("alice")
    w.login("ada", "crm_writer")
    w.join("ada", "EMEA")
    ada = w.connect("ada")
    note = val(alice, "SELECT crm.add_note(%s, 'v1')", (n["ana"],))
    ver, body, at = ada.execute("SELECT version, body, updated_at FROM crm.notes WHERE id = %s", (note,)).fetchone()
    assert sqlstate(ada, "SELECT crm_private.keep_note_version(%s, %s, %s, %s)", (note, ver, body, at)) == "42501"
    assert val(alice, "SELECT crm.edit_note(%s, 'v2')", (note,)) == 2       # the author's edit is not pre-empted
