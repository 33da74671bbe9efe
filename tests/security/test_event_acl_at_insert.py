"""Events written with their final acl (issue 16 item 1): crm.log_crm_activity declares at insert
what the event will be about, and tg_events__validate computes the acl from those nodes, so the
event is written once instead of written and then updated by the participants' statement
trigger. The declaration is a new thing a caller can set, so it is attacked here as ordinary
LOGIN roles: it must grant nothing a participant row would not, never take a caller's acl, and
yield to the participants. Each property is judged by what the roles then see."""

from __future__ import annotations

import itertools

import psycopg
import pytest

from tests.security.conftest import attempt


def _about_acl(admin, ev):
    return admin.execute("SELECT about, acl FROM crm.events WHERE id = %s", (ev,)).fetchone()


def _rule(admin, ev):
    """What the one definition of the rule (crm_private.event_about_of) says for the participants."""
    return admin.execute("SELECT about, acl FROM crm_private.event_about_of(%s)", (ev,)).fetchone()


def _sees_event(conn, ev) -> bool:
    return conn.execute("SELECT count(*) FROM crm.events WHERE id = %s", (ev,)).fetchone()[0] == 1


def test_an_activity_is_written_once_with_the_acl_its_participants_give(sec):
    """Alice logs a meeting with Acme's contact (subject), Acme (account) and the pipeline. In
    her transaction the events row was inserted and never updated; its about/acl are what
    event_about_of computes from the participants; Bob (Sales, not EMEA), Carol and Eve do not
    see it, Alice and the admin do."""
    w = sec
    alice = w.connect("alice", autocommit=False)
    ev = alice.execute(
        "SELECT crm.log_crm_activity('meeting', 'kick-off', '{}', NULL, ARRAY[%s, %s, %s]::uuid[], "
        "ARRAY['subject', 'account', 'attendee'])",
        (w.n["acme_contact"], w.n["acme"], w.n["pipeline"])).fetchone()[0]
    updated = alice.execute("SELECT pg_stat_get_xact_tuples_updated('crm.events'::regclass)").fetchone()[0]
    alice.commit()
    assert updated == 0
    about, acl = _about_acl(w.admin, ev)
    assert (about, acl) == _rule(w.admin, ev)
    assert about == [w.n["acme_contact"]] and acl == [w.teams["Sales EMEA"]]
    assert _sees_event(alice, ev) and _sees_event(w.connect("boss"), ev)
    for other in ("bob", "carol", "eve", "rita"):
        assert not _sees_event(w.connect(other), ev), other


ROLES = ("subject", "account", "attendee")


def test_declared_about_equals_the_rule_for_every_role_combination(sec):
    """For every combination of 1-3 participants (an org, a person, a deal, an unrestricted org
    and a pipeline, which is not access-checked) in every role, logged by the admin: the event
    as written equals event_about_of over its participants, and was never updated."""
    w = sec
    boss = w.connect("boss", autocommit=False)
    nodes = [w.n["acme"], w.n["acme_contact"], w.n["globex_opp"], w.n["initech"], w.n["pipeline"]]
    logged = {}
    for k in (1, 2, 3):
        for combo in itertools.combinations(nodes, k):
            for roles in itertools.product(ROLES, repeat=k):
                ev = boss.execute("SELECT crm.log_crm_activity('note', 'n', '{}', NULL, %s::uuid[], %s::text[])",
                                  (list(combo), list(roles))).fetchone()[0]
                logged[ev] = (combo, roles)
    assert boss.execute("SELECT pg_stat_get_xact_tuples_updated('crm.events'::regclass)").fetchone()[0] == 0
    boss.commit()
    assert len(logged) == 5 * 3 + 10 * 9 + 10 * 27
    for ev, case in logged.items():
        assert _about_acl(w.admin, ev) == _rule(w.admin, ev), case
    # the participants carry the event's acl, written with them (the participants' statement
    # trigger is not run for them): the recomputation it would have done changes nothing
    ids = list(logged)
    assert w.admin.execute(
        "SELECT count(*) FROM crm.event_participants p JOIN crm.events e ON e.id = p.event_id "
        "WHERE e.id = ANY (%s::uuid[]) AND p.event_acl IS DISTINCT FROM e.acl", (ids,)).fetchone()[0] == 0
    with w.admin.transaction(force_rollback=True):
        w.admin.execute("SELECT crm_private.refresh_event_acl(%s::uuid[])", (ids,))
        assert w.admin.execute(
            "SELECT pg_stat_get_xact_tuples_updated('crm.events'::regclass) "
            "+ pg_stat_get_xact_tuples_updated('crm.event_participants'::regclass)").fetchone()[0] == 0


def test_a_writer_cannot_declare_an_event_about_a_node_she_cannot_see(sec):
    """Eve declares, directly, an event about Acme (hidden from her), and logs one through the
    API. Property: nothing is recorded — the admin finds no event with her summaries — and Acme's
    team sees nothing new."""
    w = sec
    eve = w.connect("eve")
    e1 = attempt(eve, "INSERT INTO crm.events (event_type, occurred_at, summary, about) "
                      "VALUES ('email', now(), 'eve-declared', ARRAY[%s]::uuid[])", (w.n["acme"],))
    e2 = attempt(eve, "SELECT crm.log_crm_activity('email', 'eve-logged', '{}', NULL, ARRAY[%s]::uuid[], ARRAY['subject'])",
                 (w.n["acme"],))
    assert isinstance(e1, psycopg.errors.InsufficientPrivilege)
    assert e2 is not None
    assert w.admin.execute("SELECT count(*) FROM crm.events WHERE summary LIKE 'eve-%%'").fetchone()[0] == 0
    alice = w.connect("alice")
    assert alice.execute("SELECT count(*) FROM crm.events WHERE summary LIKE 'eve-%%'").fetchone()[0] == 0


def test_a_declared_event_takes_the_nodes_acl_never_the_callers(sec):
    """Eve inserts an event about her own contact with acl and about naming Sales (to push it into
    Sales' timelines) and a NULL in about. Property: the NULL is refused; otherwise the acl is her
    contact's (Eve Team) — in her transaction and after she writes the participant and commits —
    so Bob and Alice (Sales) do not see the event and Eve does."""
    w = sec
    mine = w.node("person", "eve's contact", ["Eve Team"])
    eve = w.connect("eve", autocommit=False)
    sales = w.teams["Sales"]
    assert attempt(eve, "INSERT INTO crm.events (event_type, occurred_at, summary, about) "
                        "VALUES ('email', now(), 'with null', ARRAY[%s, NULL]::uuid[])", (mine,)) is not None
    ev = eve.execute("INSERT INTO crm.events (event_type, occurred_at, summary, about, acl) "
                     "VALUES ('email', now(), 'mine', ARRAY[%s]::uuid[], ARRAY[%s]::uuid[]) RETURNING id",
                     (mine, sales)).fetchone()[0]
    assert _about_acl(eve, ev) == ([mine], [w.teams["Eve Team"]])
    eve.execute("INSERT INTO crm.event_participants (event_id, node_id, role) VALUES (%s, %s, 'subject')", (ev, mine))
    eve.commit()
    assert _about_acl(w.admin, ev) == ([mine], [w.teams["Eve Team"]])
    assert _sees_event(eve, ev)
    assert not _sees_event(w.connect("bob"), ev) and not _sees_event(w.connect("alice"), ev)


def test_the_participants_decide_over_a_declaration(sec):
    """Alice declares an event about Acme and then writes a different participant (Acme's deal,
    as subject). Property: the event ends up about the deal with the deal's acl — what
    event_about_of says — not what was declared."""
    w = sec
    alice = w.connect("alice", autocommit=False)
    ev = alice.execute("INSERT INTO crm.events (event_type, occurred_at, summary, about) "
                       "VALUES ('email', now(), 'declared', ARRAY[%s]::uuid[]) RETURNING id", (w.n["acme"],)).fetchone()[0]
    assert _about_acl(alice, ev)[0] == [w.n["acme"]]
    alice.execute("INSERT INTO crm.event_participants (event_id, node_id, role) VALUES (%s, %s, 'subject')",
                  (ev, w.n["acme_opp"]))
    alice.commit()
    assert _about_acl(w.admin, ev) == _rule(w.admin, ev)
    assert _about_acl(w.admin, ev)[0] == [w.n["acme_opp"]]


@pytest.mark.parametrize("who", ["alice", "boss"])
def test_an_activity_still_marks_its_account_changed(sec, who):
    """A logged activity with an account participant puts the account in
    crm_private.changed_accounts (its stored Account 360 row is recomputed live), as when the
    event was written and then updated."""
    w = sec
    w.admin.execute("DELETE FROM crm_private.changed_accounts WHERE account_id = %s", (w.n["acme"],))
    conn = w.connect(who)
    conn.execute("SELECT crm.log_crm_activity('meeting', 'm', '{}', NULL, ARRAY[%s, %s]::uuid[], "
                 "ARRAY['subject', 'account'])", (w.n["acme_contact"], w.n["acme"]))
    assert w.admin.execute("SELECT count(*) FROM crm_private.changed_accounts WHERE account_id = %s",
                           (w.n["acme"],)).fetchone()[0] == 1


def test_a_declaration_without_participants_does_not_outlive_the_transaction(sec):
    """Review of this change: Bob (Sales) declares an event about Globex's deal with a body and
    never writes a participant; the deal then moves to Umbrella (Support). ACL maintenance finds
    events through their participants, so the declared event kept Sales' acl: Bob and another
    Sales reader kept reading it and its body, Support did not see it. Property now: at commit the
    event is about nothing (visible to its recorder and admins, as before declarations), so no
    Sales reader other than Bob sees it, before or after the move."""
    w = sec
    w.login("sales2", "crm_reader")
    w.join("sales2", "Sales")
    bob = w.connect("bob")
    ev = bob.execute("INSERT INTO crm.events (event_type, occurred_at, summary, about) "
                     "VALUES ('note', now(), 'B2', ARRAY[%s]::uuid[]) RETURNING id", (w.n["globex_opp"],)).fetchone()[0]
    assert _about_acl(w.admin, ev) == ([], [])
    sales2 = w.connect("sales2")
    assert not _sees_event(sales2, ev)
    assert _sees_event(bob, ev)
    # the move: Globex's deal now belongs to Umbrella (Support)
    old = w.admin.execute("SELECT id FROM crm.edges WHERE source_id = %s AND edge_type = 'owned_by'",
                          (w.n["globex_opp"],)).fetchone()[0]
    w.own(w.n["globex_opp"], w.n["umbrella"])
    w.admin.execute("UPDATE crm.edges SET archived_at = now() WHERE id = %s", (old,))
    assert not _sees_event(sales2, ev) and not _sees_event(w.connect("carol"), ev)


def test_a_declaration_with_constraints_immediate_still_ends_as_its_participants_say(sec):
    """A caller who sets every constraint immediate moves the commit-time check to the end of
    the events INSERT; the activity is still recorded, about what its participants say."""
    w = sec
    alice = w.connect("alice", autocommit=False)
    alice.execute("SET CONSTRAINTS ALL IMMEDIATE")
    ev = alice.execute("SELECT crm.log_crm_activity('meeting', 'm', '{}', NULL, ARRAY[%s, %s]::uuid[], "
                       "ARRAY['subject', 'account'])", (w.n["acme_contact"], w.n["acme"])).fetchone()[0]
    alice.commit()
    assert _about_acl(w.admin, ev) == _rule(w.admin, ev) == ([w.n["acme_contact"]], [w.teams["Sales EMEA"]])


def test_purging_a_node_leaves_no_event_declared_about_it(sec):
    """Review of this change: an event declared about Acme's contact without participants
    survived the contact's purge with its summary and the erased id in about, still visible to
    Alice. Property now: after the purge no event is about the purged id."""
    w = sec
    alice = w.connect("alice")
    alice.execute("INSERT INTO crm.events (event_type, occurred_at, summary, about) "
                  "VALUES ('note', now(), 'about jane', ARRAY[%s]::uuid[])", (w.n["acme_contact"],))
    w.admin.execute("SELECT crm.purge_node(%s)", (w.n["acme_contact"],))
    assert w.admin.execute("SELECT count(*) FROM crm.events WHERE %s = ANY (about)",
                           (w.n["acme_contact"],)).fetchone()[0] == 0


@pytest.mark.parametrize("who", ["alice", "boss"])
def test_an_activity_logged_without_an_actor_names_its_recorder(sec, who):
    """log_crm_activity no longer computes the actor itself (one identity lookup less): the events
    trigger records the acting user when none is named — for a writer and for an admin alike."""
    w = sec
    conn = w.connect(who)
    ev = conn.execute("SELECT crm.log_crm_activity('note', 'n', '{}', NULL, ARRAY[%s]::uuid[], ARRAY['subject'])",
                      (w.n["acme_contact"],)).fetchone()[0]
    assert w.admin.execute("SELECT actor_system, recorded_by::text FROM crm.events WHERE id = %s",
                           (ev,)).fetchone() == (str(w.users[who]), str(w.users[who]))
