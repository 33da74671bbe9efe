"""Finding 2: definer functions reuse a temp table the caller created first (with a trigger)."""

from __future__ import annotations

import psycopg

from tests.security.conftest import assert_probe_ran_only_as, dsn_of, ingest, install_probe


def test_connector_rc_stage_trigger_never_runs_as_owner(sec):
    """Finding 2 (crm_connector) — crm.reconcile (via crm_private.rc_prepare) does
    `CREATE TEMP TABLE IF NOT EXISTS rc_stage …` and TRUNCATEs it. A connector creates
    pg_temp.rc_stage first, with a BEFORE TRUNCATE trigger running its own function, then
    calls crm.reconcile() with pending records.
    Property: the connector's trigger never runs as another role (the crm360 owner, a
    superuser); the connector does not end up a superuser.
    """
    w = sec
    w.login("conn", "crm_connector", user=False)
    role = w.role_name("conn")
    ingest(dsn_of(w, "conn"), "salesforce", "User", "salesforce/User.csv", reconcile=False)
    c = w.connect("conn")
    probe = install_probe(c)
    c.execute("CREATE TEMP TABLE rc_stage (record_id bigint, external_id text, node_id uuid)")
    c.execute("CREATE TRIGGER probe BEFORE TRUNCATE ON pg_temp.rc_stage "
              "FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.crm_probe_trigger()")
    try:
        c.execute("SELECT * FROM crm.reconcile('salesforce')").fetchall()
    except psycopg.Error:
        pass   # refusing is fine; what matters is who ran the trigger
    assert_probe_ran_only_as(probe, w.admin, role)


def test_admin_merge_temp_table_trigger_never_runs_as_owner(sec):
    """Finding 2 (crm_admin) — crm.merge_nodes does `CREATE TEMP TABLE IF NOT EXISTS
    mg_edges …` then TRUNCATEs it. A crm_admin login (not a superuser) creates pg_temp.mg_edges
    first with a BEFORE TRUNCATE trigger, then merges two duplicate accounts.
    Property: the admin's trigger never runs as another role (the crm360 owner, a
    superuser); the admin login does not end up a superuser.
    """
    w = sec
    role = w.role_name("boss")
    keep, drop = w.node("org", "Dup Keep"), w.node("org", "Dup Drop")
    boss = w.connect("boss")
    probe = install_probe(boss)
    boss.execute("CREATE TEMP TABLE mg_edges (id uuid, edge_type text, source_id uuid, target_id uuid, "
                 "properties jsonb, effective_from timestamptz)")
    boss.execute("CREATE TEMP TABLE mg_assertions (old_id uuid, new_id uuid)")
    for table in ("mg_edges", "mg_assertions"):
        boss.execute(f"CREATE TRIGGER probe BEFORE TRUNCATE ON pg_temp.{table} "
                     "FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.crm_probe_trigger()")
    try:
        boss.execute("SELECT crm.merge_nodes(%s, %s, 'duplicate')", (keep, drop))
    except psycopg.Error:
        pass
    assert_probe_ran_only_as(probe, w.admin, role)
