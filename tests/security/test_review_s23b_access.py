"""Review s23b: what ordinary LOGIN roles can do with the parallel-reconcile API."""

from __future__ import annotations

import threading

import psycopg

from tests.test_reconcile_parallel import land_all

FUNCS = ["crm.reconcile(text, text[])", "crm.reconcile_plan(text)", "crm_private.reconcile_run(text, name, text[])",
         "crm_private.xact_lock(text, boolean)", "crm_private.sources_of(name)",
         "crm_private.rc_resolves_identity(text, text)", "crm_private.mark_read_models_changed(text[])",
         "crm_private.rc_refresh_stats(double precision)"]


def test_privileges(world):
    w = world
    for name, grp in (("rita", "crm_reader"), ("wally", "crm_writer"), ("conny", "crm_connector")):
        w.login(name, grp, user=(grp != "crm_connector"))
    out = {}
    for name in ("rita", "wally", "conny"):
        role = w.role_name(name)
        for f in FUNCS:
            try:
                out[(name, f)] = w.admin.execute("SELECT has_function_privilege(%s, %s, 'EXECUTE')",
                                                 (role, f)).fetchone()[0]
            except psycopg.Error as e:
                out[(name, f)] = type(e).__name__
                w.admin.rollback() if not w.admin.autocommit else None
    for k, v in sorted(out.items()):
        print(k, v)
    assert not any(v is True for (n, f), v in out.items() if n in ("rita", "wally") and "reconcile" in f)
    assert out[("rita", "crm_private.xact_lock(text, boolean)")] is False
    assert out[("conny", "crm_private.xact_lock(text, boolean)")] is False


def test_connector_probes(world, db):
    land_all(db)
    w = world
    before = w.admin.execute("SELECT source, object, status, count(*) FROM crm_raw.records GROUP BY 1,2,3 ORDER BY 1,2,3").fetchall()
    w.login("conny", "crm_connector", user=False)
    w.admin.execute("SELECT crm.allow_source(%s, 'clm')", (w.role_name("conny"),))
    c = w.connect("conny")
    res = {}
    for objs in (["stripe/customers"], ["stripe/nope"], ["clm/contracts", "stripe/invoices"],
                 ["clm/contracts", None], ["CLM/contracts"], [" clm/contracts"], ["clm/contracts/"],
                 ["clm//contracts"], ["clm/contracts"] * 100000, ["clm/x"] * 1000):
        try:
            r = c.execute("SELECT * FROM crm.reconcile(NULL, %s::text[])", (objs,)).fetchall()
            res[str(objs)[:60]] = ("ok", r)
        except psycopg.Error as e:
            res[str(objs)[:60]] = (e.sqlstate, str(e)[:150], len(str(e)))
    for k, v in res.items():
        print(k, v)
    # direct call of reconcile_run naming another role
    w.login("adm", "crm_admin", user=False)
    for args in ((None, w.role_name("adm"), None), (None, "postgres", None), (None, "crm_owner", None)):
        try:
            r = c.execute("SELECT * FROM crm_private.reconcile_run(%s, %s, %s)", args).fetchall()
            print("reconcile_run", args[1], "->", r)
        except psycopg.Error as e:
            print("reconcile_run", args[1], "->", e.sqlstate, str(e)[:120])
    for r in ("postgres", w.role_name("adm"), "crm_owner"):
        print("sources_of", r, c.execute("SELECT crm_private.sources_of(%s)", (r,)).fetchone())
    print("plan", c.execute("SELECT * FROM crm.reconcile_plan()").fetchall())
    for s in ("stripe", "nope"):
        try:
            print("plan", s, c.execute("SELECT * FROM crm.reconcile_plan(%s)", (s,)).fetchall())
        except psycopg.Error as e:
            print("plan", s, e.sqlstate, str(e)[:150])
    # pending counts as an admin (all) vs records the connector can see
    try:
        print("records visible to conny:", c.execute("SELECT source, count(*) FROM crm_raw.records GROUP BY 1").fetchall())
    except psycopg.Error as e:
        print("records:", e.sqlstate)
    try:
        print("source_objects visible to conny:", c.execute("SELECT count(*) FROM crm_raw.source_objects").fetchall())
    except psycopg.Error as e:
        print("source_objects:", e.sqlstate)
    after = w.admin.execute("SELECT source, object, status, count(*) FROM crm_raw.records GROUP BY 1,2,3 ORDER BY 1,2,3").fetchall()
    # nothing of another source was applied
    assert [r for r in before if r[0] != "clm"] == [r for r in after if r[0] != "clm"]


def test_connector_without_sources_holds_the_reconcile_lock(world, db, conn):
    """A crm_connector login allowed no source (or every source disallowed again) reconciles
    nothing, yet crm.reconcile takes the (shared) reconcile lock: an open transaction of it
    holds every identity run and the orphan retry (pre-existing with the exclusive lock)."""
    land_all(db)
    w = world
    w.login("nobody", "crm_connector", user=False)
    c = w.connect("nobody", autocommit=False)
    assert c.execute("SELECT * FROM crm.reconcile(NULL, '{}'::text[])").fetchall() == []
    out = {}

    def work():
        with psycopg.connect(db, autocommit=True) as a:
            out["pid"] = a.info.backend_pid
            a.execute("SET lock_timeout = '3s'")
            try:
                out["rows"] = a.execute("SELECT * FROM crm.reconcile('stripe')").fetchall()
            except psycopg.Error as e:
                out["error"] = e.sqlstate
    t = threading.Thread(target=work)
    t.start()
    t.join(20)
    c.rollback()
    print(out)
    assert out.get("error") != "55P03", "an admin's identity run was held by a connector allowed nothing"
