"""Findings of the third adversarial review (issue 11 re-checked after migrations 0023-0025), as
ordinary LOGIN roles, each judged by what the attack achieved.

N1 a writer row-locks other people's (hidden) events through crm_private.refresh_event_chunks
   and stalls their writes and access changes; N2 a writer holds the assertion lock of a deal it
   can neither see nor write and stalls its team's advances; N3 a writer names another actor
   (a source system, another user) in events.actor_system, forging what the timeline and the
   stage history show; N4 a pooled client leaves a temporary composite type or collation that
   act_as did not notice; N6 a writer creates look-alikes of the bot: system-tag prefix the
   confusables list missed. (N7, search answering nothing to reps holding an assertion grant, is
   in tests/test_search.py.)
"""

from __future__ import annotations

from tests.security.conftest import attempt


def _event_with_text(w, about) -> object:
    a = w.admin
    ev = a.execute("INSERT INTO crm.events (event_type, occurred_at, summary) VALUES ('email', now(), 'quote') "
                   "RETURNING id").fetchone()[0]
    a.execute("INSERT INTO crm.event_participants (event_id, node_id, role) VALUES (%s, %s, 'subject')", (ev, about))
    a.execute("INSERT INTO crm.artifacts (artifact_type, event_id, title, body) VALUES ('email_body', %s, 'quote', "
              "'The quote for the umbrella renewal is attached.')", (ev,))
    return ev


def test_n1_a_writer_cannot_lock_other_peoples_events_through_the_chunk_refresh(sec):
    """Eve (writer, Eve Team) calls the chunk refresh on an event about Acme's ticket, which she
    cannot see, and keeps her transaction open. Property: an admin's update of that event does
    not wait for her (before: lock timeout), and her call changed nothing."""
    w = sec
    ev = _event_with_text(w, w.n["acme_ticket"])
    before = w.admin.execute("SELECT count(*), max(updated_at) FROM crm.chunks WHERE event_id = %s", (ev,)).fetchone()
    eve = w.connect("eve", autocommit=False)
    attempt(eve, "SELECT crm_private.refresh_event_chunks(%s)", (ev,))
    attempt(eve, "SELECT crm_private.refresh_event_chunks(%s, %s)", (ev, w.role_name("boss")))   # a forged role
    boss = w.connect("boss")
    boss.execute("SET lock_timeout = '1s'")
    boss.execute("UPDATE crm.events SET summary = 'quote (revised)' WHERE id = %s", (ev,))
    assert w.admin.execute("SELECT summary FROM crm.events WHERE id = %s", (ev,)).fetchone()[0] == "quote (revised)"
    eve.rollback()
    assert w.admin.execute("SELECT count(*), max(updated_at) FROM crm.chunks WHERE event_id = %s",
                           (ev,)).fetchone() == before


def test_n2_a_writer_cannot_hold_the_assertion_lock_of_a_deal_it_cannot_write(sec):
    """Eve takes the assertion lock of Globex's opportunity (Sales) and keeps her transaction
    open. Property: Bob (Sales) takes the same lock at once (before: he waited until his lock
    timeout); a writer still gets the lock of a deal she may write."""
    w = sec
    opp = w.n["globex_opp"]
    eve = w.connect("eve", autocommit=False)
    assert eve.execute("SELECT crm_private.assertion_lock(%s, 'deal_stage', '')", (opp,)).fetchone()[0] is False
    bob = w.connect("bob", autocommit=False)
    bob.execute("SET lock_timeout = '1s'")
    assert bob.execute("SELECT crm_private.assertion_lock(%s, 'deal_stage', '')", (opp,)).fetchone()[0] is True
    bob.rollback()
    eve.rollback()
    alice = w.connect("alice", autocommit=False)
    assert alice.execute("SELECT crm_private.assertion_lock(%s, 'deal_stage', '')",
                         (w.n["acme_opp"],)).fetchone()[0] is True
    alice.rollback()


def test_n3_a_writer_cannot_name_another_actor_for_an_event(sec):
    """Alice records activities claiming to be Salesforce or Bob, directly and through the write
    API, and rewrites the actor of her own event. Property: every event she recorded names her
    (her CRM user id) as its actor."""
    w = sec
    alice = w.connect("alice")
    me, bob = str(w.users["alice"]), str(w.users["bob"])
    acme = w.n["acme"]
    attempt(alice, "INSERT INTO crm.events (event_type, occurred_at, summary, actor_system) "
                   "VALUES ('email', now(), 'from sf', 'salesforce')")
    attempt(alice, "SELECT crm.log_crm_activity('meeting', 'by bob', '{}', %s, ARRAY[%s]::uuid[], ARRAY['subject'])",
            (bob, acme))
    attempt(alice, "SELECT crm.log_crm_activity('meeting', 'by sf', '{}', 'salesforce', ARRAY[%s]::uuid[], "
                   "ARRAY['subject'])", (acme,))
    ev = alice.execute("SELECT crm.log_crm_activity('meeting', 'mine', '{}', NULL, ARRAY[%s]::uuid[], "
                       "ARRAY['subject'])", (acme,)).fetchone()[0]
    attempt(alice, "UPDATE crm.events SET actor_system = 'salesforce' WHERE id = %s", (ev,))
    actors = {r[0] for r in w.admin.execute("SELECT actor_system FROM crm.events WHERE recorded_by = %s",
                                             (w.users["alice"],))}
    assert actors == {me}
    # the view the reviewer saw the forgery in shows her too
    assert {r[0] for r in w.admin.execute("SELECT source FROM crm.activities WHERE event_id = %s", (ev,))} <= {me}


def test_n4_act_as_refuses_every_kind_of_temporary_object(sec):
    """Client 1 of a pooled connection leaves a temporary composite type named uuid, a collation
    or a text search configuration; client 2 acts for alice. Property: act_as refuses (CR034) —
    client 2 never acts for alice on the soiled connection."""
    w = sec
    for ddl in ("CREATE TYPE pg_temp.uuid AS (x integer)",
                'CREATE COLLATION pg_temp.c2 FROM "C"',
                "CREATE TEXT SEARCH CONFIGURATION pg_temp.simple (COPY = pg_catalog.simple)"):
        svc = w.connect("svc", autocommit=False)
        svc.execute(ddl)
        svc.commit()
        err = attempt(svc, "SELECT crm.act_as(%s)", (w.users["alice"],))
        assert err is not None and err.sqlstate == "CR034", ddl
        svc.rollback()
        assert svc.execute("SELECT crm.current_actor()").fetchone()[0] is None, ddl
        svc.rollback()
        svc.close()


def test_n6_lookalikes_of_the_bot_prefix_are_system_tags(sec):
    """Alice creates tags whose names look like bot: tags with characters the confusables list
    did not fold. Property: none of them is in the tag library; ordinary prefixes still are."""
    w = sec
    alice = w.connect("alice")
    fakes = ["bot\u0589pause", "bot\ua4fdpause", "\u0299ot:pause", "\u13cfot:pause", "BOT\uff1apause"]
    for name in fakes:
        attempt(alice, "SELECT crm.create_tag(%s)", (name,))
        attempt(alice, "INSERT INTO crm.tags (name) VALUES (%s)", (name,))
    names = {r[0] for r in w.admin.execute("SELECT name FROM crm.tags")}
    assert not names & set(fakes)
    for ok in ("vip:gold", "q3-2026", "Café: regulars", "клиенты"):
        alice.execute("SELECT crm.create_tag(%s)", (ok,))
    assert {"vip:gold", "q3-2026", "Café: regulars"} <= {r[0] for r in w.admin.execute("SELECT name FROM crm.tags")}


# ---------------------------------------------------------------- the re-review of these fixes
def test_f1_a_claim_cites_only_an_event_its_writer_recorded(sec):
    """Alice advances her deal citing a Salesforce event she can see (or one a colleague
    logged) as the claim's source: the stage history would show Salesforce (or him) as who made
    the change. Property: no stage of her deal is attributed to anyone but her; citing her own
    activity still works."""
    w = sec
    a, opp = w.admin, w.n["acme_opp"]
    sf = a.execute("INSERT INTO crm.events (event_type, occurred_at, summary, actor_system) "
                   "VALUES ('email', now(), 'from salesforce', 'salesforce') RETURNING id").fetchone()[0]
    a.execute("INSERT INTO crm.event_participants (event_id, node_id, role) VALUES (%s, %s, 'subject')", (sf, opp))
    alice = w.connect("alice")
    assert alice.execute("SELECT count(*) FROM crm.events WHERE id = %s", (sf,)).fetchone()[0] == 1
    claim = '{"stage": "qualification", "pipeline": "PL-SALES"}'
    attempt(alice, "SELECT crm.supersede_assertion(NULL, 'deal_stage', %s, NULL, %s, %s)", (opp, claim, sf))
    mine = alice.execute("SELECT crm.log_crm_activity('meeting', 'scoping', '{}', NULL, ARRAY[%s]::uuid[], "
                         "ARRAY['subject'])", (opp,)).fetchone()[0]
    alice.execute("SELECT crm.supersede_assertion(NULL, 'deal_stage', %s, NULL, %s, %s)",
                  (opp, '{"stage": "proposal", "pipeline": "PL-SALES"}', mine))
    who = {r[0] for r in a.execute("SELECT e.actor_system FROM crm.assertions s JOIN crm.events e ON e.id = s.source_event_id "
                                   "WHERE s.subject_node_id = %s AND s.assertion_type = 'deal_stage'", (opp,))}
    assert who == {str(w.users["alice"])}


def test_f2_a_writer_cannot_lock_her_own_event_once_it_is_hidden_from_her(sec):
    """Alice logs a note on Acme; Acme is then given to Support. She rebuilds the note's chunks
    and keeps her transaction open. Property: the admin's next access change of Acme does not
    wait for her."""
    w = sec
    acme = w.n["acme"]
    alice = w.connect("alice")
    ev = alice.execute("SELECT crm.log_note('Renewal call went well, pricing next.', ARRAY[%s]::uuid[])",
                       (acme,)).fetchone()[0]
    boss = w.connect("boss")
    boss.execute("SELECT crm.restrict_access_to_team(%s, %s)", (acme, w.teams["Support"]))
    boss.execute("SELECT crm.unrestrict_access_from_team(%s, %s)", (acme, w.teams["Sales EMEA"]))
    assert w.connect("alice").execute("SELECT count(*) FROM crm.events WHERE id = %s", (ev,)).fetchone()[0] == 0
    held = w.connect("alice", autocommit=False)
    attempt(held, "SELECT crm_private.refresh_event_chunks(%s)", (ev,))
    boss.execute("SET lock_timeout = '1s'")
    boss.execute("SELECT crm.restrict_access_to_team(%s, %s)", (acme, w.teams["Sales EMEA"]))
    assert w.admin.execute("SELECT %s = ANY (restricted_to) FROM crm.nodes WHERE id = %s",
                           (w.teams["Sales EMEA"], acme)).fetchone()[0] is True
    held.rollback()


def test_f3_a_type_write_grant_locks_only_subjects_its_holder_sees(sec):
    """Eve's team gets a write grant on deal_value assertions; she takes that lock on Globex's
    deal, which she cannot see. Property: she gets no lock, and Bob takes it at once."""
    w = sec
    w.admin.execute("""INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope)
                       VALUES ('Eve Team', 'team', 'assertion', 'write', '{"assertion_type": "deal_value"}')""")
    eve = w.connect("eve", autocommit=False)
    assert eve.execute("SELECT crm_private.assertion_lock(%s, 'deal_value', '')", (w.n["globex_opp"],)).fetchone()[0] \
        is False
    bob = w.connect("bob", autocommit=False)
    bob.execute("SET lock_timeout = '1s'")
    assert bob.execute("SELECT crm_private.assertion_lock(%s, 'deal_value', '')", (w.n["globex_opp"],)).fetchone()[0] \
        is True
    bob.rollback()
    eve.rollback()


def test_f4_invisible_and_combining_lookalikes_of_the_bot_prefix(sec):
    """Tag names that render as bot:… through variation selectors, tag characters, combining
    marks or decomposable letters. Property: none is in the tag library."""
    w = sec
    alice = w.connect("alice")
    fakes = ["b\U000e0100ot:pause", "bo\U000e0020t:pause", "b\U0001d173ot:pause", "b\u0301ot:pause",
             "\u1e07ot\u205apause"]
    for name in fakes:
        attempt(alice, "SELECT crm.create_tag(%s)", (name,))
    names = {r[0] for r in w.admin.execute("SELECT name FROM crm.tags")}
    assert not names & set(fakes)


def test_an_admin_role_acts_for_a_user_only_as_crm_service(sec):
    """Admins read through policies of their own (every row, issue 16), which would still apply
    to an admin role acting for a user. An admin login that is also in crm_service calls act_as
    directly. Property: it is refused (and acts for nobody); as crm_service it sees exactly
    alice's nodes."""
    w = sec
    w.login("ops", "crm_admin", "crm_service", user=False)
    ops = w.connect("ops", autocommit=False)
    err = attempt(ops, "SELECT crm.act_as(%s)", (w.users["alice"],))
    assert err is not None and err.sqlstate == "42501"
    ops.rollback()
    everything = w.admin.execute("SELECT count(*) FROM crm.nodes").fetchone()[0]
    assert ops.execute("SELECT crm.current_actor() IS NULL, count(*) FROM crm.nodes").fetchone() == (True, everything)
    ops.rollback()
    ops.execute("SET LOCAL ROLE crm_service")
    ops.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
    acting = {r[0] for r in ops.execute("SELECT id FROM crm.nodes")}
    ops.rollback()
    assert acting == {r[0] for r in w.connect("alice").execute("SELECT id FROM crm.nodes")}
    assert len(acting) < everything


def test_a_role_that_gains_admin_privileges_while_acting_stops_acting(sec):
    """Review of the admin read policies: a service login holding ADMIN OPTION (without
    inheritance) on a group in crm_admin acts for alice, then grants itself that group with
    inheritance in the same transaction. Property: it never reads as an admin while still
    acting for alice — either it acts for her and sees exactly her nodes, or it stopped acting
    (no current actor) and is an admin."""
    w = sec
    grp = w.role_name("admgrp")
    w.admin.execute(f'CREATE ROLE "{grp}" NOLOGIN')
    w.roles.append(grp)
    w.admin.execute(f'GRANT crm_admin TO "{grp}"')
    w.login("flip", "crm_service", user=False)
    w.admin.execute(f'GRANT "{grp}" TO "{w.role_name("flip")}" WITH ADMIN TRUE, INHERIT FALSE, SET FALSE')
    alice_nodes = {r[0] for r in w.connect("alice").execute("SELECT id FROM crm.nodes")}
    everything = w.admin.execute("SELECT count(*) FROM crm.nodes").fetchone()[0]
    flip = w.connect("flip", autocommit=False)
    flip.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
    assert {r[0] for r in flip.execute("SELECT id FROM crm.nodes")} == alice_nodes
    flip.execute(f'GRANT "{grp}" TO "{w.role_name("flip")}" WITH INHERIT TRUE')
    actor = flip.execute("SELECT crm.current_actor()").fetchone()[0]
    seen = {r[0] for r in flip.execute("SELECT id FROM crm.nodes")}
    flip.rollback()
    assert (actor == w.users["alice"] and seen == alice_nodes) or (actor is None and len(seen) == everything), \
        (actor, len(seen), len(alice_nodes), everything)
