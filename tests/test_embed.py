"""`crm360 embed` and the embedding providers: the offline wordllama default against a real
database (incremental: a second run embeds 0), the OpenAI-compatible provider against a real
HTTP server on 127.0.0.1 started in the test (no mocks), and the JSON errors."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from crm360 import embeddings
from crm360.cli import cli
from crm360.db import CrmError
from tests import assistant_fixtures as fx


class EmbeddingServer:
    """An OpenAI-compatible /embeddings endpoint: deterministic 8-d vectors, or the given
    status codes in turn (the last one repeats)."""

    def __init__(self, statuses: list[int] | None = None, body: bytes | None = None):
        self.statuses = statuses or [200]
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        me = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                me.requests.append({"path": self.path, **req})
                me.headers.append(dict(self.headers))
                code = me.statuses[min(len(me.requests) - 1, len(me.statuses) - 1)]
                if code != 200:
                    out = json.dumps({"error": {"message": "model overloaded" if code >= 500 else "bad key"}}).encode()
                elif body is not None:
                    out = body
                else:
                    # out of order on purpose: the provider must sort by index
                    data = [{"object": "embedding", "index": i,
                             "embedding": [float(len(t)), 1.0, float(i), 0, 0, 0, 0, 0.5]}
                            for i, t in enumerate(req["input"])]
                    out = json.dumps({"object": "list", "data": data[::-1], "model": req["model"]}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def run(*args):
    return CliRunner().invoke(cli, list(args), terminal_width=80, catch_exceptions=False)


@pytest.fixture
def chunks(world):
    n = fx.build(world)
    assert fx.ensure_chunks_contract(world.admin)
    ids = [fx.add_chunk(world.admin, n["acme"], n["ticket"], f"Chunk {i}: the robot arm renewal, case {i}.",
                        title="Robot arm renewal question", record=f"ZD-{i}") for i in range(7)]
    world.n = n
    return ids


# ------------------------------------------------------------------ OpenAI-compatible provider
def test_openai_provider_posts_model_and_input_and_reads_data(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    with EmbeddingServer() as srv:
        p = embeddings.OpenAIProvider(srv.url, "text-embedding-test", timeout=5)
        vecs = p.embed(["a", "bbb", "cc"])
    assert srv.requests == [{"path": "/v1/embeddings", "model": "text-embedding-test", "input": ["a", "bbb", "cc"]}]
    assert srv.headers[0]["Authorization"] == "Bearer sk-test-123"
    assert [v[0] for v in vecs] == [1.0, 3.0, 2.0]          # in input order despite the reversed answer
    assert [v[2] for v in vecs] == [0.0, 1.0, 2.0]


def test_openai_provider_without_key_sends_no_authorization(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with EmbeddingServer() as srv:
        embeddings.OpenAIProvider(srv.url, "m", timeout=5).embed(["x"])
    assert "Authorization" not in srv.headers[0]


def test_openai_provider_retries_5xx_then_succeeds():
    with EmbeddingServer([503, 200]) as srv:
        vecs = embeddings.OpenAIProvider(srv.url, "m", timeout=5, backoff=0.01).embed(["x"])
    assert len(srv.requests) == 2 and len(vecs) == 1


def test_openai_provider_clear_errors():
    with EmbeddingServer([401]) as srv, pytest.raises(CrmError) as e:
        embeddings.OpenAIProvider(srv.url, "m", api_key="", timeout=5).embed(["x"])
    assert "refused the request (HTTP 401" in e.value.message and "bad key" in e.value.message
    assert e.value.hint == "set OPENAI_API_KEY"
    assert len(srv.requests) == 1                                   # a 4xx is final
    with EmbeddingServer([500]) as srv, pytest.raises(CrmError) as e:
        embeddings.OpenAIProvider(srv.url, "m", timeout=5, tries=3, backoff=0.01).embed(["x"])
    assert "failed after 3 attempt(s) (HTTP 500" in e.value.message and len(srv.requests) == 3
    with EmbeddingServer(body=b'{"nope": 1}') as srv, pytest.raises(CrmError) as e:
        embeddings.OpenAIProvider(srv.url, "m", timeout=5).embed(["x"])
    assert "not an embeddings response" in e.value.message
    with pytest.raises(CrmError) as e:       # nothing listens on port 9 of 127.0.0.1
        embeddings.OpenAIProvider("http://127.0.0.1:9/v1", "m", timeout=2, tries=1).embed(["x"])
    assert "failed after 1 attempt(s)" in e.value.message


def test_openai_timeout_is_reported():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)                                  # accepts, never answers
    try:
        with pytest.raises(CrmError) as e:
            embeddings.OpenAIProvider(f"http://127.0.0.1:{s.getsockname()[1]}", "m", timeout=0.5,
                                      tries=1).embed(["x"])
    finally:
        s.close()
    assert "timed out" in e.value.message.lower()


# ------------------------------------------------------------------ wordllama
def test_wordllama_loads_offline_256d():
    p = embeddings.WordLlamaProvider()
    assert p.model == "wordllama-l2-supercat-256"
    v = p.embed(["renewal of the robot arm contract", "invoice dispute"])
    assert len(v) == 2 and v[0].shape == (256,)


# ------------------------------------------------------------------ crm360 embed
def test_embed_incremental_and_json(chunks, db):
    r = run("embed", "--dsn", db, "--json", "--batch", "3")
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["embedded"] == 7 and s["batches"] == 3 and s["dim"] == 256
    assert s["model"] == "wordllama-l2-supercat-256" and s["chunks_per_second"] > 0
    r = run("embed", "--dsn", db)
    assert r.exit_code == 0, r.output
    assert "nothing to embed" in r.output
    r = run("embed", "--dsn", db, "--json")
    assert json.loads(r.output)["embedded"] == 0
    import psycopg

    with psycopg.connect(db) as c:
        rows = c.execute("SELECT embedding_model, extensions.vector_dims(embedding), count(*) FROM crm.chunks "
                         "GROUP BY 1, 2").fetchall()
    assert rows == [("wordllama-l2-supercat-256", 256, 7)]


def test_embed_text_output_counts(chunks, db):
    r = run("embed", "--dsn", db)
    assert r.exit_code == 0, r.output
    assert "embedded 7 chunk(s) with wordllama-l2-supercat-256 (256-d)" in r.output


def test_embed_with_openai_provider_records_its_model(chunks, db, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with EmbeddingServer() as srv:
        r = run("embed", "--dsn", db, "--provider", "openai", "--base-url", srv.url, "--model", "tiny-8",
                "--batch", "5", "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.output)["embedded"] == 7 and len(srv.requests) == 2
        r = run("embed", "--dsn", db, "--provider", "openai", "--base-url", srv.url, "--model", "tiny-8", "--json")
        assert json.loads(r.output)["embedded"] == 0 and len(srv.requests) == 2
    import psycopg

    with psycopg.connect(db) as c:
        rows = c.execute("SELECT embedding_model, extensions.vector_dims(embedding), count(*) FROM crm.chunks "
                         "GROUP BY 1, 2").fetchall()
    assert rows == [("tiny-8", 8, 7)]


def test_embed_json_errors(chunks, db):
    r = run("embed", "--dsn", db, "--provider", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
            "--timeout", "2", "--json")
    assert r.exit_code == 1
    err = json.loads(r.output)["error"]
    assert "http://127.0.0.1:9/v1/embeddings" in err["message"] and err["hint"]
    with EmbeddingServer([400]) as srv:
        r = run("embed", "--dsn", db, "--provider", "openai", "--base-url", srv.url, "--model", "m", "--json")
    assert r.exit_code == 1 and "HTTP 400" in json.loads(r.output)["error"]["message"]
    r = run("embed", "--dsn", db, "--model", "other-model", "--json")
    assert r.exit_code == 2 and "wordllama" in json.loads(r.output)["error"]["message"]
    r = run("embed", "--dsn", db, "--base-url", "http://x", "--json")
    assert r.exit_code == 2 and "--provider openai" in json.loads(r.output)["error"]["message"]
    r = run("embed", "--dsn", "postgresql://nobody@127.0.0.1:9/x", "--json")
    assert r.exit_code == 1 and "cannot connect" in json.loads(r.output)["error"]["message"]


def test_embed_runs_as_an_admin_login_and_is_refused_to_connectors_and_readers(chunks, world, db):
    """chunks_to_embed/store_embeddings read every text and write any chunk's vector: crm_admin
    only. A connector — even one allowed every source — and a reader get a JSON error (42501),
    nothing stored; the admin login (created as docs/security.md tells a DBA) embeds."""
    from crm360 import users

    conn_login = world.role_name("embedder_conn")
    users.add_user(world.admin, conn_login, "connector", sources=("*",), password=fx.PASSWORD)
    world.roles.append(conn_login)
    for who in ("embedder_conn", "rep_emea"):
        r = run("embed", "--dsn", fx.login_dsn(world, who), "--json")
        assert r.exit_code == 1, r.output
        assert json.loads(r.output)["error"]["sqlstate"] == "42501"
    assert world.admin.execute("SELECT count(*) FROM crm.chunks WHERE embedding IS NOT NULL").fetchone()[0] == 0
    login = world.role_name("embedder")
    users.add_user(world.admin, login, "admin", name="Embedder", email=f"{login}@example.com", password=fx.PASSWORD)
    world.roles.append(login)
    r = run("embed", "--dsn", fx.login_dsn(world, "embedder"), "--json", "--batch", "4")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["embedded"] == 7


def test_embed_on_an_unmigrated_database_says_to_migrate(empty_db):
    r = run("embed", "--dsn", empty_db, "--json")
    assert r.exit_code == 1
    err = json.loads(r.output)["error"]
    assert err["sqlstate"] == "42883" and "crm360 migrate" in err["hint"]
