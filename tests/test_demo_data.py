"""The demo generator (crm360/demo_data.py): deterministic, native export shapes (issue 5
"Sources and formats"), planted problems, the committed sample is its output, and
`crm360 demo` is safe to re-run."""

from __future__ import annotations

import csv
import datetime as dt
import filecmp
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from crm360 import demo_data

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 1, 15)
SF_DT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$")
ZD_DT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def tree(p: Path) -> dict[str, bytes]:
    return {str(f.relative_to(p)): f.read_bytes() for f in sorted(p.rglob("*")) if f.is_file()}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    m = demo_data.generate(out, seed=3, accounts=40, as_of=AS_OF)
    return out, m


def test_same_seed_same_files_other_seed_other_files(tmp_path, world):
    out, _ = world
    demo_data.generate(tmp_path / "again", seed=3, accounts=40, as_of=AS_OF)
    assert tree(tmp_path / "again") == tree(out)
    demo_data.generate(tmp_path / "other", seed=4, accounts=40, as_of=AS_OF)
    assert tree(tmp_path / "other") != tree(out)


def test_committed_sample_is_the_generators_output(tmp_path):
    demo_data.generate(tmp_path, seed=7, accounts=6, as_of=AS_OF)
    sample = ROOT / "seeds" / "sample"
    cmp = filecmp.dircmp(tmp_path, sample)
    assert tree(tmp_path) == tree(sample), cmp.report()


def read_csv(p: Path) -> tuple[list[str], list[dict]]:
    with p.open(newline="", encoding="utf-8") as f:
        r = csv.DictReader(f)
        return list(r.fieldnames or []), list(r)


def test_salesforce_bulk_csv_and_rest_json(world):
    out, m = world
    expected = {
        "Account": "Id,Name,Website,Industry,BillingCountry,AnnualRevenue,OwnerId,LastModifiedDate,IsDeleted",
        "Contact": "Id,AccountId,FirstName,LastName,Email,Phone,Title,OwnerId,LastModifiedDate,IsDeleted",
        "User": "Id,Name,Email,IsActive",
        "Event": "Id,WhatId,WhoId,Subject,Description,StartDateTime,EndDateTime,OwnerId,LastModifiedDate",
        "Task": "Id,WhatId,WhoId,Subject,Description,ActivityDate,Status,TaskSubtype,OwnerId,LastModifiedDate",
    }
    for obj, header in expected.items():
        cols, rows = read_csv(out / "salesforce" / f"{obj}.csv")
        assert cols == header.split(","), obj
        assert len(rows) == m["counts"][f"salesforce/{obj}"]
        for r in rows:
            assert len(r["Id"]) == 18
            for k in ("LastModifiedDate", "StartDateTime", "EndDateTime"):
                if k in r:
                    assert SF_DT.match(r[k]), (obj, k, r[k])
    accts = read_csv(out / "salesforce" / "Account.csv")[1]
    assert {r["IsDeleted"] for r in accts} == {"false"}
    assert {r["TaskSubtype"] for r in read_csv(out / "salesforce" / "Task.csv")[1]} == {"Email", "Call", "Task"}
    opp = json.loads((out / "salesforce" / "Opportunity.json").read_text())
    assert opp["done"] is True and opp["totalSize"] == len(opp["records"])
    rec = opp["records"][0]
    assert rec["attributes"]["type"] == "Opportunity"
    assert {"Id", "AccountId", "Name", "StageName", "Amount", "CloseDate", "Probability", "IsClosed", "IsWon",
            "OwnerId", "LastModifiedDate", "IsDeleted"} <= rec.keys()
    ids = {r["Id"] for r in accts}
    assert all(o["AccountId"] in ids for o in opp["records"])


def test_zendesk_pages(world):
    out, m = world
    orgs = json.loads((out / "zendesk" / "organizations.json").read_text())
    assert set(orgs) >= {"organizations", "next_page", "count"} and orgs["count"] == len(orgs["organizations"])
    assert {"id", "name", "domain_names", "external_id"} <= orgs["organizations"][0].keys()
    users = json.loads((out / "zendesk" / "users.json").read_text())
    assert {"id", "name", "email", "organization_id", "role"} <= users["users"][0].keys()
    p1 = json.loads((out / "zendesk" / "tickets-1.json").read_text())
    p2 = json.loads((out / "zendesk" / "tickets-2.json").read_text())
    assert (p1["end_of_stream"], p2["end_of_stream"]) == (False, True) and p1["after_cursor"]
    t = p1["tickets"][0]
    assert {"id", "subject", "description", "status", "priority", "type", "requester_id", "organization_id",
            "assignee_id", "tags", "created_at", "updated_at"} <= t.keys()
    assert ZD_DT.match(t["created_at"]) and t["status"] in {"new", "open", "pending", "hold", "solved", "closed"}
    assert len(p1["tickets"]) + len(p2["tickets"]) == m["counts"]["zendesk/tickets"]
    comments = json.loads((out / "zendesk" / "ticket_comments.json").read_text())["comments"]
    assert {"id", "ticket_id", "author_id", "body", "created_at"} <= comments[0].keys()
    with pytest.raises(json.JSONDecodeError):
        json.loads((out / "zendesk" / "ticket_comments-broken.json").read_text())


def test_clm_csv_and_stripe(world):
    out, _ = world
    cols, rows = read_csv(out / "clm" / "contracts.csv")
    assert cols == ["contract_id", "title", "account_id", "counterparty_name", "counterparty_domain", "status", "effective_date", "end_date", "annual_value", "currency", "auto_renew", "updated_at"]
    assert {r["status"] for r in rows} <= {"draft", "active", "expired", "terminated"}
    assert any(r["account_id"] == "" for r in rows)
    cust = json.loads((out / "stripe" / "customers.json").read_text())
    assert cust["object"] == "list" and cust["has_more"] is False
    assert {"id", "email", "name", "metadata", "created"} <= cust["data"][0].keys()
    lines = (out / "stripe" / "invoices.ndjson").read_text().splitlines()
    inv = [json.loads(x) for x in lines]
    assert {"id", "number", "customer", "customer_email", "status", "amount_due", "amount_paid", "amount_remaining",
            "currency", "created", "due_date", "metadata"} <= inv[0].keys()
    assert all(isinstance(i["amount_due"], int) and isinstance(i["due_date"], int) for i in inv)
    assert len({i["number"] for i in inv}) == len(inv)


def test_planted_problems(world):
    out, m = world
    p = m["planted"]
    accts = {r["Id"]: r for r in read_csv(out / "salesforce" / "Account.csv")[1]}
    a, b = p["duplicate_accounts"][0]["ids"]
    assert accts[a]["Name"].lower().rstrip(".") == accts[b]["Name"].lower().rstrip(".")
    orgs = {o["id"]: o for o in json.loads((out / "zendesk" / "organizations.json").read_text())["organizations"]}
    drift = orgs[p["identity_drift"]["zendesk_organization"]]
    assert drift["external_id"] == p["identity_drift"]["external_id_points_to"]
    dom_b = accts[p["identity_drift"]["domain_matches"]]["Website"].split("www.")[-1]
    assert drift["domain_names"] == [dom_b]
    for oid in p["orphans"]["zendesk_organizations"]:
        assert orgs[oid]["external_id"] is None and orgs[oid]["domain_names"][0] not in \
            {r["Website"].split("//")[-1].removeprefix("www.") for r in accts.values()}


def test_demo_without_connectors_writes_files_and_is_rerunnable(db, tmp_path, monkeypatch):
    from crm360 import demo
    from crm360.cli import cli
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(demo, "_connectors", lambda: None)   # branch without issue 5
    args = ["demo", "--dsn", db, "--accounts", "12", "--seed", "5"]
    r1 = CliRunner().invoke(cli, args, terminal_width=200)
    assert r1.exit_code == 0, r1.output
    assert "files written" in r1.output and "Ingestion is not installed yet" in r1.output
    assert (tmp_path / ".crm360" / "demo" / "5" / "manifest.json").exists()
    r2 = CliRunner().invoke(cli, args, terminal_width=200)
    assert r2.exit_code == 0 and "files reused" in r2.output
