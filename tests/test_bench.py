"""Smoke tests of `crm360 bench`: each suite runs at a tiny scale and writes the expected JSON.

No timing assertions here (DESIGN §8): benchmarks measure, tests check shape and behaviour."""

from __future__ import annotations

import json

import psycopg
import pytest
from click.testing import CliRunner

from crm360 import bench
from crm360.cli import cli

MEASUREMENT_KEYS = {"name", "group", "role", "kind", "n", "median_ms", "p95_ms", "raw_ms"}


def _check_result(result: dict, suite: str) -> None:
    for key in ("suite", "scale", "measurements", "ratios", "setup", "params", "machine", "postgres", "git",
                "timestamp", "wall_s"):
        assert key in result, key
    assert result["suite"] == suite
    assert result["postgres"]["server_version"]
    assert result["measurements"]
    for m in result["measurements"]:
        assert set(m) >= MEASUREMENT_KEYS, m["name"]
        assert m["n"] == len(m["raw_ms"]) > 0
    for r in result["ratios"]:
        assert {"name", "numerator", "denominator", "ratio"} <= set(r)


@pytest.mark.parametrize("suite", ["core", "access"])
def test_suite_writes_json(server, tmp_path, monkeypatch, suite):
    monkeypatch.delenv("CRM360_BENCH_KEEP", raising=False)
    result, path = bench.run_suite(suite, server.dsn("postgres"), 0.002, tmp_path)
    on_disk = json.loads(path.read_text())
    _check_result(on_disk, suite)
    roles = {m["role"] for m in on_disk["measurements"]}
    assert {"rep", "admin", "superuser"} <= roles
    if suite == "core":
        groups = {m["group"] for m in on_disk["measurements"] if m["kind"] == "throughput"}
        assert {"generate_crm_code", "create_opportunity", "advance_deal_stage", "log_crm_activity"} <= groups
        assert {m.get("mode") for m in on_disk["measurements"] if m["kind"] == "throughput"} >= {"autocommit",
                                                                                                "batched"}
    else:
        names = {m["name"] for m in on_disk["measurements"]}
        for view in ("opportunities_active", "opportunities_active_live", "contacts_directory",
                     "contacts_directory_live"):
            assert f"count crm.{view}" in names and f"page crm.{view}" in names
        assert "account children listing" in names
        assert {"count crm.opportunities", "page crm.opportunities", "count crm.tickets", "page crm.tickets"} <= names
        # the rep sees a strict subset of what the admin sees
        by = {(m["name"], m["role"]): m for m in on_disk["measurements"]}
        assert 0 < by[("count crm.opportunities_active", "rep")]["rows"] < \
            by[("count crm.opportunities_active", "admin")]["rows"]
        assert by[("account children listing", "rep")]["rows"] == by[("account children listing", "admin")]["rows"]
    # the suite cleans up after itself: no bench database, no bench roles left behind
    with psycopg.connect(server.dsn("postgres"), autocommit=True) as c:
        assert not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (f"crm360_bench_{suite}",)).fetchone()
        assert not c.execute("SELECT 1 FROM pg_roles WHERE rolname LIKE %s", (f"crm360_bench_{suite}_%",)).fetchone()


def test_ingest_suite_writes_json(server, tmp_path, monkeypatch):
    """`crm360 bench --suite ingest` (issue 16 item 4): every phase per object, end to end, the
    same run's write floor, the replay, the incremental batch and the ELT path, with the issue's
    targets; its databases are dropped afterwards."""
    monkeypatch.delenv("CRM360_BENCH_KEEP", raising=False)
    result, path = bench.run_suite("ingest", server.dsn("postgres"), 0.002, tmp_path)
    on_disk = json.loads(path.read_text())
    _check_result(on_disk, "ingest")
    names = {m["name"] for m in on_disk["measurements"]}
    assert {"end to end (land + reconcile + refresh)", "write floor (indexes + foreign keys)",
            "replay of the whole export", "incremental batch visible in crm.accounts_360",
            "reconcile zendesk tickets"} <= names
    assert {t["name"] for t in on_disk["targets"]} == {"end to end", "end to end (ELT: land all, reconcile once)",
                                                       "end to end (ELT, 2 reconcile sessions)",
                                                       "replay", "incremental batch visible after"}
    assert on_disk["params"]["replay"]["graph_rows_written"] == 0
    assert on_disk["params"]["incremental"]["visible_before_refresh"] is True
    # the ELT path (land everything, then one reconcile and one refresh) builds the same graph
    assert on_disk["params"]["bulk"]["graph_rows"] == on_disk["params"]["replay"]["graph_rows"] > 0
    # and so does the ELT path with two reconcile sessions (crm.reconcile_plan)
    assert on_disk["params"]["bulk_parallel"]["graph_rows"] == on_disk["params"]["bulk"]["graph_rows"]
    with psycopg.connect(server.dsn("postgres")) as c:
        assert not c.execute("SELECT 1 FROM pg_database WHERE datname IN ('crm360_bench_ingest', "
                             "'crm360_bench_ingest_bulk')").fetchone()


def test_cli_bench_runs_a_suite_and_rejects_unknown(server, tmp_path, monkeypatch):
    monkeypatch.delenv("CRM360_BENCH_KEEP", raising=False)
    runner = CliRunner()
    res = runner.invoke(cli, ["bench", "--suite", "access", "--scale", "0.002", "--dsn", server.dsn("postgres"),
                              "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "rep / admin" in res.output
    assert len(list(tmp_path.glob("access-*.json"))) == 1
    res = runner.invoke(cli, ["bench", "--suite", "nope", "--dsn", server.dsn("postgres"), "--out", str(tmp_path)])
    assert res.exit_code == 1
    assert "unknown benchmark suite" in res.output


def test_suite_registry_is_the_extension_point(monkeypatch):
    monkeypatch.setitem(bench.SUITES, "x_missing", "benchmarks.no_such_module")
    with pytest.raises(LookupError):
        bench.load_suite("x_missing")
    assert "x_missing" not in bench.available_suites()
    assert {"core", "access"} <= set(bench.available_suites())
