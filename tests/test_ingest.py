"""Ingestion (issue 5): connectors land raw rows, crm.reconcile applies them to the graph.

Fixtures in tests/fixtures/<source>/ are small hand-made exports in each system's shape.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from crm360.cli import cli
from crm360.connectors import ingest_files
from crm360.db import CrmError

FIX = Path(__file__).resolve().parent / "fixtures"

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


def ingest(db, source, obj, *files, **kw):
    return ingest_files(db, source, obj, [str(FIX / f) if not str(f).startswith("/") and f != "-" else str(f)
                                          for f in files], **kw)


@pytest.fixture
def loaded(db, conn):
    for source, obj, f in BASE:
        ingest(db, source, obj, f)
    return conn


def node(conn, source, obj, external_id):
    return conn.execute("SELECT node_id FROM crm.node_sources WHERE source = %s AND object = %s AND external_id = %s",
                        (source, obj, external_id)).fetchone()[0]


def account_of(conn, node_id):
    rows = conn.execute("SELECT target_id FROM crm.edges WHERE source_id = %s AND edge_type = 'owned_by' "
                        "AND archived_at IS NULL AND effective_to IS NULL", (node_id,)).fetchall()
    assert len(rows) == 1, rows                            # exactly one owned_by
    return rows[0][0]


def current(conn, node_id, assertion_type):
    row = conn.execute("SELECT claim FROM crm.current_assertions WHERE subject_node_id = %s AND assertion_type = %s",
                       (node_id, assertion_type)).fetchone()
    return row[0] if row else None


def counts(conn):
    return conn.execute("""SELECT (SELECT count(*) FROM crm.nodes), (SELECT count(*) FROM crm.edges),
                                  (SELECT count(*) FROM crm.assertions), (SELECT count(*) FROM crm.events),
                                  (SELECT count(*) FROM crm.event_participants), (SELECT count(*) FROM crm.artifacts),
                                  (SELECT count(*) FROM crm_raw.records), (SELECT count(*) FROM crm.node_sources)""").fetchone()


def orphan_keys(conn):
    return {(r[0], r[1]) for r in conn.execute("SELECT source, external_id FROM crm.orphans").fetchall()}


ACME, GLOBEX, INITECH = "001000000000ACM", "001000000000GLX", "001000000000INI"


def test_cross_system_matching_by_crm_id_and_by_domain(loaded):
    c = loaded
    acme, globex = node(c, "salesforce", "Account", ACME), node(c, "salesforce", "Account", GLOBEX)
    assert node(c, "zendesk", "organizations", "361") == acme             # external_id = Account Id
    assert node(c, "zendesk", "organizations", "362") == globex           # domain_names
    assert account_of(c, node(c, "zendesk", "tickets", "9001")) == acme
    assert account_of(c, node(c, "zendesk", "tickets", "9002")) == globex
    assert account_of(c, node(c, "clm", "contracts", "C-1001")) == acme   # CLM account_id
    assert account_of(c, node(c, "clm", "contracts", "C-1002")) == globex  # counterparty_domain
    assert account_of(c, node(c, "stripe", "invoices", "INV-0001")) == acme   # customer metadata
    assert account_of(c, node(c, "stripe", "invoices", "INV-0002")) == globex  # customer email domain
    assert account_of(c, node(c, "salesforce", "Opportunity", "006000000000OA1")) == acme
    by = dict(c.execute("SELECT external_id, match ->> 'by' FROM crm_raw.records WHERE source = 'zendesk' "
                        "AND object = 'organizations' AND status = 'applied'").fetchall())
    assert by["361"] == "crm_id" and by["362"] == "domain"
    # tickets are filed by their requester; the opportunity is assigned to its owner
    jane = node(c, "salesforce", "Contact", "003000000000JD1")
    assert c.execute("SELECT count(*) FROM crm.edges WHERE edge_type = 'filed' AND source_id = %s AND target_id = %s",
                     (jane, node(c, "zendesk", "tickets", "9001"))).fetchone()[0] == 1
    ada = node(c, "salesforce", "User", "005000000000AAA")
    assert c.execute("SELECT properties ->> 'role' FROM crm.edges WHERE edge_type = 'assigned_to' AND source_id = %s "
                     "AND target_id = %s", (node(c, "salesforce", "Opportunity", "006000000000OA1"), ada)).fetchone()[0] == "owner"


def test_contract_shapes_of_nodes_assertions_and_events(loaded):
    c = loaded
    acme = node(c, "salesforce", "Account", ACME)
    props = c.execute("SELECT properties FROM crm.nodes WHERE id = %s", (acme,)).fetchone()[0]
    assert props["domain"] == "acme.com" and props["annual_revenue"] == 5000000 and props["country"] == "Germany"
    opp = node(c, "salesforce", "Opportunity", "006000000000OA1")
    p = c.execute("SELECT properties FROM crm.nodes WHERE id = %s", (opp,)).fetchone()[0]
    assert p["code"].startswith("OPP-") and p["close_date"] == "2024-06-30"
    assert current(c, opp, "deal_stage") == {"stage": "negotiation_review", "pipeline": "PL-SFDC"}
    assert current(c, opp, "win_probability") == {"probability": 0.7}
    inv = node(c, "stripe", "invoices", "INV-0001")
    ip = c.execute("SELECT properties FROM crm.nodes WHERE id = %s", (inv,)).fetchone()[0]
    assert ip["amount_due"] == 1200 and ip["currency"] == "EUR" and ip["due_date"] == "2024-04-01"
    assert current(c, inv, "invoice_status") == {"status": "open", "amount_remaining": 1200}
    # meeting with its participants, and every child event has the account as participant
    roles = dict(c.execute("""SELECT p.role, p.node_id FROM crm.events e JOIN crm.event_participants p ON p.event_id = e.id
                               WHERE e.external_source = 'salesforce' AND e.external_id = '00U000000000EV1'""").fetchall())
    assert roles == {"account": acme, "subject": opp, "attendee": node(c, "salesforce", "Contact", "003000000000JD1"),
                     "owner": node(c, "salesforce", "User", "005000000000AAA")}
    assert c.execute("""SELECT count(*) FROM crm.events e WHERE e.event_type IN ('ticket_opened', 'invoice_issued',
                         'opportunity_created', 'ticket_comment', 'contract_signed') AND NOT EXISTS (
                         SELECT 1 FROM crm.event_participants p WHERE p.event_id = e.id AND p.role = 'account')""").fetchone()[0] == 0
    body = c.execute("""SELECT a.body FROM crm.artifacts a JOIN crm.events e ON e.id = a.event_id
                         WHERE e.external_id = '70002' AND a.artifact_type = 'ticket_comment'""").fetchone()[0]
    assert "rolled back" in body
    # comments took ticket_id from the file name (the Zendesk comments endpoint omits it)
    assert c.execute("SELECT payload ->> 'ticket_id' FROM crm_raw.records WHERE object = 'ticket_comments' LIMIT 1").fetchone()[0] == "9001"


def test_free_mail_domains_never_match(loaded, db, tmp_path):
    c = loaded
    orphans = {r[0]: r[1] for r in c.execute("SELECT external_id, reason FROM crm.orphans").fetchall()}
    for key in ("C-1006", "cus_F1", "5003"):
        assert "free-mail domain gmail.com ignored" in orphans[key]
    # even an account whose website is gmail.com does not attract them
    ingest(db, "salesforce", "Account", str(_write(tmp_path / "gmail_account.csv",
        "Id,Name,Website,OwnerId,LastModifiedDate,IsDeleted\n001000000000GML,Gmail Fans,gmail.com,,2024-03-05T10:00:00Z,false\n")))
    assert {"C-1006", "cus_F1", "5003"} <= {k for _, k in orphan_keys(c)}


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_orphans_listed_then_resolved_when_the_crm_account_arrives(loaded, db):
    c = loaded
    assert {("clm", "C-1003"), ("stripe", "cus_N1"), ("zendesk", "363"), ("zendesk", "9003")} <= orphan_keys(c)
    row = c.execute("SELECT account_id, detected_at, evidence FROM crm.orphans WHERE external_id = 'C-1003'").fetchone()
    assert row[0] is None and row[1] is not None and row[2]["match"]["crm_id"] == "001000000000NEW"
    assert c.execute("SELECT count(*) FROM crm.node_sources WHERE external_id = 'C-1003'").fetchone()[0] == 0
    ingest(db, "salesforce", "Account", "salesforce/Account_late.csv")        # also retries orphans
    newco = node(c, "salesforce", "Account", "001000000000NEW")
    assert account_of(c, node(c, "clm", "contracts", "C-1003")) == newco
    assert account_of(c, node(c, "stripe", "customers", "cus_N1")) == newco
    left = orphan_keys(c)
    assert ("clm", "C-1003") not in left and ("stripe", "cus_N1") not in left
    assert ("zendesk", "9003") in left                                          # still unresolvable
    # crm.reconcile_orphans is idempotent
    before = counts(c)
    c.execute("SELECT * FROM crm.reconcile_orphans()").fetchall()
    assert counts(c) == before


def test_duplicates_and_identity_drift_are_listed(loaded, db, tmp_path):
    c = loaded
    # "Globex" (globex.com) and "Globex, Inc." (globex-corp.example): the same name apart from the
    # legal form, but two different websites — two companies, not a candidate (issue 12; the
    # rules and the planted duplicates are tested in tests/test_quality.py)
    dups = c.execute("SELECT account_name, other_name, kind FROM crm.duplicate_candidates").fetchall()
    assert dups == []
    c.execute("UPDATE crm.nodes SET properties = properties - 'domain' - 'website' WHERE external_id = '001000000000GL2'")
    dups = c.execute("SELECT account_name, other_name, kind, reasons FROM crm.duplicate_candidates").fetchall()
    assert [tuple(sorted(d[:2])) + (d[2],) for d in dups] == [("Globex", "Globex, Inc.", "similar_name")]
    assert dups[0][3] == "names differ only by legal form (none vs inc); only one has a domain (globex.com)" or \
        dups[0][3] == "names differ only by legal form (inc vs none); only one has a domain (globex.com)"
    mism = c.execute("SELECT account_id, kind, source, evidence FROM crm.identity_mismatches").fetchall()
    initech, acme = node(c, "salesforce", "Account", INITECH), node(c, "salesforce", "Account", ACME)
    assert [(m[0], m[1], m[2]) for m in mism] == [(initech, "crm_id_vs_domain", "zendesk")]   # the CRM id wins
    assert mism[0][3]["domain_account_id"] == str(acme)
    # drift: organization 362 is re-pointed to Initech in a later sync
    f = tmp_path / "orgs_v2.json"
    f.write_text(json.dumps({"organizations": [{"id": 362, "name": "Globex Support", "external_id": INITECH,
                                                "domain_names": ["globex.com"], "updated_at": "2024-03-09T10:00:00Z"}]}))
    ingest(db, "zendesk", "organizations", str(f))
    kinds = set(c.execute("SELECT external_id, kind FROM crm.identity_mismatches").fetchall())
    assert ("362", "account_changed") in kinds and ("362", "crm_id_vs_domain") in kinds
    assert node(c, "zendesk", "organizations", "362") == initech


def test_one_person_per_normalized_email_across_systems(loaded, db, tmp_path):
    c = loaded
    jane = node(c, "salesforce", "Contact", "003000000000JD1")             # Jane.Doe@Acme.com
    assert node(c, "zendesk", "users", "5001") == jane                      # jane.doe@acme.com
    assert node(c, "stripe", "customers", "cus_A1") == jane                 # JANE.DOE@ACME.COM
    assert c.execute("SELECT count(*) FROM crm.nodes WHERE node_type = 'person' AND properties ->> 'email' = 'jane.doe@acme.com'").fetchone()[0] == 1
    assert current(c, jane, "contact_info") == {"email": "jane.doe@acme.com", "phone": "+49 30 1234567"}
    # a person with several emails stays one person, with a channel per email
    f = tmp_path / "Contact_v2.csv"
    f.write_text("Id,AccountId,FirstName,LastName,Email,LastModifiedDate,IsDeleted\n"
                 "003000000000JD1,001000000000ACM,Jane,Doe,jane@acme-mail.com,2024-03-10T10:00:00Z,false\n")
    ingest(db, "salesforce", "Contact", str(f))
    assert node(c, "salesforce", "Contact", "003000000000JD1") == jane
    chans = {r[0] for r in c.execute("""SELECT ch.external_id FROM crm.edges e JOIN crm.nodes ch ON ch.id = e.target_id
                                         WHERE e.source_id = %s AND e.edge_type = 'has_channel'""", (jane,)).fetchall()}
    assert {"email:jane.doe@acme.com", "email:jane@acme-mail.com"} <= chans
    g = tmp_path / "cust2.ndjson"
    g.write_text('{"id": "cus_A9", "email": "Jane@Acme-Mail.com", "name": "J. Doe", "metadata": {}, "created": 1704067200}\n')
    ingest(db, "stripe", "customers", str(g), full_refresh=False)
    assert node(c, "stripe", "customers", "cus_A9") == jane


def test_replaying_the_same_files_changes_nothing(loaded, db):
    c = loaded
    before = counts(c)
    events = c.execute("SELECT max(recorded_at) FROM crm.events").fetchone()[0]
    # no record version is rewritten by a replay (issue 16: a replay writes only its run) — a
    # full refresh (CLM contracts, Stripe invoices) included: it lists what it delivered in
    # crm_raw.run_deliveries instead of marking the records
    versions = "SELECT r.id, r.xmin::text, r.last_seen_run_id FROM crm_raw.records r ORDER BY r.id"
    kept = c.execute(versions).fetchall()
    full = c.execute("SELECT count(*) FROM crm_raw.records WHERE (source, object) IN "
                     "(('clm', 'contracts'), ('stripe', 'invoices'))").fetchone()[0]
    summaries = [ingest(db, source, obj, f) for source, obj, f in BASE]
    assert c.execute(versions).fetchall() == kept and kept and full > 0
    assert all(s["landed"] == 0 and s["unchanged"] == s["received"] for s in summaries)
    assert sum(s["applied"] for s in summaries) > 0            # what it re-delivered, as before
    assert counts(c) == before
    assert c.execute("SELECT count(*) FROM crm.events WHERE recorded_at > %s", (events,)).fetchone()[0] == 0
    assert c.execute("SELECT count(*) FROM crm_raw.records WHERE status = 'pending'").fetchone()[0] == 0


def test_a_full_refresh_replayed_lists_what_it_delivered_and_still_removes_and_restores(loaded, db):
    c = loaded
    inv5 = node(c, "stripe", "invoices", "INV-0005")
    delivered = ("SELECT count(*) FROM crm_raw.run_records WHERE run_id = %s")
    listed = ("SELECT count(*), count(DISTINCT d.run_id) FROM crm_raw.run_deliveries d "
              "JOIN crm_raw.sync_runs s ON s.id = d.run_id WHERE s.source = 'stripe' AND s.object = 'invoices'")
    first = ingest(db, "stripe", "invoices", "stripe/invoices.json")
    second = ingest(db, "stripe", "invoices", "stripe/invoices.json")
    # each replay delivered every record of the file again (same summary as the first load);
    # the lists of runs older than the latest finished good full run are pruned (a reconcile
    # runs before its own run finishes: the previous run's list stays until the next one)
    assert first["landed"] == second["landed"] == 0
    assert (first["applied"], first["rejected"], first["status"]) == (second["applied"], second["rejected"], second["status"])
    assert c.execute(delivered, (second["run_id"],)).fetchone()[0] == second["received"] > 0
    assert c.execute(listed).fetchone() == (2 * second["received"], 2)
    # the next day's export lacks INV-0005: removed at source; the day after it is back: restored
    ingest(db, "stripe", "invoices", "stripe/invoices_next_day.json")
    assert c.execute("SELECT archived_at IS NOT NULL FROM crm.nodes WHERE id = %s", (inv5,)).fetchone()[0]
    back = ingest(db, "stripe", "invoices", "stripe/invoices.json")
    assert back["landed"] == 0
    assert c.execute("SELECT archived_at FROM crm.nodes WHERE id = %s", (inv5,)).fetchone()[0] is None
    assert c.execute(delivered, (first["run_id"],)).fetchone()[0] == 0
    assert c.execute(listed).fetchone()[1] == 2


def test_a_failed_full_refresh_leaves_the_last_good_one_deciding(loaded, db):
    """Review of 0035 (F3): a truncated export that lands, is reconciled and only then fails
    must not leave the good run before it without its list: once the bad run failed, the good
    one decides removals again and what it delivered is restored."""
    c = loaded
    inv5 = node(c, "stripe", "invoices", "INV-0005")
    ingest(db, "stripe", "invoices", "stripe/invoices.json")            # a good full run
    with psycopg.connect(db) as b:
        run = b.execute("SELECT crm_raw.start_run('stripe', 'invoices', true)").fetchone()[0]
        b.execute("CREATE TEMP TABLE crm_stage (ord bigint, payload text, error text) ON COMMIT DROP")
        rows = json.loads((FIX / "stripe/invoices_next_day.json").read_text())["data"]
        with b.cursor().copy("COPY pg_temp.crm_stage (ord, payload) FROM STDIN") as cp:
            for i, r in enumerate(rows):
                cp.write_row((i, json.dumps(r)))
        b.execute("SELECT * FROM crm_raw.land_staged(%s)", (run,))
    with psycopg.connect(db) as r:
        r.execute("SELECT * FROM crm.reconcile('stripe')")
    assert c.execute("SELECT archived_at IS NOT NULL FROM crm.nodes WHERE id = %s", (inv5,)).fetchone()[0]
    with psycopg.connect(db) as f:
        assert f.execute("SELECT crm_raw.finish_run(%s, 'truncated export')", (run,)).fetchone()[0]["status"] == "failed"
    with psycopg.connect(db) as r:
        r.execute("SELECT * FROM crm.reconcile('stripe')")
    assert c.execute("SELECT archived_at FROM crm.nodes WHERE id = %s", (inv5,)).fetchone()[0] is None


def test_newer_exports_change_current_state_and_keep_history(loaded, db):
    c = loaded
    ticket = node(c, "zendesk", "tickets", "9001")
    ingest(db, "zendesk", "tickets", "zendesk/tickets_solved.json")
    assert current(c, ticket, "ticket_status")["status"] == "solved"
    hist = [r[0] for r in c.execute("SELECT claim ->> 'status' FROM crm.assertions WHERE subject_node_id = %s "
                                    "AND assertion_type = 'ticket_status' ORDER BY asserted_at, superseded_at NULLS LAST", (ticket,))]
    assert hist == ["open", "solved"]
    assert c.execute("SELECT count(*) FROM crm.events e JOIN crm.event_participants p ON p.event_id = e.id "
                     "WHERE e.event_type = 'ticket_solved' AND p.node_id = %s", (ticket,)).fetchone()[0] == 1
    assert c.execute("SELECT cursor_value FROM crm_raw.cursors WHERE source = 'zendesk' AND object = 'tickets'").fetchone()[0] == "MTcwOTkxOTAwMC4wfHw5MDAx"

    opp = node(c, "salesforce", "Opportunity", "006000000000OA1")
    code = c.execute("SELECT properties ->> 'code' FROM crm.nodes WHERE id = %s", (opp,)).fetchone()[0]
    ingest(db, "salesforce", "Opportunity", "salesforce/Opportunity_won.csv")
    assert current(c, opp, "deal_stage")["stage"] == "closed_won"
    assert current(c, opp, "deal_value") == {"amount": 55000, "currency": "USD"}
    assert c.execute("SELECT properties ->> 'code' FROM crm.nodes WHERE id = %s", (opp,)).fetchone()[0] == code
    assert c.execute("SELECT properties FROM crm.events WHERE event_type = 'stage_change'").fetchone()[0]["to_stage"] == "closed_won"

    # Stripe full refresh: INV-0001 paid, INV-0005 missing -> archived (removed at source), history kept
    inv1, inv5 = node(c, "stripe", "invoices", "INV-0001"), node(c, "stripe", "invoices", "INV-0005")
    ingest(db, "stripe", "invoices", "stripe/invoices_next_day.json")
    assert current(c, inv1, "invoice_status")["status"] == "paid"
    assert c.execute("SELECT count(*) FROM crm.assertions WHERE subject_node_id = %s", (inv1,)).fetchone()[0] == 2
    arch = c.execute("SELECT archived_at IS NOT NULL, attrs ? 'removed_at_source' FROM crm.nodes WHERE id = %s", (inv5,)).fetchone()
    assert arch == (True, True)
    assert c.execute("SELECT count(*) FROM crm.nodes WHERE id = %s", (inv5,)).fetchone()[0] == 1   # never deleted

    # CLM full refresh: C-1002 missing -> archived with status removed; C-1001 end_date later -> renewed
    c1, c2 = node(c, "clm", "contracts", "C-1001"), node(c, "clm", "contracts", "C-1002")
    ingest(db, "clm", "contracts", "clm/contracts_next_day.csv")
    assert current(c, c2, "contract_status")["status"] == "removed"
    assert c.execute("SELECT archived_at IS NOT NULL FROM crm.nodes WHERE id = %s", (c2,)).fetchone()[0]
    assert current(c, c1, "contract_status") == {"status": "active", "annual_value": 52000}
    assert c.execute("SELECT count(*) FROM crm.events WHERE event_type = 'contract_renewed'").fetchone()[0] == 1
    # delivered again the next day: restored
    ingest(db, "clm", "contracts", "clm/contracts.csv")
    assert c.execute("SELECT archived_at FROM crm.nodes WHERE id = %s", (c2,)).fetchone()[0] is None
    assert current(c, c2, "contract_status")["status"] == "draft"


def test_deleted_at_source_is_archived_not_deleted(loaded, db, tmp_path):
    c = loaded
    opp = node(c, "salesforce", "Opportunity", "006000000000OG1")
    f = tmp_path / "opp_del.csv"
    f.write_text("Id,AccountId,Name,StageName,LastModifiedDate,IsDeleted\n"
                 "006000000000OG1,001000000000GLX,Globex Expansion,Prospecting,2024-04-01T00:00:00Z,true\n")
    ingest(db, "salesforce", "Opportunity", str(f))
    assert c.execute("SELECT archived_at IS NOT NULL FROM crm.nodes WHERE id = %s", (opp,)).fetchone()[0]
    assert c.execute("SELECT count(*) FROM crm.events e JOIN crm.event_participants p ON p.event_id = e.id "
                     "WHERE e.event_type = 'node_archived' AND p.node_id = %s", (opp,)).fetchone()[0] == 1


def test_bad_rows_are_rejected_with_reasons_and_the_rest_applied(loaded):
    c = loaded
    reasons = dict(c.execute("SELECT coalesce(external_id, payload ->> '_line'), reason FROM crm_raw.records "
                             "WHERE status = 'rejected'").fetchall())
    assert reasons["C-1004"] == 'unparseable date in effective_date: "not-a-date"'
    assert reasons["6"].startswith("malformed CSV line 6")
    assert reasons["INV-0003"] == 'unparseable integer in amount_due: "lots"'
    assert "missing key number" in reasons.values()
    assert node(c, "clm", "contracts", "C-1001") and node(c, "stripe", "invoices", "INV-0001")
    run = c.execute("SELECT status, rejected FROM crm_raw.sync_runs WHERE object = 'contracts'").fetchone()
    assert run == ("partial", 2)


def test_wrong_json_types_and_malformed_lines_are_rejected(db, conn, tmp_path):
    f = tmp_path / "cust.ndjson"
    f.write_text('{"id": "cus_1", "email": "a@b.example", "metadata": "oops"}\n'
                 '[1, 2]\n'
                 '{"id": "cus_2", "email": "x@y.example"\n'
                 '{"id": {"nested": true}}\n'
                 '{"id": "cus_3", "email": "ok@acme.com", "metadata": {}}\n')
    s = ingest(db, "stripe", "customers", str(f), full_refresh=False)
    assert s["rejected"] == 4 and s["status"] == "partial"
    reasons = {r[0] for r in conn.execute("SELECT reason FROM crm_raw.records WHERE status = 'rejected'")}
    assert reasons == {"wrong JSON type in metadata: string, expected an object",
                       "wrong JSON type: a record must be an object, got array",
                       "malformed JSON", "wrong JSON type in key id: object"}


def test_cli_exit_codes_json_summary_gz_and_stdin(db, conn, tmp_path):
    runner = CliRunner()
    r = runner.invoke(cli, ["ingest", "salesforce", "Account", str(FIX / "salesforce/Account.csv"), "--dsn", db, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["applied"] == 4
    r = runner.invoke(cli, ["ingest", "clm", "contracts", str(FIX / "clm/contracts.csv"), "--dsn", db])
    assert r.exit_code == 3, r.output                                       # rejected records
    assert "rejected" in r.output
    r = runner.invoke(cli, ["ingest", "clm", "contracts", str(tmp_path / "missing.csv"), "--dsn", db])
    assert r.exit_code == 2 and "missing.csv" in r.output          # a usage error: no run recorded
    bad = tmp_path / "broken.json"
    bad.write_text('{"tickets": [{"id": 1, "subject": "x"}, {"id": 2,')
    r = runner.invoke(cli, ["ingest", "zendesk", "tickets", str(bad), "--dsn", db])
    assert r.exit_code == 1 and "CR040" in r.output
    failed = conn.execute("SELECT status, error FROM crm_raw.sync_runs WHERE object = 'tickets'").fetchone()
    assert failed[0] == "failed" and "broken.json" in failed[1]
    assert conn.execute("SELECT count(*) FROM crm_raw.records WHERE object = 'tickets'").fetchone()[0] == 0
    r = runner.invoke(cli, ["ingest", "nosuch", "thing", str(bad), "--dsn", db])
    assert r.exit_code == 1 and "CR042" in r.output
    # gzip, and stdin (gzip detected by its magic bytes there too)
    gz = tmp_path / "customers.ndjson.gz"
    gz.write_bytes(gzip.compress((FIX / "stripe/customers.ndjson").read_bytes()))
    r = runner.invoke(cli, ["ingest", "stripe", "customers", str(gz), "--dsn", db, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["received"] == 4
    r = runner.invoke(cli, ["ingest", "salesforce", "Contact", "-", "--dsn", db, "--json"],
                      input=gzip.compress((FIX / "salesforce/Contact.csv").read_bytes()))
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["applied"] == 3
    r = runner.invoke(cli, ["reconcile", "--dsn", db, "--json"])
    assert r.exit_code == 0, r.output


def test_merge_moves_everything_and_old_ids_keep_working(loaded, db, tmp_path):
    c = loaded
    keep, drop = node(c, "salesforce", "Account", "001000000000GL2"), node(c, "salesforce", "Account", GLOBEX)
    ticket, opp = node(c, "zendesk", "tickets", "9002"), node(c, "salesforce", "Opportunity", "006000000000OG1")
    drop_events = c.execute("SELECT count(*) FROM crm.event_participants WHERE node_id = %s", (drop,)).fetchone()[0]
    assert drop_events > 0
    assert c.execute("SELECT crm.merge_nodes(%s, %s, 'same company')", (keep, drop)).fetchone()[0] is True
    assert account_of(c, ticket) == keep and account_of(c, opp) == keep
    assert c.execute("SELECT count(*) FROM crm.event_participants p JOIN crm.events e ON e.id = p.event_id "
                     "WHERE p.node_id = %s AND e.event_type <> 'nodes_merged'", (drop,)).fetchone()[0] == 0
    assert c.execute("SELECT count(*) FROM crm.event_participants WHERE node_id = %s", (keep,)).fetchone()[0] >= drop_events
    assert node(c, "salesforce", "Account", GLOBEX) == keep                 # source links moved
    assert node(c, "zendesk", "organizations", "362") == keep
    assert c.execute("SELECT crm.resolve_node_id(%s)", (drop,)).fetchone()[0] == keep
    assert c.execute("SELECT archived_at IS NOT NULL FROM crm.nodes WHERE id = %s", (drop,)).fetchone()[0]
    assert c.execute("SELECT count(*) FROM crm.events WHERE event_type = 'nodes_merged'").fetchone()[0] == 1
    assert c.execute("SELECT crm.merge_nodes(%s, %s)", (keep, drop)).fetchone()[0] is False   # idempotent
    # a later sync of the dropped record lands on the keeper, no new account appears
    orgs = c.execute("SELECT count(*) FROM crm.nodes WHERE node_type = 'org'").fetchone()[0]
    ingest(db, "salesforce", "Account", str(_write(tmp_path / "glx.csv",
           "Id,Name,Website,OwnerId,LastModifiedDate,IsDeleted\n001000000000GLX,Globex,globex.com,005000000000BBB,2024-05-01T00:00:00Z,false\n")))
    assert c.execute("SELECT count(*) FROM crm.nodes WHERE node_type = 'org'").fetchone()[0] == orgs
    with pytest.raises(psycopg.Error) as e:
        c.execute("SELECT crm.merge_nodes(%s, %s)", (keep, ticket))
    assert e.value.sqlstate == "22023"


def test_merge_and_reconcile_are_for_connectors_and_admins(world, db):
    w = world
    w.login("rita", "crm_reader")
    w.login("conny", "crm_connector", user=False)
    rita = w.connect("rita")
    for sql in ("SELECT * FROM crm.reconcile()", "SELECT crm.merge_nodes(gen_random_uuid(), gen_random_uuid())",
                "SELECT count(*) FROM crm_raw.records", "SELECT count(*) FROM crm.orphans"):
        with pytest.raises(psycopg.Error) as e:
            rita.execute(sql)
        assert e.value.sqlstate == "42501", sql
    # a connector login lands and reconciles through the API (COPY into a temp table, then SQL)
    # — once an admin has allowed it the source (connectors are denied every source by default)
    dsn = psycopg.conninfo.make_conninfo(db, user=w.role_name("conny"), password="crm360-test")
    with pytest.raises(psycopg.Error) as e:
        ingest(dsn, "salesforce", "Account", "salesforce/Account.csv")
    assert w.admin.execute("SELECT count(*) FROM crm_raw.records").fetchone()[0] == 0
    w.admin.execute("SELECT crm.allow_source(%s, 'salesforce')", (w.role_name("conny"),))
    s = ingest(dsn, "salesforce", "Account", "salesforce/Account.csv")
    assert s["applied"] == 4
    assert w.connect("conny").execute("SELECT count(*) FROM crm.orphans").fetchone()[0] == 0


@pytest.mark.parametrize("mode", ["per_owner", "per_region"])
def test_accounts_restricted_at_ingestion_children_inherit(world, db, mode, tmp_path):
    w = world
    if mode == "per_region":
        w.admin.execute("UPDATE crm_raw.ownership_mapping SET mode = 'per_region'")
        w.admin.execute("INSERT INTO crm_raw.region_teams VALUES ('germany', 'DACH'), ('united states', 'Americas')")
        acme_team, other_team = "DACH", "Americas"
    else:
        acme_team, other_team = "Ada Ackerman", "Bruno Bauer"
    for source, obj, f in BASE[:4] + BASE[6:9]:
        ingest(db, source, obj, f)
    w.login("ada", "crm_reader")
    w.login("bruno", "crm_reader")
    w.admin.execute("SELECT crm.add_user_to_team(%s, crm.team_id(%s))", (w.users["ada"], acme_team))
    w.admin.execute("SELECT crm.add_user_to_team(%s, crm.team_id(%s))", (w.users["bruno"], other_team))
    c = w.admin
    acme = node(c, "salesforce", "Account", ACME)
    children = {node(c, "zendesk", "tickets", "9001"), node(c, "salesforce", "Opportunity", "006000000000OA1"),
                node(c, "salesforce", "Contact", "003000000000JD1")}
    ada, bruno = w.connect("ada"), w.connect("bruno")
    seen_ada = {r[0] for r in ada.execute("SELECT id FROM crm.nodes")}
    seen_bruno = {r[0] for r in bruno.execute("SELECT id FROM crm.nodes")}
    assert acme in seen_ada and children <= seen_ada
    assert acme not in seen_bruno and not (children & seen_bruno)
    assert node(c, "salesforce", "Account", GLOBEX) in seen_bruno
    assert bruno.execute("SELECT count(*) FROM crm.current_assertions WHERE subject_node_id = ANY(%s)",
                         (list(children),)).fetchone()[0] == 0
    # ownership moves with the CRM: Acme handed to Bruno's team
    if mode == "per_owner":
        ingest(db, "salesforce", "Account", str(_write(tmp_path / "acme_moved.csv",
               "Id,Name,Website,BillingCountry,OwnerId,LastModifiedDate,IsDeleted\n"
               "001000000000ACM,Acme Corp,acme.com,Germany,005000000000BBB,2024-04-01T00:00:00Z,false\n")))
        assert acme in {r[0] for r in bruno.execute("SELECT id FROM crm.nodes")}
        assert node(c, "zendesk", "tickets", "9001") in {r[0] for r in bruno.execute("SELECT id FROM crm.nodes")}
        assert acme not in {r[0] for r in ada.execute("SELECT id FROM crm.nodes")}


def test_purge_removes_ingested_personal_data_everywhere(loaded, db):
    from crm360 import server as embedded

    c = loaded
    jane = node(c, "salesforce", "Contact", "003000000000JD1")
    assert c.execute("SELECT crm.purge_node(%s, 'GDPR request 7')", (jane,)).fetchone()[0] >= 1
    dump = subprocess.run([str(embedded.bin_dir() / "pg_dump"), "--data-only", "-d", db],
                          check=True, capture_output=True, text=True).stdout
    for value in ("jane.doe@acme.com", "Jane.Doe@Acme.com", "JANE.DOE@ACME.COM", "30 1234567", "Jane Doe"):
        assert value.lower() not in dump.lower(), value
    assert c.execute("SELECT count(*) FROM crm.node_sources WHERE node_id = %s", (jane,)).fetchone()[0] == 0
    assert c.execute("SELECT count(*) FROM crm_raw.records WHERE external_id IN ('003000000000JD1', '5001', 'cus_A1')").fetchone()[0] == 0
    # the rest of the account is intact
    assert node(c, "stripe", "invoices", "INV-0001")


def test_landing_is_set_based_and_idempotent_for_elt_rows(db, conn):
    """An ELT tool writes crm_raw.records directly (status pending); the same SQL reconciles."""
    conn.execute("""INSERT INTO crm_raw.records (source, object, external_id, payload, source_updated_at)
                    VALUES ('salesforce', 'Account', '001000000000ELT',
                            '{"Id": "001000000000ELT", "Name": "Elt Corp", "Website": "elt.example"}', now()),
                           ('salesforce', 'Account', NULL, '{"Name": "No key"}', now())""")
    rows = conn.execute("SELECT * FROM crm.reconcile('salesforce')").fetchall()
    assert rows[0][:5] == ("salesforce", "Account", 1, 0, 0)
    assert conn.execute("SELECT reason FROM crm_raw.records WHERE external_id IS NULL").fetchone()[0] == "missing key Id"
    with pytest.raises(psycopg.Error) as e:
        conn.execute("SELECT * FROM crm.reconcile('nosuch')")
    assert e.value.sqlstate == "22023"
    with pytest.raises(CrmError) as e2:
        ingest_files(db, "salesforce", "Account", [])
    assert e2.value.sqlstate == "22023"


# The parse + COPY path of the connector (crm360.connectors._land_file without the final
# set-based landing statement, which runs in the server): memory must not grow with the file.
STREAM_SCRIPT = r"""
import json, sys
import psycopg
from crm360.connectors import STAGE_DDL
from crm360.connectors.formats import FileContext, read_records
path, dsn = sys.argv[1], sys.argv[2]
n = 0
with psycopg.connect(dsn) as conn:
    conn.execute(STAGE_DDL)
    with conn.cursor() as cur, cur.copy("COPY pg_temp.crm_stage (ord, payload, error) FROM STDIN") as cp:
        for payload, error in read_records(path, "stripe", "customers", FileContext("big")):
            n += 1
            cp.write_row((n, payload, error))
    staged = conn.execute("SELECT count(*) FROM pg_temp.crm_stage").fetchone()[0]
# VmHWM: this process's own peak (ru_maxrss of a child also counts the parent's RSS at fork:
# Linux keeps it across exec, so a big pytest process would be measured instead)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"received": n, "staged": staged, "maxrss_kb": hwm}))
"""


@pytest.mark.slow
def test_streaming_a_million_lines_keeps_memory_flat(db, tmp_path):
    """Flat: the client's own peak memory (VmHWM) for 1,000,000 lines is within 64 MB of its
    peak for 100,000 lines (a parser or COPY that held the file would add hundreds of MB), and
    under 300 MB."""
    import sys

    def peak(n: int) -> int:
        path = tmp_path / f"big{n}.ndjson.gz"
        with gzip.open(path, "wt", compresslevel=1) as f:
            for i in range(n):
                f.write(f'{{"id":"cus_{i}","email":"u{i}@c{i % 997}.example","metadata":{{}}}}\n')
        r = subprocess.run([sys.executable, "-c", STREAM_SCRIPT, str(path), db], capture_output=True, text=True,
                           cwd=Path(__file__).resolve().parent.parent)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout.strip().splitlines()[-1])
        assert out["received"] == n and out["staged"] == n
        return out["maxrss_kb"]

    small, big = peak(100_000), peak(1_000_000)
    assert big - small < 64 * 1024, (small, big)
    assert big < 300 * 1024, (small, big)


# The denormalised ACL copies must be what the triggers and crm_private.refresh_event_acl
# would have written: reconciliation writes them itself in bulk mode (row triggers skipped).
ACL_INVARIANTS = {
    "node acl = restriction or inherited from owned_by parents": """
        SELECT count(*) FROM crm.nodes n JOIN crm.node_types t ON t.node_type = n.node_type
         WHERE n.acl IS DISTINCT FROM CASE
               WHEN NOT t.access_checked THEN NULL
               ELSE crm_private.acl_norm(CASE WHEN cardinality(n.restricted_to) > 0 THEN n.restricted_to ELSE
                        (SELECT array_agg(x) FROM crm.edges e JOIN crm.nodes p ON p.id = e.target_id,
                                unnest(p.acl) x
                          WHERE e.source_id = n.id AND e.edge_type = 'owned_by'
                            AND e.archived_at IS NULL AND e.effective_to IS NULL) END, n.claimed_by) END""",
    "edge endpoint copies": """
        SELECT count(*) FROM crm.edges e JOIN crm.nodes s ON s.id = e.source_id JOIN crm.nodes g ON g.id = e.target_id
         WHERE e.source_acl IS DISTINCT FROM s.acl OR e.target_acl IS DISTINCT FROM g.acl""",
    "assertion copies": """
        SELECT count(*) FROM crm.assertions a JOIN crm.nodes n ON n.id = a.subject_node_id
          JOIN crm.assertion_types t ON t.assertion_type = a.assertion_type
         WHERE a.acl IS DISTINCT FROM n.acl OR a.sensitive <> t.sensitive""",
    "event acl = union of participants' acl": """
        SELECT count(*) FROM crm.events e
         WHERE e.acl IS DISTINCT FROM crm_private.acl_norm(
               (SELECT array_agg(x) FROM crm.event_participants p, unnest(p.acl) x WHERE p.event_id = e.id))""",
    "participant copies": """
        SELECT count(*) FROM crm.event_participants p JOIN crm.nodes n ON n.id = p.node_id
          JOIN crm.events e ON e.id = p.event_id
         WHERE p.acl IS DISTINCT FROM n.acl OR p.event_acl IS DISTINCT FROM e.acl""",
    "event artifact copies": """
        SELECT count(*) FROM crm.artifacts a JOIN crm.events e ON e.id = a.event_id
         WHERE a.node_id IS NULL AND a.acl IS DISTINCT FROM e.acl""",
    "temporal edges have effective_from": """
        SELECT count(*) FROM crm.edges e JOIN crm.edge_types t USING (edge_type)
         WHERE t.temporal AND e.effective_from IS NULL""",
}


def assert_acl_invariants(conn):
    broken = {name: n for name, q in ACL_INVARIANTS.items() if (n := conn.execute(q).fetchone()[0])}
    assert not broken, broken


def test_bulk_reconciliation_writes_the_acl_copies_the_triggers_would(world, db, tmp_path):
    w = world
    w.admin.execute("UPDATE crm_raw.ownership_mapping SET mode = 'per_owner'")
    for source, obj, f in BASE:
        ingest(db, source, obj, f)
    c = w.admin
    assert c.execute("SELECT count(*) FROM crm.events").fetchone()[0] > 5
    assert c.execute("SELECT count(*) FROM crm.nodes WHERE cardinality(acl) > 0").fetchone()[0] > 10
    # people's channels are written with their acl (not recomputed afterwards): covered here
    assert c.execute("SELECT count(*) FROM crm.nodes WHERE node_type = 'channel' AND cardinality(acl) > 0"
                     ).fetchone()[0] > 3
    assert_acl_invariants(c)
    # re-parenting through a newer export and moving an account to another team keep them exact
    ingest(db, "salesforce", "Account", str(_write(tmp_path / "acme_moved.csv",
           "Id,Name,Website,BillingCountry,OwnerId,LastModifiedDate,IsDeleted\n"
           "001000000000ACM,Acme Corp,acme.com,Germany,005000000000BBB,2024-04-01T00:00:00Z,false\n")))
    assert_acl_invariants(c)
    # the setting is off again after the reconciliation: an ordinary write is validated as usual
    with pytest.raises(psycopg.Error) as e:
        c.execute("INSERT INTO crm.nodes (node_type, properties) VALUES ('org', '{}')")
    assert e.value.sqlstate == "CR011"


def test_bulk_mode_cannot_be_switched_on_by_callers(world, db):
    """Setting crm.bulk_apply yourself switches nothing off: the per-row validation runs for
    every statement that is not crm360's own (current_user crm_owner inside rc_apply), and
    every SECURITY DEFINER function pins the setting off. Decided from the rows written."""
    w = world
    w.login("adam", "crm_admin")
    w.team("Sales")
    w.login("sam", "crm_writer")
    w.join("sam", "Sales")
    adam = w.connect("adam")
    adam.execute("SET crm.bulk_apply = 'on'")
    with pytest.raises(psycopg.Error) as e:   # a required property is still required
        adam.execute("INSERT INTO crm.nodes (node_type, label, properties) VALUES ('org', 'No name', '{}')")
    assert e.value.sqlstate == "CR011"
    sam = w.connect("sam")
    sam.execute("SET crm.bulk_apply = 'on'")
    sneaky = sam.execute("INSERT INTO crm.nodes (node_type, label, properties, acl, claimed_by) "
                         "VALUES ('org', 'Sneaky', '{\"name\": \"Sneaky\"}', '{}', NULL) RETURNING id").fetchone()[0]
    # the trigger ran: the writer owns what they created, the acl is computed, not taken
    acl, claimed = w.admin.execute("SELECT acl, claimed_by FROM crm.nodes WHERE id = %s", (sneaky,)).fetchone()
    assert claimed == w.users["sam"] and acl == [w.users["sam"]]
    # inside a SECURITY DEFINER function the caller's setting is pinned off
    sam.execute("SELECT crm.archive_node(%s, 'gone')", (sneaky,))
    assert w.admin.execute("SELECT about FROM crm.events WHERE event_type = 'node_archived' "
                           "AND properties ->> 'reason' = 'gone'").fetchone()[0] == [sneaky]
    # and the superuser's own statements are validated too
    w.admin.execute("SET crm.bulk_apply = 'on'")
    try:
        with pytest.raises(psycopg.Error) as e:
            w.admin.execute("INSERT INTO crm.nodes (node_type, label, properties) VALUES ('team', 'x', '{}')")
        assert e.value.sqlstate == "CR011"
    finally:
        w.admin.execute("RESET crm.bulk_apply")
    assert w.admin.execute("SELECT count(*) FROM crm.nodes WHERE label IN ('No name', 'x')").fetchone()[0] == 0


def test_a_claim_the_registry_refuses_rejects_its_record_not_the_batch(db, conn):
    """The registry is data: when it refuses a claim the mapping produced (here: 'new' tickets
    no longer allowed), reconciliation rejects that record with the reason and applies the rest."""
    conn.execute("""UPDATE crm.assertion_types SET claim_rule = '$.status like_regex "^(open|pending|solved|closed)$"'
                     WHERE assertion_type = 'ticket_status'""")
    for source, obj, f in BASE[:4] + BASE[6:9]:
        ingest(db, source, obj, f)
    rows = conn.execute("SELECT status, reason FROM crm_raw.records WHERE source = 'zendesk' AND object = 'tickets' "
                        "ORDER BY status").fetchall()
    assert [r[0] for r in rows] == ["applied", "orphan", "rejected"], rows      # the orphan is the fixture's
    assert "invalid ticket_status claim" in rows[2][1] and "violates" in rows[2][1]
    assert conn.execute("SELECT count(*) FROM crm.nodes WHERE node_type = 'ticket'").fetchone()[0] == 1


def test_load_statistics_are_refreshed_at_doubling_points_within_one_transaction(conn):
    """crm_private.rc_refresh_stats inside one long transaction (a whole ELT load reconciled by
    one crm.reconcile): a growing table is analysed when its changes since the last ANALYZE
    exceed its size (pg_class.reltuples, which the transaction's own ANALYZE sets), not every
    1,000 rows; and an ANALYZE it ran is seen by its next call (the activity statistics are
    cached per transaction by default: before, both made it re-analyse on every call)."""
    def land(n, start):
        conn.execute("INSERT INTO crm_raw.records (source, object, external_id, payload) "
                     "SELECT 'salesforce', 'Account', 'st' || i, jsonb_build_object('i', i) "
                     "FROM generate_series(%s::int, %s::int) AS i", (start, start + n - 1))

    def refresh():
        return conn.execute("SELECT crm_private.rc_refresh_stats()").fetchone()[0]

    # committed rows, not analysed yet: the first call analyses, the second one does not
    land(1500, 1)
    for _ in range(50):   # the committed inserts reach the shared activity statistics
        conn.execute("SELECT pg_stat_force_next_flush()")
        if conn.execute("SELECT n_mod_since_analyze FROM pg_stat_user_tables "
                        "WHERE relid = 'crm_raw.records'::regclass").fetchone()[0] >= 1500:
            break
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT n_live_tup FROM pg_stat_user_tables")   # caches the statistics
        assert refresh() == ["crm_raw.records"]
        assert refresh() == []
        # 1,400 of this transaction's own rows on 1,500: less than the size, not analysed
        land(1400, 10001)
        assert refresh() == []
        # 200 more: 1,600 changes since the ANALYZE, more than its 1,500 rows
        land(200, 20001)
        assert refresh() == ["crm_raw.records"]
        assert refresh() == []
        reltuples = conn.execute("SELECT reltuples FROM pg_class WHERE oid = 'crm_raw.records'::regclass").fetchone()[0]
        assert reltuples == 3100


def _primary_contacts(conn, opp):
    return [r[0] for r in conn.execute(
        "SELECT target_id FROM crm.edges WHERE source_id = %s AND edge_type = 'primary_contact' "
        "AND archived_at IS NULL AND effective_to IS NULL", (opp,)).fetchall()]


OPP_HEAD = "Id,AccountId,Name,StageName,Amount,CloseDate,Probability,IsClosed,IsWon,OwnerId,ContactId,LastModifiedDate,IsDeleted\n"


def test_an_opportunitys_contact_id_is_its_primary_contact(loaded, db, tmp_path):
    """Salesforce ContactId (the primary contact role) becomes the primary_contact edge: set,
    replaced when it changes, ended when the export has it empty, and linked when the Contact
    arrives after the Opportunity; crm.opportunities_active shows the contact."""
    c = loaded
    opp = node(c, "salesforce", "Opportunity", "006000000000OA1")
    assert _primary_contacts(c, opp) == []                 # the base export has no ContactId column
    row = "006000000000OA1,001000000000ACM,Acme Renewal 2024,Negotiation/Review,50000,2024-06-30,70,false,false,005000000000AAA,{},{},false\n"
    ingest(db, "salesforce", "Opportunity", str(_write(tmp_path / "o1.csv", OPP_HEAD + row.format("003000000000JD1", "2024-03-06T12:00:00.000Z"))))
    jane, smith = node(c, "salesforce", "Contact", "003000000000JD1"), node(c, "salesforce", "Contact", "003000000000JS2")
    assert _primary_contacts(c, opp) == [jane]
    c.execute("SELECT * FROM crm.refresh_read_models(p_all => true)")
    assert c.execute("SELECT primary_contact_id, primary_contact_name FROM crm.opportunities_active WHERE node_id = %s",
                     (opp,)).fetchone() == (jane, "Jane Doe")
    ingest(db, "salesforce", "Opportunity", str(_write(tmp_path / "o2.csv", OPP_HEAD + row.format("003000000000JS2", "2024-03-07T12:00:00.000Z"))))
    assert _primary_contacts(c, opp) == [smith]            # replaced, the former one ended
    assert c.execute("SELECT count(*) FROM crm.edges WHERE source_id = %s AND edge_type = 'primary_contact'",
                     (opp,)).fetchone()[0] == 2            # history kept
    ingest(db, "salesforce", "Opportunity", str(_write(tmp_path / "o3.csv", OPP_HEAD + row.format("", "2024-03-08T12:00:00.000Z"))))
    assert _primary_contacts(c, opp) == []                 # cleared at the source
    # a contact the export names before it exists: linked when the Contact arrives
    ingest(db, "salesforce", "Opportunity", str(_write(tmp_path / "o4.csv", OPP_HEAD + row.format("003000000000LAT", "2024-03-09T12:00:00.000Z"))))
    assert _primary_contacts(c, opp) == []
    ingest(db, "salesforce", "Contact", str(_write(tmp_path / "c.csv",
           "Id,AccountId,FirstName,LastName,Email,Phone,Title,OwnerId,LastModifiedDate,IsDeleted\n"
           "003000000000LAT,001000000000ACM,Lara,Late,lara.late@acme.com,,CFO,005000000000AAA,2024-03-09T13:00:00.000Z,false\n")))
    assert _primary_contacts(c, opp) == [node(c, "salesforce", "Contact", "003000000000LAT")]
    # replaying everything changes nothing
    before = counts(c)
    for f in ("o4.csv",):
        ingest(db, "salesforce", "Opportunity", str(tmp_path / f))
    ingest(db, "salesforce", "Contact", str(tmp_path / "c.csv"))
    assert counts(c)[:6] == before[:6]
