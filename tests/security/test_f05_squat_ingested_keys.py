"""Finding 5: a writer squats the external key of a record a connector will deliver later."""

from __future__ import annotations

import pytest
from psycopg.types.json import Jsonb

from tests.security.conftest import ACME_SF_ID, JANE_EMAIL, attempt, dsn_of, ingest, visible

SQUATS = {
    # the keys docs/graph_contract.md gives: org = salesforce / Account.Id, person = email / address
    "account": ("org", "salesforce", ACME_SF_ID, {"name": "Acme Corp"}),
    "person": ("person", "email", JANE_EMAIL, {"first_name": "Jane", "last_name": "Doe"}),
}


def _node_of(admin, source, obj, external_id):
    row = admin.execute("SELECT node_id FROM crm.node_sources WHERE source = %s AND object = %s AND external_id = %s",
                        (source, obj, external_id)).fetchone()
    return row[0] if row else None


@pytest.mark.parametrize("squat", sorted(SQUATS))
def test_squatted_key_does_not_capture_the_ingested_record(sec, squat):
    """Finding 5 — keys of a registered source belong to reconciliation. Eve (writer)
    creates, before the first sync, a node with the key the connector will deliver later
    (Acme's Salesforce Account Id, or Jane Doe's email) restricted to her own team. Then
    the normal ingest runs (Salesforce User, Account, Contact as a crm_connector login).
    Acme is owned by Ada Ackerman: the per_owner mapping restricts it to Ada's own team
    (attrs.salesforce_owner_id = her User Id), to which an admin then adds alice.
    Property: both records are ingested; afterwards eve sees neither the ingested account
    nor Jane Doe, and alice (the rightful team) sees both.
    """
    w = sec
    w.login("conn", "crm_connector", user=False)
    w.admin.execute("SELECT crm.allow_source(%s, '*')", (w.role_name("conn"),))   # README: connectors get their sources
    node_type, source, key, props = SQUATS[squat]
    eve = w.connect("eve")
    attempt(eve, "INSERT INTO crm.nodes (node_type, label, properties, external_source, external_id, restricted_to) "
                 "VALUES (%s, 'squat', %s, %s, %s, %s)", (node_type, Jsonb(props), source, key, [w.teams["Eve Team"]]))
    connector = dsn_of(w, "conn")
    for obj in ("User", "Account", "Contact"):
        ingest(connector, "salesforce", obj, f"salesforce/{obj}.csv")
    ada_team = w.admin.execute("SELECT id FROM crm.nodes WHERE node_type = 'team' "
                               "AND attrs ->> 'salesforce_owner_id' = '005000000000AAA'").fetchone()[0]
    w.admin.execute("SELECT crm.add_user_to_team(%s, %s)", (w.users["alice"], ada_team))
    acme = _node_of(w.admin, "salesforce", "Account", ACME_SF_ID)
    jane = _node_of(w.admin, "salesforce", "Contact", "003000000000JD1")
    seen_by_eve, seen_by_alice = visible(eve), visible(w.connect("alice"))
    problems = [what for what, bad in [
        ("the squatter sees the ingested Acme account", acme in seen_by_eve),
        ("the squatter sees the ingested contact Jane Doe", jane in seen_by_eve),
        ("Acme was not ingested", acme is None),
        ("Jane Doe was not ingested", jane is None),
        ("Acme's own team cannot see its account", acme not in seen_by_alice),
        ("Acme's own team cannot see its contact Jane Doe", jane not in seen_by_alice)] if bad]
    assert not problems, "; ".join(problems)
