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
        # 0030 replaced 0004's code counters by sequences: run again, it carries the counter
        # table 0004 just re-created over (empty) and drops it
        c.execute((sql_dir() / "0030_code_sequences.sql").read_text())
        c.commit()
        assert c.execute("SELECT count(*) FROM crm.nodes WHERE node_type = 'pipeline' "
                         "AND properties ->> 'code' = 'PL-SALES'").fetchone()[0] == 1
        assert c.execute("SELECT count(*) FROM crm.node_types WHERE 'code' = ANY (optional_properties) "
                         "AND code_prefix IS NOT NULL").fetchone()[0] == 4
        assert c.execute("SELECT count(*) FROM crm.node_types n, unnest(n.optional_properties) k "
                         "WHERE k = 'code'").fetchone()[0] == 5                     # pipeline + 4
    assert schema_dump(db) == before


def test_0004_rollback_removes_its_objects_and_data(db):
    m = Migrator(db, **quiet)
    # roll back everything applied after 0004 (later migrations come and go), then 0004 itself
    later = [i.id for i in m.status()[0] if i.applied and i.id > "0004_crm_layer"]
    done = m.rollback(len(later) + 1)
    assert done[-1] == "0004_crm_layer" and sorted(done[:-1], reverse=True) == sorted(later, reverse=True)
    assert "0005_access_control" in done
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


def test_ingestion_migrations_run_twice_without_change(db):
    before = schema_dump(db)
    with psycopg.connect(db) as c:
        for name in ("0006_raw_landing.sql", "0007_node_sources.sql", "0008_ingest_vocabulary.sql"):
            c.execute((sql_dir() / name).read_text())
        c.commit()
        assert c.execute("SELECT count(*) FROM crm.nodes WHERE properties ->> 'code' = 'PL-SFDC'").fetchone()[0] == 1
        assert c.execute("SELECT count(*) FROM crm_raw.source_objects").fetchone()[0] == 13
        assert c.execute("SELECT mode FROM crm_raw.ownership_mapping").fetchone()[0] == "per_owner"
    assert schema_dump(db) == before


def test_ingestion_rollback_removes_its_objects(db):
    m = Migrator(db, **quiet)
    later = [i.id for i in m.status()[0] if i.applied and i.id > "0008_ingest_vocabulary"]
    done = m.rollback(len(later) + 3)
    assert done[len(later):] == ["0008_ingest_vocabulary", "0007_node_sources", "0006_raw_landing"]
    for name in ("crm_raw.records", "crm_raw.sync_runs", "crm_raw.cursors", "crm_raw.source_schedules",
                 "crm.node_sources", "crm.orphans", "crm.identity_mismatches"):
        assert not table_exists(db, name), name
    with psycopg.connect(db) as c:
        assert c.execute("SELECT count(*) FROM crm.nodes WHERE properties ->> 'code' = 'PL-SFDC'").fetchone()[0] == 0
        assert c.execute("SELECT count(*) FROM crm.event_types WHERE event_type = 'ticket_solved'").fetchone()[0] == 0
    m.migrate()
    assert table_exists(db, "crm.orphans")
