"""The stored read models carry their rows' acl (issue 16 item 2, migration 0034).

crm.opportunities_active and crm.contacts_directory trust the acl stored with a row
(row_acl, as of the refresh) only for nodes whose acl has not changed since; every change of
an opportunity's or a person's acl, type or existence is logged by a trigger and makes the
live node decide. Each test changes access *without a refresh* and compares, for every login
(ordinary LOGIN roles, never the owner), the rows of the materialized wrappers with their live
twins: the wrappers must show exactly the stored rows whose node the login can see now —
no more (a narrowed node stays hidden) and no less (a widened one shows at once).
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from tests.access_helpers import ids

LOGINS = ("alice", "bob", "carol", "boss")


def make_shop(w, *, refresh: bool = True):
    """Two teams, four logins (writers alice and bob in Sales, reader carol in Support, admin
    boss) and two accounts with deals and people; the read models refreshed unless told."""
    w.team("Sales")
    w.team("Support")
    w.login("alice", "crm_writer")
    w.join("alice", "Sales")
    w.login("bob", "crm_writer")
    w.join("bob", "Sales")
    w.login("carol", "crm_reader")
    w.join("carol", "Support")
    w.login("boss", "crm_admin")
    n = {}
    n["acme"] = w.node("org", "Acme", ["Sales"])
    n["umbrella"] = w.node("org", "Umbrella", ["Support"])
    for child, typ, parent in [("acme_opp", "opportunity", "acme"), ("acme_opp2", "opportunity", "acme"),
                               ("acme_person", "person", "acme"), ("umb_opp", "opportunity", "umbrella"),
                               ("umb_person", "person", "umbrella")]:
        n[child] = w.node(typ, child)
        w.own(n[child], n[parent])
    w.n = n
    if refresh:
        w.connect("boss").execute("SELECT * FROM crm.refresh_read_models(p_all => true)")
    return w


@pytest.fixture
def shop(world):
    return make_shop(world)


def stored_vs_live(w) -> dict:
    """Per login: (wrapper ids, live-twin ids) of both read models; asserts they are equal."""
    seen = {}
    for who in LOGINS:
        c = w.connect(who)
        for view in ("opportunities_active", "contacts_directory"):
            stored = ids(c, f"SELECT node_id FROM crm.{view}")
            live = ids(c, f"SELECT node_id FROM crm.{view}_live")
            assert stored == live, (who, view, "stored wrapper", stored, "live twin", live)
            # a count and a page go through the same arms
            assert c.execute(f"SELECT count(*) FROM crm.{view}").fetchone()[0] == len(live), (who, view)
            seen[(who, view)] = stored
    return seen


def test_narrowed_and_widened_access_shows_at_once(shop):
    w, n = shop, shop.n
    seen = stored_vs_live(w)
    assert seen[("alice", "opportunities_active")] == {n["acme_opp"], n["acme_opp2"]}
    assert seen[("carol", "opportunities_active")] == {n["umb_opp"]}
    boss = w.connect("boss")
    # re-parent Acme's opportunity to Umbrella: its acl moves from Sales to Support
    boss.execute("UPDATE crm.edges SET archived_at = now() WHERE source_id = %s AND edge_type = 'owned_by'",
                 (n["acme_opp"],))
    boss.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('owned_by', %s, %s)",
                 (n["acme_opp"], n["umbrella"]))
    seen = stored_vs_live(w)
    assert n["acme_opp"] not in seen[("alice", "opportunities_active")]     # narrowed for alice
    assert n["acme_opp"] in seen[("carol", "opportunities_active")]         # widened for carol
    # the person too
    boss.execute("UPDATE crm.edges SET archived_at = now() WHERE source_id = %s AND edge_type = 'owned_by'",
                 (n["umb_person"],))
    boss.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('owned_by', %s, %s)",
                 (n["umb_person"], n["acme"]))
    seen = stored_vs_live(w)
    assert n["umb_person"] in seen[("alice", "contacts_directory")]
    assert n["umb_person"] not in seen[("carol", "contacts_directory")]
    # after a refresh the stored acls are trusted again, and still right
    boss.execute("SELECT * FROM crm.refresh_read_models(p_all => true)")
    seen = stored_vs_live(w)
    assert n["acme_opp"] in seen[("carol", "opportunities_active")]
    # ground truth (as the DBA): the refresh pruned the changes its rows reflect
    assert w.admin.execute("SELECT count(*) FROM crm_private.read_model_acl_changes").fetchone()[0] == 0


def test_a_writers_claim_narrows_the_stored_rows_at_once(shop):
    """A claim rewrites the acl in the nodes' BEFORE trigger (the UPDATE names claimed_by, not
    acl): the change is still logged, so bob stops seeing the deal alice claimed."""
    w, n = shop, shop.n
    assert n["acme_opp2"] in stored_vs_live(w)[("bob", "opportunities_active")]
    alice = w.connect("alice")
    assert alice.execute("SELECT crm.claim(%s)", (n["acme_opp2"],)).fetchone()[0] is True
    seen = stored_vs_live(w)
    live_bob = ids(w.connect("bob"), "SELECT id FROM crm.nodes WHERE id = %s", (n["acme_opp2"],))
    assert (n["acme_opp2"] in seen[("bob", "opportunities_active")]) == bool(live_bob)
    assert n["acme_opp2"] in seen[("alice", "opportunities_active")]
    alice.execute("SELECT crm.release(%s)", (n["acme_opp2"],))
    stored_vs_live(w)


def test_restrictions_and_grants(shop):
    w, n = shop, shop.n
    boss = w.connect("boss")
    boss.execute("SELECT crm.restrict_access_to_team(%s, %s)", (n["acme_person"], w.teams["Support"]))
    stored_vs_live(w)
    boss.execute("SELECT crm.unrestrict_access_from_team(%s, %s)", (n["acme_person"], w.teams["Support"]))
    stored_vs_live(w)
    # a node grant: carol (Support) may read every opportunity — through the grants arm
    gid = w.admin.execute("INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope) "
                          "VALUES ('Support', 'team', 'node', 'read', '{\"node_type\": \"opportunity\"}') "
                          "RETURNING id").fetchone()[0]
    seen = stored_vs_live(w)
    assert {n["acme_opp"], n["acme_opp2"], n["umb_opp"]} <= seen[("carol", "opportunities_active")]
    boss.execute("SELECT crm.revoke_grant(%s)", (gid,))
    seen = stored_vs_live(w)
    assert seen[("carol", "opportunities_active")] == {n["umb_opp"]}


def test_a_deleted_node_disappears_before_the_refresh(shop):
    w, n = shop, shop.n
    assert n["acme_person"] in stored_vs_live(w)[("alice", "contacts_directory")]
    w.connect("boss").execute("SELECT crm.purge_node(%s, 'test')", (n["acme_person"],))
    stored_vs_live(w)


def test_untrusted_copy_is_read_live_until_the_next_refresh(shop):
    """The "trust no stored acl" row 0034 writes (node_id NULL): with it, every row is decided
    by its live node — even one whose acl changed without the trigger (simulated as the DBA,
    which no login can do) — and the next refresh removes it."""
    w, n = shop, shop.n
    admin = w.admin
    admin.execute("INSERT INTO crm_private.read_model_acl_changes (node_id, node_type) VALUES (NULL, 'opportunity')")
    admin.execute("ALTER TABLE crm.nodes DISABLE TRIGGER tg_nodes__read_model_acl")
    try:
        admin.execute("UPDATE crm.nodes SET restricted_to = %s WHERE id = %s", ([w.teams["Support"]], n["acme_opp"]))
    finally:
        admin.execute("ALTER TABLE crm.nodes ENABLE TRIGGER tg_nodes__read_model_acl")
    seen = stored_vs_live(w)
    assert n["acme_opp"] not in seen[("alice", "opportunities_active")]
    w.connect("boss").execute("SELECT * FROM crm.refresh_read_models(p_all => true)")
    assert admin.execute("SELECT count(*) FROM crm_private.read_model_acl_changes WHERE node_id IS NULL").fetchone()[0] == 0
    stored_vs_live(w)


def test_changes_of_nodes_the_copy_does_not_store_are_pruned(shop):
    """A deal that left crm.opportunities_active (closed) has no stored row: its logged acl
    changes must not pile up (every read would check them live)."""
    w, n = shop, shop.n
    boss = w.connect("boss")
    w.admin.execute("UPDATE crm.nodes SET properties = properties || '{\"is_closed\": true}' WHERE id = %s",
                    (n["acme_opp2"],))
    boss.execute("SELECT * FROM crm.refresh_read_models(p_all => true)")
    boss.execute("SELECT crm.restrict_access_to_team(%s, %s)", (n["acme_opp2"], w.teams["Support"]))
    stored_vs_live(w)
    boss.execute("SELECT * FROM crm.refresh_read_models(p_all => true)")
    assert w.admin.execute("SELECT count(*) FROM crm_private.read_model_acl_changes").fetchone()[0] == 0
    stored_vs_live(w)


def test_no_login_can_write_or_read_the_change_log(shop):
    for who in LOGINS:
        c = shop.connect(who)
        for stmt in ("SELECT count(*) FROM crm_private.read_model_acl_changes",
                     "DELETE FROM crm_private.read_model_acl_changes",
                     "INSERT INTO crm_private.read_model_acl_changes (node_id, node_type) VALUES (NULL, 'person')",
                     "ALTER TABLE crm.nodes DISABLE TRIGGER tg_nodes__read_model_acl"):
            try:
                c.execute(stmt)
            except Exception as e:  # noqa: BLE001 - the observation below decides
                assert getattr(e, "sqlstate", None) == "42501" or "must be owner" in str(e), (who, stmt, e)
            else:
                raise AssertionError(f"{who} could run: {stmt}")
    stored_vs_live(shop)


def _row_acl(w, node_id):
    return w.admin.execute("SELECT row_acl FROM crm_private.opportunities_active_mv WHERE node_id = %s",
                           (node_id,)).fetchone()[0]


def test_a_change_in_flight_during_a_refresh_stays_logged(shop):
    """A writer's change that commits only after a refresh has read the nodes (uncommitted
    while it ran): the refresh stores the former acl and must not prune the change."""
    w, n = shop, shop.n
    before = _row_acl(w, n["acme_opp"])
    boss_tx = w.connect("boss", autocommit=False)
    boss_tx.execute("SELECT crm.restrict_access_to_team(%s, %s)", (n["acme_opp"], w.teams["Support"]))
    w.connect("boss").execute("SELECT * FROM crm.refresh_read_models(p_all => true)")   # runs, commits
    boss_tx.commit()
    assert _row_acl(w, n["acme_opp"]) == before        # the refresh stored the former acl
    seen = stored_vs_live(w)
    assert n["acme_opp"] not in seen[("alice", "opportunities_active")]
    assert n["acme_opp"] in seen[("carol", "opportunities_active")]


def test_a_change_committed_between_the_refresh_and_its_prune_stays_logged(shop):
    """The refresh is held between its REFRESH and its prune (the DBA row-locks the "trust
    none" row the refresh deletes first); a writer's change commits in that gap. The stored
    row holds the former acl, so the prune (a later statement, which sees the change) must keep
    it — otherwise the wrapper would trust a stale acl."""
    w, n = shop, shop.n
    before = _row_acl(w, n["acme_opp"])
    w.admin.execute("INSERT INTO crm_private.read_model_acl_changes (node_id, node_type) VALUES (NULL, 'opportunity')")
    dba = psycopg.connect(w.dsn, autocommit=False)   # the DBA, holding the row
    try:
        dba.execute("SELECT 1 FROM crm_private.read_model_acl_changes "
                    "WHERE node_id IS NULL AND node_type = 'opportunity' FOR UPDATE")
        refresher = w.connect("boss")
        pid = refresher.info.backend_pid
        errors = []

        def run():
            try:
                refresher.execute("SELECT * FROM crm.refresh_read_models(p_all => true)")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        t = threading.Thread(target=run)
        t.start()
        for _ in range(600):    # until the refresher waits for the row lock (after its REFRESH)
            waiting = w.admin.execute("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
                                      (pid,)).fetchone()
            if waiting and waiting[0]:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the refresh never waited for the held row")
        w.connect("boss").execute("SELECT crm.restrict_access_to_team(%s, %s)", (n["acme_opp"], w.teams["Support"]))
        dba.commit()
        t.join(60)
        assert not t.is_alive() and not errors, errors
    finally:
        dba.close()
    assert _row_acl(w, n["acme_opp"]) == before        # the REFRESH ran before the change
    seen = stored_vs_live(w)
    assert n["acme_opp"] not in seen[("alice", "opportunities_active")]
    assert n["acme_opp"] in seen[("carol", "opportunities_active")]
