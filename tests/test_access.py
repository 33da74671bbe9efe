"""Access control (issue 4) — every test connects as an ordinary LOGIN role, never a superuser."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.access_helpers import ids


@pytest.fixture
def acme(world):
    w = world
    w.team("Sales")
    w.team("Sales EMEA", parent="Sales")
    w.team("Support")
    w.team("Finance")
    w.login("alice", "crm_writer")
    w.join("alice", "Sales EMEA")
    w.login("bob", "crm_writer")
    w.join("bob", "Sales")
    w.login("carol", "crm_reader")
    w.join("carol", "Support")
    w.login("dave", "crm_reader")
    w.join("dave", "Finance")
    w.login("eve", "crm_writer")
    w.login("svc", "crm_service", user=False)
    w.login("boss", "crm_admin")
    n = {}
    n["acme"] = w.node("org", "Acme", ["Sales EMEA"])
    n["globex"] = w.node("org", "Globex", ["Sales"])
    n["initech"] = w.node("org", "Initech")
    n["umbrella"] = w.node("org", "Umbrella", ["Support"])
    for child, typ, parent in [("acme_contact", "person", "acme"), ("acme_opp", "opportunity", "acme"),
                               ("acme_ticket", "ticket", "acme"), ("globex_opp", "opportunity", "globex"),
                               ("initech_contact", "person", "initech"), ("umbrella_ticket", "ticket", "umbrella")]:
        n[child] = w.node(typ, child)
        w.own(n[child], n[parent])
    n["pipeline"] = w.node("pipeline", "Test pipeline")
    w.n = n
    return w


def visible(conn, node_type=None):
    q = "SELECT id FROM crm.nodes" + (" WHERE node_type = %s" if node_type else "")
    return ids(conn, q, (node_type,) if node_type else None)


def test_reps_see_their_accounts_and_children_only(acme):
    n = acme.n
    alice = acme.connect("alice")
    # Sales EMEA ⊂ Sales: alice sees Acme (EMEA) and Globex (Sales, through nesting)
    assert visible(alice, "org") == {n["acme"], n["globex"]}
    assert {n["acme_contact"], n["acme_opp"], n["acme_ticket"], n["globex_opp"], n["pipeline"]} <= visible(alice)
    assert not ({n["initech"], n["initech_contact"], n["umbrella"], n["umbrella_ticket"]} & visible(alice))
    bob = acme.connect("bob")   # member of Sales only: not of the child team
    assert visible(bob, "org") == {n["globex"]}
    eve = acme.connect("eve")   # no team: only unrestricted types
    pipelines = ids(acme.admin, "SELECT id FROM crm.nodes WHERE node_type = 'pipeline'")
    assert visible(eve) == pipelines | set(acme.users.values()) | set(acme.teams.values())
    boss = acme.connect("boss")  # crm_admin (not superuser) sees everything through the policies
    assert set(n.values()) <= visible(boss)


def test_unrestricted_accounts_are_not_public(acme):
    # Rye's bug: a node without classification was visible to everyone.
    for who in ("alice", "bob", "carol", "eve"):
        assert acme.n["initech"] not in visible(acme.connect(who))


def test_no_identity_sees_nothing_restricted(acme):
    svc = acme.connect("svc")   # crm_service member, not mapped, no act_as
    assert visible(svc, "org") == set()
    assert acme.n["pipeline"] in visible(svc, "pipeline")


def test_spoofing_the_identity_setting_does_nothing(acme):
    alice = acme.connect("alice")
    alice.execute("SELECT set_config('crm.act_as_user', %s, false)", (str(acme.users["carol"]),))
    assert alice.execute("SELECT crm.current_actor()").fetchone()[0] == acme.users["alice"]
    assert acme.n["umbrella"] not in visible(alice)
    with pytest.raises(psycopg.Error) as e:
        alice.execute("SELECT crm.act_as(%s)", (acme.users["carol"],))
    assert e.value.sqlstate == "42501"


def test_pooled_service_identity_is_transaction_local(acme):
    svc = acme.connect("svc", autocommit=False)
    svc.execute("SELECT crm.act_as(%s)", (acme.users["alice"],))
    assert svc.execute("SELECT crm.current_actor()").fetchone()[0] == acme.users["alice"]
    assert visible(svc, "org") == {acme.n["acme"], acme.n["globex"]}
    svc.commit()
    # next transaction on the same connection: identity is gone
    assert svc.execute("SELECT crm.current_actor()").fetchone()[0] is None
    assert visible(svc, "org") == set()
    svc.rollback()
    # even a session-level SET of both settings does not carry over
    svc.execute("SELECT crm.act_as(%s)", (acme.users["alice"],))
    token = svc.execute("SELECT current_setting('crm.act_as_token')").fetchone()[0]
    svc.commit()
    svc.execute("SELECT set_config('crm.act_as_user', %s, false)", (str(acme.users["alice"]),))
    svc.execute("SELECT set_config('crm.act_as_token', %s, false)", (token,))
    svc.commit()
    assert svc.execute("SELECT crm.current_actor()").fetchone()[0] is None
    svc.rollback()
    with pytest.raises(psycopg.Error) as e:
        svc.execute("SELECT crm.act_as(gen_random_uuid())")
    assert e.value.sqlstate == "P0002"


def test_foreign_keys_are_no_side_channel(acme):
    n = acme.n
    alice = acme.connect("alice")
    for target in (n["umbrella"], "00000000-0000-0000-0000-000000000001"):
        with pytest.raises(psycopg.Error) as e:
            alice.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('owned_by', %s, %s)",
                          (n["acme_contact"], target))
        assert e.value.sqlstate == "42501"   # same answer whether hidden or missing
    with pytest.raises(psycopg.Error) as e:
        alice.execute("SELECT crm.log_crm_activity('note', 'x', '{}', NULL, ARRAY[%s]::uuid[], ARRAY['subject'])",
                      (n["umbrella_ticket"],))
    assert e.value.sqlstate in ("42501", "P0002")
    with pytest.raises(psycopg.Error) as e:
        alice.execute("INSERT INTO crm.assertions (assertion_type, subject_node_id, claim) "
                      "VALUES ('ticket_status', %s, '{\"status\": \"open\"}')", (n["umbrella_ticket"],))
    assert e.value.sqlstate == "42501"
    with pytest.raises(psycopg.Error) as e:
        alice.execute("INSERT INTO crm.artifacts (artifact_type, node_id, body) VALUES ('note', %s, 'x')",
                      (n["umbrella"],))
    assert e.value.sqlstate == "42501"


def test_update_of_invisible_row_affects_nothing(acme):
    alice = acme.connect("alice")
    cur = alice.execute("UPDATE crm.nodes SET label = 'pwned' WHERE id = %s", (acme.n["umbrella"],))
    assert cur.rowcount == 0
    assert acme.admin.execute("SELECT label FROM crm.nodes WHERE id = %s", (acme.n["umbrella"],)).fetchone()[0] == "Umbrella"


def test_copy_to_returns_only_visible_rows(acme):
    alice = acme.connect("alice")
    with alice.cursor() as cur, cur.copy("COPY (SELECT id, label FROM crm.nodes WHERE node_type = 'org') TO STDOUT") as cp:
        rows = [bytes(r).decode() for r in cp]
    text = "".join(rows)
    assert "Acme" in text and "Globex" in text
    assert "Umbrella" not in text and "Initech" not in text


def test_delete_refused(acme):
    """Nobody but crm_owner holds DELETE on the graph (it would also allow LOCK TABLE ... IN
    ACCESS EXCLUSIVE MODE): a member's DELETE is refused and the rows stay."""
    alice = acme.connect("alice")
    for node in ("acme", "acme_contact", "acme_opp"):
        with pytest.raises(psycopg.Error) as e:
            alice.execute("DELETE FROM crm.nodes WHERE id = %s", (acme.n[node],))
        assert e.value.sqlstate == "42501"
        assert alice.execute("SELECT count(*) FROM crm.nodes WHERE id = %s", (acme.n[node],)).fetchone()[0] == 1


def test_members_cannot_widen_visibility(acme):
    alice = acme.connect("alice")
    with pytest.raises(psycopg.Error) as e:
        alice.execute("UPDATE crm.nodes SET restricted_to = %s WHERE id = %s",
                      ([acme.teams["Support"]], acme.n["acme_contact"]))
    assert e.value.sqlstate == "42501"
    with pytest.raises(psycopg.Error) as e:
        alice.execute("SELECT crm.restrict_access_to_team(%s, %s)", (acme.n["acme"], acme.teams["Support"]))
    assert e.value.sqlstate == "42501"
    # writing acl directly is ignored: it stays trigger-maintained
    alice.execute("UPDATE crm.nodes SET acl = '{}' WHERE id = %s", (acme.n["acme_contact"],))
    assert acme.n["acme_contact"] in visible(alice)
    alice.execute("SET crm.acl_maintenance = 'on'")
    alice.execute("UPDATE crm.nodes SET acl = %s, label = 'changed' WHERE id = %s",
                  ([acme.users["eve"]], acme.n["acme_contact"]))
    assert acme.n["acme_contact"] not in visible(acme.connect("eve"))


def test_reparenting_and_restricting_update_descendants_at_once(acme):
    n, w = acme.n, acme
    alice, carol = w.connect("alice"), w.connect("carol")
    assert n["acme_opp"] in visible(alice)
    edge = w.admin.execute("SELECT id FROM crm.edges WHERE source_id = %s AND edge_type = 'owned_by'",
                           (n["acme_opp"],)).fetchone()[0]
    with w.admin.transaction():
        w.admin.execute("UPDATE crm.edges SET effective_to = now() WHERE id = %s", (edge,))
        w.own(n["acme_opp"], n["umbrella"])
    assert n["acme_opp"] not in visible(alice)
    assert n["acme_opp"] in visible(carol)
    # a grandchild inherits through two levels
    note = w.node("ticket", "grandchild")
    w.own(note, n["acme_opp"])
    assert note in visible(carol)
    # restricting the account moves every descendant; unrestricting moves them back
    w.admin.execute("SELECT crm.restrict_access_to_team(%s, %s)", (n["umbrella"], w.teams["Sales EMEA"]))
    w.admin.execute("SELECT crm.unrestrict_access_from_team(%s, %s)", (n["umbrella"], w.teams["Support"]))
    assert {n["umbrella"], n["acme_opp"], note} <= visible(alice)
    assert not ({n["umbrella"], n["acme_opp"], note} & visible(carol))
    w.admin.execute("SELECT crm.unrestrict_access_from_team(%s, %s)", (n["umbrella"], w.teams["Sales EMEA"]))
    assert not ({n["umbrella"], n["acme_opp"], note} & visible(alice))   # admin-only, not public


def test_membership_changes_apply_at_the_next_statement(acme):
    bob = acme.connect("bob")
    assert acme.n["umbrella"] not in visible(bob)
    acme.join("bob", "Support")
    assert acme.n["umbrella"] in visible(bob)
    acme.admin.execute("SELECT crm.remove_user_from_team(%s, %s)", (acme.users["bob"], acme.teams["Support"]))
    assert acme.n["umbrella"] not in visible(bob)
    history = acme.admin.execute("SELECT effective_from, effective_to FROM crm.edges WHERE edge_type = 'member_of' "
                                 "AND source_id = %s AND target_id = %s", (acme.users["bob"], acme.teams["Support"])).fetchall()
    assert len(history) == 1 and history[0][1] is not None


def test_edges_need_both_ends_visible(acme):
    n = acme.n
    # an employment edge between Acme's contact and Umbrella (visible to alice only on one end)
    acme.admin.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('affiliated_with', %s, %s)",
                       (n["acme_contact"], n["umbrella"]))
    alice = acme.connect("alice")
    edges = alice.execute("SELECT source_id, target_id FROM crm.edges WHERE source_id = %s", (n["acme_contact"],)).fetchall()
    assert (n["acme_contact"], n["umbrella"]) not in edges
    assert (n["acme_contact"], n["acme"]) in edges


def test_events_need_a_visible_access_checked_participant(acme):
    n, w = acme.n, acme
    alice = w.connect("alice")
    ev = alice.execute("SELECT crm.log_crm_activity('meeting', 'QBR', '{}', NULL, ARRAY[%s, %s]::uuid[], "
                       "ARRAY['attendee', 'attendee'])", (n["acme_contact"], w.users["bob"])).fetchone()[0]
    assert ev in ids(alice, "SELECT id FROM crm.events")
    # bob takes part as a user but cannot see the contact: taking part grants nothing
    assert ev not in ids(w.connect("bob"), "SELECT id FROM crm.events")
    parts = ids(w.connect("bob"), "SELECT node_id FROM crm.event_participants WHERE event_id = %s", (ev,))
    assert parts == set()
    # an event whose only participants are users/teams is admin-only
    ev2 = w.admin.execute("SELECT crm.log_crm_activity('note', 'internal', '{}', NULL, ARRAY[%s]::uuid[], "
                          "ARRAY['subject'])", (w.users["alice"],)).fetchone()[0]
    assert ev2 not in ids(alice, "SELECT id FROM crm.events")
    assert ev2 in ids(w.connect("boss"), "SELECT id FROM crm.events")


def test_members_write_own_or_unclaimed(acme):
    n, w = acme.n, acme
    alice, bob = w.connect("alice"), w.connect("bob")
    # what a member creates, they own and see; others do not
    p = alice.execute("SELECT crm.create_person('Grace', 'Hopper')").fetchone()[0]
    assert alice.execute("SELECT claimed_by FROM crm.nodes WHERE id = %s", (p,)).fetchone()[0] == w.users["alice"]
    assert p not in visible(bob)
    # claim an unclaimed visible node; then bob (who sees Globex's opp) cannot claim it
    assert alice.execute("SELECT crm.claim(%s)", (n["globex_opp"],)).fetchone()[0] is True
    with pytest.raises(psycopg.Error) as e:
        bob.execute("SELECT crm.claim(%s)", (n["globex_opp"],))
    assert e.value.sqlstate == "CR031"
    assert bob.execute("UPDATE crm.nodes SET label = 'mine' WHERE id = %s", (n["globex_opp"],)).rowcount == 0
    assert alice.execute("UPDATE crm.nodes SET label = 'ours' WHERE id = %s", (n["globex_opp"],)).rowcount == 1
    assert alice.execute("SELECT crm.release(%s)", (n["globex_opp"],)).fetchone()[0] is True
    assert bob.execute("UPDATE crm.nodes SET label = 'bobs' WHERE id = %s", (n["globex_opp"],)).rowcount == 1
    events = w.admin.execute("SELECT event_type FROM crm.events e JOIN crm.event_participants p ON p.event_id = e.id "
                             "WHERE p.node_id = %s AND e.event_type LIKE 'owner_%%' ORDER BY e.recorded_at", (n["globex_opp"],)).fetchall()
    assert [r[0] for r in events] == ["owner_claimed", "owner_released"]
    with pytest.raises(psycopg.Error) as e:
        alice.execute("UPDATE crm.nodes SET claimed_by = %s WHERE id = %s", (w.users["bob"], n["acme_opp"]))
    assert e.value.sqlstate == "42501"


def test_member_without_identity_cannot_write(world):
    world.login("nobody", "crm_writer", user=False)
    c = world.connect("nobody")
    with pytest.raises(psycopg.Error) as e:
        c.execute("SELECT crm.create_org('Anon Inc')")
    assert e.value.sqlstate in ("CR030", "42501")


# ------------------------------------------------------------------ grants (seed 001 §7.2)
def test_seed_grant_sales_team_reads_and_writes_their_opportunities(acme):
    w = acme
    tagged = w.admin.execute(
        "INSERT INTO crm.nodes (node_type, properties, attrs) VALUES ('opportunity', %s, %s) RETURNING id",
        (Jsonb({"name": "Sales deal", "code": "OPP-2401-9001"}), Jsonb({"teams": ["Sales"]}))).fetchone()[0]
    untagged = w.admin.execute(
        "INSERT INTO crm.nodes (node_type, properties, attrs) VALUES ('opportunity', %s, %s) RETURNING id",
        (Jsonb({"name": "Other deal", "code": "OPP-2401-9002"}), Jsonb({"teams": ["Partners"]}))).fetchone()[0]
    other_type = w.admin.execute(
        "INSERT INTO crm.nodes (node_type, properties, attrs) VALUES ('org', %s, %s) RETURNING id",
        (Jsonb({"name": "Sales-tagged org"}), Jsonb({"teams": ["Sales"]}))).fetchone()[0]
    w.admin.execute("""INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope)
                       VALUES ('Sales', 'team', 'node', 'write', '{"node_type": "opportunity", "teams": ["Sales"]}')""")
    bob = w.connect("bob")
    seen = visible(bob)
    assert tagged in seen
    assert untagged not in seen          # teams must match too (AND, not OR)
    assert other_type not in seen        # node_type must match too
    assert bob.execute("UPDATE crm.nodes SET label = 'won it' WHERE id = %s", (tagged,)).rowcount == 1
    assert tagged in visible(w.connect("alice"))   # alice is in Sales through Sales EMEA


def test_seed_grant_support_reads_all_customers(acme):
    w, n = acme, acme.n
    w.admin.execute("""INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope)
                       VALUES ('Support', 'team', 'node', 'read', '{"node_type": "person"}')""")
    carol = w.connect("carol")
    assert {n["acme_contact"], n["initech_contact"]} <= visible(carol, "person")
    assert n["acme"] not in visible(carol)             # customers, not accounts
    # read grant: no write, even on unclaimed people
    w.login("sam", "crm_writer")
    w.join("sam", "Support")
    sam = w.connect("sam")
    assert n["initech_contact"] in visible(sam)
    assert sam.execute("UPDATE crm.nodes SET label = 'x' WHERE id = %s", (n["initech_contact"],)).rowcount == 0


def test_seed_grant_finance_sees_deal_values(acme):
    w, n = acme, acme.n
    w.admin.execute("SELECT crm.set_deal_value(%s, 50000, 'EUR')", (n["acme_opp"],))
    w.admin.execute("SELECT crm.set_deal_value(%s, 70000, 'EUR')", (n["globex_opp"],))
    w.admin.execute("""INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope) VALUES
        ('Finance', 'team', 'assertion', 'read', '{"assertion_type": "deal_value"}'),
        ('Finance', 'team', 'node', 'read', '{"node_type": "opportunity"}')""")
    q = "SELECT subject_node_id FROM crm.assertions WHERE assertion_type = 'deal_value' AND superseded_at IS NULL"
    assert ids(w.connect("dave"), q) == {n["acme_opp"], n["globex_opp"]}
    alice = w.connect("alice")
    assert ids(alice, q) == set()                     # sensitive: alice sees the deals, not their values
    assert n["acme_opp"] in visible(alice)
    w.admin.execute("SELECT crm.refresh_crm_views()")
    vals = dict(alice.execute("SELECT node_id, current_value FROM crm.opportunities_active").fetchall())
    assert vals == {n["acme_opp"]: None, n["globex_opp"]: None}
    dave_vals = dict(w.connect("dave").execute("SELECT node_id, current_value FROM crm.opportunities_active").fetchall())
    assert dave_vals[n["acme_opp"]] == 50000 and dave_vals[n["globex_opp"]] == 70000
    with pytest.raises(psycopg.Error) as e:
        alice.execute("SELECT crm.set_deal_value(%s, 1, 'EUR')", (n["acme_opp"],))
    assert e.value.sqlstate == "42501"


def test_grant_validation(acme):
    bad = [("Nope", "team", "node", "read", '{"node_type": "org"}'),
           ("Sales", "team", "node", "read", '{"assertion_type": "deal_value"}'),
           ("Sales", "team", "node", "read", '{"node_type": "spaceship"}'),
           ("Sales", "team", "node", "read", '{"teams": ["Ghosts"]}')]
    for row in bad:
        with pytest.raises(psycopg.Error) as e:
            acme.admin.execute("INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope) "
                               "VALUES (%s, %s, %s, %s, %s)", row)
        assert e.value.sqlstate == "22023", row
    gid = acme.admin.execute("INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope) "
                             "VALUES ('Support', 'team', 'node', 'read', '{\"node_type\": \"org\"}') RETURNING id").fetchone()[0]
    carol = acme.connect("carol")
    assert acme.n["initech"] in visible(carol)
    with pytest.raises(psycopg.Error) as e:
        carol.execute("SELECT crm.revoke_grant(%s)", (gid,))
    assert e.value.sqlstate == "42501"
    acme.admin.execute("SELECT crm.revoke_grant(%s)", (gid,))
    assert acme.n["initech"] not in visible(carol)


# ------------------------------------------------------------------ materialized views
def test_materialized_views_apply_the_rules(acme):
    w, n = acme, acme.n
    w.admin.execute("SELECT crm.refresh_crm_views()")
    alice = w.connect("alice")
    assert ids(alice, "SELECT node_id FROM crm.opportunities_active") == {n["acme_opp"], n["globex_opp"]}
    assert ids(alice, "SELECT node_id FROM crm.contacts_directory") == {n["acme_contact"]}
    with pytest.raises(psycopg.Error) as e:
        alice.execute("SELECT * FROM crm_private.opportunities_active_mv")
    assert e.value.sqlstate == "42501"
    # re-parenting shows at once, without a refresh
    edge = w.admin.execute("SELECT id FROM crm.edges WHERE source_id = %s AND edge_type = 'owned_by'",
                           (n["acme_opp"],)).fetchone()[0]
    w.admin.execute("UPDATE crm.edges SET archived_at = now() WHERE id = %s", (edge,))
    assert ids(alice, "SELECT node_id FROM crm.opportunities_active") == {n["globex_opp"]}
    assert ids(alice, "SELECT node_id FROM crm.opportunities_active_live") == {n["globex_opp"]}


# ------------------------------------------------------------------ audit
def test_access_changes_are_logged_and_reported(acme):
    w = acme
    types = {r[0] for r in w.admin.execute("SELECT DISTINCT event_type FROM crm.events")}
    assert {"membership_added", "access_restricted", "login_mapped"} <= types
    mem = w.connect("boss").execute(
        "SELECT member_name, team_name, is_direct FROM crm.team_memberships WHERE member_id = %s",
        (w.users["alice"],)).fetchall()
    assert ("Alice", "Sales EMEA", True) in mem and ("Alice", "Sales", False) in mem
    report = w.connect("boss").execute("SELECT user_name, visible_accounts, total_accounts FROM crm.access_report(0.5)").fetchall()
    assert ("Boss", 4, 4) not in report       # admins see through crm_admin, not through principals
    assert ("Alice", 2, 4) in report
    assert all(r[0] != "Eve" for r in report)
    with pytest.raises(psycopg.Error) as e:
        w.connect("alice").execute("SELECT * FROM crm.access_report()")
    assert e.value.sqlstate == "42501"


# ------------------------------------------------------------------ legal erasure
def test_purge_node_leaves_no_trace(acme, db):
    import subprocess

    from crm360 import server as embedded

    w, n = acme, acme.n
    secret_email = "grace.hopper.secret@example.org"
    p = w.admin.execute("SELECT crm.create_person('Gracewhisper', 'Hopperlastname', %s)",
                        (Jsonb({"email": secret_email, "phone": "+1-555-0199-777"}),)).fetchone()[0]
    w.own(p, n["acme"])
    w.admin.execute("SELECT crm.set_contact_info(%s, %s)", (p, Jsonb({"email": secret_email})))
    w.admin.execute("SELECT crm.log_email('Hello Gracewhisper', 'inbound', ARRAY[%s, %s]::uuid[], 'Body mentions Hopperlastname')",
                    (p, n["acme"]))
    with pytest.raises(psycopg.Error) as e:
        w.connect("alice").execute("SELECT crm.purge_node(%s)", (p,))
    assert e.value.sqlstate == "42501"
    with pytest.raises(psycopg.Error) as e:
        w.connect("alice").execute("SELECT crm_private.purge_node_data(%s, 'x', 'y')", (p,))
    assert e.value.sqlstate == "42501"
    assert w.connect("boss").execute("SELECT crm.purge_node(%s, 'request 42')", (p,)).fetchone()[0] == 1
    dump = subprocess.run([str(embedded.bin_dir() / "pg_dump"), "--data-only", "-d", db],
                          check=True, capture_output=True, text=True).stdout
    for value in ("Gracewhisper", "Hopperlastname", secret_email, "0199-777"):
        assert value not in dump, value
    assert str(p) in dump                                  # the tombstone names the erased id only
    tomb = w.admin.execute("SELECT summary FROM crm.events WHERE event_type = 'node_purged'").fetchone()[0]
    assert "person" in tomb
