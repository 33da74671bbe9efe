"""Finding 11: an admin session acting for a user sees every row through the read models."""

from __future__ import annotations

import psycopg

from tests.access_helpers import ids


def test_admin_acting_for_a_rep_sees_only_the_reps_rows(sec):
    """Finding 11 — `crm360 account … --as USER` runs in an admin's session as
    `SET LOCAL ROLE crm_service; SELECT crm.act_as(<rep>)`. The base tables then show the
    rep's rows only, but the read models decided visibility from session_user (the admin).
    The login here is a crm_admin LOGIN role also granted crm_service (not a superuser).
    Property: acting for alice, crm.accounts_360, crm.opportunities_active and
    crm.contacts_directory show only rows whose node alice sees in crm.nodes.
    """
    w, n = sec, sec.n
    w.login("ops", "crm_admin", "crm_service")
    for account in ("acme", "umbrella"):     # active deals (in a pipeline stage) of both accounts
        deal = w.admin.execute("SELECT crm.create_opportunity(%s, 'PL-SALES', NULL)", (f"{account} deal",)).fetchone()[0]
        w.own(deal, n[account])
    w.admin.execute("SELECT crm.refresh_account_views()")
    w.admin.execute("SELECT crm.refresh_crm_views()")
    ops = w.connect("ops", autocommit=False)
    ops.execute("SET LOCAL ROLE crm_service")
    ops.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
    assert ops.execute("SELECT crm.current_actor()").fetchone()[0] == w.users["alice"]
    leaks = {}
    for view, id_column, node_type in [("crm.accounts_360", "account_id", "org"),
                                       ("crm.opportunities_active", "node_id", "opportunity"),
                                       ("crm.contacts_directory", "node_id", "person")]:
        nodes = ids(ops, "SELECT id FROM crm.nodes WHERE node_type = %s", (node_type,))
        try:
            shown = ids(ops, f"SELECT {id_column} FROM {view}")
        except psycopg.Error:
            ops.rollback()
            ops.execute("SET LOCAL ROLE crm_service")
            ops.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
            shown = set()
        if shown - nodes:
            leaks[view] = len(shown - nodes)
    ops.rollback()
    assert n["umbrella"] not in ids(w.connect("alice"), "SELECT id FROM crm.nodes")
    assert not leaks, f"acting for alice, rows she cannot see (count per view): {leaks}"
