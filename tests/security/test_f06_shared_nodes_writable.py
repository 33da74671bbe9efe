"""Finding 6: principals, memberships and pipelines are writable by every crm_writer.

DESIGN §6: principals (users, teams, memberships, logins, grants), pipelines, registries and
restrictions change only through admin functions. Users, teams and pipelines are not
access-checked (acl NULL) and unclaimed, so the generic write policy lets any writer
update them.
"""

from __future__ import annotations

import pytest
from psycopg.types.json import Jsonb

from tests.security.conftest import attempt, visible


def test_writer_cannot_archive_another_users_node(sec):
    """Finding 6a — eve (writer) archives alice's user node: alice's login then resolves
    to no identity and she is locked out of her accounts.
    Property: afterwards alice's user node is live and she sees what she saw before.
    """
    w, n = sec, sec.n
    alice = w.connect("alice")
    before = visible(alice, "org")
    assert before == {n["acme"], n["globex"]}
    attempt(w.connect("eve"), "UPDATE crm.nodes SET archived_at = now() WHERE id = %s", (w.users["alice"],))
    archived = w.admin.execute("SELECT archived_at FROM crm.nodes WHERE id = %s", (w.users["alice"],)).fetchone()[0]
    assert visible(alice, "org") == before, "alice was locked out by another writer"
    assert archived is None, "a writer archived another user"


def test_writer_cannot_end_another_users_membership(sec):
    """Finding 6b — eve (writer) ends alice's member_of edges (effective_to = now()).
    Property: afterwards alice is still a member of Sales EMEA and sees her accounts.
    """
    w, n = sec, sec.n
    alice = w.connect("alice")
    before = visible(alice, "org")
    assert before == {n["acme"], n["globex"]}
    attempt(w.connect("eve"), "UPDATE crm.edges SET effective_to = now() "
                              "WHERE edge_type = 'member_of' AND source_id = %s", (w.users["alice"],))
    principals = w.admin.execute("SELECT crm_private.principals_of(%s)", (w.users["alice"],)).fetchone()[0]
    assert visible(alice, "org") == before, "another writer ended alice's membership"
    assert w.teams["Sales EMEA"] in principals


def test_writer_cannot_rename_a_team_to_capture_a_team_grant(sec):
    """Finding 6c — grants resolve team names. Eve holds a read grant
    {"node_type": "opportunity", "teams": ["Eve Team"]}; she renames team "Sales" to
    "Eve Team", so her grant now matches the Sales deals.
    Property: afterwards the Sales team keeps its name and eve sees no Sales opportunity.
    """
    w, n = sec, sec.n
    w.admin.execute("INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope) "
                    "VALUES (%s, 'user', 'node', 'read', %s)",
                    (str(w.users["eve"]), Jsonb({"node_type": "opportunity", "teams": ["Eve Team"]})))
    eve = w.connect("eve")
    assert n["globex_opp"] not in visible(eve, "opportunity")
    attempt(eve, "UPDATE crm.nodes SET label = 'Eve Team', properties = properties || '{\"name\": \"Eve Team\"}' "
                 "WHERE id = %s", (w.teams["Sales"],))
    name = w.admin.execute("SELECT properties ->> 'name' FROM crm.nodes WHERE id = %s", (w.teams["Sales"],)).fetchone()[0]
    assert n["globex_opp"] not in visible(eve, "opportunity"), "eve's team grant now matches the Sales deals"
    assert name == "Sales", f"a writer renamed team Sales to {name!r}"


@pytest.mark.parametrize("node_type", ["user", "team"])
def test_writer_cannot_create_principals(sec, node_type):
    """Finding 6d — users and teams are principals: only crm.create_user / crm.create_team
    (admins) create them. Eve (writer) inserts a user / a team node directly.
    Property: afterwards no such node exists (ground truth, as the DBA).
    """
    w = sec
    label = f"Shadow {node_type} {w.suffix}"
    attempt(w.connect("eve"), "INSERT INTO crm.nodes (node_type, label, properties) VALUES (%s, %s, %s)",
            (node_type, label, Jsonb({"name": label})))
    created = w.admin.execute("SELECT count(*) FROM crm.nodes WHERE label = %s", (label,)).fetchone()[0]
    assert created == 0, f"a writer created a {node_type} node"


def test_writer_cannot_change_pipeline_stages(sec):
    """Finding 6e — pipelines are registries: a writer must not change them. Eve (writer)
    marks the "proposal" stage of the default pipeline terminal (deals there could then
    only move with an explicit reopen).
    Property: afterwards the pipeline's properties (ground truth) are unchanged.
    """
    w = sec
    pipeline, props = w.admin.execute("SELECT id, properties FROM crm.nodes WHERE node_type = 'pipeline' "
                                      "AND properties ->> 'code' = 'PL-SALES'").fetchone()
    stages = [{**s, "terminal": True} if s["key"] == "proposal" else s for s in props["stages"]]
    attempt(w.connect("eve"), "UPDATE crm.nodes SET properties = properties || %s WHERE id = %s",
            (Jsonb({"stages": stages}), pipeline))
    after = w.admin.execute("SELECT properties FROM crm.nodes WHERE id = %s", (pipeline,)).fetchone()[0]
    assert after == props, "a writer changed the pipeline's stages"
