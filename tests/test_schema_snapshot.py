"""docs/schema.sql is the pg_dump --schema-only of a freshly migrated database."""

from pathlib import Path

from crm360.snapshot import dump_schema

ROOT = Path(__file__).resolve().parent.parent


def test_schema_snapshot_is_current(db):
    committed = (ROOT / "docs" / "schema.sql").read_text()
    assert dump_schema(db) == committed, (
        "docs/schema.sql is stale: run `python -m crm360.snapshot --dsn <migrated db> --write docs/schema.sql`")
