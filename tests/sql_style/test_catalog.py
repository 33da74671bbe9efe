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
    # A SQL-standard body (RETURN / BEGIN ATOMIC) is bound at CREATE time, so search_path
    # cannot redirect it; such helpers carry no SET clause so that the planner can inline
    # them (never SECURITY DEFINER ones, see below).
    unpinned = conn.execute("""
        SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE p.pronamespace::regnamespace::text = ANY(%s)
           AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%%')
           AND NOT (p.prosqlbody IS NOT NULL AND NOT p.prosecdef)
         ORDER BY 1""", (list(SCHEMAS),)).fetchall()
    assert unpinned == []


def test_reconciliation_helpers_are_inlined(conn):
    # the per-field helpers of the mapping functions must be inlined into the statements
    # that use them (a function call per field per record was measurably slow)
    for call in ("crm_private.rc_check('f', j, 'timestamptz')", "crm_private.rc_ts(j)", "crm_private.rc_bool(j)",
                 "crm_private.normalize_domain(j ->> 'w')", "crm_private.derive_label(NULL, j)"):
        plan = "\n".join(r[0] for r in conn.execute(
            f"EXPLAIN (VERBOSE, COSTS OFF) SELECT {call} FROM (VALUES ('{{}}'::jsonb)) v(j)").fetchall())
        name = call.split("(")[0].split(".")[1]
        assert name not in plan, plan


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


def test_no_definer_view_reads_an_rls_table(conn):
    """A view that is not security_invoker reads as its owner: it must not read an RLS table
    (it would bypass the policies). Such views may only read private materialized views, and
    must be security_barrier so caller predicates cannot peek at filtered rows."""
    rows = conn.execute("""
        SELECT DISTINCT v.oid::regclass::text, t.oid::regclass::text
          FROM pg_class v
          JOIN pg_rewrite r ON r.ev_class = v.oid
          JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass
          JOIN pg_class t ON t.oid = d.refobjid AND t.oid <> v.oid
         WHERE v.relkind = 'v' AND v.relnamespace::regnamespace::text = ANY(%s)
           AND NOT coalesce('security_invoker=true' = ANY(v.reloptions), false)
           AND t.relrowsecurity""", (list(SCHEMAS),)).fetchall()
    assert rows == []
    no_barrier = conn.execute("""
        SELECT v.oid::regclass::text FROM pg_class v
         WHERE v.relkind = 'v' AND v.relnamespace::regnamespace::text = ANY(%s)
           AND NOT coalesce('security_invoker=true' = ANY(v.reloptions), false)
           AND NOT coalesce('security_barrier=true' = ANY(v.reloptions), false)""", (list(SCHEMAS),)).fetchall()
    assert no_barrier == []


def test_rls_enabled_and_forced_on_every_table(conn):
    rows = conn.execute("""
        SELECT c.oid::regclass::text FROM pg_class c
         WHERE c.relkind IN ('r', 'p') AND c.relnamespace::regnamespace::text IN ('crm', 'crm_raw')
           AND NOT (c.relrowsecurity AND c.relforcerowsecurity) ORDER BY 1""").fetchall()
    assert rows == []


def test_policies_name_their_roles(conn):
    rows = conn.execute("""
        SELECT schemaname || '.' || tablename || ':' || policyname FROM pg_policies
         WHERE schemaname IN ('crm', 'crm_raw') AND 'public' = ANY(roles)""").fetchall()
    assert rows == []


def test_security_definer_functions_pin_an_empty_search_path(conn):
    rows = conn.execute("""
        SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE p.prosecdef AND p.pronamespace::regnamespace::text = ANY(%s)
           AND NOT coalesce('search_path=""' = ANY(p.proconfig), false) ORDER BY 1""", (list(SCHEMAS),)).fetchall()
    assert rows == []


def test_no_execute_granted_to_public(conn):
    rows = conn.execute("""
        SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE p.pronamespace::regnamespace::text = ANY(%s)
           AND has_function_privilege('public', p.oid, 'EXECUTE') ORDER BY 1""", (list(SCHEMAS),)).fetchall()
    assert rows == []


def test_materialized_views_are_granted_to_nobody(conn):
    rows = conn.execute("""
        SELECT c.oid::regclass::text, a.grantee::regrole::text
          FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
         WHERE c.relkind = 'm' AND a.grantee <> c.relowner""").fetchall()
    assert rows == []
    assert conn.execute("SELECT count(*) FROM pg_class WHERE relkind = 'm'").fetchone()[0] >= 2


def test_no_table_in_crm_private_is_granted(conn):
    rows = conn.execute("""
        SELECT c.oid::regclass::text, a.grantee::regrole::text
          FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
         WHERE c.relkind IN ('r', 'p', 'v', 'm') AND c.relnamespace::regnamespace::text = 'crm_private'
           AND a.grantee <> c.relowner""").fetchall()
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
