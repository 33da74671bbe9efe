"""Latency of the Account assistant's tools, called by the official MCP client over stdio.

Usage (after `crm360 demo` and `crm360 embed` in the current directory's embedded server, or
with DATABASE_URL set):  python benchmarks/mcp_latency.py [ACCOUNT] [CALLS]
Prints the start-up time and, per tool, p50/max of CALLS calls (the first 5 not counted).
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


async def main(account: str, calls: int) -> None:
    env = {"PYTHONPATH": ROOT, **{k: os.environ[k] for k in ("CRM360_DATA_DIR", "DATABASE_URL") if k in os.environ}}
    p = StdioServerParameters(command=sys.executable, args=["-m", "crm360.cli", "mcp", "--account", account], env=env)
    t0 = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        async with stdio_client(p, errlog=devnull) as (r, w), ClientSession(r, w) as s:
            await s.initialize()
            print(f"start + initialize: {time.perf_counter() - t0:.2f} s")
            for name, args in [("get_account_summary", {}), ("recent_activity", {"days": 30}),
                               ("search_in_account", {"query": "renewal outage"}), ("timeline", {}),
                               ("resolve_account", {"query": "acme"})]:
                ts = []
                for _ in range(calls):
                    t = time.perf_counter()
                    res = await s.call_tool(name, args)
                    ts.append(time.perf_counter() - t)
                    assert not res.is_error, res
                ts = ts[5:]
                note = (res.structured_content or {}).get("note") or ""
                print(f"{name}: p50 {statistics.median(ts) * 1000:.1f} ms, max {max(ts) * 1000:.1f} ms {note}")


if __name__ == "__main__":
    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "Acme Corp", int(sys.argv[2]) if len(sys.argv) > 2 else 30)
