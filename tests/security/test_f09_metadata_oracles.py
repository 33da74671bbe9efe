"""Finding 9: helper functions and unique violations answer questions about hidden rows."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.security.conftest import uid


def _call(conn: psycopg.Connection, query: str, params=None):
    """The value a call returns to the caller, or None when it is refused (any error)."""
    try:
        return conn.execute(query, params).fetchone()[0]
    except psycopg.Error:
        return None


def _hidden_note(w) -> object:
    """A note alice logged on Acme (Sales EMEA): rita (reader, no team) cannot see it."""
    alice = w.connect("alice")
    event = alice.execute("SELECT crm.log_note('Acme wants a 30%% discount', ARRAY[%s]::uuid[])",
                          (w.n["acme"],)).fetchone()[0]
    assert w.connect("rita").execute("SELECT count(*) FROM crm.events WHERE id = %s", (event,)).fetchone()[0] == 0
    return event


def test_reader_cannot_read_another_users_teams(sec):
    """Finding 9 — crm_private.principals_of(<alice>) called by rita (reader, no team).
    Property: the answer names none of alice's teams (Sales EMEA, Sales).
    """
    w = sec
    got = _call(w.connect("rita"), "SELECT crm_private.principals_of(%s)", (w.users["alice"],)) or []
    leaked = {w.teams["Sales EMEA"], w.teams["Sales"]} & set(got)
    assert not leaked, f"rita learned alice's teams: {len(leaked)} team id(s)"


def test_reader_cannot_read_another_teams_grants(sec):
    """Finding 9 — crm_private.grants_of(ARRAY[<Support>]) called by rita (not in Support),
    Support holding a read grant on people.
    Property: the answer reveals no grant of Support.
    """
    w = sec
    w.admin.execute("INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope) "
                    "VALUES ('Support', 'team', 'node', 'read', %s)", (Jsonb({"node_type": "person"}),))
    got = _call(w.connect("rita"), "SELECT crm_private.grants_of(ARRAY[%s]::uuid[])", (w.teams["Support"],)) or []
    assert got == [], f"rita read Support's grants: {got}"


def test_reader_cannot_resolve_another_login(sec):
    """Finding 9 — crm_private.login_user('<alice's login role>') called by rita.
    Property: the answer does not reveal which CRM user alice's login is mapped to.
    """
    w = sec
    got = _call(w.connect("rita"), "SELECT crm_private.login_user(%s)", (w.role_name("alice"),))
    assert got != w.users["alice"], "rita resolved alice's login to her CRM user"


def test_reader_cannot_learn_who_recorded_a_hidden_event(sec):
    """Finding 9 — crm_private.event_recorded_by(<a note on Acme>) called by rita, who
    cannot see the note.
    Property: the answer does not name the recorder (alice).
    """
    w = sec
    event = _hidden_note(w)
    got = _call(w.connect("rita"), "SELECT crm_private.event_recorded_by(%s)", (event,))
    assert got != w.users["alice"], "rita learned who recorded an event she cannot see"


def test_reader_cannot_probe_event_visibility_with_other_principals(sec):
    """Finding 9 — crm_private.event_visible_by_grants(<hidden note>, ARRAY[<Sales EMEA>],
    '[]') called by rita: with principals that are not hers it tells whether an event she
    cannot see exists and which team can see it.
    Property: the answer is the same for the hidden note as for an event id that does not
    exist.
    """
    w = sec
    event = _hidden_note(w)
    rita = w.connect("rita")
    q = "SELECT crm_private.event_visible_by_grants(%s, ARRAY[%s]::uuid[], '[]'::jsonb)"
    hidden = _call(rita, q, (event, w.teams["Sales EMEA"]))
    missing = _call(rita, q, ("00000000-0000-0000-0000-0000000000e1", w.teams["Sales EMEA"]))
    assert hidden == missing, f"hidden event answers {hidden}, a missing one {missing}"


def _outcome(conn: psycopg.Connection, query: str, params) -> str | None:
    """SQLSTATE of a write (None when it succeeds); the write is rolled back either way."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(query, params)
    except psycopg.Error as e:
        return e.sqlstate
    return None


@pytest.mark.parametrize("key", ["node_external_key", "event_id"])
def test_writer_gets_the_same_answer_for_hidden_and_missing_keys(sec, key):
    """Finding 9 — a unique violation reveals that a hidden row exists. Eve (writer)
    inserts a node with the external key of an account she cannot see (salesforce /
    <its Account Id>), or an event with the id of a note she cannot see; then the same
    with a key that does not exist.
    Property: the outcome (success or SQLSTATE) is the same for the hidden key as for the
    missing one.
    """
    w = sec
    eve = w.connect("eve")
    if key == "node_external_key":
        hidden_key = f"001HIDDEN{uid()}"
        w.admin.execute("UPDATE crm.nodes SET external_source = 'salesforce', external_id = %s WHERE id = %s",
                        (hidden_key, w.n["umbrella"]))
        q = ("INSERT INTO crm.nodes (node_type, label, properties, external_source, external_id, restricted_to) "
             "VALUES ('org', 'probe', '{\"name\": \"probe\"}', 'salesforce', %s, %s)")
        hidden = _outcome(eve, q, (hidden_key, [w.teams["Eve Team"]]))
        missing = _outcome(eve, q, (f"001MISSING{uid()}", [w.teams["Eve Team"]]))
    else:
        event = _hidden_note(w)
        q = "INSERT INTO crm.events (id, event_type, summary) VALUES (%s, 'note', 'probe')"
        hidden = _outcome(eve, q, (event,))
        missing = _outcome(eve, q, ("00000000-0000-0000-0000-0000000000e2",))
    assert hidden == missing, f"hidden {key} answers {hidden}, a missing one {missing}"
