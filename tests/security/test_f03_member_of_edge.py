"""Finding 3: a crm_writer joins any team by inserting a member_of edge into crm.edges."""

from __future__ import annotations

import pytest

from tests.security.conftest import attempt, visible


@pytest.mark.parametrize("via", ["user_to_team", "team_to_team"])
def test_writer_cannot_join_a_team_through_edges(sec, via):
    """Finding 3 — memberships are principals: they change only through the admin
    functions (crm.add_user_to_team). A writer (eve, team "Eve Team") inserts a member_of
    edge herself: her user → "Sales EMEA", or her team "Eve Team" → "Sales EMEA" (nesting).
    Property: afterwards eve still cannot see Acme (restricted to Sales EMEA), and she is
    no member of Sales EMEA (crm_private.principals_of, as the ground truth).
    """
    w, n = sec, sec.n
    eve = w.connect("eve")
    assert n["acme"] not in visible(eve, "org")
    source = w.users["eve"] if via == "user_to_team" else w.teams["Eve Team"]
    attempt(eve, "INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('member_of', %s, %s)",
            (source, w.teams["Sales EMEA"]))
    assert n["acme"] not in visible(eve, "org"), "eve sees Acme through a membership she wrote herself"
    principals = w.admin.execute("SELECT crm_private.principals_of(%s)", (w.users["eve"],)).fetchone()[0]
    assert w.teams["Sales EMEA"] not in principals, "eve made herself a member of Sales EMEA"
