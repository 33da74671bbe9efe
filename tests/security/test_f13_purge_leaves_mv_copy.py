"""Finding 13: crm.purge_node leaves the erased person in the materialized contacts directory."""

from __future__ import annotations

import psycopg

from tests.security.conftest import JANE_EMAIL, ingest


def test_purge_erases_the_materialized_copy_at_once(sec, db):
    """Finding 13 — legal erasure removes a person's data everywhere. Jane Doe is
    ingested and the read models refreshed; a crm_admin login (not a superuser) purges her
    with crm.purge_node.
    Property: right after the purge commits, her email is nowhere in
    crm_private.contacts_directory_mv (ground truth, as the DBA) — not only after the
    next refresh.
    """
    w = sec
    for obj in ("User", "Account", "Contact"):
        ingest(db, "salesforce", obj, f"salesforce/{obj}.csv")
    w.admin.execute("SELECT crm.refresh_crm_views()")
    jane = w.admin.execute("SELECT node_id FROM crm.node_sources WHERE source = 'salesforce' AND object = 'Contact' "
                           "AND external_id = '003000000000JD1'").fetchone()[0]
    in_mv = "SELECT count(*) FROM crm_private.contacts_directory_mv m WHERE strpos(lower(m::text), %s) > 0"
    assert w.admin.execute(in_mv, (JANE_EMAIL,)).fetchone()[0] == 1
    try:
        w.connect("boss").execute("SELECT crm.purge_node(%s, 'GDPR erasure request')", (jane,))
    except psycopg.Error:
        pass
    assert w.admin.execute("SELECT count(*) FROM crm.nodes WHERE id = %s AND strpos(lower(properties::text), %s) > 0",
                           (jane, JANE_EMAIL)).fetchone()[0] == 0, "the purge did not run"
    left = w.admin.execute(in_mv, (JANE_EMAIL,)).fetchone()[0]
    assert left == 0, f"the erased email is still in crm_private.contacts_directory_mv ({left} row)"
