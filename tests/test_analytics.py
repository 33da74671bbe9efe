"""Analytics views for BI (issue 12, item 5): flat, typed, commented views read by BI tools,
events dated at their source time, the invoice due moment.

The catalog test reads the views the way a BI tool does (SQLAlchemy's inspector over the
test DSN); the content tests ingest small native exports (tests/fixtures, plus files written
here with times relative to now) and read the views as the DBA and as a sales rep (an
ordinary LOGIN role mapped to a CRM user of one team)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from psycopg.conninfo import conninfo_to_dict

from crm360.migrator import sql_dir
from tests.test_ingest import ACME, BASE, GLOBEX, ingest, node

ANALYTICS = ("tickets", "invoices", "contracts", "opportunities", "activities", "opportunities_active",
             "opportunities_active_live", "contacts_directory", "contacts_directory_live")
# money columns (numeric with scale 2) per view
MONEY = {
    "invoices": {"amount_due", "amount_paid", "amount_remaining"},
    "contracts": {"annual_value"},
    "opportunities": {"amount", "expected_amount"},
    "opportunities_active": {"estimated_value", "current_value"},
    "opportunities_active_live": {"estimated_value", "current_value"},
    "accounts_360": {"pipeline_value", "weighted_pipeline_value", "arr", "open_invoice_amount",
                     "overdue_invoice_amount"},
    "accounts_360_live": {"pipeline_value", "weighted_pipeline_value", "arr", "open_invoice_amount",
                          "overdue_invoice_amount"},
}
# jsonb allowed outside _detail views only where it is the object itself: the seed-001 core view
# of claims (typed per claim type in the analytics views)
JSON_BY_DESIGN = {("current_assertions", "claim")}
# Owned by other work of issue 12, checked once it lands (remove the entry at the merge):
# the Account 360 money columns are rounded by migration 0019; crm.duplicate_candidates is
# being rewritten with readable columns.
PENDING = {("money", "accounts_360"), ("money", "accounts_360_live"),
           ("flat", "duplicate_candidates"), ("comment", "duplicate_candidates")}


def _engine(dsn: str) -> sa.Engine:
    p = conninfo_to_dict(dsn)
    url = sa.URL.create("postgresql+psycopg", username=p.get("user"), password=p.get("password"),
                        host=p.get("host"), port=int(p["port"]) if p.get("port") else None, database=p["dbname"])
    return sa.create_engine(url, poolclass=sa.NullPool)


def test_bi_views_are_flat_typed_and_commented(db):
    """Every view in schema crm a BI login lists (SELECT granted to crm_reader): no json/jsonb/
    array column outside the _detail views, every column commented, money numeric(…,2), moments
    timestamptz, dates date, flags boolean; the analytics views give every uuid id as text too."""
    engine = _engine(db)
    try:
        with engine.connect() as c:
            listed = [r[0] for r in c.execute(sa.text("""
                SELECT v.relname FROM pg_class v
                 WHERE v.relnamespace = 'crm'::regnamespace AND v.relkind IN ('v', 'm')
                   AND has_table_privilege('crm_reader', v.oid, 'SELECT') ORDER BY 1"""))]
        insp = sa.inspect(engine)
        assert set(ANALYTICS) <= set(listed)
        assert {"tickets_detail", "invoices_detail", "contracts_detail", "opportunities_detail",
                "activities_detail", "contacts_directory_detail"} <= set(listed)
        problems, n_cols = [], 0
        for view in listed:
            cols = insp.get_columns(view, schema="crm")
            n_cols += len(cols)
            names = {c["name"] for c in cols}
            for col in cols:
                name, typ = col["name"], col["type"]
                where = f"crm.{view}.{name}"
                if not (col.get("comment") or "").strip() and ("comment", view) not in PENDING:
                    problems.append(f"{where}: no comment")
                if (isinstance(typ, sa.JSON | sa.ARRAY) and not view.endswith("_detail")
                        and (view, name) not in JSON_BY_DESIGN and ("flat", view) not in PENDING):
                    problems.append(f"{where}: {typ} in a flat view")
                if name in MONEY.get(view, ()) and ("money", view) not in PENDING and not (
                        isinstance(typ, sa.Numeric) and typ.scale == 2):
                    problems.append(f"{where}: money as {typ}, not numeric(…,2)")
                if view in ANALYTICS:
                    if name.endswith("_at") and not (isinstance(typ, sa.DateTime) and typ.timezone):
                        problems.append(f"{where}: a moment as {typ}")
                    if name.endswith("_date") and not isinstance(typ, sa.Date):
                        problems.append(f"{where}: a date as {typ}")
                    if name.startswith("is_") and not isinstance(typ, sa.Boolean):
                        problems.append(f"{where}: a flag as {typ}")
                    if isinstance(typ, sa.Uuid) and f"{name}_text" not in names:
                        problems.append(f"{where}: uuid without {name}_text")
        assert problems == []
        assert n_cols > 300
    finally:
        engine.dispose()


def test_detail_views_keep_the_json(loaded):
    c = loaded
    t = node(c, "zendesk", "tickets", "9001")
    props, claim, tags = c.execute("SELECT properties, status_claim, tags FROM crm.tickets_detail WHERE ticket_id = %s",
                                   (t,)).fetchone()
    assert props["subject"] == "Login fails after upgrade" and claim == {"status": "open", "priority": "high"}
    assert tags == ["login", "upgrade"]
    inv = node(c, "stripe", "invoices", "INV-0001")
    assert c.execute("SELECT properties ->> 'due_at' FROM crm.invoices_detail WHERE invoice_id = %s",
                     (inv,)).fetchone()[0] == "2024-04-01T00:00:00Z"
    opp = node(c, "salesforce", "Opportunity", "006000000000OA1")
    assert c.execute("SELECT value_claim ->> 'amount' FROM crm.opportunities_detail WHERE opportunity_id = %s",
                     (opp,)).fetchone()[0] == "50000"
    parts = c.execute("SELECT participants FROM crm.activities_detail d JOIN crm.activities a USING (event_id) "
                      "WHERE a.event_type = 'meeting'").fetchone()[0]
    assert {p["role"] for p in parts} >= {"account", "attendee", "subject", "owner"}


# ---------------------------------------------------------------- contents, as the DBA

@pytest.fixture
def loaded(db, conn):
    for source, obj, f in BASE:
        ingest(db, source, obj, f)
    return conn


def one(conn, sql, params=None) -> dict:
    cur = conn.execute(sql, params)
    rows = cur.fetchall()
    assert len(rows) == 1, rows
    return dict(zip([d.name for d in cur.description], rows[0], strict=True))


def utc(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def test_views_show_the_ingested_fixtures(loaded):
    c = loaded
    acme = node(c, "salesforce", "Account", ACME)
    t = one(c, "SELECT * FROM crm.tickets WHERE external_id = '9001'")
    assert (t["subject"], t["status"], t["priority"], t["ticket_type"], t["tags"]) == \
        ("Login fails after upgrade", "open", "high", "incident", "login, upgrade")
    assert t["is_open"] and t["is_high_priority"] and t["source"] == "zendesk"
    assert t["opened_at"] == utc("2024-03-06T09:00:00Z")
    assert (t["account_id"], t["account_id_text"], t["account_name"], t["account_crm_id"]) == \
        (acme, str(acme), "Acme Corp", ACME)
    assert t["requester_email"] == "jane.doe@acme.com" and t["ticket_id_text"] == str(t["ticket_id"])

    i = one(c, "SELECT * FROM crm.invoices WHERE number = 'INV-0001'")
    assert (i["status"], i["currency"], i["amount_due"], i["amount_paid"], i["amount_remaining"]) == \
        ("open", "EUR", Decimal("1200.00"), Decimal("0.00"), Decimal("1200.00"))
    assert str(i["amount_due"]) == "1200.00"                      # scale 2, not 1200.0000000000000000
    assert i["due_at"] == dt.datetime.fromtimestamp(1711929600, dt.UTC) and i["due_date"] == dt.date(2024, 4, 1)
    assert i["is_open"] and i["is_overdue"] and i["days_overdue"] > 300
    assert i["issued_at"] == dt.datetime.fromtimestamp(1709251200, dt.UTC) and i["account_id"] == acme
    assert one(c, "SELECT is_overdue, days_overdue FROM crm.invoices WHERE number = 'INV-0002'") == \
        {"is_overdue": False, "days_overdue": None}               # paid

    k = one(c, "SELECT * FROM crm.contracts WHERE external_id = 'C-1001'")
    assert (k["status"], k["is_active"], k["annual_value"], k["currency"], k["auto_renew"]) == \
        ("active", True, Decimal("48000.00"), "EUR", True)
    assert (k["effective_date"], k["end_date"], k["account_id"]) == (dt.date(2024, 1, 1), dt.date(2024, 12, 31), acme)
    assert k["is_in_term"] is (k["end_date"] >= dt.date.today())

    o = one(c, "SELECT * FROM crm.opportunities WHERE external_id = '006000000000OA1'")
    assert (o["stage"], o["amount"], o["currency"], o["probability"], o["expected_amount"]) == \
        ("negotiation_review", Decimal("50000.00"), "USD", Decimal("0.7000"), Decimal("35000.00"))
    assert (o["close_date"], o["is_closed"], o["is_won"], o["is_active"]) == (dt.date(2024, 6, 30), False, False, True)
    assert (o["owner_name"], o["owner_email"], o["account_id"]) == ("Ada Ackerman", "ada@ourco.example", acme)

    m = one(c, "SELECT * FROM crm.activities WHERE event_type = 'meeting'")
    assert (m["source"], m["channel"], m["summary"], m["account_id"], m["about_type"], m["user_name"]) == \
        ("salesforce", "meeting", "Renewal kick-off", acme, "opportunity", "Ada Ackerman")
    assert m["occurred_at"] == utc("2024-03-07T14:00:00Z") and m["is_touch"]
    # no audit events; every ticket_opened has its account
    assert c.execute("SELECT count(*) FROM crm.activities WHERE event_group IN ('access', 'system')").fetchone()[0] == 0
    assert c.execute("SELECT count(*), count(account_id) FROM crm.activities WHERE event_type = 'ticket_opened'"
                     ).fetchone() == (2, 2)

    # the stored list of active opportunities = the live one = the active rows of crm.opportunities
    c.execute("SELECT crm.refresh_crm_views()")
    cols = ("node_id, label, code, name, estimated_value, teams, stage, pipeline, stage_since, current_value, "
            "win_probability, primary_contact_name, primary_contact_id, assigned_to_name, assigned_to_id, created_at, "
            "node_id_text, account_id, account_id_text, account_name, close_date, currency, "
            "primary_contact_id_text, assigned_to_email, assigned_to_id_text")
    stored = c.execute(f"SELECT {cols} FROM crm.opportunities_active ORDER BY node_id").fetchall()
    assert stored == c.execute(f"SELECT {cols} FROM crm.opportunities_active_live ORDER BY node_id").fetchall()
    assert [(r[0], r[17], r[20], r[9]) for r in stored] == c.execute(
        "SELECT opportunity_id, account_id, close_date, amount FROM crm.opportunities WHERE is_active "
        "ORDER BY opportunity_id").fetchall()
    assert len(stored) == 2 and all(r[17] is not None and r[20] is not None for r in stored)


# ---------------------------------------------------------------- event times, due moment

def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def _zd(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_ticket_opened_dated_at_created_at_and_both_routes_agree(db, conn, tmp_path):
    """Tickets per account in the last 30 days: crm.tickets.opened_at and the ticket_opened
    rows of crm.activities give the same answer (before issue 12 the event carried the
    ticket's updated_at: a ticket opened 40 days ago and updated yesterday counted as new)."""
    for source, obj, f in BASE[:2] + BASE[6:8]:
        ingest(db, source, obj, f)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    d = dt.timedelta(days=1)
    tickets = [  # (id, org, created, updated)
        (7001, 361, now - 40 * d, now - 1 * d),      # old ticket, touched yesterday: not opened recently
        (7002, 361, now - 10 * d, now - 1 * d),
        (7003, 361, now - 5 * d, now - 5 * d),
        (7004, 362, now - 45 * d, now - 2 * d),
        (7005, 362, now - 3 * d, now - 2 * d),
    ]
    doc = {"tickets": [{"id": i, "subject": f"T{i}", "description": "x", "status": "open", "priority": "normal",
                        "type": "question", "requester_id": None, "organization_id": org, "tags": [],
                        "created_at": _zd(cr), "updated_at": _zd(up)} for i, org, cr, up in tickets],
           "end_of_stream": True}
    ingest(db, "zendesk", "tickets", _write(tmp_path / "tickets.json", json.dumps(doc)))
    ev = dict(conn.execute("SELECT t.external_id, a.occurred_at FROM crm.activities a "
                           "JOIN crm.tickets t ON t.ticket_id = a.about_id WHERE a.event_type = 'ticket_opened'"
                           ).fetchall())
    assert ev == {str(i): cr for i, _o, cr, _u in tickets}          # at created_at, not updated_at
    by_tickets = dict(conn.execute("SELECT account_name, count(*) FROM crm.tickets "
                                   "WHERE opened_at >= now() - interval '30 days' GROUP BY 1").fetchall())
    by_events = dict(conn.execute("SELECT account_name, count(*) FROM crm.activities WHERE event_type = 'ticket_opened' "
                                  "AND occurred_at >= now() - interval '30 days' GROUP BY 1").fetchall())
    assert by_tickets == by_events == {"Acme Corp": 2, "Globex": 1}


def test_invoice_overdue_at_the_due_moment(db, conn, tmp_path):
    """Stripe's due_date is a moment: stored as properties.due_at (ISO 8601 UTC); an open
    invoice is overdue once it has passed — due a minute ago: overdue; in a minute: not."""
    ingest(db, "salesforce", "Account", "salesforce/Account.csv")
    ingest(db, "stripe", "customers", "stripe/customers.ndjson")
    now = int(dt.datetime.now(dt.UTC).timestamp())
    inv = [{"id": f"in_{n}", "object": "invoice", "number": n, "customer": "cus_A1", "status": "open",
            "amount_due": 1050, "amount_paid": 0, "amount_remaining": 1050, "currency": "usd",
            "created": now - 86400 * 30, "due_date": due, "metadata": {}}
           for n, due in (("DUE-PAST", now - 60), ("DUE-SOON", now + 60))]
    inv.append({"id": "in_paid", "object": "invoice", "number": "PAID-1", "customer": "cus_A1", "status": "paid",
                "amount_due": 500, "amount_paid": 500, "amount_remaining": 0, "currency": "usd",
                "created": now - 86400 * 20, "due_date": now - 86400 * 5, "metadata": {},
                "status_transitions": {"finalized_at": now - 86400 * 19, "paid_at": now - 86400 * 7,
                                       "voided_at": None}})
    ingest(db, "stripe", "invoices", _write(tmp_path / "inv.json", json.dumps({"object": "list", "data": inv})))
    rows = {r[0]: r[1:] for r in conn.execute(
        "SELECT number, is_open, is_overdue, days_overdue, due_at, due_date, amount_remaining FROM crm.invoices")}
    at = {n: dt.datetime.fromtimestamp(d, dt.UTC) for n, d in (("DUE-PAST", now - 60), ("DUE-SOON", now + 60))}
    assert rows["DUE-PAST"] == (True, True, 0, at["DUE-PAST"], at["DUE-PAST"].date(), Decimal("10.50"))
    assert rows["DUE-SOON"] == (True, False, None, at["DUE-SOON"], at["DUE-SOON"].date(), Decimal("10.50"))
    assert rows["PAID-1"][:3] == (False, False, None)
    due_at = conn.execute("SELECT properties ->> 'due_at' FROM crm.nodes WHERE node_type = 'invoice' "
                          "AND properties ->> 'number' = 'DUE-PAST'").fetchone()[0]
    assert due_at == at["DUE-PAST"].strftime("%Y-%m-%dT%H:%M:%SZ")
    # the invoice's events at Stripe's transition times
    ev = dict(conn.execute("SELECT a.event_type, a.occurred_at FROM crm.activities a "
                           "JOIN crm.invoices i ON i.invoice_id = a.about_id WHERE i.number = 'PAID-1'").fetchall())
    assert ev == {"invoice_paid": dt.datetime.fromtimestamp(now - 86400 * 7, dt.UTC)}
    issued = conn.execute("SELECT a.occurred_at FROM crm.activities a JOIN crm.invoices i ON i.invoice_id = a.about_id "
                          "WHERE i.number = 'DUE-PAST' AND a.event_type = 'invoice_issued'").fetchone()[0]
    assert issued == dt.datetime.fromtimestamp(now - 86400 * 30, dt.UTC)      # created (no status_transitions)


def test_opportunity_and_contract_events_at_their_source_time(db, conn, tmp_path):
    ingest(db, "salesforce", "User", "salesforce/User.csv")
    ingest(db, "salesforce", "Account", "salesforce/Account.csv")
    ingest(db, "salesforce", "Opportunity", _write(tmp_path / "opp.csv",
           "Id,AccountId,Name,StageName,Amount,CloseDate,Probability,IsClosed,IsWon,OwnerId,CreatedDate,"
           "LastModifiedDate,IsDeleted\n"
           "006000000000NEW,001000000000ACM,Acme New,Prospecting,1000,2024-09-30,10,false,false,005000000000AAA,"
           "2024-01-15T08:30:00.000Z,2024-03-05T12:00:00.000Z,false\n"
           "006000000000OLD,001000000000ACM,Acme Old,Closed Won,2000,2024-02-01,100,true,true,005000000000AAA,,"
           "2024-03-05T12:00:00.000Z,false\n"))
    ingest(db, "clm", "contracts", _write(tmp_path / "contracts.csv",
           "contract_id,title,account_id,counterparty_name,counterparty_domain,status,effective_date,end_date,"
           "annual_value,currency,auto_renew,updated_at,signed_at\n"
           "K-1,Signed,001000000000ACM,Acme,acme.com,active,2024-02-01,2025-01-31,100,eur,false,"
           "2024-01-20T08:00:00Z,2024-01-10T15:00:00Z\n"
           "K-2,Effective,001000000000ACM,Acme,acme.com,active,2024-01-01,2024-12-31,100,eur,false,"
           "2024-01-02T08:00:00Z,\n"
           "K-3,Ahead,001000000000ACM,Acme,acme.com,active,2024-06-01,2025-05-31,100,eur,false,"
           "2024-03-01T08:00:00Z,\n"
           "K-4,Ended,001000000000ACM,Acme,acme.com,expired,2023-01-01,2023-12-31,100,eur,false,"
           "2024-02-10T08:00:00Z,\n"))
    ev = {(r[0], r[1]): r[2] for r in conn.execute(
        "SELECT coalesce(o.external_id, k.external_id), a.event_type, a.occurred_at FROM crm.activities a "
        "LEFT JOIN crm.opportunities o ON o.opportunity_id = a.about_id "
        "LEFT JOIN crm.contracts k ON k.contract_id = a.about_id")}
    assert ev[("006000000000NEW", "opportunity_created")] == utc("2024-01-15T08:30:00Z")      # CreatedDate
    assert ev[("006000000000OLD", "opportunity_created")] == utc("2024-03-05T12:00:00Z")      # none: modified
    assert ev[("K-1", "contract_signed")] == utc("2024-01-10T15:00:00Z")                      # signed_at
    assert ev[("K-2", "contract_signed")] == utc("2024-01-01T00:00:00Z")                      # effective_date
    assert ev[("K-3", "contract_signed")] == utc("2024-03-01T08:00:00Z")                      # signed by then
    assert ev[("K-4", "contract_expired")] == utc("2024-01-01T00:00:00Z")                     # end of end_date
    created = dict(conn.execute("SELECT external_id, created_at FROM crm.opportunities").fetchall())
    assert created["006000000000NEW"] == utc("2024-01-15T08:30:00Z")
    assert one(conn, "SELECT is_closed, is_won, is_active FROM crm.opportunities WHERE external_id = '006000000000OLD'"
               ) == {"is_closed": True, "is_won": True, "is_active": False}


def test_migration_0020_corrects_existing_data_from_the_raw_records(loaded):
    """Data ingested before 0020: events at the record's modification time, invoices without
    due_at. Re-running 0020 (safe to run twice) corrects them from crm_raw.records."""
    c = loaded
    c.execute("""UPDATE crm.events e SET occurred_at = e.occurred_at + interval '5 days'
                  WHERE e.event_type IN ('ticket_opened', 'contract_signed', 'invoice_issued')""")
    c.execute("UPDATE crm.nodes SET properties = properties - 'due_at' WHERE node_type = 'invoice'")
    before = dict(c.execute("SELECT external_id, occurred_at FROM crm.events WHERE event_type = 'ticket_opened'"
                            ).fetchall())
    with psycopg.connect(c.info.dsn) as tx:       # a migration runs in one transaction
        tx.execute((sql_dir() / "0020_analytics.sql").read_text())
    after = dict(c.execute("SELECT t.external_id, a.occurred_at FROM crm.activities a "
                           "JOIN crm.tickets t ON t.ticket_id = a.about_id WHERE a.event_type = 'ticket_opened'"
                           ).fetchall())
    assert after == {"9001": utc("2024-03-06T09:00:00Z"), "9002": utc("2024-03-06T10:00:00Z")}
    assert all(v - dt.timedelta(days=5) in after.values() for v in before.values())
    due = dict(c.execute("SELECT number, due_at FROM crm.invoices").fetchall())
    assert due["INV-0001"] == utc("2024-04-01T00:00:00Z") and None not in due.values()
    assert c.execute("SELECT count(*) FROM crm.nodes WHERE node_type = 'invoice' AND archived_at IS NULL "
                     "AND properties ->> 'due_at' = '2024-04-01T00:00:00Z'").fetchone()[0] == len(due)
    signed = c.execute("SELECT a.occurred_at FROM crm.activities a JOIN crm.contracts k ON k.contract_id = a.about_id "
                       "WHERE k.external_id = 'C-1001' AND a.event_type = 'contract_signed'").fetchone()[0]
    assert signed == utc("2024-01-01T00:00:00Z")
    # an event whose raw record says nothing about the time keeps the time it has
    ev_id, rec = c.execute("SELECT id, split_part(external_id, '/', 2)::bigint FROM crm.events "
                           "WHERE event_type = 'ticket_opened' ORDER BY external_id LIMIT 1").fetchone()
    c.execute("UPDATE crm.events SET occurred_at = '2020-01-01Z' WHERE id = %s", (ev_id,))
    c.execute("UPDATE crm_raw.records SET payload = payload - 'created_at' WHERE id = %s", (rec,))
    with psycopg.connect(c.info.dsn) as tx:
        tx.execute((sql_dir() / "0020_analytics.sql").read_text())
    assert c.execute("SELECT occurred_at FROM crm.events WHERE id = %s", (ev_id,)).fetchone()[0] == \
        utc("2020-01-01T00:00:00Z")


# ---------------------------------------------------------------- as a sales rep

VIEWS_BY_ACCOUNT = ("tickets", "invoices", "contracts", "opportunities", "activities", "opportunities_active")


def test_rep_sees_only_their_rows_and_amounts_only_with_a_grant(world, db):
    w = world
    for source, obj, f in BASE:
        ingest(db, source, obj, f)
    w.admin.execute("SELECT crm.refresh_crm_views()")
    w.login("ada", "crm_reader")
    w.admin.execute("SELECT crm.add_user_to_team(%s, crm.team_id('Ada Ackerman'))", (w.users["ada"],))
    ada = w.connect("ada")
    acme, globex = node(w.admin, "salesforce", "Account", ACME), node(w.admin, "salesforce", "Account", GLOBEX)
    key = {"tickets": "ticket_id", "invoices": "invoice_id", "contracts": "contract_id",
           "opportunities": "opportunity_id", "activities": "event_id", "opportunities_active": "node_id"}
    for view in VIEWS_BY_ACCOUNT:
        mine = ada.execute(f"SELECT {key[view]}, account_id FROM crm.{view}").fetchall()
        admin_acme = {r[0] for r in w.admin.execute(f"SELECT {key[view]} FROM crm.{view} WHERE account_id = %s",
                                                    (acme,))}
        assert admin_acme, view                                   # the fixture has Acme rows in every view
        assert {r[0] for r in mine} == admin_acme, view           # exactly Acme's rows
        assert {r[1] for r in mine} == {acme}, view
        # and only rows of nodes ada can read in the base table
        visible = {r[0] for r in ada.execute("SELECT id FROM crm.nodes")} if view != "activities" else \
            {r[0] for r in ada.execute("SELECT id FROM crm.events")}
        assert {r[0] for r in mine} <= visible, view
    assert globex not in {r[0] for r in ada.execute("SELECT account_id FROM crm.activities")}
    assert ada.execute("SELECT count(*) FROM crm.tickets_detail").fetchone()[0] == \
        ada.execute("SELECT count(*) FROM crm.tickets").fetchone()[0] > 0

    # an admin login acting for ada (crm360 account --as, pooled services) sees exactly what ada
    # sees; not acting, it sees every row (as the DBA does)
    w.login("ops", "crm_admin", "crm_service")
    ops = w.connect("ops", autocommit=False)
    for view in VIEWS_BY_ACCOUNT:
        q = f"SELECT {key[view]}, account_id FROM crm.{view}"
        with ops.transaction():
            ops.execute("SET LOCAL ROLE crm_service")
            ops.execute("SELECT crm.act_as(%s)", (w.users["ada"],))
            acting = set(ops.execute(q).fetchall())
        assert acting == set(ada.execute(q).fetchall()), view
        with ops.transaction():
            assert set(ops.execute(q).fetchall()) == set(w.admin.execute(q).fetchall()), view

    # deal values are sensitive: NULL for ada, everywhere, until her team holds a deal_value grant
    amounts = ("SELECT o.amount, o.currency, o.expected_amount, d.value_claim, a.current_value, a.currency "
               "FROM crm.opportunities o JOIN crm.opportunities_detail d USING (opportunity_id) "
               "LEFT JOIN crm.opportunities_active a ON a.node_id = o.opportunity_id")
    rows = ada.execute(amounts).fetchall()
    assert rows and all(v is None for r in rows for v in r)
    assert all(r[0] is not None for r in w.admin.execute(amounts).fetchall())
    w.admin.execute("""INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope)
                       VALUES ('Ada Ackerman', 'team', 'assertion', 'read', '{"assertion_type": "deal_value"}')""")
    rows = ada.execute("SELECT o.opportunity_id, o.amount, o.currency FROM crm.opportunities o").fetchall()
    assert {(r[1], r[2]) for r in rows} == {(Decimal("50000.00"), "USD")}

    # a rep of another team sees none of Acme's
    w.login("bruno", "crm_reader")
    w.admin.execute("SELECT crm.add_user_to_team(%s, crm.team_id('Bruno Bauer'))", (w.users["bruno"],))
    bruno = w.connect("bruno")
    for view in VIEWS_BY_ACCOUNT:
        assert acme not in {r[0] for r in bruno.execute(f"SELECT account_id FROM crm.{view}")}, view
    assert bruno.execute("SELECT count(*) FROM crm.tickets WHERE account_id = %s", (globex,)).fetchone()[0] == 1
