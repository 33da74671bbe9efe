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


def test_definer_functions_pin_search_path_with_pg_temp_last(conn):
    """A SECURITY DEFINER function runs as crm_owner: `search_path = ''` still searches pg_temp
    FIRST for types and relations (a caller's pg_temp.text domain would run its CHECK as the
    owner). Every definer function pins `pg_catalog, pg_temp` — pg_temp explicitly last."""
    rows = conn.execute("""
        SELECT p.oid::regprocedure::text, p.proconfig FROM pg_proc p
         WHERE p.prosecdef AND p.pronamespace::regnamespace::text = ANY(%s)
           AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY(p.proconfig), false) ORDER BY 1""",
                        (list(SCHEMAS),)).fetchall()
    assert rows == []


def test_every_pinned_search_path_ends_with_pg_temp(conn):
    """Invoker functions run as crm_owner too when crm360's definer code calls them, and
    trigger functions when crm360's statements fire them: the same rule for every function."""
    rows = conn.execute("""
        SELECT p.oid::regprocedure::text, c FROM pg_proc p, unnest(p.proconfig) c
         WHERE p.pronamespace::regnamespace::text = ANY(%s) AND c LIKE 'search_path=%%'
           AND c <> 'search_path=pg_catalog, pg_temp' ORDER BY 1""", (list(SCHEMAS),)).fetchall()
    assert rows == []


def test_definer_functions_pin_crm360_flags_off(conn):
    """crm.bulk_apply / crm.acl_maintenance / crm.purge switch validation off for crm360's own
    statements: no value a caller set may reach a SECURITY DEFINER function (SET clause)."""
    rows = conn.execute("""
        SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE p.prosecdef AND p.pronamespace::regnamespace::text = ANY(%s)
           AND NOT (coalesce(p.proconfig, '{}') @> ARRAY['crm.bulk_apply=off', 'crm.acl_maintenance=off',
                                                         'crm.purge=off'])
         ORDER BY 1""", (list(SCHEMAS),)).fetchall()
    assert rows == []


def test_no_crm360_object_is_owned_by_a_superuser(conn):
    """Everything is owned by crm_owner (NOLOGIN, not a superuser, no BYPASSRLS): a hijacked
    SECURITY DEFINER function is never a superuser."""
    owner = conn.execute("SELECT rolsuper, rolbypassrls, rolcanlogin, rolcreaterole FROM pg_roles "
                         "WHERE rolname = 'crm_owner'").fetchone()
    assert owner == (False, False, False, False)
    rows = conn.execute("""
        SELECT 'schema ' || n.nspname, n.nspowner::regrole::text FROM pg_namespace n
         WHERE n.nspname = ANY(%(s)s) AND n.nspowner <> 'crm_owner'::regrole
        UNION ALL
        SELECT c.relkind::text || ' ' || c.oid::regclass::text, c.relowner::regrole::text FROM pg_class c
         WHERE c.relnamespace::regnamespace::text = ANY(%(s)s) AND c.relowner <> 'crm_owner'::regrole
        UNION ALL
        SELECT 'function ' || p.oid::regprocedure::text, p.proowner::regrole::text FROM pg_proc p
         WHERE p.pronamespace::regnamespace::text = ANY(%(s)s) AND p.proowner <> 'crm_owner'::regrole
        UNION ALL
        SELECT 'type ' || t.oid::regtype::text, t.typowner::regrole::text FROM pg_type t
         WHERE t.typnamespace::regnamespace::text = ANY(%(s)s) AND t.typowner <> 'crm_owner'::regrole
        """, {"s": list(SCHEMAS)}).fetchall()
    assert rows == []
    supers = conn.execute("""
        SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
         WHERE p.pronamespace::regnamespace::text = ANY(%s) AND r.rolsuper""", (list(SCHEMAS),)).fetchall()
    assert supers == []


def test_no_function_reuses_a_temp_table_that_may_exist_before_the_call(conn):
    """crm360's definer code runs in the caller's session, whose temporary schema the caller
    controls: CREATE TEMP TABLE IF NOT EXISTS would adopt a table the caller prepared (with a
    trigger that then runs as crm_owner)."""
    rows = conn.execute(r"""
        SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE p.pronamespace::regnamespace::text = ANY(%s)
           AND p.prosrc ~* 'create\s+(temp|temporary)\s+table\s+if\s+not\s+exists'""", (list(SCHEMAS),)).fetchall()
    assert rows == []


# Least privilege for the internal helpers (sql/rls/000_privileges.sql): what each role may
# EXECUTE in crm_private, including what it inherits. Adding a grant means adding it here,
# with a reason: the helpers a role may call answer only about the caller.
READER_HELPERS = {
    "actor_is_admin", "actor_principals", "actor_grants", "actor_has_grants", "actor_grant_node_types", "actor_can_read_assertion_type",
    "actor_of", "acting_user", "caller_principals", "caller_grants", "caller_identity", "caller_sources", "sources_of",
    "visible_node_ids", "account_quality_of", "quality_items", "source_freshness_at", "sync_runs_between",
    "node_visible", "node_grant_match", "type_grant_match", "acl_norm", "acl_maintenance", "derive_label",
    "claim_problems", "raise_not_visible", "require_admin", "normalize_domain", "resolve_account_id",
    "source_group", "scope_list", "accounts_360_stored", "node_by_key", "read_model_status", "invoice_due_at",
    # crm.search's and crm.search_in_account's definer helpers (answer only for the caller's
    # trusted role) and the fold crm.search_in_account inlines (a pure function)
    "search_nodes", "search_chunks", "search_fold",
    # crm.search_in_account's branches, run as the caller (under the chunks policy) for a user
    # with node grants: invoker functions whose arguments can only narrow what is read
    "search_branches", "search_chunks_text", "search_chunks_vector", "search_typo_query",
    # the customer model (issue 15): suppression (inlined into crm.customers and the read API) and
    # the system-role test of bot: tags (both answer only about the caller / the given node as seen)
    "is_suppressed", "is_system_role",
    # issue 16 item 2: the live half of the materialized wrappers (definer; answers only for the
    # caller's trusted role, like visible_node_ids) and the typed acl tokens (pure: the
    # expression of the index crm.nodes_typed_acl, evaluated as whoever writes a node)
    "visible_changed_node_ids", "typed_acl"}
WRITER_HELPERS = READER_HELPERS | {
    "can_write_node", "writable_node_types", "writable_edge_types", "writable_event_types", "lock_opportunity",
    "attach_event_body", "assertion_lock",
    # can_write_node is role_can_write_node(current_user, …) (definer: one identity lookup, the
    # node read once; answers only for a role the session may become, as SET ROLE would); the
    # work of crm.supersede_assertion (invoker), crm.advance_deal_stage, crm.create_opportunity and crm.log_crm_activity
    # (definer: check the caller's trusted role once, write what it may), and the events and
    # nodes triggers' rules for a writer (actor, team tags)
    "role_can_write_node", "supersede_assertion_as", "advance_deal_stage_as", "create_opportunity_as",
    "log_crm_activity_as",
    "writer_actor_system", "tags_only_own_teams",
    "refresh_event_chunks",   # attach_event_body chunks the text it stored (rebuilds from the graph; returns nothing)
    # the customer model (issue 15): invoker helpers of the write API that check the caller's
    # scope as the caller (tag_nodes, segment_change, require_writable), the filter compiler
    # (returns SQL text, runs nothing), the definer behind crm.add_channel (re-checks that the
    # caller's role may write the person: role_can_write_node) and the note-history keeper
    # (keeps only the version a note has right now)
    "add_channel_as", "tag_nodes", "require_writable", "segment_change", "compile_segment_filter",
    "keep_note_version",
    # the review hardening: the segment-properties check the segment trigger runs as the caller
    # (validates JSON, reads nothing private) and the channel-tie verdict (definer; answers only
    # for the caller's trusted role, a verdict without ids)
    "check_segment_properties", "channel_edge_check",
    "node_write_rule"}   # the write rule can_write_node and the customer-model policies share (pure)
EXPECTED_HELPERS = {
    "crm_reader": READER_HELPERS,
    "crm_writer": WRITER_HELPERS,
    "crm_service": WRITER_HELPERS | {"act_as_token"},
    # elt_payload: crm_raw.land_from (invoker) builds each record from the loader's row with it
    # chunks_to_embed / store_embeddings: the embedder (issue 14) reads chunk text and stores vectors
    # rc_resolves_identity: crm.reconcile_plan (invoker) splits the steps with it (pure, names no data)
    # list_run_deliveries: crm_raw.land_staged (invoker) lists what a full refresh delivered again
    # through it (definer: the run must be running, full-refresh and of a source the caller may
    # land; only records of that run's source and object)
    "crm_connector": READER_HELPERS | {"reconcile_run", "reconcile_orphans_run", "merge_nodes_as", "rc_ts",
                                       "elt_payload", "rc_resolves_identity", "list_run_deliveries"},
    "crm_admin": WRITER_HELPERS | {"reconcile_run", "reconcile_orphans_run", "merge_nodes_as", "rc_ts", "elt_payload",
                                   "rc_resolves_identity", "list_run_deliveries",
                                   "log_access_event",
                                   "log_restriction_events", "principals_of", "grants_of", "purge_node_data",
                                   "chunks_to_embed", "store_embeddings", "refresh_chunks"},
}
NEVER = {"xact_lock", "visible_among", "principals_of", "grants_of", "login_user", "act_as_mac", "quality_items_all", "log_access_event",
         "log_restriction_events", "purge_node_data", "purge_raw", "rc_apply", "rc_prepare", "sync_owner_teams",
         "mark_read_models_changed", "refresh_read_model", "chunk_text",
         "write_customer_events", "match_companies_for"}


def test_internal_helpers_execute_only_where_needed(conn):
    for role, expected in EXPECTED_HELPERS.items():
        have = {r[0] for r in conn.execute("""
            SELECT DISTINCT p.proname FROM pg_proc p
             WHERE p.pronamespace = 'crm_private'::regnamespace
               AND has_function_privilege(%s, p.oid, 'EXECUTE')""", (role,)).fetchall()}
        assert have == expected, (role, sorted(have - expected), sorted(expected - have))
        if role in ("crm_reader", "crm_writer", "crm_service", "crm_connector"):
            assert not (have & NEVER), (role, have & NEVER)


def test_trigger_functions_are_executable_by_nobody(conn):
    """PostgreSQL does not check EXECUTE when a trigger fires; nobody needs to call one."""
    rows = conn.execute("""
        SELECT p.oid::regprocedure::text, r.rolname FROM pg_proc p, pg_roles r
         WHERE p.pronamespace::regnamespace::text = ANY(%s) AND p.prorettype = 'trigger'::regtype
           AND r.rolname IN ('crm_reader', 'crm_writer', 'crm_service', 'crm_connector', 'crm_admin')
           AND has_function_privilege(r.oid, p.oid, 'EXECUTE')""", (list(SCHEMAS),)).fetchall()
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
    """Nothing in crm_private is granted — except security_invoker views, which read the base
    tables as the reader (row-level security applies): the shared definition of a read model."""
    rows = conn.execute("""
        SELECT c.oid::regclass::text, a.grantee::regrole::text
          FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
         WHERE c.relkind IN ('r', 'p', 'v', 'm') AND c.relnamespace::regnamespace::text = 'crm_private'
           AND a.grantee <> c.relowner
           AND NOT (c.relkind = 'v' AND coalesce('security_invoker=true' = ANY(c.reloptions), false))""").fetchall()
    assert rows == []


def test_every_numbered_migration_sets_lock_timeout():
    for p in sorted(sql_dir().glob("[0-9]*.sql")):
        assert re.search(r"\block_timeout\b", p.read_text()), f"{p.name} does not set lock_timeout"


def test_repeatable_files_do_not_live_in_migrations():
    # Migrations never call repeatable functions: a numbered file must not SELECT crm.<fn>(...).
    fns = {p.stem for p in (sql_dir() / "functions").rglob("*.sql")}
    for p in sorted(sql_dir().glob("[0-9]*.sql")):
        # calls inside string literals (COMMENT ON ... IS '...') and comments do not count
        text = re.sub(r"'(?:[^']|'')*'", "''", re.sub(r"--[^\n]*", "", p.read_text()))
        # (a DROP FUNCTION naming an old or new signature is not a call)
        text = re.sub(r"DROP FUNCTION IF EXISTS [\w.]+\([^)]*\)", "", text)
        for fn in fns:
            assert not re.search(rf"\bcrm\.{fn}\s*\(", text), f"{p.name} calls repeatable function {fn}"
