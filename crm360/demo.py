"""`crm360 demo` — the main job: migrate, then show what crm360 holds."""

from __future__ import annotations

import time

import psycopg
from rich.console import Console
from rich.table import Table

from crm360.migrator import Migrator

SUMMARY_SQL = """
SELECT n.nspname AS schema,
       count(*) FILTER (WHERE c.relkind IN ('r', 'p')) AS tables,
       count(*) FILTER (WHERE c.relkind = 'v') AS views,
       count(*) FILTER (WHERE c.relkind = 'm') AS matviews,
       (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = n.oid) AS functions
  FROM pg_namespace n
  LEFT JOIN pg_class c ON c.relnamespace = n.oid
 WHERE n.nspname IN ('crm', 'crm_raw', 'crm_private')
 GROUP BY n.oid, n.nspname
 ORDER BY n.nspname
"""


def run(dsn: str, console: Console) -> None:
    t0 = time.monotonic()
    console.print("[bold]crm360 demo[/bold] — migrating")
    result = Migrator(dsn, echo=lambda s: console.print(f"  {s}", highlight=False)).migrate()
    console.print(f"  {len(result.applied)} migration(s) applied, "
                  f"{len(result.repeatables)} repeatable files applied")
    with psycopg.connect(dsn) as conn:
        t = Table(title="crm360 schemas")
        for col in ("schema", "tables", "views", "materialized views", "functions"):
            t.add_column(col)
        for row in conn.execute(SUMMARY_SQL):
            t.add_row(*[str(x) for x in row])
        console.print(t)
        r = Table(title="Registered node types")
        for col in ("node type", "required properties", "access-checked", "code prefix"):
            r.add_column(col)
        for row in conn.execute("SELECT node_type, array_to_string(required_properties, ', '), "
                                "access_checked, coalesce(code_prefix, '') FROM crm.node_types "
                                "ORDER BY node_type"):
            r.add_row(row[0], row[1], "yes" if row[2] else "no", row[3])
        console.print(r)
    console.print(f"done in {time.monotonic() - t0:.1f}s")
