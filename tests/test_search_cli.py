"""`crm360 search`: across accounts (crm.search) and within one (crm.search_in_account, hybrid
once the chunks carry embeddings of the default model), as the caller or --as a CRM user,
readable at 80 columns, JSON for scripts and JSON errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from crm360.cli import cli
from tests import assistant_fixtures as fx


def run(*args, width=80):
    return CliRunner().invoke(cli, list(args), terminal_width=width, catch_exceptions=False)


@pytest.fixture
def sw(world):
    world.n = n = fx.build(world)
    assert fx.ensure_chunks_contract(world.admin), "crm.chunks comes from the search branch (merged)"
    fx.add_chunk(world.admin, n["acme"], n["ticket"], "The customer asks whether the robot arm renewal includes "
                 "on-site maintenance and a second gripper; legal must review the liability clause before "
                 "the renewal is signed. " * 3, title="Robot arm renewal question", kind="ticket_description",
                 record="ZD-4711")
    fx.add_chunk(world.admin, n["acme"], n["acme"], "Budget approved for next year; champion is the VP operations.",
                 title="Renewal call with Acme", kind="meeting_note", event=n["ev_meeting"], source="salesforce",
                 record="00U-A1")
    fx.add_chunk(world.admin, n["globex"], n["g_ticket"], "Globex disputes invoice 778 over the renewal fee.",
                 title="Globex invoice dispute", kind="ticket_description", record="ZD-9")
    return world


def test_search_across_accounts_respects_identity(sw, db):
    r = run("search", "globex", "--dsn", db, "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["mode"] == "text" and "Globex Industries" in {x["label"] for x in out["results"]}
    r = run("search", "globex", "--dsn", db, "--json", "--as", f"rep.emea.{sw.suffix}@example.com")
    assert r.exit_code == 0, r.output
    assert "Globex" not in json.dumps(json.loads(r.output)["results"])
    r = run("search", "acme", "--dsn", db, "--as", f"rep.emea.{sw.suffix}@example.com")
    assert r.exit_code == 0 and "Acme Robotics" in r.output
    assert all(len(line) <= 80 for line in r.output.splitlines()), r.output


def test_search_in_account_text_then_hybrid(sw, db):
    r = run("search", "renewal liability", "--account", "Acme Robotics", "--dsn", db)
    assert r.exit_code == 0, r.output
    assert "in Acme Robotics" in r.output and "search: text" in r.output and "ZD-4711" in r.output
    assert "Globex" not in r.output
    assert all(len(line) <= 80 for line in r.output.splitlines()), r.output
    assert run("embed", "--dsn", db).exit_code == 0
    r = run("search", "renewal liability", "--account", "001ACME0001", "--dsn", db, "--json")
    out = json.loads(r.output)
    assert out["mode"] == "hybrid (wordllama-l2-supercat-256)" and out["account"]["name"] == "Acme Robotics"
    assert out["results"] and {x["source_record"] for x in out["results"]} <= {"ZD-4711", "00U-A1"}
    assert all("embedding" not in x for x in out["results"])
    # a rep of the other team: the account does not exist for them
    r = run("search", "renewal", "--account", "Acme Robotics", "--dsn", db, "--json",
            "--as", f"rep.us.{sw.suffix}@example.com")
    assert r.exit_code == 1 and json.loads(r.output)["error"]["sqlstate"] == "P0002"


def test_search_json_errors(sw, db):
    r = run("search", "x", "--account", "Acme", "--type", "ticket", "--dsn", db, "--json")
    assert r.exit_code == 2 and "--type" in json.loads(r.output)["error"]["message"]
    r = run("search", "x", "--dsn", db, "--json", "--as", "nobody@example.com")
    assert r.exit_code == 1 and json.loads(r.output)["error"]["sqlstate"] == "P0002"
    r = run("search", "   ", "--dsn", db, "--json")
    assert r.exit_code == 1 and json.loads(r.output)["error"]["message"]
    r = run("search", "zzqqxx-nothing", "--dsn", db)
    assert r.exit_code == 0 and "no results" in r.output
