"""`crm360 account` and `crm360 digest` against a real database and, for the webhook, a real
HTTP server on 127.0.0.1 started in the test (no mocks)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from crm360.cli import cli
from tests import account360_fixtures as fx


@pytest.fixture
def a360(world):
    fx.build(world)
    world.admin.execute("SELECT crm.refresh_account_views()")
    return world


class Hook:
    """A webhook that answers with the given status codes in turn (the last one repeats)."""

    def __init__(self, statuses: list[int]):
        self.statuses = statuses
        self.bodies: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.bodies.append(json.loads(body))
                code = hook.statuses[min(len(hook.bodies) - 1, len(hook.statuses) - 1)]
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok" if code < 300 else b"nope")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def run(*args):
    return CliRunner().invoke(cli, list(args), terminal_width=200, catch_exceptions=False)


def test_digest_webhook_retries_then_succeeds(a360, db):
    with Hook([503, 503, 200]) as hook:
        r = run("digest", "--dsn", db, "--webhook", hook.url, "--backoff", "0.01")
    assert r.exit_code == 0, r.output
    assert "after 3 attempt(s)" in r.output
    assert len(hook.bodies) == 3
    payload = hook.bodies[-1]
    assert payload["text"].startswith("crm360 data digest")
    assert payload["blocks"][0]["type"] == "header"
    sections = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
    assert any(s.startswith("*Sales EMEA") and "zendesk/tickets" in s for s in sections)
    assert any(s.startswith("*Sales US") for s in sections)


def test_digest_webhook_gives_up_with_nonzero_exit(a360, db):
    with Hook([500]) as hook:
        r = run("digest", "--dsn", db, "--webhook", hook.url, "--backoff", "0.01", "--tries", "4")
    assert r.exit_code == 1
    assert len(hook.bodies) == 4
    assert "could not deliver the digest after 4 attempts" in r.output and "HTTP 500" in r.output


def test_digest_webhook_4xx_is_not_retried(a360, db):
    with Hook([404]) as hook:
        r = run("digest", "--dsn", db, "--webhook", hook.url, "--backoff", "0.01")
    assert r.exit_code == 1 and len(hook.bodies) == 1
    assert "HTTP 404" in r.output and "not retried" in r.output


def test_digest_webhook_connection_refused(a360, db):
    with Hook([200]) as hook:
        url = hook.url
    r = run("digest", "--dsn", db, "--webhook", url, "--backoff", "0.01", "--tries", "2", "--timeout", "2")
    assert r.exit_code == 1 and "after 2 attempts" in r.output


def test_digest_prints_without_webhook(a360, db):
    r = run("digest", "--dsn", db)
    assert r.exit_code == 0 and "Sales EMEA" in r.output and "Platform" in r.output
    j = json.loads(run("digest", "--dsn", db, "--json").output)
    assert [t["team"] for t in j["teams"]] == ["Sales EMEA", "Sales US"]


def test_account_command(a360, db):
    r = run("account", "--dsn", db, "ACME Corp.")
    assert r.exit_code == 0, r.output
    for text in ("ACME Corp.", "Most urgent open tickets", "Ticket t_urgent", "INV-2", "Recent activity",
                 "Sources", "stale", "Data-quality flags"):
        assert text in r.output, text
    j = json.loads(run("account", "--dsn", db, "--json", "001A000001").output)
    assert j["summary"]["open_tickets"]["count"] == 3 and j["summary"]["arr"]["amount"] == 12000
    # orphans never name an account (they could not be resolved to one)
    assert {f["kind"] for f in j["data_quality"]} == {"identity_mismatch", "duplicate_candidate"}


def test_account_command_ambiguous_and_not_found(a360, db):
    a360.node("org", "Acme Industries", ["Sales EMEA"])
    r = run("account", "--dsn", db, "acme")
    assert r.exit_code == 2 and "3 accounts match 'acme'" in r.output   # + the planted duplicate
    r = run("account", "--dsn", db, "--json", "acme")
    assert r.exit_code == 2
    assert {c["name"] for c in json.loads(r.output)["error"]["candidates"]} == {"ACME Corp.", "Acme Industries",
                                                                     "Acme Duplicate Holdings"}
    r = run("account", "--dsn", db, "no such company zzz")
    assert r.exit_code == 1 and "P0002" in r.output


def test_account_command_as_user(a360, db):
    w = a360
    alice_email = w.admin.execute("SELECT properties->>'email' FROM crm.nodes WHERE id = %s",
                                  (w.users["alice"],)).fetchone()[0]
    j = json.loads(run("account", "--dsn", db, "--json", "--as", alice_email, "001A000001").output)
    assert j["summary"]["active_opportunities"]["pipeline_value"] is None      # alice: no deal_value grant
    r = run("account", "--dsn", db, "--as", str(w.users["bob"]), "001A000001")
    assert r.exit_code == 1 and "P0002" in r.output                             # bob cannot see Acme
    j = json.loads(run("account", "--dsn", db, "--json", "001A000001").output)
    assert j["summary"]["active_opportunities"]["pipeline_value"] == 4000      # the DBA sees everything
