"""Owners, rep logins and read models that are never silently stale (issue 12).

Every login here is created the way the README tells a DBA (`crm360 user add`, i.e.
crm360.users.add_user) and every decision is made from what that login observes.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from crm360 import users
from crm360.cli import cli
from crm360.connectors import ingest_files
from crm360.db import CrmError

FIX = Path(__file__).resolve().parent / "fixtures"
PASSWORD = "crm360-owner-test"
ACME, GLOBEX, INITECH, GLOBEX2 = "001000000000ACM", "001000000000GLX", "001000000000INI", "001000000000GL2"
ADA, BRUNO = "005000000000AAA", "005000000000BBB"
SALESFORCE = [
    ("salesforce", "User", "salesforce/User.csv"),
    ("salesforce", "Account", "salesforce/Account.csv"),
    ("salesforce", "Contact", "salesforce/Contact.csv"),
    ("salesforce", "Opportunity", "salesforce/Opportunity.csv"),
]
ZENDESK = [
    ("zendesk", "organizations", "zendesk/organizations.json"),
    ("zendesk", "users", "zendesk/users.json"),
    ("zendesk", "tickets", "zendesk/tickets.json"),
]


def ingest(db, source, obj, *files, **kw):
    return ingest_files(db, source, obj, [str(f) if str(f).startswith("/") else str(FIX / f) for f in files], **kw)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


class Logins:
    """Login roles made with crm360.users.add_user (what `crm360 user add` runs)."""

    def __init__(self, conn, db):
        self.conn, self.db, self.suffix, self.made = conn, db, uuid.uuid4().hex[:8], []

    def name(self, base: str) -> str:
        return f"{base}_{self.suffix}"

    def add(self, base: str, kind: str = "writer", **kw) -> dict:
        login = self.name(base)
        done = users.add_user(self.conn, login, kind, password=PASSWORD, **kw)
        self.made.append(login)
        return done

    def dsn(self, base: str) -> str:
        params = conninfo_to_dict(self.db)
        params.update(user=self.name(base), password=PASSWORD)
        return make_conninfo(**params)

    def connect(self, base: str) -> psycopg.Connection:
        return psycopg.connect(self.dsn(base), autocommit=True)

    def drop(self):
        for login in self.made:
            self.conn.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(login)))
            self.conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))


@pytest.fixture
def logins(conn, db):
    lg = Logins(conn, db)
    yield lg
    lg.drop()


def node(conn, source, obj, external_id):
    return conn.execute("SELECT node_id FROM crm.node_sources WHERE source = %s AND object = %s AND external_id = %s",
                        (source, obj, external_id)).fetchone()[0]


def owner_of(conn, node_id):
    rows = conn.execute("SELECT target_id FROM crm.edges WHERE source_id = %s AND edge_type = 'assigned_to' "
                        "AND properties ->> 'role' = 'owner' AND archived_at IS NULL AND effective_to IS NULL",
                        (node_id,)).fetchall()
    assert len(rows) <= 1, rows
    return rows[0][0] if rows else None


def memberships(conn, user_id, current=True):
    return {r[0] for r in conn.execute(
        "SELECT t.label FROM crm.edges e JOIN crm.nodes t ON t.id = e.target_id WHERE e.edge_type = 'member_of' "
        "AND e.source_id = %s AND e.archived_at IS NULL AND (e.effective_to IS NULL) = %s", (user_id, current))}


def account_names(c) -> set[str]:
    return {r[0] for r in c.execute("SELECT label FROM crm.nodes WHERE node_type = 'org'")}


def a360_names(c) -> set[str]:
    return {r[0] for r in c.execute("SELECT name FROM crm.accounts_360")}


# ------------------------------------------------------------------------------------ owners
def test_owner_kept_and_shown(db, conn):
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    ada, bruno = node(conn, "salesforce", "User", ADA), node(conn, "salesforce", "User", BRUNO)
    assert owner_of(conn, node(conn, "salesforce", "Account", ACME)) == ada
    assert owner_of(conn, node(conn, "salesforce", "Account", GLOBEX)) == bruno
    assert owner_of(conn, node(conn, "salesforce", "Contact", "003000000000JD1")) == ada
    assert owner_of(conn, node(conn, "salesforce", "Opportunity", "006000000000OA1")) == ada
    for view in ("crm.accounts_360", "crm.accounts_360_live"):
        rows = {r[0]: r[1:] for r in conn.execute(f"SELECT name, owner_name, owner_email FROM {view}")}
        assert rows["Acme Corp"] == ("Ada Ackerman", "ada@ourco.example"), view
        assert rows["Globex"] == ("Bruno Bauer", "bruno@ourco.example"), view
    s = conn.execute("SELECT crm.get_account_summary(%s)", (node(conn, "salesforce", "Account", ACME),)).fetchone()[0]
    assert (s["account"]["owner"], s["account"]["owner_email"]) == ("Ada Ackerman", "ada@ourco.example")
    # a replay changes nothing: one owner edge each, no second membership
    before = conn.execute("SELECT count(*) FROM crm.edges WHERE edge_type IN ('assigned_to', 'member_of')").fetchone()[0]
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    assert conn.execute("SELECT count(*) FROM crm.edges WHERE edge_type IN ('assigned_to', 'member_of')"
                        ).fetchone()[0] == before


def test_rep_login_mapped_by_email_sees_exactly_their_accounts_right_after_ingest(db, conn, logins):
    for source, obj, f in SALESFORCE + ZENDESK:
        ingest(db, source, obj, f)
    done = logins.add("ada", "writer", email="ADA@ourco.example")
    assert done["user_id"] == str(node(conn, "salesforce", "User", ADA)) and not done["user_created"]
    logins.add("bruno", "reader", email="bruno@ourco.example")
    ada, bruno = logins.connect("ada"), logins.connect("bruno")
    assert account_names(ada) == {"Acme Corp"} == a360_names(ada)
    assert account_names(bruno) == {"Globex", "Initech", "Globex, Inc."} == a360_names(bruno)
    # their children too, and nothing of the other's
    ticket = node(conn, "zendesk", "tickets", "9001")
    assert ada.execute("SELECT count(*) FROM crm.nodes WHERE id = %s", (ticket,)).fetchone()[0] == 1
    assert bruno.execute("SELECT count(*) FROM crm.nodes WHERE id = %s", (ticket,)).fetchone()[0] == 0
    # the stored rows a rep gets are the live ones
    cols = "name, owner_name, open_tickets, active_opportunities, arr, open_invoices"
    assert sorted(ada.execute(f"SELECT {cols} FROM crm.accounts_360").fetchall()) == \
        sorted(ada.execute(f"SELECT {cols} FROM crm.accounts_360_live").fetchall())
    # the rep is the owner: the login's user is the account's owner
    assert ada.execute("SELECT owner_name FROM crm.accounts_360").fetchone()[0] == "Ada Ackerman"


def test_crm360_account_as_a_rep_right_after_ingest(db, conn):
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    r = CliRunner().invoke(cli, ["account", "Acme Corp", "--as", "ada@ourco.example", "--json", "--dsn", db])
    assert r.exit_code == 0, r.output
    assert '"owner": "Ada Ackerman"' in r.output
    r = CliRunner().invoke(cli, ["account", "Acme Corp", "--as", "bruno@ourco.example", "--json", "--dsn", db])
    assert r.exit_code != 0 and "P0002" in r.output, r.output     # not Bruno's account: not found


def test_owner_change_moves_membership_and_keeps_history(db, conn, logins, tmp_path):
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    logins.add("ada", "reader", email="ada@ourco.example")
    logins.add("bruno", "reader", email="bruno@ourco.example")
    ada_u, bruno_u = node(conn, "salesforce", "User", ADA), node(conn, "salesforce", "User", BRUNO)
    # an admin's own member of Ada's team is never touched by ingestion
    carl = conn.execute("SELECT crm.create_user('Carl Manager', %s)", (f"carl.{logins.suffix}@ourco.example",)).fetchone()[0]
    conn.execute("SELECT crm.add_user_to_team(%s, crm.team_id('Ada Ackerman'))", (carl,))
    assert memberships(conn, ada_u) == {"Ada Ackerman"}
    ingest(db, "salesforce", "Account", write(tmp_path / "acme_moved.csv",
           "Id,Name,Website,BillingCountry,OwnerId,LastModifiedDate,IsDeleted\n"
           f"{ACME},Acme Corp,acme.com,Germany,{BRUNO},2024-04-01T00:00:00Z,false\n"))
    acme = node(conn, "salesforce", "Account", ACME)
    assert owner_of(conn, acme) == bruno_u
    assert conn.execute("SELECT count(*) FROM crm.edges WHERE source_id = %s AND edge_type = 'assigned_to' "
                        "AND effective_to IS NOT NULL AND target_id = %s", (acme, ada_u)).fetchone()[0] == 1
    # Ada owns nothing any more: her managed membership ended (history kept), Carl's stays
    assert memberships(conn, ada_u) == set() and memberships(conn, ada_u, current=False) == {"Ada Ackerman"}
    assert memberships(conn, carl) == {"Ada Ackerman"}
    assert memberships(conn, bruno_u) == {"Bruno Bauer"}
    assert account_names(logins.connect("ada")) == set()
    assert "Acme Corp" in account_names(logins.connect("bruno")) and "Acme Corp" in a360_names(logins.connect("bruno"))
    # and both moves are in the access log
    kinds = [r[0] for r in conn.execute(
        "SELECT e.event_type FROM crm.events e JOIN crm.event_participants p ON p.event_id = e.id "
        "WHERE p.node_id = %s AND e.event_type IN ('membership_added', 'membership_removed') ORDER BY e.occurred_at",
        (ada_u,))]
    assert kinds == ["membership_added", "membership_removed"]


def test_deactivated_owner_loses_membership(db, conn, tmp_path):
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    bruno_u = node(conn, "salesforce", "User", BRUNO)
    assert memberships(conn, bruno_u) == {"Bruno Bauer"}
    ingest(db, "salesforce", "User", write(tmp_path / "bruno_left.csv",
           "Id,Name,Email,IsActive,LastModifiedDate\n"
           f"{BRUNO},Bruno Bauer,bruno@ourco.example,false,2024-05-01T00:00:00Z\n"))
    assert memberships(conn, bruno_u) == set()


def test_users_arriving_after_their_accounts(db, conn, logins):
    for source, obj, f in SALESFORCE[1:]:
        ingest(db, source, obj, f)
    acme = node(conn, "salesforce", "Account", ACME)
    assert owner_of(conn, acme) is None
    ingest(db, "salesforce", "User", "salesforce/User.csv")
    ada_u = node(conn, "salesforce", "User", ADA)
    assert owner_of(conn, acme) == ada_u
    assert owner_of(conn, node(conn, "salesforce", "Opportunity", "006000000000OA1")) == ada_u
    assert owner_of(conn, node(conn, "salesforce", "Contact", "003000000000JD1")) == ada_u
    # the account was restricted to a team named after the then-unknown owner: she joins it
    assert memberships(conn, ada_u) == {f"Salesforce owner {ADA}"}
    logins.add("ada", "reader", email="ada@ourco.example")
    assert account_names(logins.connect("ada")) == {"Acme Corp"}


def test_login_created_before_ingestion_is_adopted(db, conn, logins):
    done = logins.add("ada", "writer", name="Ada A.", email="ada@ourco.example")
    assert done["user_created"]
    ada = logins.connect("ada")
    assert account_names(ada) == set()
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    # the Salesforce user is the CRM user the admin created: one user, the login sees her accounts
    assert str(node(conn, "salesforce", "User", ADA)) == done["user_id"]
    assert conn.execute("SELECT count(*) FROM crm.nodes WHERE node_type = 'user' "
                        "AND properties ->> 'email' = 'ada@ourco.example'").fetchone()[0] == 1
    assert account_names(ada) == {"Acme Corp"}


def test_a_writer_cannot_become_an_owner_team_member(db, conn, logins):
    """Memberships stay admin-only for callers: a rep cannot write the managed kind either."""
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    logins.add("bruno", "writer", email="bruno@ourco.example")
    bruno = logins.connect("bruno")
    team = conn.execute("SELECT crm.team_id('Ada Ackerman')").fetchone()[0]
    me = node(conn, "salesforce", "User", BRUNO)
    with pytest.raises(psycopg.Error):
        bruno.execute("INSERT INTO crm.edges (edge_type, source_id, target_id, properties) VALUES "
                      "('member_of', %s, %s, '{\"managed_by\": \"ownership_mapping\"}')", (me, team))
    with pytest.raises(psycopg.Error):
        bruno.execute("SELECT crm_private.sync_owner_teams()")
    assert "Acme Corp" not in account_names(bruno)


# ------------------------------------------------------------------------------- read models
COLS_360 = ("name, owner_name, open_tickets, high_priority_open_tickets, active_opportunities, pipeline_value, "
            "arr, open_invoices, overdue_invoices, last_touch_at")


def stale(conn) -> dict:
    return {r[0]: r[1] for r in conn.execute("SELECT read_model, stale FROM crm.read_models")}


def test_read_models_refreshed_after_ingest_and_equal_to_live(db, conn, logins, tmp_path):
    for source, obj, f in SALESFORCE + ZENDESK:
        ingest(db, source, obj, f)
    logins.add("ada", "writer", email="ADA@ourco.example")
    ada = logins.connect("ada")
    ada_before = sorted(ada.execute(f"SELECT {COLS_360} FROM crm.accounts_360").fetchall())
    assert stale(conn) == {"crm.accounts_360": False, "crm.opportunities_active": False, "crm.contacts_directory": False}
    live = sorted(conn.execute(f"SELECT {COLS_360} FROM crm.accounts_360_live").fetchall())
    assert sorted(conn.execute(f"SELECT {COLS_360} FROM crm.accounts_360").fetchall()) == live
    assert conn.execute("SELECT count(*) FROM crm.opportunities_active").fetchone()[0] == \
        conn.execute("SELECT count(*) FROM crm.opportunities_active_live").fetchone()[0]

    # an incremental load without refresh: the stored 360 is stale and says so, the CRM read
    # models are not affected — and the accounts the batch touched are computed live, so
    # crm.accounts_360 already shows the change, to the admin and to the rep (issue 16 item 3)
    refreshed_at = conn.execute("SELECT max(refreshed_at) FROM crm_private.view_refreshes "
                                "WHERE view_name = 'crm_private.accounts_360_mv'").fetchone()[0]
    ingest(db, "zendesk", "tickets", "zendesk/tickets_solved.json", refresh=False)
    assert stale(conn) == {"crm.accounts_360": True, "crm.opportunities_active": False, "crm.contacts_directory": False}
    assert conn.execute("SELECT read_models_stale FROM crm.source_freshness WHERE source = 'zendesk' "
                        "AND object = 'tickets'").fetchone()[0] is True
    assert conn.execute("SELECT read_models_stale FROM crm.source_freshness WHERE source = 'salesforce' "
                        "AND object = 'Opportunity'").fetchone()[0] is True       # it feeds the 360 too
    behind = conn.execute("SELECT behind_by FROM crm.read_models WHERE read_model = 'crm.accounts_360'").fetchone()[0]
    assert behind is not None and behind.total_seconds() > 0
    assert sorted(conn.execute(f"SELECT {COLS_360} FROM crm.accounts_360").fetchall()) == \
        sorted(conn.execute(f"SELECT {COLS_360} FROM crm.accounts_360_live").fetchall())
    assert conn.execute("SELECT count(*) FROM crm.accounts_360 WHERE as_of > %s", (refreshed_at,)).fetchone()[0] > 0
    ada_after = sorted(ada.execute(f"SELECT {COLS_360} FROM crm.accounts_360").fetchall())
    assert ada_after == sorted(ada.execute(f"SELECT {COLS_360} FROM crm.accounts_360_live").fetchall())
    assert ada_after != ada_before                       # her account's tickets were solved
    # the stored copy itself is stale until the refresh (what the MV holds, as the DBA)
    assert conn.execute("SELECT count(*) FROM crm_private.accounts_360_mv m JOIN crm.accounts_360_live l "
                        "USING (account_id) WHERE m.open_tickets <> l.open_tickets").fetchone()[0] > 0

    r = CliRunner().invoke(cli, ["refresh", "--json", "--dsn", db])
    assert r.exit_code == 0, r.output
    assert '"refreshed": true' in r.output and "after its last refresh" in r.output
    assert not any(stale(conn).values())
    assert sorted(conn.execute(f"SELECT {COLS_360} FROM crm.accounts_360").fetchall()) == \
        sorted(conn.execute(f"SELECT {COLS_360} FROM crm.accounts_360_live").fetchall())
    # nothing stale: nothing refreshed
    rows = conn.execute("SELECT read_model, refreshed, reason FROM crm.refresh_read_models()").fetchall()
    assert all(not r[1] and r[2] == "up to date" for r in rows), rows


def test_reconcile_cli_refreshes_and_elt_path(db, conn):
    """The ELT path: land raw rows, SELECT crm.reconcile(), then crm.refresh_read_models()."""
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f, reconcile=False)
    assert conn.execute("SELECT count(*) FROM crm.accounts_360").fetchone()[0] == 0
    conn.execute("SELECT * FROM crm.reconcile()")
    assert stale(conn)["crm.accounts_360"] is True
    rows = {r[0]: r[1] for r in conn.execute("SELECT read_model, refreshed FROM crm.refresh_read_models()")}
    assert rows == {"crm_private.opportunities_active_mv": True, "crm_private.contacts_directory_mv": True,
                    "crm_private.accounts_360_mv": True}
    assert conn.execute("SELECT count(*) FROM crm.accounts_360").fetchone()[0] == 4
    # crm360 reconcile refreshes by itself
    conn.execute("UPDATE crm_raw.records SET status = 'pending' WHERE source = 'salesforce' AND object = 'Account'")
    r = CliRunner().invoke(cli, ["reconcile", "--json", "--dsn", db])
    assert r.exit_code == 0, r.output
    assert not any(stale(conn).values())


def test_change_committed_during_a_refresh_keeps_the_read_model_stale(db, conn):
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    assert not any(stale(conn).values())
    with psycopg.connect(db) as writer:          # a reconciliation still in flight
        writer.execute("SELECT crm_private.mark_read_models_changed(NULL)")
        refreshed = conn.execute("SELECT bool_and(refreshed) FROM crm.refresh_read_models()").fetchone()[0]
        assert refreshed is False                # it cannot see the uncommitted change
        writer.commit()
    assert all(stale(conn).values())             # so its refresh did not cover it


def test_refresh_needs_admin_or_connector(db, conn, logins):
    logins.add("rita", "reader", name="Rita Reader")
    logins.add("conny", "connector", sources=("salesforce",))
    with pytest.raises(psycopg.Error) as e:
        logins.connect("rita").execute("SELECT * FROM crm.refresh_read_models()")
    assert e.value.sqlstate == "42501"
    assert logins.connect("conny").execute("SELECT count(*) FROM crm.refresh_read_models()").fetchone()[0] == 3
    # everyone may see whether the read models are fresh
    assert logins.connect("rita").execute("SELECT count(*) FROM crm.read_models").fetchone()[0] == 3


# ---------------------------------------------------------------------------------- freshness
def status(conn, source, obj):
    return conn.execute("SELECT status, rows_rejected, last_success_at IS NOT NULL FROM crm.source_freshness "
                        "WHERE source = %s AND object = %s", (source, obj)).fetchone()


def test_freshness_states(db, conn, tmp_path):
    conn.execute("INSERT INTO crm_raw.source_schedules (source, object, expected_interval, freshness_group) "
                 "VALUES ('salesforce', 'User', '1 hour', 'crm') ON CONFLICT (source, object) "
                 "DO UPDATE SET expected_interval = '1 hour'")
    assert status(conn, "salesforce", "User") == ("never", None, False)
    # a run with one bad row: partial, and that is a sync
    bad = write(tmp_path / "users_one_bad.csv", "Id,Name,Email,IsActive,LastModifiedDate\n"
                f"{ADA},Ada Ackerman,ada@ourco.example,true,2024-03-01T09:00:00Z\n"
                "005000000000ZZZ,Zed,not-an-email,true,2024-03-01T09:00:00Z\n")
    s = ingest(db, "salesforce", "User", bad)
    assert s["status"] == "partial" and s["new_rejected"] == 1
    assert status(conn, "salesforce", "User") == ("partial", 1, True)
    # the same export again: still partial (the bad row is still there), nothing new
    s = ingest(db, "salesforce", "User", bad)
    assert s["landed"] == 0 and s["new_rejected"] == 0 and s["unchanged"] == 2
    assert status(conn, "salesforce", "User")[0] == "partial"
    # a run that fails: failed
    with pytest.raises(CrmError) as e:
        ingest(db, "salesforce", "User", write(tmp_path / "broken.json", '[{"Id": '))
    assert e.value.sqlstate == "CR040"
    assert status(conn, "salesforce", "User")[0] == "failed"
    # a clean run: fresh
    ingest(db, "salesforce", "User", "salesforce/User.csv")
    assert status(conn, "salesforce", "User") == ("fresh", 0, True)
    # nothing since for longer than the schedule's tolerance: stale
    conn.execute("UPDATE crm_raw.sync_runs SET started_at = started_at - interval '2 hours', "
                 "finished_at = finished_at - interval '2 hours' WHERE source = 'salesforce' AND object = 'User'")
    assert status(conn, "salesforce", "User")[0] == "stale"
    assert conn.execute("SELECT overdue FROM crm.source_freshness WHERE source = 'salesforce' "
                        "AND object = 'User'").fetchone()[0] is True


def test_replay_says_unchanged_and_exits_0(db, tmp_path):
    bad = write(tmp_path / "users_one_bad.csv", "Id,Name,Email,IsActive,LastModifiedDate\n"
                f"{ADA},Ada Ackerman,ada@ourco.example,true,2024-03-01T09:00:00Z\n"
                "005000000000ZZZ,Zed,not-an-email,true,2024-03-01T09:00:00Z\n")
    first = CliRunner().invoke(cli, ["ingest", "salesforce", "User", str(bad), "--dsn", db])
    assert first.exit_code == 3, first.output
    again = CliRunner().invoke(cli, ["ingest", "salesforce", "User", str(bad), "--dsn", db])
    assert again.exit_code == 0, again.output
    assert "unchanged: all 2 records identical" in again.output and "1 record rejected before" in again.output


# ----------------------------------------------------------------------------------- overdue
def test_invoice_is_overdue_at_its_due_moment(world):
    """Stripe's due_date is a moment: an open invoice is past due once it has passed — not from
    the next UTC day. The rule written inline in the Account 360 facts (migration 0019) and
    crm_private.invoice_due_at (summary, timeline) agree."""
    from psycopg.types.json import Jsonb

    w = world
    acct = w.node("org", "Overdue Test Co")
    cases = {"due_1min_ago": "now() - interval '1 minute'", "due_in_1min": "now() + interval '1 minute'",
             "date_only_yesterday": None, "date_only_today": None}
    ids = {}
    for key, expr in cases.items():
        props = {"number": key}
        if expr:
            props["due_at"] = w.admin.execute(f"SELECT to_char(({expr}) AT TIME ZONE 'UTC', "
                                              "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')").fetchone()[0]
        else:
            days = 1 if key.endswith("yesterday") else 0
            props["due_date"] = w.admin.execute(f"SELECT ((now() AT TIME ZONE 'UTC')::date - {days})::text").fetchone()[0]
        ids[key] = w.node("invoice", key, **props)
        w.own(ids[key], acct)
        w.admin.execute("INSERT INTO crm.assertions (assertion_type, subject_node_id, claim) VALUES "
                        "('invoice_status', %s, %s)", (ids[key], Jsonb({"status": "open", "amount_remaining": 100})))
    overdue = {k for k, i in ids.items() if w.admin.execute(
        "SELECT crm_private.invoice_due_at(properties) <= now() FROM crm.nodes WHERE id = %s", (i,)).fetchone()[0]}
    assert overdue == {"due_1min_ago", "date_only_yesterday"}
    live = w.admin.execute("SELECT overdue_invoices, overdue_invoice_amount, open_invoices FROM crm.accounts_360_live "
                           "WHERE account_id = %s", (acct,)).fetchone()
    assert live == (2, 200, 4)
    w.admin.execute("SELECT crm.refresh_read_models()")
    assert w.admin.execute("SELECT overdue_invoices FROM crm.accounts_360 WHERE account_id = %s",
                           (acct,)).fetchone()[0] == 2
    s = w.admin.execute("SELECT crm.get_account_summary(%s)", (acct,)).fetchone()[0]["invoices"]
    assert (s["overdue_count"], float(s["overdue_amount"])) == (2, 200.0)
    assert {x["number"] for x in s["items"] if x["overdue"]} == {"due_1min_ago", "date_only_yesterday"}
    timeline = {r[0] for r in w.admin.execute(
        "SELECT about_label FROM crm.timeline(%s) WHERE event_type = 'invoice_overdue'", (acct,))}
    assert timeline == {"due_1min_ago", "date_only_yesterday"}


# ------------------------------------------------------------- memberships cannot be forged
def test_reassigning_an_account_in_crm360_makes_nobody_a_team_member(db, conn, logins, tmp_path):
    """A writer may re-assign an account they can write (assigned_to is customer data), but team
    membership follows only the OwnerId of the applied Salesforce record: the new assignee does
    not join the account's team, even after the next Salesforce load."""
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    logins.add("bruno", "writer", email="bruno@ourco.example")
    logins.add("carl", "reader", name="Carl Outsider", email=f"carl.{logins.suffix}@ourco.example")
    carl_u = conn.execute("SELECT user_id FROM crm.logins WHERE login_role = %s", (logins.name("carl"),)).fetchone()[0]
    bruno = logins.connect("bruno")
    globex = node(conn, "salesforce", "Account", GLOBEX)
    with bruno.transaction():
        bruno.execute("UPDATE crm.edges SET effective_to = now() WHERE source_id = %s AND edge_type = 'assigned_to' "
                      "AND effective_to IS NULL", (globex,))
        bruno.execute("INSERT INTO crm.edges (edge_type, source_id, target_id, properties) VALUES "
                      "('assigned_to', %s, %s, '{\"role\": \"owner\", \"managed_by\": \"ownership_mapping\"}')",
                      (globex, carl_u))
    assert owner_of(conn, globex) == carl_u                        # the re-assignment itself is allowed
    ingest(db, "salesforce", "Account", write(tmp_path / "initech_touched.csv",
           "Id,Name,Website,BillingCountry,OwnerId,LastModifiedDate,IsDeleted\n"
           f"{INITECH},Initech,initech.example,United States,{BRUNO},2024-06-01T00:00:00Z,false\n"))
    assert memberships(conn, carl_u) == set()
    assert account_names(logins.connect("carl")) == set()


def test_a_crm_user_named_like_an_admin_team_gets_a_team_of_their_own(db, conn, logins, tmp_path):
    """Per-owner teams are the owner's (by Salesforce User Id), never found by name: an owner
    called like an admin's team gets their own team (the name with their id appended), their
    accounts are restricted to it, and they see nothing restricted to the admin's team."""
    team = conn.execute("SELECT crm.create_team('Sales EMEA')").fetchone()[0]
    secret = conn.execute("INSERT INTO crm.nodes (node_type, label, properties, restricted_to) VALUES "
                          "('org', 'EMEA Secret Deal Co', '{\"name\": \"EMEA Secret Deal Co\"}', %s) RETURNING id",
                          ([team],)).fetchone()[0]
    ingest(db, "salesforce", "User", write(tmp_path / "users.csv", "Id,Name,Email,IsActive,LastModifiedDate\n"
           "005000000000EVE,Sales EMEA,eve@ourco.example,true,2024-03-01T09:00:00Z\n"))
    ingest(db, "salesforce", "Account", write(tmp_path / "accounts.csv",
           "Id,Name,Website,BillingCountry,OwnerId,LastModifiedDate,IsDeleted\n"
           "001000000000EVE,Eve Corp,eve.example,Germany,005000000000EVE,2024-03-01T09:00:00Z,false\n"))
    eve_u = node(conn, "salesforce", "User", "005000000000EVE")
    assert memberships(conn, eve_u) == {"Sales EMEA (005000000000EVE)"}
    logins.add("eve", "reader", email="eve@ourco.example")
    eve = logins.connect("eve")
    assert secret not in {r[0] for r in eve.execute("SELECT id FROM crm.nodes")}
    assert account_names(eve) == {"Eve Corp"}
    # the admin's team restricts only what the admin put there
    assert conn.execute("SELECT count(*) FROM crm.nodes WHERE restricted_to @> ARRAY[%s]::uuid[]",
                        (team,)).fetchone()[0] == 1


def test_two_owners_with_the_same_name_get_a_team_each(db, conn, logins, tmp_path):
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    ingest(db, "salesforce", "User", write(tmp_path / "ada2.csv", "Id,Name,Email,IsActive,LastModifiedDate\n"
           "005000000000AA2,Ada Ackerman,ada.two@ourco.example,true,2024-03-02T09:00:00Z\n"))
    ingest(db, "salesforce", "Account", write(tmp_path / "tiny.csv",
           "Id,Name,Website,BillingCountry,OwnerId,LastModifiedDate,IsDeleted\n"
           "001000000000TNY,Tiny Newco,tiny.example,Germany,005000000000AA2,2024-03-02T09:00:00Z,false\n"))
    ada_u, ada2_u = node(conn, "salesforce", "User", ADA), node(conn, "salesforce", "User", "005000000000AA2")
    assert memberships(conn, ada_u) == {"Ada Ackerman"}
    assert memberships(conn, ada2_u) == {"Ada Ackerman (005000000000AA2)"}
    logins.add("ada", "reader", email="ada@ourco.example")
    logins.add("ada2", "reader", email="ada.two@ourco.example")
    assert account_names(logins.connect("ada")) == {"Acme Corp"}
    assert account_names(logins.connect("ada2")) == {"Tiny Newco"}


def test_a_connector_editing_raw_payloads_makes_nobody_a_team_member(db, conn, logins, tmp_path):
    """Who belongs to an owner team comes from the team (its owner's Salesforce User Id) and the
    links reconciliation made, never from a raw payload: a connector rewriting the OwnerId of
    an applied record and then loading anything does not put Bruno into Ada's team."""
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    logins.add("conny", "connector", sources=("salesforce",))
    logins.add("bruno", "reader", email="bruno@ourco.example")
    bruno_before = account_names(logins.connect("bruno"))
    acme = node(conn, "salesforce", "Account", ACME)
    conny = logins.connect("conny")
    record = conn.execute("SELECT last_record_id FROM crm.node_sources WHERE node_id = %s AND source = 'salesforce'",
                          (acme,)).fetchone()[0]
    changed = conny.execute(
        "UPDATE crm_raw.records r SET payload = jsonb_set(r.payload, '{OwnerId}', to_jsonb(%s::text)) "
        "WHERE r.id = %s", (BRUNO, record)).rowcount
    assert changed == 1
    ingest_files(logins.dsn("conny"), "salesforce", "User", [str(write(tmp_path / "u.csv",
                 "Id,Name,Email,IsActive,LastModifiedDate\n"
                 f"{BRUNO},Bruno Bauer,bruno@ourco.example,true,2024-07-01T09:00:00Z\n"))])
    assert memberships(conn, node(conn, "salesforce", "User", BRUNO)) == {"Bruno Bauer"}
    assert account_names(logins.connect("bruno")) == bruno_before and "Acme Corp" not in bruno_before


def test_adopted_user_follows_salesforce_is_active(db, conn, logins, tmp_path):
    """An admin-created user a Salesforce user adopted (same email) keeps the admin's name and
    key, but a deactivation in Salesforce ends the memberships ingestion gave it."""
    done = logins.add("zed", "reader", name="Zed (crm360)", email="zed@ourco.example")
    ingest(db, "salesforce", "Account", write(tmp_path / "zacct.csv",
           "Id,Name,Website,BillingCountry,OwnerId,LastModifiedDate,IsDeleted\n"
           "001000000000ZED,Zed Customer,zed.example,Germany,005000000000ZED,2024-03-01T09:00:00Z,false\n"))
    ingest(db, "salesforce", "User", write(tmp_path / "zed.csv", "Id,Name,Email,IsActive,LastModifiedDate\n"
           "005000000000ZED,Zed Rep,zed@ourco.example,true,2024-03-01T09:00:00Z\n"))
    zed_u = node(conn, "salesforce", "User", "005000000000ZED")
    assert str(zed_u) == done["user_id"]
    zacct = node(conn, "salesforce", "Account", "001000000000ZED")
    assert owner_of(conn, zacct) == zed_u               # the owner arrived after (adopted): still the owner
    zed = logins.connect("zed")
    assert account_names(zed) == {"Zed Customer"}
    ingest(db, "salesforce", "User", write(tmp_path / "zed_off.csv", "Id,Name,Email,IsActive,LastModifiedDate\n"
           "005000000000ZED,Zed Rep,zed@ourco.example,false,2024-04-01T09:00:00Z\n"))
    assert memberships(conn, zed_u) == set()
    assert account_names(zed) == set()
    assert conn.execute("SELECT label FROM crm.nodes WHERE id = %s", (zed_u,)).fetchone()[0] == "Zed (crm360)"


def test_a_rep_does_not_learn_of_a_hidden_look_alike(db, conn, logins, tmp_path):
    """A duplicate pair is shown to a rep only when they can see both accounts: not in
    crm.duplicate_candidates, not in the quality items behind the digest and `crm360 account`."""
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    ingest(db, "salesforce", "Account", write(tmp_path / "lookalike.csv",
           "Id,Name,Website,BillingCountry,OwnerId,LastModifiedDate,IsDeleted\n"
           f"001000000000AC2,ACME Corp.,acme.com,Germany,{BRUNO},2024-03-06T09:00:00Z,false\n"))
    acme, acme2 = node(conn, "salesforce", "Account", ACME), node(conn, "salesforce", "Account", "001000000000AC2")
    q = ("SELECT account_id FROM crm_private.quality_items(NULL, NULL, current_user) "
         "WHERE kind = 'duplicate_candidate'")
    assert {r[0] for r in conn.execute(q)} >= {acme, acme2}          # the pair exists (admin view)
    logins.add("ada", "reader", email="ada@ourco.example")
    ada = logins.connect("ada")
    assert account_names(ada) == {"Acme Corp"}
    assert ada.execute(q).fetchall() == []
    assert ada.execute("SELECT count(*) FROM crm.duplicate_candidates").fetchone()[0] == 0
    digest = ada.execute("SELECT crm.daily_digest()").fetchone()[0]
    teams = digest["teams"]
    assert teams and all(t["new_duplicate_candidates"] == 0 for t in teams), teams
    assert digest["unassigned"]["new_duplicate_candidates"] == 0
    # an admin's digest has the pair
    admin = conn.execute("SELECT crm.daily_digest()").fetchone()[0]
    assert sum(t["new_duplicate_candidates"] for t in admin["teams"]) + \
        admin["unassigned"]["new_duplicate_candidates"] >= 2


def test_a_finished_run_stays_finished(db, conn, logins):
    logins.add("conny", "connector", sources=("salesforce",))
    conny = logins.connect("conny")
    run = conny.execute("SELECT crm_raw.start_run('salesforce', 'Account')").fetchone()[0]
    conny.execute("SELECT crm_raw.finish_run(%s, 'export failed')", (run,))
    with pytest.raises(psycopg.Error) as e:
        conny.execute("SELECT crm_raw.finish_run(%s)", (run,))
    assert e.value.sqlstate == "55000"
    assert conn.execute("SELECT status FROM crm_raw.sync_runs WHERE id = %s", (run,)).fetchone()[0] == "failed"


# ------------------------------------------------------------------ what a writer cannot break
def test_writers_and_connectors_cannot_lock_the_core_tables(db, conn, logins):
    """LOCK TABLE beyond ROW EXCLUSIVE needs a table-wide UPDATE, DELETE or TRUNCATE: nobody but
    crm_owner holds one on the graph or the landing tables, so no login can stall readers,
    reconciliation or refreshes by holding a strong lock in an open transaction."""
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    logins.add("bruno", "writer", email="bruno@ourco.example")
    logins.add("conny", "connector", sources=("salesforce",))
    logins.add("adam", "admin", name="Adam Admin")
    core = ["crm.nodes", "crm.edges", "crm.events", "crm.event_participants", "crm.assertions", "crm.artifacts"]
    raw = ["crm_raw.records", "crm_raw.sync_runs", "crm_raw.cursors"]
    for who, tables in (("bruno", core), ("conny", core + raw), ("adam", core + raw)):
        c = logins.connect(who)
        pid = c.execute("SELECT pg_backend_pid()").fetchone()[0]
        for table in tables:
            for mode in ("SHARE", "EXCLUSIVE", "ACCESS EXCLUSIVE"):
                c.execute("BEGIN")
                try:
                    c.execute(f"LOCK TABLE {table} IN {mode} MODE NOWAIT")
                except psycopg.Error:
                    pass
                held = conn.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND relation = %s::regclass "
                                    "AND mode NOT IN ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock')",
                                    (pid, table)).fetchone()[0]
                c.execute("ROLLBACK")
                assert held == 0, (who, table, mode)
    # what a writer can hold (ROW EXCLUSIVE and row locks, by writing) never stops a refresh
    bruno = logins.connect("bruno")
    with bruno.transaction():
        assert bruno.execute("UPDATE crm.nodes SET label = label WHERE id = %s",
                             (node(conn, "salesforce", "Account", GLOBEX),)).rowcount == 1
        conny = logins.connect("conny")
        conny.execute("SET statement_timeout = '60s'")
        rows = conny.execute("SELECT refreshed FROM crm.refresh_read_models(true)").fetchall()
        assert rows and all(r[0] for r in rows)


def test_absurd_deal_values_never_stop_a_refresh(db, conn, logins, tmp_path):
    """Sums are numeric(38,2) over amounts that each fit numeric(18,2) (larger ones are not
    counted): a writer's huge values on their own deals cannot make every refresh fail."""
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    ingest(db, "salesforce", "Opportunity", write(tmp_path / "og2.csv",
           "Id,AccountId,Name,StageName,Amount,CloseDate,Probability,IsClosed,IsWon,OwnerId,LastModifiedDate,IsDeleted\n"
           f"006000000000OG2,{GLOBEX},Globex Phase 2,Prospecting,1000,2024-10-30,10,false,false,{BRUNO},"
           "2024-03-06T12:00:00.000Z,false\n"))
    logins.add("bruno", "writer", email="bruno@ourco.example")
    logins.add("conny", "connector", sources=("salesforce",))
    conn.execute("INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope) "
                 "VALUES ('Bruno Bauer', 'team', 'assertion', 'read', '{\"assertion_type\": \"deal_value\"}')")
    bruno, conny = logins.connect("bruno"), logins.connect("conny")
    og1, og2 = (node(conn, "salesforce", "Opportunity", x) for x in ("006000000000OG1", "006000000000OG2"))
    globex = node(conn, "salesforce", "Account", GLOBEX)

    def pipeline(view):
        return conn.execute(f"SELECT pipeline_value FROM {view} WHERE account_id = %s", (globex,)).fetchone()[0]

    for opp in (og1, og2):                         # each fits numeric(18,2); their sum does not
        bruno.execute("SELECT crm.set_deal_value(%s, 9000000000000000, 'USD')", (opp,))
    rows = conny.execute("SELECT read_model, refreshed, reason FROM crm.refresh_read_models(true)").fetchall()
    assert all(r[1] for r in rows), rows
    assert pipeline("crm.accounts_360") == pipeline("crm.accounts_360_live") == 18000000000000000
    bruno.execute("SELECT crm.set_deal_value(%s, 1e20, 'USD')", (og1,))
    rows = conny.execute("SELECT read_model, refreshed, reason FROM crm.refresh_read_models(true)").fetchall()
    assert all(r[1] for r in rows), rows
    assert pipeline("crm.accounts_360") == pipeline("crm.accounts_360_live") == 9000000000000000


def test_a_failing_read_model_is_rolled_back_alone(db, conn):
    for source, obj, f in SALESFORCE:
        ingest(db, source, obj, f)
    with conn.transaction(force_rollback=True):
        conn.execute("ALTER TABLE crm_private.view_refreshes ADD CONSTRAINT test_refuse_cd "
                     "CHECK (view_name <> 'crm_private.contacts_directory_mv') NOT VALID")
        before = dict(conn.execute("SELECT view_name, refreshed_at FROM crm_private.view_refreshes").fetchall())
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT read_model, refreshed, as_of, reason FROM crm.refresh_read_models(true)")}
        failed = rows.pop("crm_private.contacts_directory_mv")
        assert failed[0] is False and failed[2].startswith("failed (23514)") and failed[1] == before[
            "crm_private.contacts_directory_mv"]
        assert all(r[0] for r in rows.values()) and len(rows) == 2
        after = dict(conn.execute("SELECT view_name, refreshed_at FROM crm_private.view_refreshes").fetchall())
        assert after["crm_private.contacts_directory_mv"] == before["crm_private.contacts_directory_mv"]
        assert all(after[k] > before[k] for k in rows)
