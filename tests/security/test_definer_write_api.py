"""crm.advance_deal_stage and crm.create_opportunity check the caller's permission once and write
as crm_owner (issue 16 item 1: crm_private.advance_deal_stage_as / create_opportunity_as,
SECURITY DEFINER). Row-level security no longer guards the statements they run, so each rule
they replaced is attacked here as an ordinary LOGIN role: a deal the caller cannot see or cannot
write, a role passed in that the session cannot become, a forged actor, a pipeline or assignee
the caller cannot see, another team's tag, a deal claimed while the call waited for its lock.
Every verdict comes from what the admin then finds in the graph (stage history, events, nodes,
who recorded or owns them), not from the error alone."""

from __future__ import annotations

import threading
import time

import pytest

from tests.crm_helpers import last_code_number
from tests.security.conftest import attempt

STAGES = '[{"key":"open","order":1},{"key":"closing","order":2},{"key":"won","order":3,"terminal":true}]'


def _deal(w, account, pipeline="PL-SALES"):
    """A deal created by the DBA in a pipeline and owned by an account (its acl is the account's)."""
    d = w.admin.execute("SELECT crm.create_opportunity(%s, %s, NULL)", (f"deal of {account}", pipeline)).fetchone()[0]
    w.own(d, w.n[account])
    return d


def _history(admin, deal):
    """The deal's stage history as the admin sees it: [(stage, superseded_by set, event recorder, actor)]."""
    return admin.execute(
        "SELECT a.claim ->> 'stage', a.superseded_by IS NOT NULL, e.recorded_by, e.actor_system "
        "FROM crm.assertions a LEFT JOIN crm.events e ON e.id = a.source_event_id "
        "WHERE a.subject_node_id = %s AND a.assertion_type = 'deal_stage' ORDER BY a.asserted_at",
        (deal,)).fetchall()


def _stage_events(admin, deal) -> int:
    return admin.execute("SELECT count(*) FROM crm.event_participants p JOIN crm.events e ON e.id = p.event_id "
                         "WHERE p.node_id = %s AND e.event_type = 'stage_change'", (deal,)).fetchone()[0]


def test_a_writer_advances_her_teams_deal_as_herself(sec):
    """Alice (Sales EMEA) moves Acme's deal: the history is chained, the event is recorded by her
    and about the deal (its acl: Acme's team), Bob (Sales, not EMEA) and Eve do not see it."""
    w = sec
    deal = _deal(w, "acme")
    alice = w.connect("alice")
    new = alice.execute("SELECT crm.advance_deal_stage(%s, 'qualification', 'BANT')", (deal,)).fetchone()[0]
    hist = _history(w.admin, deal)
    assert [h[0] for h in hist] == ["prospecting", "qualification"]
    assert hist[0][1] and not hist[1][1]                                    # old row points to the new one
    assert hist[1][2] == w.users["alice"] and hist[1][3] == str(w.users["alice"])
    old_sup, new_at = w.admin.execute(
        "SELECT (SELECT superseded_at FROM crm.assertions WHERE superseded_by = %s), asserted_at "
        "FROM crm.assertions WHERE id = %s", (new, new)).fetchone()
    assert old_sup == new_at
    ev = w.admin.execute("SELECT e.id, e.acl, e.about FROM crm.events e JOIN crm.assertions a ON a.source_event_id = e.id "
                         "WHERE a.id = %s", (new,)).fetchone()
    assert ev[1] == [w.teams["Sales EMEA"]] and ev[2] == [deal]
    assert alice.execute("SELECT count(*) FROM crm.events WHERE id = %s", (ev[0],)).fetchone()[0] == 1
    for other in ("bob", "eve"):
        assert w.connect(other).execute("SELECT count(*) FROM crm.events WHERE id = %s", (ev[0],)).fetchone()[0] == 0


def test_advance_works_with_constraints_immediate(sec):
    """Review of issue 16 (F1): the definer closes and chains the old stage with a pre-drawn id;
    a caller that SET CONSTRAINTS ALL IMMEDIATE (a framework's default) still advances her deal
    twice, and the chain is whole (one current stage, each old row pointing to its successor)."""
    w = sec
    deal = _deal(w, "acme")
    alice = w.connect("alice", autocommit=False)
    alice.execute("SET CONSTRAINTS ALL IMMEDIATE")
    alice.execute("SELECT crm.advance_deal_stage(%s, 'qualification', 'x')", (deal,))
    alice.execute("SELECT crm.advance_deal_stage(%s, 'proposal', 'y')", (deal,))
    alice.commit()
    hist = _history(w.admin, deal)
    assert [(h[0], h[1]) for h in hist] == [("prospecting", True), ("qualification", True), ("proposal", False)]
    assert w.admin.execute(
        "SELECT count(*) FROM crm.assertions a JOIN crm.assertions b ON b.id = a.superseded_by "
        "WHERE a.subject_node_id = %s AND b.subject_node_id = a.subject_node_id "
        "AND b.assertion_type = a.assertion_type AND a.superseded_at = b.asserted_at", (deal,)).fetchone()[0] == 2
    # the stage_change events are about the deal, with its acl, also on their participant rows:
    # the commit-time check that runs at the end of each statement here found the participant
    # already written (before, the event was written alone first, found without participants and
    # emptied — visible to admins only, while its participant row kept the deal's acl)
    deal_acl = w.admin.execute("SELECT acl FROM crm.nodes WHERE id = %s", (deal,)).fetchone()[0]
    evs = w.admin.execute(
        "SELECT e.id, e.about, e.acl, p.event_acl FROM crm.events e "
        "JOIN crm.event_participants p ON p.event_id = e.id "
        "WHERE p.node_id = %s AND e.event_type = 'stage_change' AND e.recorded_by IS NOT NULL "
        "AND e.properties ->> 'reason' IN ('x', 'y')", (deal,)).fetchall()
    assert len(evs) == 2
    for _id, about, acl, event_acl in evs:
        assert (about, acl, event_acl) == ([deal], deal_acl, deal_acl)
    assert alice.execute("SELECT count(*) FROM crm.events WHERE id = ANY (%s)",
                         ([e[0] for e in evs],)).fetchone()[0] == 2


def test_a_caller_claiming_its_role_was_checked_gains_nothing(sec):
    """p_role_checked (crm360's definer says it checked the role) is honoured only running as
    crm_owner. Eve passes it to supersede_assertion_as herself: for Acme's deal nothing is
    written; for her own deal, naming Alice's role (one she may not become), the stage is
    written as Eve (RLS allows it) but no assertion-key lock is taken — it would be, were the
    flag honoured (the direct lock path), and crm_private.xact_lock is not Eve's to call."""
    w = sec
    acme = _deal(w, "acme")
    eve = w.connect("eve", autocommit=False)
    own = eve.execute("SELECT crm.create_opportunity('Eve own', 'PL-SALES', NULL, '{}', ARRAY['Eve Team'])").fetchone()[0]
    eve.commit()
    claim = '{"stage": "qualification", "pipeline": "PL-SALES"}'
    q = ("SELECT crm_private.supersede_assertion_as(%s, NULL, 'deal_stage', %s, NULL, %s::jsonb, NULL, 1.0, '', "
         "p_role_checked := true)")
    before = _history(w.admin, acme)
    for role in ("eve", "alice"):
        assert attempt(eve, q, (w.role_name(role), acme, claim)) is not None
        eve.rollback()
    assert _history(w.admin, acme) == before
    assert attempt(eve, q, (w.role_name("alice"), own, claim)) is None
    assert eve.execute("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'") \
        .fetchone()[0] == 0
    eve.commit()
    assert [h[0] for h in _history(w.admin, own)] == ["prospecting", "qualification"]


def test_a_writer_cannot_chain_a_stage_to_another_deals_claim(sec):
    """Review 2 of issue 16 (pre-existing): Alice may update the assertions of deals she may
    write, and superseded_by could be set to any row she sees. Property: pointing her deal's
    current stage at another deal's stage (or at an older one of her own) is refused, her
    history stays as it was, and crm.supersede_assertion as Alice still chains normally."""
    w = sec
    d1, d2 = _deal(w, "acme"), _deal(w, "acme")
    alice = w.connect("alice")
    alice.execute("SELECT crm.advance_deal_stage(%s, 'qualification', 'x')", (d1,))
    cur = lambda d: w.admin.execute("SELECT id FROM crm.assertions WHERE subject_node_id = %s AND "  # noqa: E731
                                    "assertion_type = 'deal_stage' AND superseded_at IS NULL", (d,)).fetchone()[0]
    first_d1 = w.admin.execute("SELECT id FROM crm.assertions WHERE subject_node_id = %s AND "
                               "superseded_by IS NOT NULL", (d1,)).fetchone()[0]
    before = (_history(w.admin, d1), _history(w.admin, d2))
    for target in (cur(d2), first_d1):
        err = attempt(alice, "UPDATE crm.assertions SET superseded_at = now(), superseded_by = %s WHERE id = %s",
                      (target, cur(d1)))
        assert err is not None and err.sqlstate == "CR015", err
    assert (_history(w.admin, d1), _history(w.admin, d2)) == before
    alice.execute("SELECT crm.supersede_assertion(NULL, 'deal_stage', %s, NULL, "
                  "'{\"stage\": \"proposal\", \"pipeline\": \"PL-SALES\"}')", (d2,))
    assert [(h[0], h[1]) for h in _history(w.admin, d2)] == [("prospecting", True), ("proposal", False)]


def test_deals_the_caller_cannot_see_or_write_are_not_touched(sec):
    """Eve (another team) tries Acme's deal; Bob tries a Globex deal Alice has claimed (he sees it,
    he may not write it). Both get "does not exist", and the admin finds the two deals exactly as
    before: no stage, no event. Alice's own claimed deal she still moves."""
    w = sec
    acme_deal, globex_deal = _deal(w, "acme"), _deal(w, "globex")
    alice, bob, eve = w.connect("alice"), w.connect("bob"), w.connect("eve")
    alice.execute("SELECT crm.claim(%s)", (globex_deal,))
    assert bob.execute("SELECT count(*) FROM crm.nodes WHERE id = %s", (globex_deal,)).fetchone()[0] == 1
    before = {d: (_history(w.admin, d), _stage_events(w.admin, d)) for d in (acme_deal, globex_deal)}
    for conn, deal in ((eve, acme_deal), (eve, globex_deal), (bob, globex_deal)):
        err = attempt(conn, "SELECT crm.advance_deal_stage(%s, 'proposal')", (deal,))
        assert err is not None and err.sqlstate == "P0002", err
    assert {d: (_history(w.admin, d), _stage_events(w.admin, d)) for d in (acme_deal, globex_deal)} == before
    alice.execute("SELECT crm.advance_deal_stage(%s, 'proposal')", (globex_deal,))
    assert [h[0] for h in _history(w.admin, globex_deal)] == ["prospecting", "proposal"]


def test_outcome_follows_the_callers_write_permission(sec):
    """For every writer, the admin and a service acting for Alice, and every deal (two accounts,
    one claimed by Bob, the unrestricted account's): advancing succeeds exactly when
    crm_private.can_write_node says the caller may write the deal — the rule the row-level
    security of the statements enforced before."""
    w = sec
    deals = {"acme": _deal(w, "acme"), "globex": _deal(w, "globex"), "initech": _deal(w, "initech")}
    deals["globex_claimed"] = _deal(w, "globex")
    w.connect("bob").execute("SELECT crm.claim(%s)", (deals["globex_claimed"],))
    svc = w.connect("svc", autocommit=False)    # acts for Alice in each transaction (crm.act_as)
    callers = {name: w.connect(name) for name in ("alice", "bob", "eve", "boss")} | {"svc_as_alice": svc}
    stages = ["qualification", "proposal", "negotiation"]
    outcomes = set()
    for name, conn in callers.items():
        for label, deal in deals.items():
            if name == "svc_as_alice":
                conn.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
            may = conn.execute("SELECT crm_private.can_write_node(%s)", (deal,)).fetchone()[0]
            n_before = len(_history(w.admin, deal))
            stage = next(s for s in stages if s != _history(w.admin, deal)[-1][0])   # never a no-op
            err = attempt(conn, "SELECT crm.advance_deal_stage(%s, %s)", (deal, stage))
            if not conn.autocommit and err is None:
                conn.commit()
            moved = len(_history(w.admin, deal)) == n_before + 1
            outcomes.add((name, label, moved))
            assert moved == may, (name, label, err)
            if moved:
                assert _history(w.admin, deal)[-1][2] == (w.users["alice"] if name == "svc_as_alice" else w.users[name])
            else:
                assert err is not None and err.sqlstate == "P0002", (name, label, err)
    # the cases are not vacuous: each caller kind both moves and is refused somewhere
    assert {(n, m) for n, _, m in outcomes} >= {(n, m) for n in ("alice", "bob", "eve", "svc_as_alice")
                                                for m in (True, False)} - {("eve", True)}
    assert ("boss", "initech", True) in outcomes and ("svc_as_alice", "acme", True) in outcomes


def test_the_private_function_answers_only_for_roles_the_session_may_become(sec):
    """Eve calls the SECURITY DEFINER work directly, naming the admin's role and Alice's role as
    the caller: nothing moves (for a role the session cannot become there is no identity and no
    admin), and nothing is recorded in their names."""
    w = sec
    deal = _deal(w, "acme")
    eve = w.connect("eve")
    for role in (w.role_name("boss"), w.role_name("alice"), "crm_owner", "postgres"):
        err = attempt(eve, "SELECT crm_private.advance_deal_stage_as(%s, %s, 'proposal', NULL, NULL, false)",
                      (role, deal))
        assert err is not None, role
    assert [h[0] for h in _history(w.admin, deal)] == ["prospecting"]
    assert _stage_events(w.admin, deal) == 0


def test_a_writer_cannot_name_another_actor(sec):
    """Alice names Salesforce, then Bob, as the actor: refused, nothing recorded. Naming herself
    (her user id or her login) records her. The admin may name another actor."""
    w = sec
    deal = _deal(w, "acme")
    alice, boss = w.connect("alice"), w.connect("boss")
    for actor in ("salesforce", str(w.users["bob"])):
        err = attempt(alice, "SELECT crm.advance_deal_stage(%s, 'proposal', NULL, %s)", (deal, actor))
        assert err is not None and err.sqlstate == "42501", actor
    assert _stage_events(w.admin, deal) == 0
    alice.execute("SELECT crm.advance_deal_stage(%s, 'proposal', NULL, %s)", (deal, w.role_name("alice")))
    assert _history(w.admin, deal)[-1][2:] == (w.users["alice"], str(w.users["alice"]))
    boss.execute("SELECT crm.advance_deal_stage(%s, 'negotiation', NULL, 'salesforce')", (deal,))
    assert _history(w.admin, deal)[-1][2:] == (w.users["boss"], "salesforce")


def test_a_pipeline_the_caller_cannot_see_is_not_read(sec):
    """A deal of Acme's in a pipeline restricted to Support: Alice may write the deal but cannot
    see its pipeline, so (as when the pipeline was read under row-level security) the call
    finds no pipeline and nothing moves; its stage keys are not disclosed in the error."""
    w = sec
    # pipelines are not access-checked as registered; an installation that makes them so
    w.admin.execute("UPDATE crm.node_types SET access_checked = true WHERE node_type = 'pipeline'")
    pl = w.admin.execute("SELECT crm.create_pipeline('Secret', 'PL-SECRET', %s)", (STAGES,)).fetchone()[0]
    w.admin.execute("SELECT crm.restrict_access_to_team(%s, %s)", (pl, w.teams["Support"]))
    assert w.admin.execute("SELECT acl FROM crm.nodes WHERE id = %s", (pl,)).fetchone()[0] == [w.teams["Support"]]
    deal = _deal(w, "acme", "PL-SECRET")
    alice = w.connect("alice")
    assert alice.execute("SELECT count(*) FROM crm.nodes WHERE id = %s", (pl,)).fetchone()[0] == 0
    for stage in ("closing", "nope"):
        err = attempt(alice, "SELECT crm.advance_deal_stage(%s, %s)", (deal, stage))
        assert err is not None and err.sqlstate == "P0002", err
        assert "closing" not in str(err) and "closing" not in (err.diag.message_hint or "")
    assert [h[0] for h in _history(w.admin, deal)] == ["open"]


def test_a_hidden_deal_locked_by_someone_else_does_not_make_the_call_wait(sec):
    """The admin holds Globex's deal locked; Eve (who cannot see it) asks to advance it with a
    short lock timeout: she is told it does not exist at once — the call never waits on a row
    she cannot see (a wait would tell her it exists and is being written)."""
    w = sec
    deal = _deal(w, "globex")
    holder = w.connect("boss", autocommit=False)
    holder.execute("SELECT 1 FROM crm.nodes WHERE id = %s FOR UPDATE", (deal,))
    eve = w.connect("eve")
    eve.execute("SET lock_timeout = '2s'")
    t0 = time.monotonic()
    err = attempt(eve, "SELECT crm.advance_deal_stage(%s, 'proposal')", (deal,))
    assert err is not None and err.sqlstate == "P0002", err
    assert time.monotonic() - t0 < 1.5
    holder.rollback()


def test_a_deal_claimed_while_the_call_waited_for_its_lock_is_refused(sec):
    """Alice asks to advance a Globex deal while Bob, in an open transaction, is claiming it:
    her call waits for the deal's row, then finds it Bob's and refuses; Bob's claim stands and
    the deal did not move. (Before the lock it was unclaimed and hers to write.)"""
    w = sec
    deal = _deal(w, "globex")
    bob = w.connect("bob", autocommit=False)
    bob.execute("SELECT crm.claim(%s)", (deal,))                       # holds the row until commit
    alice = w.connect("alice")
    box = {}

    def advance():
        box["err"] = attempt(alice, "SELECT crm.advance_deal_stage(%s, 'proposal')", (deal,))

    t = threading.Thread(target=advance)
    t.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not w.admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND wait_event_type = 'Lock'",
            (w.role_name("alice"),)).fetchone()[0]:
        time.sleep(0.02)
    bob.commit()
    t.join(10)
    assert box["err"] is not None and box["err"].sqlstate == "P0002", box
    assert [h[0] for h in _history(w.admin, deal)] == ["prospecting"]
    assert w.admin.execute("SELECT claimed_by FROM crm.nodes WHERE id = %s", (deal,)).fetchone()[0] == w.users["bob"]


@pytest.mark.parametrize("who", ["unmapped", "reader"])
def test_no_identity_or_no_write_role_moves_nothing(sec, who):
    """A crm_writer login mapped to no CRM user, and a reader (Carol, who sees Umbrella's deal):
    neither moves a deal."""
    w = sec
    deal = _deal(w, "umbrella")
    if who == "unmapped":
        w.login("nobody", "crm_writer", user=False)
        conn = w.connect("nobody")
    else:
        conn = w.connect("carol")
        assert conn.execute("SELECT count(*) FROM crm.nodes WHERE id = %s", (deal,)).fetchone()[0] == 1
    assert attempt(conn, "SELECT crm.advance_deal_stage(%s, 'proposal')", (deal,)) is not None
    assert [h[0] for h in _history(w.admin, deal)] == ["prospecting"]
    assert _stage_events(w.admin, deal) == 0


def test_the_definer_ignores_the_callers_settings(sec):
    """Alice sets the flags that switch crm360's validation off, a plan-cache mode and a forged
    identity cache, then advances with a stage the pipeline does not have: still refused (CR001),
    and a valid advance is recorded as hers with the same chain as without the settings."""
    w = sec
    deal = _deal(w, "acme")
    alice = w.connect("alice")
    for setting, value in (("crm.bulk_apply", "on"), ("crm.acl_maintenance", "on"), ("crm.purge", "on"),
                           ("plan_cache_mode", "force_custom_plan"),
                           ("crm.identity_cache", "0" * 64 + f"({w.users['boss']},f,{{}},[])")):
        alice.execute("SELECT set_config(%s, %s, false)", (setting, value))
    err = attempt(alice, "SELECT crm.advance_deal_stage(%s, 'won_big')", (deal,))
    assert err is not None and err.sqlstate == "CR001"
    alice.execute("SELECT crm.advance_deal_stage(%s, 'proposal')", (deal,))
    hist = _history(w.admin, deal)
    assert [h[0] for h in hist] == ["prospecting", "proposal"] and hist[0][1]
    assert hist[-1][2] == w.users["alice"]
    assert w.admin.execute("SELECT acl FROM crm.nodes WHERE id = %s", (deal,)).fetchone()[0] == [w.teams["Sales EMEA"]]



def test_a_sensitive_stage_is_neither_told_nor_superseded_without_a_grant(sec):
    """(Review finding.) An installation marks deal_stage sensitive; the admin moves Acme's deal to
    closed_won. Alice (who may write the deal, not read its stage) tries the stage it is in (a
    no-op would hand her the hidden assertion's id) and another one (CR002 would name the
    terminal stage): both refused alike, nothing written, and her errors do not contain the stage.
    With the type unmarked again the current row stays sensitive and is still not superseded.
    Given a read grant for deal_stage, her team moves it."""
    w = sec
    deal = _deal(w, "acme")
    w.admin.execute("UPDATE crm.assertion_types SET sensitive = true WHERE assertion_type = 'deal_stage'")
    w.admin.execute("SELECT crm.advance_deal_stage(%s, 'closed_won')", (deal,))
    alice = w.connect("alice")
    before = (_history(w.admin, deal), _stage_events(w.admin, deal))
    for stage in ("closed_won", "proposal"):
        err = attempt(alice, "SELECT crm.advance_deal_stage(%s, %s, NULL, NULL, true)", (deal, stage))
        assert err is not None and err.sqlstate == "42501", (stage, err)
        assert "closed_won" not in str(err) or stage == "closed_won"
        assert "closed_won" not in (err.diag.message_detail or "") + (err.diag.message_hint or "")
    w.admin.execute("UPDATE crm.assertion_types SET sensitive = false WHERE assertion_type = 'deal_stage'")
    err = attempt(alice, "SELECT crm.advance_deal_stage(%s, 'proposal', NULL, NULL, true)", (deal,))
    assert err is not None and err.sqlstate == "42501", err
    assert (_history(w.admin, deal), _stage_events(w.admin, deal)) == before
    w.admin.execute("INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope) "
                    "VALUES ('Sales EMEA', 'team', 'assertion', 'read', '{\"assertion_type\": \"deal_stage\"}')")
    alice.execute("SELECT crm.advance_deal_stage(%s, 'proposal', NULL, NULL, true)", (deal,))
    assert [h[0] for h in _history(w.admin, deal)][-2:] == ["closed_won", "proposal"]


def test_stage_events_are_written_with_the_acl_their_participant_gives(sec):
    """The definer writes a stage_change event declared about its deal and its participant with
    the event's acl, without the participants' statement trigger. For advances by a writer, the
    admin and a service acting for Alice, on deals of two accounts: every event's about/acl is
    what crm_private.event_about_of computes from its participants, every participant row carries
    the event's acl, and the event is seen exactly by who sees the deal."""
    w = sec
    deals = [_deal(w, "acme"), _deal(w, "globex")]
    alice, boss = w.connect("alice"), w.connect("boss")
    svc = w.connect("svc", autocommit=False)
    for d in deals:
        alice.execute("SELECT crm.advance_deal_stage(%s, 'qualification')", (d,))
        boss.execute("SELECT crm.advance_deal_stage(%s, 'proposal')", (d,))
        svc.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
        svc.execute("SELECT crm.advance_deal_stage(%s, 'negotiation')", (d,))
        svc.commit()
    evs = w.admin.execute("SELECT e.id, e.about, e.acl, a.about, a.acl, p.node_id FROM crm.events e "
                          "JOIN crm.event_participants p ON p.event_id = e.id "
                          "CROSS JOIN LATERAL crm_private.event_about_of(e.id) a "
                          "WHERE e.event_type = 'stage_change' AND p.node_id = ANY (%s)", (deals,)).fetchall()
    assert len(evs) == 6
    for ev, about, acl, rule_about, rule_acl, node in evs:
        assert (about, acl) == (rule_about, rule_acl) == ([node], w.admin.execute(
            "SELECT acl FROM crm.nodes WHERE id = %s", (node,)).fetchone()[0]), ev
    assert w.admin.execute("SELECT count(*) FROM crm.event_participants p JOIN crm.events e ON e.id = p.event_id "
                           "WHERE e.event_type = 'stage_change' AND p.node_id = ANY (%s) "
                           "AND p.event_acl IS DISTINCT FROM e.acl", (deals,)).fetchone()[0] == 0
    ids = [e[0] for e in evs]
    q = "SELECT count(*) FROM crm.events WHERE id = ANY (%s)"
    assert alice.execute(q, (ids,)).fetchone()[0] == 6                   # Sales EMEA < Sales: both deals
    assert w.connect("bob").execute(q, (ids,)).fetchone()[0] == 3        # Sales: Globex's only
    assert w.connect("eve").execute(q, (ids,)).fetchone()[0] == 0


def test_a_writer_cannot_write_a_participants_event_acl(sec):
    """Eve switches crm.acl_maintenance on and inserts a participant of her own note with an
    event_acl naming Sales EMEA: the row keeps the acl crm360 computes (her note's), and
    Alice does not see the note."""
    w = sec
    eve = w.connect("eve", autocommit=False)
    eve.execute("SELECT set_config('crm.acl_maintenance', 'on', false)")
    ev = eve.execute("INSERT INTO crm.events (event_type, summary) VALUES ('note', 'eve note') RETURNING id").fetchone()[0]
    attempt(eve, "INSERT INTO crm.event_participants (event_id, node_id, role, event_acl) VALUES (%s, %s, 'subject', %s)",
            (ev, w.users["eve"], [w.teams["Sales EMEA"]]))
    eve.commit()
    rows = w.admin.execute("SELECT p.event_acl, e.acl FROM crm.event_participants p JOIN crm.events e ON e.id = p.event_id "
                           "WHERE p.event_id = %s", (ev,)).fetchall()
    assert all(w.teams["Sales EMEA"] not in (pa or []) and pa == ea for pa, ea in rows), rows
    assert w.connect("alice").execute("SELECT count(*) FROM crm.events WHERE id = %s", (ev,)).fetchone()[0] == 0

# ---------------------------------------------------------------- crm.create_opportunity


def _deals_named(admin, name):
    return admin.execute("SELECT id, claimed_by, acl, attrs FROM crm.nodes WHERE node_type = 'opportunity' "
                         "AND label = %s", (name,)).fetchall()


def test_a_member_creates_a_deal_she_owns(sec):
    """Alice creates a deal tagged with her team and assigned to Acme's contact: it is hers
    (claimed, acl = her user), in the pipeline's default stage, with both edges; Bob and Eve do
    not see it; the admin does."""
    w = sec
    alice = w.connect("alice")
    d = alice.execute("SELECT crm.create_opportunity('Alice deal', 'PL-SALES', %s, '{\"estimated_value\": 5}', "
                      "ARRAY['Sales EMEA'])", (w.n["acme_contact"],)).fetchone()[0]
    [(did, claimed, acl, attrs)] = _deals_named(w.admin, "Alice deal")
    assert did == d and claimed == w.users["alice"] and acl == [w.users["alice"]]
    assert attrs == {"teams": ["Sales EMEA"]}
    assert [h[0] for h in _history(w.admin, d)] == ["prospecting"]
    edges = w.admin.execute("SELECT edge_type, target_id FROM crm.edges WHERE source_id = %s ORDER BY edge_type",
                            (d,)).fetchall()
    assert [e[0] for e in edges] == ["assigned_to", "pipeline_member"] and edges[0][1] == w.n["acme_contact"]
    assert alice.execute("SELECT count(*) FROM crm.nodes WHERE id = %s", (d,)).fetchone()[0] == 1
    for other in ("bob", "eve"):
        assert w.connect(other).execute("SELECT count(*) FROM crm.nodes WHERE id = %s", (d,)).fetchone()[0] == 0


@pytest.mark.parametrize("case", ["foreign_team_tag", "hidden_assignee", "unknown_assignee", "foreign_role"])
def test_a_member_cannot_create_beyond_her_scope(sec, case):
    """Eve tags a deal with Sales (not her team), assigns one to Acme's contact (hidden from her)
    or to no node, or calls the definer naming the admin's role: nothing is created (the admin
    finds no deal of that name, no OPP code was used up)."""
    w = sec
    eve = w.connect("eve")
    code_before = last_code_number(w.admin, "OPP")
    q = {"foreign_team_tag": ("SELECT crm.create_opportunity('Eve deal', 'PL-SALES', NULL, '{}', ARRAY['Sales'])", ()),
         "hidden_assignee": ("SELECT crm.create_opportunity('Eve deal', 'PL-SALES', %s)", (w.n["acme_contact"],)),
         "unknown_assignee": ("SELECT crm.create_opportunity('Eve deal', 'PL-SALES', gen_random_uuid())", ()),
         "foreign_role": ("SELECT crm_private.create_opportunity_as(%s, 'Eve deal', 'PL-SALES', NULL, '{}', '{}')",
                          (w.role_name("boss"),))}[case]
    err = attempt(eve, *q)
    assert err is not None
    expected = {"foreign_team_tag": "42501", "hidden_assignee": "P0002", "unknown_assignee": "P0002",
                "foreign_role": "42501"}[case]
    assert err.sqlstate == expected, err
    if case in ("hidden_assignee", "unknown_assignee"):   # the same answer for hidden and missing
        assert "does not exist" in str(err)
    assert _deals_named(w.admin, "Eve deal") == []
    assert last_code_number(w.admin, "OPP") == code_before


def test_identity_decides_who_owns_a_created_deal(sec):
    """A writer without a CRM user creates nothing (CR030); a service acting for Alice creates a
    deal Alice owns; the admin's deal is unclaimed and visible to admins only."""
    w = sec
    w.login("nobody", "crm_writer", user=False)
    err = attempt(w.connect("nobody"), "SELECT crm.create_opportunity('Nobody deal', 'PL-SALES', NULL)")
    assert err is not None and err.sqlstate == "CR030"
    assert _deals_named(w.admin, "Nobody deal") == []
    svc = w.connect("svc", autocommit=False)
    svc.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
    svc.execute("SELECT crm.create_opportunity('Service deal', 'PL-SALES', NULL)")
    svc.commit()
    [(_, claimed, acl, _)] = _deals_named(w.admin, "Service deal")
    assert claimed == w.users["alice"] and acl == [w.users["alice"]]
    d = w.connect("boss").execute("SELECT crm.create_opportunity('Boss deal', 'PL-SALES', NULL)").fetchone()[0]
    [(_, claimed, acl, _)] = _deals_named(w.admin, "Boss deal")
    assert claimed is None and acl == []
    assert w.connect("alice").execute("SELECT count(*) FROM crm.nodes WHERE id = %s", (d,)).fetchone()[0] == 0


def test_create_ignores_the_callers_settings(sec):
    """Eve switches crm360's validation flags on and forges an identity cache naming the admin's
    user, then creates a deal tagged with another team: refused; her plain deal is hers."""
    w = sec
    eve = w.connect("eve")
    for setting, value in (("crm.bulk_apply", "on"), ("crm.acl_maintenance", "on"), ("crm.purge", "on"),
                           ("crm.identity_cache", "0" * 64 + f"({w.users['boss']},f,{{}},[])")):
        eve.execute("SELECT set_config(%s, %s, false)", (setting, value))
    err = attempt(eve, "SELECT crm.create_opportunity('Eve deal', 'PL-SALES', NULL, '{}', ARRAY['Sales'])")
    assert err is not None and _deals_named(w.admin, "Eve deal") == []
    eve.execute("SELECT crm.create_opportunity('Eve deal', 'PL-SALES', NULL)")
    [(_, claimed, acl, _)] = _deals_named(w.admin, "Eve deal")
    assert claimed == w.users["eve"] and acl == [w.users["eve"]]



def test_a_role_the_writer_may_become_but_that_may_not_write_lends_it_nothing(sec):
    """(Second review, F1.) Bi is a reader mapped to a user of Sales EMEA; Eve (Eve Team) may SET
    ROLE to it (a plain GRANT). As Bi, the public calls are refused (no EXECUTE). Eve passes Bi's
    role to the SECURITY DEFINER work directly: no deal is created under Bi's name or tagged for
    Sales EMEA, Acme's deal does not move, the assertion-key lock of Acme's deal is not taken
    for her (Alice's advance does not wait), and Bi "may write" nothing."""
    w = sec
    bi = w.login("bi", "crm_reader")
    w.join("bi", "Sales EMEA")
    w.admin.execute(f'GRANT "{bi}" TO "{w.role_name("eve")}"')
    deal = _deal(w, "acme")
    eve = w.connect("eve", autocommit=False)
    for q, params in (("SELECT crm_private.create_opportunity_as(%s, 'Bi deal', 'PL-SALES', %s, '{}', ARRAY['Sales EMEA'])",
                       (bi, w.n["acme_contact"])),
                      ("SELECT crm_private.advance_deal_stage_as(%s, %s, 'closed_lost', 'x', NULL, false)", (bi, deal)),
                      ("SELECT crm_private.log_crm_activity_as(%s, 'note', 'Bi note', '{}', NULL, ARRAY[%s]::uuid[], "
                       "ARRAY['subject'], now())", (bi, deal))):
        assert attempt(eve, q, params) is not None
    as_bi = w.connect("eve")                     # autocommit: SET ROLE stays for the session
    as_bi.execute(f'SET ROLE "{bi}"')
    for q, params in (("SELECT crm.create_opportunity('Bi deal', 'PL-SALES', NULL)", ()),
                      ("SELECT crm.advance_deal_stage(%s, 'closed_lost')", (deal,))):
        err = attempt(as_bi, q, params)
        assert err is not None and err.sqlstate == "42501", err
    assert as_bi.execute("SELECT current_user").fetchone()[0] == bi
    assert _deals_named(w.admin, "Bi deal") == []
    assert w.admin.execute("SELECT count(*) FROM crm.events WHERE summary = 'Bi note'").fetchone()[0] == 0
    assert [h[0] for h in _history(w.admin, deal)] == ["prospecting"]
    assert eve.execute("SELECT crm_private.role_can_write_node(%s, %s)", (bi, deal)).fetchone()[0] is False
    taken = eve.execute("SELECT crm_private.assertion_lock(%s, 'deal_stage', '', %s)", (deal, bi)).fetchone()[0]
    alice = w.connect("alice")
    alice.execute("SET lock_timeout = '1s'")
    alice.execute("SELECT crm.advance_deal_stage(%s, 'proposal')", (deal,))   # does not wait on Eve
    eve.rollback()
    assert taken is False
    assert [h[0] for h in _history(w.admin, deal)] == ["prospecting", "proposal"]


def test_an_assignee_edge_scope_binds_only_with_an_assignee(sec):
    """(Second review, F2.) With assigned_to made admin-only, Alice still creates a deal without an
    assignee (as before), and is refused one with an assignee."""
    w = sec
    w.admin.execute("UPDATE crm.edge_types SET write_scope = 'admin' WHERE edge_type = 'assigned_to'")
    alice = w.connect("alice")
    alice.execute("SELECT crm.create_opportunity('No assignee', 'PL-SALES', NULL)")
    assert len(_deals_named(w.admin, "No assignee")) == 1
    err = attempt(alice, "SELECT crm.create_opportunity('With assignee', 'PL-SALES', %s)", (w.n["acme_contact"],))
    assert err is not None and err.sqlstate == "42501"
    assert _deals_named(w.admin, "With assignee") == []



# ---------------------------------------------------------------- crm.log_crm_activity


def _events(admin, summary):
    return admin.execute("SELECT id, recorded_by, actor_system, about, acl FROM crm.events WHERE summary = %s",
                         (summary,)).fetchall()


@pytest.mark.parametrize("case", ["hidden_participant", "missing_participant", "system_type", "named_actor",
                                  "no_identity"])
def test_an_activity_beyond_the_callers_scope_is_not_recorded(sec, case):
    """Eve logs a note with Acme's contact (hidden from her) or a node that does not exist — told
    alike, naming the id —, a system event type (crm360's own), a note naming Salesforce as its
    actor, and an unmapped writer logs one: nothing is recorded (the admin finds no event with
    that summary)."""
    w = sec
    if case == "no_identity":
        w.login("nobody", "crm_writer", user=False)
        conn, node = w.connect("nobody"), w.n["pipeline"]          # visible to anyone (not access-checked)
    else:
        conn, node = w.connect("eve"), w.users["eve"]
    typ, actor = "note", None
    if case == "hidden_participant":
        node = w.n["acme_contact"]
    elif case == "missing_participant":
        node = "00000000-0000-0000-0000-0000000000aa"
    elif case == "system_type":
        typ = "node_archived"
    elif case == "named_actor":
        actor = "salesforce"
    err = attempt(conn, "SELECT crm.log_crm_activity(%s, 'scoped note', '{}', %s, ARRAY[%s]::uuid[], ARRAY['subject'])",
                  (typ, actor, node))
    assert err is not None
    expected = {"hidden_participant": "P0002", "missing_participant": "P0002", "system_type": "42501",
                "named_actor": "42501", "no_identity": "42501"}[case]
    assert err.sqlstate == expected, err
    if expected == "P0002":
        assert str(node) in str(err) and "do not exist" in str(err)
    assert _events(w.admin, "scoped note") == []


def test_activities_are_recorded_by_the_actor_and_mark_the_accounts(sec):
    """Alice logs a meeting with Acme (account) and its contact (subject); a service acting for
    Alice logs a call; the admin names Salesforce as the actor of a note. Each is recorded by
    its actor, about what the rule says, and Acme is marked changed for its stored Account 360
    row (the participants' statement trigger still runs)."""
    w = sec
    alice, boss = w.connect("alice"), w.connect("boss")
    w.admin.execute("DELETE FROM crm_private.changed_accounts WHERE account_id = %s", (w.n["acme"],))
    alice.execute("SELECT crm.log_crm_activity('meeting', 'alice meeting', '{}', NULL, ARRAY[%s, %s]::uuid[], "
                  "ARRAY['account', 'subject'])", (w.n["acme"], w.n["acme_contact"]))
    svc = w.connect("svc", autocommit=False)
    svc.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
    svc.execute("SELECT crm.log_crm_activity('phone_call', 'svc call', '{}', NULL, ARRAY[%s]::uuid[], ARRAY['subject'])",
                (w.n["acme_contact"],))
    svc.commit()
    boss.execute("SELECT crm.log_crm_activity('note', 'boss note', '{}', 'salesforce', ARRAY[%s]::uuid[], "
                 "ARRAY['subject'])", (w.n["globex"],))
    [(ev, rec, actor, about, acl)] = _events(w.admin, "alice meeting")
    assert (rec, actor) == (w.users["alice"], str(w.users["alice"]))
    assert (about, acl) == w.admin.execute("SELECT about, acl FROM crm_private.event_about_of(%s)", (ev,)).fetchone()
    assert about == [w.n["acme_contact"]]
    assert _events(w.admin, "svc call")[0][1:3] == (w.users["alice"], str(w.users["alice"]))
    assert _events(w.admin, "boss note")[0][1:3] == (w.users["boss"], "salesforce")
    assert w.admin.execute("SELECT count(*) FROM crm_private.changed_accounts WHERE account_id = %s",
                           (w.n["acme"],)).fetchone()[0] == 1
    assert w.connect("bob").execute("SELECT count(*) FROM crm.events WHERE id = %s", (ev,)).fetchone()[0] == 0
