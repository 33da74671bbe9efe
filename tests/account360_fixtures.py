"""Account 360 fixture data, written directly into the graph the way ingestion does it
(docs/graph_contract.md), with hand-computed expectations.

The data-quality and sync-run rows are inserted into the relations named by the contract
(crm.orphans, crm.identity_mismatches, crm.duplicate_candidates, crm_raw.sync_runs,
crm_raw.source_schedules). In this branch they are placeholder tables (sql/0010); when issue
5's real views replace them, only `add_quality_issue` / `add_sync_run` below need to change.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID, uuid4

from psycopg.types.json import Jsonb

TODAY = dt.date.today()


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def assertion(w, node: UUID, atype: str, claim: dict) -> None:
    w.admin.execute("INSERT INTO crm.assertions (assertion_type, subject_node_id, claim) VALUES (%s, %s, %s)",
                    (atype, node, Jsonb(claim)))


def child(w, node_type: str, label: str, account: UUID, external: str | None = None, source: str | None = None,
          **props) -> UUID:
    nid = w.node(node_type, label, **props)
    if external:
        w.admin.execute("UPDATE crm.nodes SET external_source = %s, external_id = %s WHERE id = %s",
                        (source, external, nid))
    w.own(nid, account)
    return nid


def event(w, event_type: str, occurred: str, participants: list[tuple[UUID, str]], summary: str | None = None,
          source: str | None = None, external_id: str | None = None) -> UUID:
    eid = w.admin.execute(
        "INSERT INTO crm.events (event_type, occurred_at, summary, external_source, external_id) "
        "VALUES (%s, now() + %s::interval, %s, %s, %s) RETURNING id",
        (event_type, occurred, summary, source if external_id else None, external_id)).fetchone()[0]
    if source and not external_id:
        w.admin.execute("UPDATE crm.events SET actor_system = %s WHERE id = %s", (source, eid))
    for node, role in participants:
        w.admin.execute("INSERT INTO crm.event_participants (event_id, node_id, role) VALUES (%s, %s, %s)",
                        (eid, node, role))
    return eid


def add_quality_issue(admin, kind: str, account: UUID | None, source: str, evidence: dict,
                      detected: str = "0 seconds") -> None:
    """Create a real data-quality issue as ingestion would leave it (issue 5's views read them):
    an orphan raw record (orphans never have an account), an applied raw record whose CRM id and
    domain point to different accounts, or a second account sharing the domain."""
    obj = {"zendesk": "organizations", "stripe": "customers", "clm": "contracts", "salesforce": "Account"}[source]
    ext = f"fx-{uuid4().hex[:10]}"
    if kind == "orphan":
        admin.execute("INSERT INTO crm_raw.records (source, object, external_id, payload, status, reason, received_at, "
                      "applied_at, match) VALUES (%s, %s, %s, %s, 'orphan', 'no account could be resolved', "
                      "now() - %s::interval, now() - %s::interval, %s)",
                      (source, obj, ext, Jsonb(evidence), detected, detected, Jsonb({"by": None, **evidence})))
    elif kind == "mismatch":
        other = admin.execute("SELECT id FROM crm.nodes WHERE node_type = 'org' AND id <> %s LIMIT 1",
                              (account,)).fetchone()[0]
        admin.execute("INSERT INTO crm_raw.records (source, object, external_id, payload, status, received_at, "
                      "applied_at, account_id, match) VALUES (%s, %s, %s, %s, 'applied', now() - %s::interval, "
                      "now() - %s::interval, %s, %s)",
                      (source, obj, ext, Jsonb(evidence), detected, detected, account,
                       Jsonb({"by": "crm_id", "crm_account_id": str(account), "domain_account_id": str(other)})))
    else:
        domain = admin.execute("SELECT properties ->> 'domain' FROM crm.nodes WHERE id = %s", (account,)).fetchone()[0]
        admin.execute("INSERT INTO crm.nodes (node_type, properties) VALUES ('org', %s)",
                      (Jsonb({"name": evidence.get("other", "Duplicate"), "domain": domain}),))


def add_sync_run(admin, source: str, obj: str, finished_ago: str, status: str = "succeeded",
                 error: str | None = None, rows: int = 10, today: bool = False) -> None:
    """A finished sync run; with `today`, started no earlier than today's midnight (a run
    "30 minutes ago" is yesterday's when the tests run just after midnight)."""
    started = ("greatest(date_trunc('day', now()), now() - %s::interval - interval '1 minute')" if today
               else "now() - %s::interval - interval '1 minute'")
    admin.execute("INSERT INTO crm_raw.sync_runs (source, object, started_at, finished_at, status, received, "
                  f"applied, rejected, error) VALUES (%s, %s, {started}, "
                  "greatest(" + started + " + interval '1 second', now() - %s::interval), %s, %s, %s, %s, %s)",
                  (source, obj, finished_ago, finished_ago, finished_ago, status, rows,
                   rows if status == "succeeded" else 0, 0 if status == "succeeded" else rows, error))


def add_schedule(admin, source: str, obj: str, interval: str) -> None:
    group = {"salesforce": "crm", "zendesk": "tickets", "clm": "clm", "stripe": "billing"}[source]
    admin.execute("INSERT INTO crm_raw.source_schedules (source, object, expected_interval, freshness_group) "
                  "VALUES (%s, %s, %s, %s) ON CONFLICT (source, object) DO UPDATE SET expected_interval = EXCLUDED.expected_interval",
                  (source, obj, interval, group))


def build(w) -> dict:
    """Two teams, two accounts; Acme carries every case. Returns the ids and expectations."""
    w.team("Sales EMEA")
    w.team("Sales US")
    w.login("alice", "crm_reader")
    w.join("alice", "Sales EMEA")
    w.login("bob", "crm_reader")
    w.join("bob", "Sales US")
    w.login("boss", "crm_admin")
    w.login("svc", "crm_service", user=False)
    n: dict = {}
    n["acme"] = w.node("org", "ACME Corp.", ["Sales EMEA"], domain="acme.com", website="https://www.acme.com")
    # as ingestion writes it (crm360's own code, crm_owner: its own changes are not re-audited)
    with w.admin.transaction():
        w.admin.execute("SET LOCAL ROLE crm_owner")
        w.admin.execute("UPDATE crm.nodes SET external_source = 'salesforce', external_id = '001A000001', "
                        "claimed_by = %s WHERE id = %s", (w.users["alice"], n["acme"]))
    n["globex"] = w.node("org", "Globex", ["Sales US"], domain="globex.com")
    w.admin.execute("UPDATE crm.nodes SET external_source = 'salesforce', external_id = '001A000002' "
                    "WHERE id = %s", (n["globex"],))
    a = n["acme"]

    # tickets: open urgent (10 d), pending normal (3 d), open high (1 d) count; solved, archived do not
    def ticket(key, status, priority, opened_days, archived=False):
        n[key] = child(w, "ticket", f"Ticket {key}", a, external=key, source="zendesk", priority=priority,
                       opened_at=f"{(dt.datetime.now(dt.UTC) - dt.timedelta(days=opened_days)).isoformat()}")
        assertion(w, n[key], "ticket_status", {"status": status, "priority": priority})
        if archived:
            w.admin.execute("UPDATE crm.nodes SET archived_at = now() WHERE id = %s", (n[key],))
    ticket("t_urgent", "open", "urgent", 10)
    ticket("t_pending", "pending", "normal", 3)
    ticket("t_high", "open", "high", 1)
    ticket("t_solved", "solved", "high", 30)
    ticket("t_archived", "open", "urgent", 50, archived=True)

    # opportunities: two active (1000 × 0.5, 3000 × 0.2), one closed won (not counted)
    def opp(key, stage, amount, prob, close, closed=False):
        n[key] = child(w, "opportunity", f"Deal {key}", a, external=key, source="salesforce", close_date=close,
                       is_closed=closed)
        assertion(w, n[key], "deal_stage", {"stage": stage, "pipeline": "PL-SFDC"})
        assertion(w, n[key], "deal_value", {"amount": amount, "currency": "USD"})
        assertion(w, n[key], "win_probability", {"probability": prob})
    opp("o_prop", "proposal", 1000, 0.5, day(30))
    opp("o_nego", "negotiation", 3000, 0.2, day(10))
    opp("o_won", "Closed Won", 9999, 1.0, day(-5), closed=True)

    # contracts: in term (counts), active-but-ended, active-but-future, expired
    def contract(key, status, eff, end, value):
        n[key] = child(w, "contract", f"Contract {key}", a, external=key, source="clm",
                       effective_date=day(eff), end_date=day(end), annual_value=value)
        assertion(w, n[key], "contract_status", {"status": status, "annual_value": value})
    contract("c_current", "active", -100, 200, 12000)
    contract("c_ended", "active", -400, -10, 8000)
    contract("c_future", "active", 30, 395, 5000)
    contract("c_expired", "expired", -800, -400, 7000)

    # invoices: open not due, open overdue, paid, open without due date
    def invoice(key, status, remaining, due):
        props = {"amount_remaining": remaining, "currency": "USD", "number": key}
        if due is not None:
            props["due_date"] = day(due)
        n[key] = child(w, "invoice", key, a, external=key, source="stripe", **props)
        assertion(w, n[key], "invoice_status", {"status": status, "amount_remaining": remaining})
    invoice("INV-1", "open", 500, 10)
    invoice("INV-2", "open", 300, -5)
    invoice("INV-3", "paid", 0, -20)
    invoice("INV-4", "open", 50, None)

    # events: a meeting 5 days ago is the last touch; a later ticket comment and a future
    # email do not count; an older call does not win
    n["ev_meeting"] = event(w, "meeting", "-5 days", [(a, "account"), (n["o_prop"], "subject")],
                            summary="QBR with Acme", source="salesforce", external_id="00U1")
    n["ev_comment"] = event(w, "ticket_comment", "-1 day", [(a, "account"), (n["t_urgent"], "subject")],
                            source="zendesk", external_id="c1")
    n["ev_future_email"] = event(w, "email", "+2 days", [(a, "account")], summary="scheduled follow-up",
                                 source="salesforce", external_id="00T9")
    n["ev_call"] = event(w, "phone_call", "-20 days", [(a, "account")], summary="Intro call",
                         source="salesforce", external_id="00T1")
    n["ev_old_note"] = event(w, "note", "-60 days", [(a, "account")], summary="Old note", source="salesforce",
                             external_id="00T2")
    n["ev_globex"] = event(w, "meeting", "-1 day", [(n["globex"], "account")], summary="Globex meeting")

    # sources: salesforce fresh, zendesk failed after a success, clm stale (3 days vs daily), stripe never
    w.admin.execute("DELETE FROM crm_raw.source_schedules WHERE (source, object) NOT IN "
                    "(('salesforce', 'Account'), ('zendesk', 'tickets'), ('clm', 'contracts'), ('stripe', 'invoices'))")
    add_schedule(w.admin, "salesforce", "Account", "1 day")
    add_schedule(w.admin, "zendesk", "tickets", "1 hour")
    add_schedule(w.admin, "clm", "contracts", "1 day")
    add_schedule(w.admin, "stripe", "invoices", "1 day")
    add_sync_run(w.admin, "salesforce", "Account", "1 hour")
    add_sync_run(w.admin, "zendesk", "tickets", "2 hours")
    add_sync_run(w.admin, "zendesk", "tickets", "30 minutes", status="failed", error="HTTP 503 from Zendesk", today=True)
    add_sync_run(w.admin, "clm", "contracts", "3 days")

    # data quality: Acme 1 orphan, 2 mismatches, 1 duplicate; Globex 1 orphan; one without account
    add_quality_issue(w.admin, "orphan", a, "zendesk", {"org": "acme-support"})
    add_quality_issue(w.admin, "mismatch", a, "zendesk", {"external_id": "001A000001", "domain": "globex.com"})
    add_quality_issue(w.admin, "mismatch", a, "stripe", {"customer": "cus_1"})
    add_quality_issue(w.admin, "duplicate", a, "salesforce", {"other": "Acme Duplicate Holdings"})
    add_quality_issue(w.admin, "orphan", n["globex"], "stripe", {"customer": "cus_2"})
    add_quality_issue(w.admin, "orphan", None, "stripe", {"email": "someone@gmail.com"})

    w.n = n
    w.expect = {
        "open_tickets": 3, "high_priority": 2, "oldest_age_days": 10.0,
        "active_opportunities": 2, "pipeline_value": 4000, "weighted": 1100,
        "arr": 12000, "active_contracts": 1, "next_renewal": TODAY + dt.timedelta(days=200),
        "open_invoices": 3, "open_amount": 850, "overdue_invoices": 1, "overdue_amount": 300,
        "orphans": 0, "mismatches": 2, "duplicates": 1,   # orphans have no account by definition
    }
    return n
