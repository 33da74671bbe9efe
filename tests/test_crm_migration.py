"""Migration 0004 (CRM layer): safe to run twice, and its rollback removes what it created; 0030 (code
sequences) and 0031 (time-ordered ids)."""

from __future__ import annotations

import psycopg
import pytest

from crm360.migrator import Migrator, sql_dir
from tests.crm_helpers import raises_sqlstate
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


def test_0030_rollback_and_forward_again_never_repeat_a_code(db):
    """Rolling 0030 back brings the counters back with each sequence's last number and drops the
    sequences; the current functions then refuse to number codes (55000) rather than start a
    new sequence at 1 and repeat them; migrating forward again continues after the last."""
    m = Migrator(db, **quiet)
    with psycopg.connect(db, autocommit=True) as c:
        for _ in range(3):
            c.execute("SELECT crm.generate_crm_code('ORG', '2025-02-03')")
    later = [i.id for i in m.status()[0] if i.applied and i.id > "0030_code_sequences"]
    assert m.rollback(len(later) + 1)[-1] == "0030_code_sequences"
    with psycopg.connect(db, autocommit=True) as c:
        assert c.execute("SELECT n FROM crm_private.code_counters WHERE prefix = 'ORG' AND yymm = '2502'") \
            .fetchone()[0] == 3
        assert c.execute("SELECT to_regclass('crm_private.code_org_2502')").fetchone()[0] is None
        with raises_sqlstate("55000") as e:
            c.execute("SELECT crm.generate_crm_code('ORG', '2025-02-03')")
        assert "crm360 migrate" in e.value.diag.message_hint
    m.migrate()
    with psycopg.connect(db, autocommit=True) as c:
        assert c.execute("SELECT to_regclass('crm_private.code_counters')").fetchone()[0] is None
        assert c.execute("SELECT crm.generate_crm_code('ORG', '2025-02-03')").fetchone()[0] == "ORG-2502-0004"


def test_0031_ids_are_time_ordered_except_node_ids(conn):
    """On PostgreSQL 18+ new edges, assertions and events get uuidv7 ids (new rows at the
    right edge of their indexes); node ids stay random (a node's id is seen where the node is
    not: crm.events.about). Earlier servers keep random ids everywhere."""
    if conn.info.server_version < 180000:
        pytest.skip("uuidv7() needs PostgreSQL 18")
    opp = conn.execute("SELECT crm.create_opportunity('Ordered', 'PL-SALES', NULL)").fetchone()[0]
    conn.execute("SELECT crm.advance_deal_stage(%s, 'qualification', 'x')", (opp,))
    versions = dict(conn.execute("""
        SELECT 'node', uuid_extract_version(%(o)s::uuid)
        UNION ALL SELECT 'edge', min(uuid_extract_version(id)) FROM crm.edges WHERE source_id = %(o)s
        UNION ALL SELECT 'assertion', min(uuid_extract_version(id)) FROM crm.assertions WHERE subject_node_id = %(o)s
        UNION ALL SELECT 'event', min(uuid_extract_version(e.id)) FROM crm.events e
                   JOIN crm.event_participants p ON p.event_id = e.id WHERE p.node_id = %(o)s""",
                                 {"o": opp}).fetchall())
    assert versions == {"node": 4, "edge": 7, "assertion": 7, "event": 7}
