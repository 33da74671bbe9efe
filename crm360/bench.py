"""`crm360 bench`: the benchmark runner (DESIGN §8).

A *suite* is a module with ``run(dsn, scale, out_dir) -> dict``:

* ``dsn`` — a superuser connection string to the target server (any database on it); the
  suite creates its own fresh database ``crm360_bench_<suite>`` with :func:`fresh_database`
  (dropped and re-created, migrated through :class:`crm360.migrator.Migrator`);
* ``scale`` — 1.0 is the size the suite's targets are stated for; tests use ~0.01;
* ``out_dir`` — where the suite may write extra artefacts (EXPLAIN plans, ...).

It returns a dict with at least ``suite``, ``scale``, ``measurements`` (a list of
:func:`measurement` dicts) and ``ratios`` (a list of :func:`ratio` dicts); ``setup`` and
``notes`` are optional. The runner adds machine info, the PostgreSQL version, the git commit
and a timestamp, writes ``<out>/<suite>-<UTC timestamp>.json`` and prints a table.

Every benchmark lives in ``benchmarks/`` (suites and stand-alone scripts, with their results
in ``benchmarks/RESULTS.md`` and ``benchmarks/out/``); this module is only the CLI's runner,
so suites run from a checkout (the checkout root is put on sys.path). Extension point: add the
suite to :data:`SUITES` (name → importable module path), or call :func:`register_suite`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

#: suite name → module path. A module must define ``run(dsn, scale, out_dir) -> dict``.
SUITES: dict[str, str] = {
    "core": "benchmarks.core_bench",
    "access": "benchmarks.access_bench",
    "ingest": "benchmarks.ingest_bench",
}
# (benchmarks/account360_bench.py and the other scripts there are stand-alone: python <script> --help)

#: password given to the login roles the suites create (cluster-wide roles, dropped at the end)
BENCH_PASSWORD = "crm360-bench"


def register_suite(name: str, module: str) -> None:
    """Register (or replace) a suite: ``module`` must define ``run(dsn, scale, out_dir)``."""
    SUITES[name] = module


def _ensure_checkout_on_path() -> None:
    root = Path(__file__).resolve().parent.parent
    if (root / "benchmarks").is_dir() and str(root) not in sys.path:
        sys.path.insert(0, str(root))


def load_suite(name: str):
    """Import a suite module; raises LookupError when unknown or not (yet) present."""
    if name not in SUITES:
        raise LookupError(f"unknown benchmark suite {name!r}; known: {', '.join(sorted(SUITES))}")
    _ensure_checkout_on_path()
    try:
        mod = importlib.import_module(SUITES[name])
    except ModuleNotFoundError as e:
        raise LookupError(f"suite {name!r} ({SUITES[name]}) is not available: {e}") from e
    if not callable(getattr(mod, "run", None)):
        raise LookupError(f"suite {name!r} ({SUITES[name]}) has no run(dsn, scale, out_dir)")
    return mod


def available_suites() -> list[str]:
    out = []
    for name in SUITES:
        with contextlib.suppress(LookupError):
            load_suite(name)
            out.append(name)
    return out


# ------------------------------------------------------------------ connections
def dsn_with(dsn: str, **overrides) -> str:
    params = conninfo_to_dict(dsn)
    params.update({k: v for k, v in overrides.items() if v is not None})
    return make_conninfo(**params)


def fresh_database(dsn: str, name: str, echo: Callable[[str], None] = lambda s: None) -> str:
    """Drop and re-create database ``name`` on the server of ``dsn``, migrate it; return its DSN."""
    from crm360.migrator import Migrator

    admin = dsn_with(dsn, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    target = dsn_with(dsn, dbname=name)
    Migrator(target, echo=echo).migrate()
    return target


def create_login(conn: psycopg.Connection, role: str, *groups: str) -> None:
    """(Re-)create a LOGIN role (non-superuser) in the given crm groups."""
    drop_login(conn, role)
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(BENCH_PASSWORD)))
    for g in groups:
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(g), sql.Identifier(role)))


def drop_login(conn: psycopg.Connection, role: str) -> None:
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    if exists:
        with contextlib.suppress(psycopg.Error):
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def connect_as(dsn: str, role: str, autocommit: bool = True) -> psycopg.Connection:
    return psycopg.connect(dsn_with(dsn, user=role, password=BENCH_PASSWORD), autocommit=autocommit)


def drop_database(dsn: str, name: str) -> None:
    with psycopg.connect(dsn_with(dsn, dbname="postgres"), autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def phase(setup: dict, name: str) -> Iterator[None]:
    """Time a setup phase into setup[name] (seconds)."""
    t0 = time.perf_counter()
    yield
    setup[name] = round(time.perf_counter() - t0, 3)


# ------------------------------------------------------------------ measurements
def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def measurement(name: str, role: str, raw_ms: list[float], *, kind: str = "read", group: str | None = None,
                rows: int | None = None, calls: int | None = None, **extra) -> dict:
    """One measurement: raw timings in ms plus median/p95 (and per-second rate for throughput)."""
    m: dict[str, Any] = {
        "name": name, "group": group or name, "role": role, "kind": kind, "n": len(raw_ms),
        "median_ms": round(statistics.median(raw_ms), 4) if raw_ms else None,
        "p95_ms": round(_pct(raw_ms, 0.95), 4) if raw_ms else None,
        "mean_ms": round(statistics.fmean(raw_ms), 4) if raw_ms else None,
        "raw_ms": [round(x, 4) for x in raw_ms],
    }
    if rows is not None:
        m["rows"] = rows
    if kind == "throughput":
        total = sum(raw_ms) / 1000.0
        m["calls"] = calls if calls is not None else len(raw_ms)
        m["total_s"] = round(total, 4)
        m["per_s"] = round(m["calls"] / total, 1) if total > 0 else None
    m.update(extra)
    return m


def time_query(conn: psycopg.Connection, query, params=None, *, warmup: int = 3, repeat: int = 15,
               max_seconds: float = 30.0) -> tuple[list[float], int]:
    """Run a read query warmup+repeat times; return (ms per run, rows of the last run).

    A run is execute + fetchall on the client (what a caller waits for). When the warm-up
    shows the query is slow, repeats are capped so the whole measurement stays under
    ~max_seconds (never fewer than 5)."""
    rows = 0
    t_warm = 0.0
    for _ in range(max(warmup, 1)):
        t0 = time.perf_counter()
        rows = len(conn.execute(query, params).fetchall())
        t_warm = time.perf_counter() - t0
    if t_warm > 0 and repeat * t_warm > max_seconds:
        repeat = max(5, int(max_seconds / t_warm))
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        rows = len(conn.execute(query, params).fetchall())
        out.append((time.perf_counter() - t0) * 1000.0)
    return out, rows


def time_calls(conn: psycopg.Connection, query, params_seq, *, batched: bool = False) -> list[float]:
    """Call ``query`` once per params; per-call ms. ``batched``: all calls in one transaction
    (the commit is added to the last call); otherwise autocommit, one transaction per call."""
    out = []
    if batched:
        t_all = time.perf_counter()
        with conn.transaction():
            for p in params_seq:
                t0 = time.perf_counter()
                conn.execute(query, p).fetchall()
                out.append((time.perf_counter() - t0) * 1000.0)
            t_before_commit = time.perf_counter()
        commit_ms = (time.perf_counter() - t_before_commit) * 1000.0
        if out:
            out[-1] += commit_ms
        _ = t_all
        return out
    for p in params_seq:
        t0 = time.perf_counter()
        conn.execute(query, p).fetchall()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def ratio(name: str, numerator: dict, denominator: dict, *, target: float | None = None,
          stat: str = "median_ms", higher_is_better: bool = False) -> dict:
    """Ratio of two measurements (median by default); ``met`` when a target is given."""
    a, b = numerator.get(stat), denominator.get(stat)
    r = (a / b) if a is not None and b else None
    out = {"name": name, "numerator": f"{numerator['name']} as {numerator['role']}",
           "denominator": f"{denominator['name']} as {denominator['role']}", "stat": stat,
           "ratio": round(r, 3) if r is not None else None, "target": target}
    if higher_is_better:
        out["higher_is_better"] = True
    if target is not None and r is not None:
        out["met"] = (r >= target) if higher_is_better else (r <= target)
    # the same ratio on p95, as a noise check
    a95, b95 = numerator.get("p95_ms"), denominator.get("p95_ms")
    if stat == "median_ms" and a95 is not None and b95:
        out["ratio_p95"] = round(a95 / b95, 3)
    return out


def target(name: str, value: float | None, goal: float, unit: str, *, higher_is_better: bool = True) -> dict:
    met = None if value is None else (value >= goal if higher_is_better else value <= goal)
    return {"name": name, "value": value, "goal": goal, "unit": unit,
            "comparison": ">=" if higher_is_better else "<=", "met": met}


def explain(conn: psycopg.Connection, query, params=None) -> str:
    rows = conn.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ") + (
        query if isinstance(query, sql.Composable) else sql.SQL(query)), params).fetchall()
    return "\n".join(r[0] for r in rows)


# ------------------------------------------------------------------ environment
def machine_info() -> dict:
    info = {"hostname": platform.node(), "platform": platform.platform(), "python": platform.python_version(),
            "cpus": os.cpu_count()}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    return info


def server_info(dsn: str) -> dict:
    with psycopg.connect(dsn_with(dsn, dbname="postgres"), autocommit=True) as c:
        out = {"version": c.execute("SELECT version()").fetchone()[0],
               "server_version": c.execute("SHOW server_version").fetchone()[0]}
        for s in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit"):
            out[s] = c.execute(sql.SQL("SHOW {}").format(sql.Identifier(s))).fetchone()[0]
    return out


def git_info() -> dict:
    root = Path(__file__).resolve().parent.parent
    out: dict[str, Any] = {}
    with contextlib.suppress(Exception):
        out["commit"] = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                       text=True, check=True).stdout.strip()
        out["branch"] = subprocess.run(["git", "-C", str(root), "rev-parse", "--abbrev-ref", "HEAD"],
                                       capture_output=True, text=True, check=True).stdout.strip()
        out["dirty"] = bool(subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "sql", "crm360"],
                                           capture_output=True, text=True, check=True).stdout.strip())
    return out


# ------------------------------------------------------------------ running
def run_suite(name: str, dsn: str, scale: float, out_dir: Path) -> tuple[dict, Path]:
    """Run one suite, add the environment, write the JSON; return (result, json path)."""
    mod = load_suite(name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    result = mod.run(dsn, scale, out_dir)
    result.setdefault("suite", name)
    result.setdefault("scale", scale)
    result.setdefault("measurements", [])
    result.setdefault("ratios", [])
    result["wall_s"] = round(time.perf_counter() - t0, 2)
    result["timestamp"] = started.isoformat(timespec="seconds")
    result["machine"] = machine_info()
    result["postgres"] = server_info(dsn)
    result["git"] = git_info()
    result["command"] = " ".join(["crm360", *sys.argv[1:]]) if sys.argv and "crm360" in sys.argv[0] else None
    path = out_dir / f"{name}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    return result, path


def render(result: dict, console) -> None:
    """Print a suite's measurements, ratios and targets as rich tables."""
    from rich.table import Table

    t = Table(title=f"suite {result['suite']} (scale {result['scale']}, {result.get('wall_s', '?')} s)")
    for col in ("measurement", "role", "n", "median ms", "p95 ms", "rows", "per s"):
        t.add_column(col, justify="left" if col in ("measurement", "role") else "right")
    for m in result["measurements"]:
        t.add_row(m["name"], m["role"], str(m["n"]), f"{m['median_ms']:.3f}", f"{m['p95_ms']:.3f}",
                  "" if m.get("rows") is None else str(m["rows"]),
                  "" if m.get("per_s") is None else f"{m['per_s']:,.0f}")
    console.print(t)
    if result["ratios"]:
        r = Table(title="ratios (median; p95 in brackets)")
        for col in ("ratio", "value", "target", "met"):
            r.add_column(col)
        for x in result["ratios"]:
            val = "n/a" if x["ratio"] is None else f"{x['ratio']:.2f}×" + (
                f" [{x['ratio_p95']:.2f}×]" if x.get("ratio_p95") is not None else "")
            r.add_row(x["name"], val, "" if x.get("target") is None else
                      f"{'≥' if x.get('higher_is_better') else '≤'} {x['target']}×",
                      "" if "met" not in x else ("yes" if x["met"] else "NO"))
        console.print(r)
    if result.get("targets"):
        g = Table(title="targets")
        for col in ("target", "value", "goal", "met"):
            g.add_column(col)
        for x in result["targets"]:
            g.add_row(x["name"], "n/a" if x["value"] is None else f"{x['value']:,.1f} {x['unit']}",
                      f"{x['comparison']} {x['goal']:,} {x['unit']}",
                      "n/a" if x["met"] is None else ("yes" if x["met"] else "NO"))
        console.print(g)
    for n in result.get("notes", []):
        console.print(f"note: {n}", markup=False, highlight=False)


def keep_data() -> bool:
    """Keep the bench database and login roles after a run (``--keep`` / CRM360_BENCH_KEEP=1)."""
    return os.environ.get("CRM360_BENCH_KEEP", "") not in ("", "0", "false", "no")


def cleanup(dsn: str, dbname: str, roles: list[str]) -> None:
    """Drop the suite's database and its cluster-wide login roles, unless keep_data()."""
    if keep_data():
        return
    drop_database(dsn, dbname)
    with psycopg.connect(dsn_with(dsn, dbname="postgres"), autocommit=True) as c:
        for r in roles:
            c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(r)))
