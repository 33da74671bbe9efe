"""API reference of the `crm` schema's functions, generated from their COMMENT ON FUNCTION.

`generate_api_reference(dsn)` renders one Markdown section per function (signature, then
the comment). docs/api.md keeps the generated text between the markers below; a test checks
that it is up to date. Regenerate with:

    python -m crm360.apidoc --dsn postgresql://... --write docs/api.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg

BEGIN = "<!-- api:begin -->"
END = "<!-- api:end -->"

FUNCTIONS_SQL = """
SELECT p.proname,
       pg_catalog.pg_get_function_identity_arguments(p.oid) AS identity_args,
       pg_catalog.pg_get_function_arguments(p.oid) AS args,
       pg_catalog.pg_get_function_result(p.oid) AS result,
       pg_catalog.obj_description(p.oid, 'pg_proc') AS comment
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'crm'::regnamespace
   AND p.prokind = 'f'
 ORDER BY p.proname, identity_args
"""


def _render(rows) -> str:
    out = ["## SQL API reference (schema `crm`)", "",
           "Generated from `COMMENT ON FUNCTION` by `crm360.apidoc`; do not edit by hand.", ""]
    for name, _identity, args, result, comment in rows:
        out.append(f"### `crm.{name}`")
        out.append("")
        out.append("```sql")
        out.append(f"crm.{name}({args}) RETURNS {result}")
        out.append("```")
        out.append("")
        out.append((comment or "(undocumented)").strip())
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def generate_api_reference(dsn: str) -> str:
    """Markdown: one section per function of schema crm (signature, comment), sorted by name."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(FUNCTIONS_SQL).fetchall()
    return _render(rows)


def readme_section(text: str) -> str | None:
    """The text between the api markers of a README, or None when the markers are missing."""
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def replace_section(text: str, generated: str) -> str:
    if BEGIN not in text or END not in text:
        head = text.rstrip("\n") + "\n\n" if text.strip() else ""
        return f"{head}{BEGIN}\n{generated}{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    return f"{head}{BEGIN}\n{generated}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--write", metavar="README", help="replace the section between the api markers")
    a = ap.parse_args(argv)
    generated = generate_api_reference(a.dsn)
    if a.write:
        p = Path(a.write)
        p.write_text(replace_section(p.read_text() if p.exists() else "", generated))
    else:
        sys.stdout.write(generated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
