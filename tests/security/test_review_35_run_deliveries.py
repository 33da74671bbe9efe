"""Review of migration 0035 (crm_raw.run_deliveries: what a full-refresh run delivered again).

F1: the table's key had no source and connectors could INSERT into it (the row policy only
checked the row's own source column): a connector allowed only for zendesk planted rows for
the run ids Stripe and CLM would get next, `land_staged`'s ON CONFLICT DO NOTHING then
dropped the real rows, and every Stripe invoice and CLM contract the replays delivered was
archived as removed at source. Now nobody inserts: crm_private.list_run_deliveries (called
by crm_raw.land_staged) is the only writer and checks the run and the records.

Decided from what is observed: which nodes are archived, what the runs report, what the
table holds — as LOGIN roles created as the README tells a DBA (connectors allowed one source).
"""

from __future__ import annotations

import psycopg

from tests.security.conftest import dsn_of, ingest

BASE = [("salesforce", "Account", "salesforce/Account.csv"), ("zendesk", "organizations", "zendesk/organizations.json"),
        ("clm", "contracts", "clm/contracts.csv"), ("stripe", "customers", "stripe/customers.ndjson"),
        ("stripe", "invoices", "stripe/invoices.json")]


def _live(admin, source, obj):
    return {r[0] for r in admin.execute(
        "SELECT ns.external_id FROM crm.node_sources ns JOIN crm.nodes n ON n.id = ns.node_id "
        "WHERE ns.source = %s AND ns.object = %s AND n.archived_at IS NULL", (source, obj)).fetchall()}


def test_another_sources_connector_cannot_cancel_a_full_refresh(world, db):
    w = world
    for source, obj, f in BASE:
        ingest(db, source, obj, f)
    for name, source in (("zed", "zendesk"), ("stan", "stripe"), ("clem", "clm")):
        w.login(name, "crm_connector", user=False)
        w.admin.execute("SELECT crm.allow_source(%s, %s)", (w.role_name(name), source))
    invoices, contracts = _live(w.admin, "stripe", "invoices"), _live(w.admin, "clm", "contracts")
    assert invoices and contracts
    next_run = w.admin.execute("SELECT max(id) + 1 FROM crm_raw.sync_runs").fetchone()[0]
    max_record = w.admin.execute("SELECT max(id) FROM crm_raw.records").fetchone()[0]

    zed = w.connect("zed")
    # plant rows for the next run ids, directly and through the writer, naming every record
    for attack in ("INSERT INTO crm_raw.run_deliveries (run_id, record_id, source) "
                   "SELECT g, r, 'zendesk' FROM generate_series(%(a)s::bigint, %(a)s + 20) g, generate_series(1, %(m)s::bigint) r",
                   "SELECT crm_private.list_run_deliveries(g, ARRAY(SELECT generate_series(1, %(m)s::bigint)), current_user) "
                   "FROM generate_series(%(a)s::bigint, %(a)s + 20) g",
                   "SELECT crm_private.list_run_deliveries(g, ARRAY(SELECT generate_series(1, %(m)s::bigint)), 'postgres') "
                   "FROM generate_series(1, %(a)s::bigint) g"):
        try:
            zed.execute(attack, {"a": next_run, "m": max_record})
        except psycopg.Error:
            pass
    # ... and probe which rows exist (ON CONFLICT ... RETURNING tells them apart)
    try:
        zed.execute("INSERT INTO crm_raw.run_deliveries (run_id, record_id, source) VALUES (1, 1, 'zendesk') "
                    "ON CONFLICT DO NOTHING RETURNING 1")
    except psycopg.Error:
        pass

    # the owners of the sources replay their full exports: nothing is removed, the summaries
    # are those of the same files before
    first_inv = ingest(dsn_of(w, "stan"), "stripe", "invoices", "stripe/invoices.json")
    first_con = ingest(dsn_of(w, "clem"), "clm", "contracts", "clm/contracts.csv")
    assert _live(w.admin, "stripe", "invoices") == invoices
    assert _live(w.admin, "clm", "contracts") == contracts
    again_inv = ingest(dsn_of(w, "stan"), "stripe", "invoices", "stripe/invoices.json")
    assert (again_inv["applied"], again_inv["rejected"], again_inv["status"]) == \
        (first_inv["applied"], first_inv["rejected"], first_inv["status"])
    assert first_inv["applied"] > 0 and first_con["applied"] > 0
    # nothing zed planted is there; every row the table holds names a run and a record of the
    # same source and object
    assert w.admin.execute("SELECT count(*) FROM crm_raw.run_deliveries WHERE source = 'zendesk'").fetchone()[0] == 0
    assert w.admin.execute("""
        SELECT count(*) FROM crm_raw.run_deliveries d
          JOIN crm_raw.sync_runs s ON s.id = d.run_id
          JOIN crm_raw.records r ON r.id = d.record_id
         WHERE NOT (s.source = d.source AND r.source = d.source AND r.object = s.object AND s.full_refresh)""").fetchone()[0] == 0
    # what zed can see of it: nothing of Stripe's or CLM's
    assert zed.execute("SELECT count(*) FROM crm_raw.run_deliveries").fetchone()[0] == 0
    assert zed.execute("SELECT count(*) FROM crm_raw.run_records WHERE source <> 'zendesk'").fetchone()[0] == 0


def test_a_connector_lists_only_records_of_its_own_running_full_run(world, db):
    """The writer's own checks: a running full run of a source the caller may land; only
    records of that run's source and object; a finished or incremental run lists nothing."""
    w = world
    for source, obj, f in BASE:
        ingest(db, source, obj, f)
    w.login("stan", "crm_connector", user=False)
    w.admin.execute("SELECT crm.allow_source(%s, 'stripe')", (w.role_name("stan"),))
    stan = w.connect("stan", autocommit=False)
    run = stan.execute("SELECT crm_raw.start_run('stripe', 'invoices', true)").fetchone()[0]
    every = [r[0] for r in w.admin.execute("SELECT id FROM crm_raw.records").fetchall()]
    n = stan.execute("SELECT crm_private.list_run_deliveries(%s, %s, current_user)", (run, every)).fetchone()[0]
    rows = stan.execute("SELECT r.source, r.object FROM crm_raw.run_deliveries d JOIN crm_raw.records r ON r.id = d.record_id "
                        "WHERE d.run_id = %s", (run,)).fetchall()
    assert n == len(rows) > 0 and set(rows) == {("stripe", "invoices")}
    stan.rollback()
    inc = stan.execute("SELECT crm_raw.start_run('stripe', 'customers', false)").fetchone()[0]
    try:
        stan.execute("SELECT crm_private.list_run_deliveries(%s, %s, current_user)", (inc, every))
    except psycopg.Error:
        stan.rollback()
    else:
        stan.commit()
    assert w.admin.execute("SELECT count(*) FROM crm_raw.run_deliveries WHERE run_id = %s", (inc,)).fetchone()[0] == 0
