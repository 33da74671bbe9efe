"""Finding 4: validation switched off mid-statement with set_config('crm.bulk_apply', 'on', true).

tg_bulk_guard is a statement trigger: its WHEN runs once, before the first row. The row
validators' `WHEN current_setting('crm.bulk_apply') <> 'on'` runs per row — after a
set_config evaluated inside the statement itself (an UPDATE's SET list, an INSERT's SELECT).
"""

from __future__ import annotations

from psycopg.types.json import Jsonb

from tests.security.conftest import attempt, uid, visible

BULK_ON = "set_config('crm.bulk_apply', 'on', true)"
BULK_OFF = "set_config('crm.bulk_apply', 'off', true)"


def _eves_opportunity(w) -> str:
    """An opportunity eve creates herself, restricted to her own team (she owns it)."""
    eve = w.connect("eve")
    return eve.execute(
        "INSERT INTO crm.nodes (node_type, label, properties, restricted_to) VALUES ('opportunity', 'Eve deal', %s, %s) "
        "RETURNING id", (Jsonb({"name": "Eve deal", "code": f"OPP-2401-{uid()}"}), [w.teams["Eve Team"]])).fetchone()[0]


def test_bulk_flag_in_insert_select_cannot_link_into_a_hidden_account(sec):
    """Finding 4a — eve (writer) inserts an owned_by edge from her own opportunity into
    Umbrella, an account she cannot see, turning bulk mode on in the INSERT's SELECT.
    Property: no edge may point at a node the writer cannot see — afterwards (ground truth,
    as the DBA) there is no owned_by edge from her opportunity to Umbrella.
    """
    w, n = sec, sec.n
    opp = _eves_opportunity(w)
    eve = w.connect("eve")
    assert n["umbrella"] not in visible(eve, "org")
    attempt(eve, f"INSERT INTO crm.edges (edge_type, source_id, target_id) "
                 f"SELECT 'owned_by', %s, %s FROM (SELECT {BULK_ON}) AS bulk", (opp, n["umbrella"]))
    linked = w.admin.execute("SELECT count(*) FROM crm.edges WHERE edge_type = 'owned_by' AND source_id = %s "
                             "AND target_id = %s", (opp, n["umbrella"])).fetchone()[0]
    assert linked == 0, "eve linked her opportunity into a hidden account"


def test_bulk_flag_in_update_set_list_cannot_change_restrictions(sec):
    """Finding 4b — only admins change restrictions. Eve (writer) re-restricts her own
    opportunity to Support (a team she is not in), turning bulk mode on in the SET list.
    Property: afterwards the node's restricted_to and effective ACL (ground truth, as the
    DBA) do not name Support, and carol (Support) cannot see it.
    """
    w = sec
    opp = _eves_opportunity(w)
    eve = w.connect("eve")
    # (RETURNING runs after the row was written, before the AFTER statement triggers: bulk
    # mode is switched off again so the ACL maintenance of the change is not refused)
    attempt(eve, f"UPDATE crm.nodes SET restricted_to = CASE WHEN {BULK_ON} = 'on' THEN %s::uuid[] END "
                 f"WHERE id = %s RETURNING {BULK_OFF}", ([w.teams["Support"]], opp))
    restricted_to, acl = w.admin.execute("SELECT restricted_to, acl FROM crm.nodes WHERE id = %s", (opp,)).fetchone()
    assert w.teams["Support"] not in restricted_to, "a writer re-restricted her node to Support (restricted_to)"
    assert w.teams["Support"] not in (acl or []), "a writer re-restricted her node to Support (acl)"
    assert opp not in visible(w.connect("carol"))


def test_bulk_flag_in_update_set_list_cannot_rewrite_history(sec):
    """Finding 4c — an assertion is history once superseded: its claim never changes.
    Eve (writer) rewrites the superseded win_probability claim of her own opportunity,
    turning bulk mode on in the SET list.
    Property: afterwards (ground truth, as the DBA) the superseded claim is unchanged.
    """
    w = sec
    opp = _eves_opportunity(w)
    old = w.admin.execute("INSERT INTO crm.assertions (assertion_type, subject_node_id, claim) "
                          "VALUES ('win_probability', %s, '{\"probability\": 0.1}') RETURNING id", (opp,)).fetchone()[0]
    w.admin.execute("SELECT crm.supersede_assertion(%s, 'win_probability', %s, NULL, '{\"probability\": 0.2}', "
                    "NULL, 1.0, '')", (old, opp))
    assert w.admin.execute("SELECT superseded_at IS NOT NULL FROM crm.assertions WHERE id = %s", (old,)).fetchone()[0]
    eve = w.connect("eve")
    attempt(eve, f"UPDATE crm.assertions SET claim = CASE WHEN {BULK_ON} = 'on' THEN '{{\"probability\": 0.99}}'::jsonb END "
                 "WHERE id = %s", (old,))
    claim = w.admin.execute("SELECT claim FROM crm.assertions WHERE id = %s", (old,)).fetchone()[0]
    assert claim == {"probability": 0.1}, f"history rewritten by a writer: {claim}"
