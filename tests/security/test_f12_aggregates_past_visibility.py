"""Finding 12: an account-only reader sees its children's bodies and aggregates."""

from __future__ import annotations

import pytest
from psycopg.types.json import Jsonb

from tests.security.conftest import ingest

BASE = [
    ("salesforce", "User", "salesforce/User.csv"),
    ("salesforce", "Account", "salesforce/Account.csv"),
    ("salesforce", "Contact", "salesforce/Contact.csv"),
    ("salesforce", "Opportunity", "salesforce/Opportunity.csv"),
    ("salesforce", "Event", "salesforce/Event.json"),
    ("salesforce", "Task", "salesforce/Task.json"),
    ("zendesk", "organizations", "zendesk/organizations.json"),
    ("zendesk", "users", "zendesk/users.json"),
    ("zendesk", "tickets", "zendesk/tickets.json"),
    ("zendesk", "ticket_comments", "zendesk/tickets_9001_comments.json"),
    ("clm", "contracts", "clm/contracts.csv"),
    ("stripe", "customers", "stripe/customers.ndjson"),
    ("stripe", "invoices", "stripe/invoices.json"),
]
AGGREGATES = ("open_tickets", "high_priority_open_tickets", "active_opportunities", "arr", "active_contracts",
              "open_invoices", "open_invoice_amount", "overdue_invoices", "overdue_invoice_amount")


@pytest.fixture
def org_reader(sec, db):
    """The fixture exports ingested; rita (reader) holds only a read grant {"node_type": "org"}."""
    w = sec
    for source, obj, path in BASE:
        ingest(db, source, obj, path)
    w.admin.execute("INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope) "
                    "VALUES (%s, 'user', 'node', 'read', %s)", (str(w.users["rita"]), Jsonb({"node_type": "org"})))
    w.admin.execute("SELECT crm.refresh_account_views()")
    return w.connect("rita")


def test_account_grant_shows_no_bodies_of_hidden_children(org_reader):
    """Finding 12 — rita's only access is a read grant on accounts (org). She sees no
    ticket and no opportunity, yet the ticket comments (events and their bodies in
    crm.artifacts) and the meeting notes about an opportunity were visible to her through
    the account participant (role 'account') that ingestion adds to every child event.
    Property: she sees no ticket_comment event, no ticket_comment body and no meeting note.
    """
    rita = org_reader

    def count(q):
        return rita.execute(q).fetchone()[0]
    assert count("SELECT count(*) FROM crm.nodes WHERE node_type IN ('ticket', 'opportunity')") == 0
    assert count("SELECT count(*) FROM crm.nodes WHERE node_type = 'org'") > 0
    seen = {
        "ticket_comment events": count("SELECT count(*) FROM crm.events WHERE event_type = 'ticket_comment'"),
        "ticket_comment bodies": count("SELECT count(*) FROM crm.artifacts WHERE artifact_type = 'ticket_comment'"),
        "meeting notes": count("SELECT count(*) FROM crm.artifacts WHERE artifact_type = 'meeting_notes'"),
    }
    assert not any(seen.values()), f"an account-only reader sees children's content: {seen}"


def test_account_360_aggregates_only_what_the_reader_sees(org_reader):
    """Finding 12 — crm.accounts_360 (materialized) counts every child of an account it
    shows; crm.accounts_360_live counts only what the caller can see.
    Property: for rita (account-only grant) every count/sum of crm.accounts_360 equals the
    live one, account by account (or is NULL: withheld).
    """
    rita = org_reader
    cols = ", ".join(AGGREGATES)
    stored = {r[:2]: r[2:] for r in rita.execute(f"SELECT account_id, name, {cols} FROM crm.accounts_360").fetchall()}
    live = {r[:2]: r[2:] for r in rita.execute(f"SELECT account_id, name, {cols} FROM crm.accounts_360_live").fetchall()}
    assert stored, "rita sees no account in crm.accounts_360"
    diffs = {f"{account[1]}.{col}": (s[i], live[account][i]) for account, s in stored.items() if account in live
             for i, col in enumerate(AGGREGATES) if s[i] is not None and s[i] != live[account][i]}
    assert not diffs, f"accounts_360 vs accounts_360_live for an account-only reader: {diffs}"
