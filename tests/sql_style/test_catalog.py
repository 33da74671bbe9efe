"""Catalog lints: they read pg_catalog of a freshly migrated database and fail on style breaks."""

from __future__ import annotations

import re

from crm360.migrator import sql_dir

SCHEMAS = ("crm", "crm_raw", "crm_private")
REGISTRY_TABLES = ("crm.node_types", "crm.edge_types", "crm.assertion_types", "crm.event_types")


def test_every_table_view_and_matview_has_a_comment(conn):
    missing = conn.execute("""
        SELECT c.oid::regclass::text FROM pg_class c
         WHERE c.relnamespace::regnamespace::text = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm')
           AND obj_description(c.oid, 'pg_class') IS NULL ORDER BY 1""", (list(SCHEMAS),)).fetchall()
    assert missing == []


def test_every_function_has_a_comment(conn):
    missing = conn.execute("""
        SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE p.pronamespace::regnamespace::text = ANY(%s)
           AND obj_description(p.oid, 'pg_proc') IS NULL ORDER BY 1""", (list(SCHEMAS),)).fetchall()
    assert missing == []


def test_every_function_pins_search_path(conn):
    unpinned = conn.execute("""
        SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE p.pronamespace::regnamespace::text = ANY(%s)
           AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%%')
         ORDER BY 1""", (list(SCHEMAS),)).fetchall()
    assert unpinned == []


def test_every_foreign_key_has_an_index(conn):
    # Registry tables are tiny and never deleted from; FKs to them need no index.
    rows = conn.execute("""
        SELECT con.conrelid::regclass::text, con.conname, con.conkey
          FROM pg_constraint con
         WHERE con.contype = 'f' AND con.connamespace::regnamespace::text = ANY(%s)
           AND NOT (con.confrelid::regclass::text = ANY(%s))
           AND NOT EXISTS (
               SELECT 1 FROM pg_index i
                WHERE i.indrelid = con.conrelid
                  AND (i.indkey::int2[])[0:cardinality(con.conkey) - 1] = con.conkey)
         ORDER BY 1, 2""", (list(SCHEMAS), list(REGISTRY_TABLES))).fetchall()
    assert rows == []


def test_every_view_is_security_invoker(conn):
    rows = conn.execute("""
        SELECT c.oid::regclass::text FROM pg_class c
         WHERE c.relkind = 'v' AND c.relnamespace::regnamespace::text = ANY(%s)
           AND NOT coalesce('security_invoker=true' = ANY(c.reloptions), false)""", (list(SCHEMAS),)).fetchall()
    assert rows == []


def test_every_numbered_migration_sets_lock_timeout():
    for p in sorted(sql_dir().glob("[0-9]*.sql")):
        assert re.search(r"\block_timeout\b", p.read_text()), f"{p.name} does not set lock_timeout"


def test_repeatable_files_do_not_live_in_migrations():
    # Migrations never call repeatable functions: a numbered file must not SELECT crm.<fn>(...).
    fns = {p.stem for p in (sql_dir() / "functions").glob("*.sql")}
    for p in sorted(sql_dir().glob("[0-9]*.sql")):
        # calls inside string literals (COMMENT ON ... IS '...') and comments do not count
        text = re.sub(r"'(?:[^']|'')*'", "''", re.sub(r"--[^\n]*", "", p.read_text()))
        for fn in fns:
            assert not re.search(rf"\bcrm\.{fn}\s*\(", text), f"{p.name} calls repeatable function {fn}"
