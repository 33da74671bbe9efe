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


def test_access_change_after_refresh_applies_to_stored_rows_at_once(sec, db):
    """Finding 12, over time — after crm.refresh_account_views(), an admin restricts one of
    Acme's tickets to another team. The rep who sees Acme through its team must no longer get
    the stored count that includes it: crm.accounts_360 equals crm.accounts_360_live for her
    right away (the stored row is not served after an ACL change of its children), and again
    after the next refresh.
    """
    w = sec
    for source, obj, path in BASE:
        ingest(db, source, obj, path)
    team = w.admin.execute("SELECT restricted_to[1] FROM crm.nodes WHERE node_type = 'org' "
                           "AND external_id = '001000000000ACM'").fetchone()[0]
    w.admin.execute("SELECT crm.add_user_to_team(%s, %s)", (w.users["alice"], team))
    w.admin.execute("SELECT crm.refresh_account_views()")
    alice = w.connect("alice")
    cols = ", ".join(AGGREGATES)

    def rows(view):
        return {r[0]: r[1:] for r in alice.execute(f"SELECT account_id, {cols} FROM {view}").fetchall()}
    assert rows("crm.accounts_360") == rows("crm.accounts_360_live") and rows("crm.accounts_360")
    acme = w.admin.execute("SELECT id FROM crm.nodes WHERE external_id = '001000000000ACM'").fetchone()[0]
    ticket = w.admin.execute(
        "SELECT t.id FROM crm.nodes t JOIN crm.edges e ON e.source_id = t.id AND e.edge_type = 'owned_by' "
        "JOIN crm.current_assertions s ON s.subject_node_id = t.id AND s.assertion_type = 'ticket_status' "
        "WHERE e.target_id = %s AND t.node_type = 'ticket' AND s.claim ->> 'status' IN ('new', 'open') LIMIT 1",
        (acme,)).fetchone()[0]
    before = rows("crm.accounts_360")[acme][0]
    w.admin.execute("SELECT crm.restrict_access_to_team(%s, %s)", (ticket, w.teams["Support"]))
    assert rows("crm.accounts_360") == rows("crm.accounts_360_live")
    assert rows("crm.accounts_360")[acme][0] == before - 1
    w.admin.execute("SELECT crm.refresh_account_views()")
    assert rows("crm.accounts_360") == rows("crm.accounts_360_live")


def test_duplicate_counts_only_pairs_the_reader_can_see(sec):
    """Finding 12, data quality — a duplicate-candidate pair of an account alice sees with one
    she cannot see (same domain) must not show in her Account 360 counts: a count of hidden
    look-alikes tells her that a hidden account exists. Property: for alice the pair count is
    what crm.duplicate_candidates shows her (0), stored and live; an admin sees the pair."""
    w = sec
    w.login("adm", "crm_admin")
    mine = w.node("org", "Dupe Holdings", ["Sales EMEA"], domain="dupe.example")
    w.node("org", "Dupe Holdings GmbH", ["Support"], domain="dupe.example")
    w.admin.execute("SELECT crm.refresh_account_views()")
    alice = w.connect("alice")
    assert alice.execute("SELECT count(*) FROM crm.duplicate_candidates WHERE %s IN (account_id, other_account_id)",
                         (mine,)).fetchone()[0] == 0
    for view in ("crm.accounts_360", "crm.accounts_360_live"):
        assert alice.execute(f"SELECT duplicate_candidates FROM {view} WHERE account_id = %s",
                             (mine,)).fetchone()[0] == 0, view
        assert w.connect("adm").execute(f"SELECT duplicate_candidates FROM {view} WHERE account_id = %s",
                                        (mine,)).fetchone()[0] == 1, view


def test_a_child_counts_only_under_its_current_account(sec):
    """An ended owned_by edge (effective_to set: re-parenting) no longer makes the child count
    under its old account — in the live and the stored Account 360 alike."""
    w = sec
    w.login("adm", "crm_admin")
    t = w.node("ticket", "moving ticket")
    w.own(t, w.n["acme"])
    w.admin.execute("INSERT INTO crm.assertions (assertion_type, subject_node_id, claim) "
                    "VALUES ('ticket_status', %s, '{\"status\": \"open\"}')", (t,))
    w.admin.execute("UPDATE crm.edges SET effective_to = now() WHERE source_id = %s AND edge_type = 'owned_by'", (t,))
    w.own(t, w.n["globex"])
    w.admin.execute("SELECT crm.refresh_account_views()")
    adm = w.connect("adm")
    for view in ("crm.accounts_360", "crm.accounts_360_live"):
        counts = dict(adm.execute(f"SELECT account_id, open_tickets FROM {view} WHERE account_id = ANY(%s)",
                                  ([w.n["acme"], w.n["globex"]],)).fetchall())
        assert counts == {w.n["acme"]: 0, w.n["globex"]: 1}, (view, counts)
