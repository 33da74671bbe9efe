"""Migration 0004 (CRM layer): safe to run twice, and its rollback removes what it created."""

from __future__ import annotations

import psycopg

from crm360.migrator import Migrator, sql_dir
from tests.test_migrator import schema_dump, table_exists

quiet = {"echo": lambda s: None}


def test_0004_runs_twice_without_change(db):
    before = schema_dump(db)
    sql = (sql_dir() / "0004_crm_layer.sql").read_text()
    with psycopg.connect(db) as c:
        c.execute(sql)
        c.commit()
        assert c.execute("SELECT count(*) FROM crm.nodes WHERE node_type = 'pipeline'").fetchone()[0] == 1
        assert c.execute("SELECT count(*) FROM crm.node_types WHERE 'code' = ANY (optional_properties) "
                         "AND code_prefix IS NOT NULL").fetchone()[0] == 4
        assert c.execute("SELECT count(*) FROM crm.node_types n, unnest(n.optional_properties) k "
                         "WHERE k = 'code'").fetchone()[0] == 5                     # pipeline + 4
    assert schema_dump(db) == before


def test_0004_rollback_removes_its_objects_and_data(db):
    m = Migrator(db, **quiet)
    assert m.rollback(4) == ["0011_account360", "0010_account360_placeholders", "0005_access_control",
                             "0004_crm_layer"]
    for name in ("crm_private.code_counters", "crm_private.view_refreshes", "crm_private.opportunities_active_mv",
                 "crm_private.contacts_directory_mv", "crm.opportunities_active", "crm.contacts_directory"):
        assert not table_exists(db, name), name
    with psycopg.connect(db) as c:
        assert c.execute("SELECT count(*) FROM crm.nodes WHERE node_type = 'pipeline'").fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM crm.error_codes WHERE sqlstate = '55000'").fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM crm.node_types WHERE 'code' = ANY (optional_properties) "
                         "AND code_prefix IS NOT NULL").fetchone()[0] == 0
    m.migrate()
    assert table_exists(db, "crm.opportunities_active")
    with psycopg.connect(db) as c:
        assert c.execute("SELECT crm.create_opportunity('After', 'PL-SALES', NULL)").fetchone()[0]
