"""ELT landing with a real dlt pipeline (issue 13 item 6, docs/elt.md).

dlt (test extra) loads Zendesk-shaped tickets into its OWN schema (dlt_zendesk) over the
postgres destination, logged in as a connector login created the way the README tells a DBA
(crm360.users.add_user ... elt_schema=...); crm_raw.land_from moves the rows into
crm_raw.records as one sync run; crm.reconcile + crm.refresh_read_models make them visible.
Every step that matters runs as that login, never as a superuser.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from crm360 import users
from crm360.connectors import ingest_files, reconcile
from tests.conftest import sqlstate_of

dlt = pytest.importorskip("dlt", reason="dlt is in the test extra: pip install -e '.[test]'")

FIX = Path(__file__).resolve().parent / "fixtures"
PASSWORD = "dlt-loader-s3cret"
ACME, GLOBEX = "001000000000ACM", "001000000000GLX"
LAND = "SELECT crm_raw.land_from('zendesk', 'tickets', 'dlt_zendesk.tickets'::regclass)"

TICKETS = [
    {"id": 9101, "url": "https://example.zendesk.com/api/v2/tickets/9101.json", "external_id": None,
     "via": {"channel": "email", "source": {"from": {"address": "ops@acme.com", "name": "Ops"},
                                            "to": {"address": "support@example.com"}, "rel": None}},
     "created_at": "2024-03-07T09:00:00Z", "updated_at": "2024-03-07T09:30:00Z", "type": "incident",
     "subject": "API returns 500", "description": "Every call fails since 08:50.", "priority": "urgent",
     "status": "open", "requester_id": None, "organization_id": 361, "assignee_id": None, "group_id": 77,
     "tags": ["api", "outage"], "collaborator_ids": [],
     "custom_fields": [{"id": 360001, "value": "enterprise"}, {"id": 360002, "value": None}],
     "satisfaction_rating": {"score": "unoffered"}, "is_public": True},
    {"id": 9102, "url": "https://example.zendesk.com/api/v2/tickets/9102.json", "external_id": None,
     "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
     "created_at": "2024-03-07T10:00:00Z", "updated_at": "2024-03-07T10:00:00Z", "type": "question",
     "subject": "Export to CSV?", "description": "Can we export reports?", "priority": "low",
     "status": "new", "requester_id": None, "organization_id": 362, "assignee_id": None, "group_id": None,
     "tags": [], "collaborator_ids": [], "custom_fields": [], "satisfaction_rating": None, "is_public": True},
]


class Loader:
    """A connector login (zendesk) that owns the dlt_zendesk schemas, and its dlt pipeline."""

    def __init__(self, server, db: str, login: str, pipelines_dir: Path):
        self.server, self.db, self.login, self.pipelines_dir = server, db, login, pipelines_dir
        self.dbname = psycopg.conninfo.conninfo_to_dict(db)["dbname"]

    @property
    def dsn(self) -> str:
        return self.server.dsn(self.dbname, user=self.login, password=PASSWORD)

    def destination_url(self) -> str:
        p = self.server.params
        host, port = str(p.get("host", "localhost")), p.get("port", 5432)
        if host.startswith("/"):        # the embedded server listens on a Unix socket only
            return (f"postgresql://{quote(self.login)}:{quote(PASSWORD)}@localhost:{port}/{self.dbname}"
                    f"?host={quote(host)}")
        return f"postgresql://{quote(self.login)}:{quote(PASSWORD)}@{host}:{port}/{self.dbname}"

    def run(self, tickets: list[dict], *, nesting: int | None = 0, table: str = "tickets"):
        """One dlt run of the documented pipeline config (docs/elt.md): merge on id, nested
        data kept as json (max_table_nesting=0)."""
        kw = {} if nesting is None else {"max_table_nesting": nesting}

        @dlt.resource(name=table, primary_key="id", write_disposition="merge", **kw)
        def zendesk_tickets():
            yield from copy.deepcopy(tickets)

        pipeline = dlt.pipeline(pipeline_name=f"zendesk_{table}", dataset_name="dlt_zendesk",
                                destination=dlt.destinations.postgres(credentials=self.destination_url()),
                                pipelines_dir=str(self.pipelines_dir))
        info = pipeline.run(zendesk_tickets())
        assert not info.has_failed_jobs, info
        return info

    def land(self, query: str = LAND, params=None) -> dict:
        with psycopg.connect(self.dsn, autocommit=True) as c:
            return c.execute(query, params).fetchone()[0]


@pytest.fixture
def loader(server, db, conn, tmp_path, monkeypatch):
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")     # offline: no anonymous usage pings
    login = f"zd_loader_{uuid.uuid4().hex[:8]}"
    done = users.add_user(conn, login, "connector", sources=("zendesk",), password=PASSWORD,
                          elt_schema="dlt_zendesk")
    assert done["elt_schemas"] == ["dlt_zendesk", "dlt_zendesk_staging"]
    try:
        yield Loader(server, db, login, tmp_path / "dlt")
    finally:
        conn.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(login)))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))


@pytest.fixture
def logins_admin(server, db, conn):
    """An admin LOGIN made as the docs tell a DBA (crm360 user add ... --role admin)."""
    made, conns = [], []

    def make():
        login = f"adm_{uuid.uuid4().hex[:8]}"
        users.add_user(conn, login, "admin", name="Ada Admin", email=f"{login}@ourco.example", password=PASSWORD)
        made.append(login)
        c = psycopg.connect(server.dsn(psycopg.conninfo.conninfo_to_dict(db)["dbname"], user=login, password=PASSWORD))
        conns.append(c)
        return c
    try:
        yield make
    finally:
        for c in conns:
            c.close()
        for login in made:
            conn.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(login)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))


@pytest.fixture
def accounts(db):
    """The CRM account and the Zendesk organizations the tickets belong to (file connectors)."""
    ingest_files(db, "salesforce", "Account", [str(FIX / "salesforce" / "Account.csv")])
    ingest_files(db, "zendesk", "organizations", [str(FIX / "zendesk" / "organizations.json")])


def ticket_records(conn, external_id: str) -> list:
    return conn.execute("SELECT payload, status FROM crm_raw.records WHERE source = 'zendesk' AND object = 'tickets' "
                        "AND external_id = %s ORDER BY id", (external_id,)).fetchall()


def freshness(conn):
    return conn.execute("SELECT status, last_success_at, rows_received FROM crm.source_freshness "
                        "WHERE source = 'zendesk' AND object = 'tickets'").fetchone()


def test_dlt_pipeline_lands_reconciles_and_reruns_idempotently(loader, accounts, conn):
    assert freshness(conn)[1] is None

    loader.run(TICKETS)
    s = loader.land()
    assert (s["mode"], s["status"], s["relation"]) == ("dlt", "succeeded", "dlt_zendesk.tickets")
    assert (s["received"], s["landed"], s["unchanged"], s["rejected"], len(s["loads"])) == (2, 2, 0, 0, 1)

    # the payload is the ticket as Zendesk sent it: nested objects and lists kept as jsonb,
    # dlt's own columns and the (top-level) nulls gone
    [(p, status)] = ticket_records(conn, "9101")
    assert status == "pending"
    assert p["via"] == TICKETS[0]["via"]
    assert p["tags"] == ["api", "outage"]
    assert p["custom_fields"] == [{"id": 360001, "value": "enterprise"}, {"id": 360002, "value": None}]
    assert p["satisfaction_rating"] == {"score": "unoffered"}
    assert p["id"] == 9101 and p["organization_id"] == 361 and p["is_public"] is True
    assert not [k for k in p if k.startswith("_dlt")] and "assignee_id" not in p and "requester_id" not in p
    assert p["updated_at"] == "2024-03-07T09:30:00+00:00"

    # reconcile + refresh (what `crm360 reconcile --source zendesk` does), as the loader login
    out = reconcile(loader.dsn, "zendesk")
    assert {(r["object"], r["applied"]) for r in out["reconcile"] if r["object"] == "tickets"} == {("tickets", 2)}
    assert all("error" not in r for r in out["read_models"]), out["read_models"]
    tickets = dict(conn.execute("SELECT external_id, account_crm_id FROM crm.tickets WHERE source = 'zendesk'"))
    assert tickets == {"9101": ACME, "9102": GLOBEX}
    tags, status = conn.execute("SELECT tags, status FROM crm.tickets WHERE external_id = '9101'").fetchone()
    assert (tags, status) == ("api, outage", "open")          # the flat BI view joins the tags
    open_tickets = conn.execute("SELECT open_tickets FROM crm.accounts_360 WHERE crm_id = %s", (ACME,)).fetchone()[0]
    assert open_tickets == 1
    fresh1 = freshness(conn)
    assert fresh1[0] == "fresh" and fresh1[1] is not None

    # dlt runs again with the same data: a new load, nothing new lands, nothing is duplicated
    loader.run(TICKETS)
    s = loader.land()
    assert (s["received"], s["landed"], s["unchanged"], len(s["loads"])) == (2, 0, 2, 1)
    assert s["note"].startswith("unchanged")
    assert conn.execute("SELECT count(*) FROM crm_raw.records WHERE source = 'zendesk' AND object = 'tickets'"
                        ).fetchone()[0] == 2
    fresh2 = freshness(conn)
    assert fresh2[1] > fresh1[1] and fresh2[0] == "fresh"          # a sync happened: freshness moves

    # no dlt run since: nothing read at all
    s = loader.land()
    assert (s["received"], s["landed"], s["loads"]) == (0, 0, [])
    assert s["note"] == "unchanged: no dlt load completed since the last land_from"

    # a changed ticket: exactly one new version
    changed = copy.deepcopy(TICKETS)
    changed[0].update(status="solved", updated_at="2024-03-08T12:00:00Z")
    loader.run(changed)
    s = loader.land()
    assert (s["received"], s["landed"], s["unchanged"]) == (2, 1, 1)
    versions = ticket_records(conn, "9101")
    assert [v[0]["status"] for v in versions] == ["open", "solved"]
    assert len(ticket_records(conn, "9102")) == 1
    reconcile(loader.dsn, "zendesk")
    assert conn.execute("SELECT status, account_crm_id FROM crm.tickets WHERE external_id = '9101'"
                        ).fetchone() == ("solved", ACME)
    assert conn.execute("SELECT open_tickets FROM crm.accounts_360 WHERE crm_id = %s", (ACME,)).fetchone()[0] == 0
    assert freshness(conn)[1] > fresh2[1]
    assert conn.execute("SELECT cursor_value FROM crm_raw.cursors WHERE source = 'zendesk' AND object = 'tickets'"
                        ).fetchone()[0] == "2024-03-08T12:00:00Z"
    # one elt_loads row per dlt load landed, each with the run that landed it
    assert conn.execute("SELECT count(*), count(DISTINCT run_id) FROM crm_raw.elt_loads").fetchone() == (3, 3)


def test_land_from_can_reconcile_in_the_same_run(loader, accounts, conn):
    loader.run(TICKETS)
    s = loader.land("SELECT crm_raw.land_from('zendesk', 'tickets', 'dlt_zendesk.tickets'::regclass, "
                    "p_reconcile => true)")
    assert (s["landed"], s["applied"], s["new_applied"]) == (2, 2, 2)
    assert conn.execute("SELECT rows_applied FROM crm.source_freshness WHERE source = 'zendesk' AND object = 'tickets'"
                        ).fetchone()[0] == 2


def test_dlt_default_nesting_is_refused_or_reassembled(loader, accounts, conn):
    # default nesting: lists become child tables (tickets__tags ...): landing would lose them
    loader.run(TICKETS, nesting=None)
    with pytest.raises(psycopg.Error) as e:
        loader.land()
    assert sqlstate_of(e) == "CR043"
    assert conn.execute("SELECT count(*) FROM crm_raw.records WHERE object = 'tickets'").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM crm_raw.sync_runs WHERE object = 'tickets'").fetchone()[0] == 0

    # nested objects only (no lists): dlt flattens via -> via__channel, land_from nests them again
    flat = [{k: v for k, v in t.items() if not isinstance(v, list)} for t in TICKETS]
    loader.run(flat, nesting=None, table="tickets_flat")
    s = loader.land("SELECT crm_raw.land_from('zendesk', 'tickets', 'dlt_zendesk.tickets_flat'::regclass)")
    assert s["landed"] == 2
    p = ticket_records(conn, "9101")[0][0]
    assert p["via"] == {"channel": "email", "source": {"from": {"address": "ops@acme.com", "name": "Ops"},
                                                       "to": {"address": "support@example.com"}}}
    assert p["satisfaction_rating"] == {"score": "unoffered"}
    assert not [k for k in p if "__" in k]


def test_elt_payload_rebuilds_the_record(conn):
    row = {"id": 1, "via__channel": "email", "via__source__from__address": "a@b.example", "tags": ["x"],
           "_dlt_id": "abc", "_dlt_load_id": "1.2", "_airbyte_raw_id": "r", "_fivetran_synced": "t",
           "gone": None, "status": "open", "status__v_bigint": 3, "amount__v_text": "12", "meta": {"a": None}}
    got = conn.execute("SELECT crm_private.elt_payload(%s)", (Jsonb(row),)).fetchone()[0]
    assert got == {"id": 1, "via": {"channel": "email", "source": {"from": {"address": "a@b.example"}}},
                   "tags": ["x"], "status": "open", "amount": "12", "meta": {"a": None}}
    kept = conn.execute("SELECT crm_private.elt_payload(%s, false)", (Jsonb(row),)).fetchone()[0]
    assert kept["via__channel"] == "email" and "_dlt_id" not in kept


def test_payload_column_for_airbyte_and_plain_rows_for_fivetran(loader, accounts, conn):
    """Airbyte raw tables hold each record in one JSON column (_airbyte_data); Fivetran writes
    typed columns plus _fivetran_* bookkeeping: a view drops the deleted rows."""
    conn.execute(sql.SQL("CREATE SCHEMA airbyte_internal AUTHORIZATION {}; CREATE SCHEMA fivetran_zendesk "
                         "AUTHORIZATION {}").format(sql.Identifier(loader.login), sql.Identifier(loader.login)))
    with psycopg.connect(loader.dsn, autocommit=True) as lc:     # what the tools would create, as the loader
        lc.execute("CREATE TABLE airbyte_internal.zendesk_raw__stream_tickets (_airbyte_raw_id text PRIMARY KEY, "
                   "_airbyte_extracted_at timestamptz NOT NULL DEFAULT now(), _airbyte_loaded_at timestamptz, "
                   "_airbyte_data jsonb, _airbyte_meta jsonb, _airbyte_generation_id bigint)")
        lc.execute("INSERT INTO airbyte_internal.zendesk_raw__stream_tickets (_airbyte_raw_id, _airbyte_data) "
                   "SELECT gen_random_uuid()::text, t FROM jsonb_array_elements(%s) t", (Jsonb(TICKETS),))
        lc.execute("CREATE TABLE fivetran_zendesk.ticket (id bigint PRIMARY KEY, subject text, status text, "
                   "organization_id bigint, via jsonb, updated_at timestamptz, _fivetran_synced timestamptz, "
                   "_fivetran_deleted boolean NOT NULL DEFAULT false)")
        lc.execute("INSERT INTO fivetran_zendesk.ticket VALUES (9201, 'Fivetran ticket', 'open', 361, "
                   "'{\"channel\": \"api\"}', '2024-03-09T08:00:00Z', now(), false), "
                   "(9202, 'Deleted at source', 'open', 361, NULL, '2024-03-09T08:00:00Z', now(), true)")
        lc.execute("CREATE VIEW fivetran_zendesk.ticket_live AS SELECT * FROM fivetran_zendesk.ticket "
                   "WHERE NOT _fivetran_deleted")
    airbyte = ("SELECT crm_raw.land_from('zendesk', 'tickets', 'airbyte_internal.zendesk_raw__stream_tickets'::regclass, "
               "p_payload_column => '_airbyte_data')")
    s = loader.land(airbyte)
    assert (s["mode"], s["landed"], s["loads"]) == ("payload_column", 2, [])
    assert ticket_records(conn, "9101")[0][0] == TICKETS[0]          # exactly what the tool stored
    s = loader.land(airbyte)                                          # every row re-read, dedup by content
    assert (s["received"], s["landed"], s["unchanged"]) == (2, 0, 2)

    s = loader.land("SELECT crm_raw.land_from('zendesk', 'tickets', 'fivetran_zendesk.ticket_live'::regclass)")
    assert (s["mode"], s["landed"]) == ("rows", 1)
    assert ticket_records(conn, "9201")[0][0] == {"id": 9201, "subject": "Fivetran ticket", "status": "open",
                                                  "organization_id": 361, "via": {"channel": "api"},
                                                  "updated_at": "2024-03-09T08:00:00+00:00"}
    with pytest.raises(psycopg.Error) as e:
        loader.land("SELECT crm_raw.land_from('zendesk', 'tickets', 'fivetran_zendesk.ticket'::regclass, "
                    "p_payload_column => 'nosuch')")
    assert sqlstate_of(e) == "42703"


def test_loader_privileges(loader, conn, db):
    """A foreign loader (a login with no crm role) can neither write nor alter crm_raw.records;
    a connector login inserts for its own sources only and can never alter, truncate or drop
    the landing tables; land_from lands only allowed sources from relations the caller can
    read and may trust."""
    foreign = f"foreign_loader_{uuid.uuid4().hex[:8]}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(foreign), sql.Literal(PASSWORD)))
    try:
        conn.execute(sql.SQL("CREATE SCHEMA dlt_foreign AUTHORIZATION {}").format(sql.Identifier(foreign)))
        fdsn = loader.server.dsn(loader.dbname, user=foreign, password=PASSWORD)
        with psycopg.connect(fdsn, autocommit=True) as fc:
            fc.execute("CREATE TABLE dlt_foreign.tickets (id bigint, subject text, _dlt_load_id text, _dlt_id text)")
            fc.execute("INSERT INTO dlt_foreign.tickets VALUES (9301, 'foreign', '1.0', 'x')")
            fc.execute("CREATE VIEW dlt_foreign.tickets_view AS SELECT * FROM dlt_foreign.tickets")
            for stmt in ("INSERT INTO crm_raw.records (source, object, external_id, payload) "
                         "VALUES ('zendesk', 'tickets', '1', '{\"id\": 1}')",
                         "ALTER TABLE crm_raw.records ADD COLUMN evil text",
                         "ALTER TABLE crm_raw.records DISABLE ROW LEVEL SECURITY",
                         "TRUNCATE crm_raw.records", "DROP TABLE crm_raw.records",
                         "CREATE TABLE crm_raw.x (id int)",
                         "SELECT crm_raw.land_from('zendesk', 'tickets', 'dlt_foreign.tickets'::regclass)"):
                with pytest.raises(psycopg.Error) as e:
                    fc.execute(stmt)
                assert sqlstate_of(e) == "42501", stmt

        with psycopg.connect(loader.dsn) as lc:
            # a connector inserts raw records of its own sources (the landing contract) ...
            with lc.transaction(force_rollback=True):
                lc.execute("INSERT INTO crm_raw.records (source, object, external_id, payload) "
                           "VALUES ('zendesk', 'tickets', '1', '{\"id\": 1}')")
            for stmt in ("INSERT INTO crm_raw.records (source, object, external_id, payload) "   # RLS
                         "VALUES ('salesforce', 'Account', '1', '{\"Id\": \"1\"}')",
                         "ALTER TABLE crm_raw.records ADD COLUMN evil text",
                         "ALTER TABLE crm_raw.records DISABLE ROW LEVEL SECURITY",
                         "ALTER TABLE crm_raw.elt_loads ADD COLUMN evil text",
                         "TRUNCATE crm_raw.records", "DELETE FROM crm_raw.records", "DROP TABLE crm_raw.records",
                         "CREATE TABLE crm_raw.x (id int)", "CREATE SCHEMA dlt_other",
                         # ... but never another source, nor from a table it cannot read
                         "SELECT crm_raw.land_from('salesforce', 'Account', 'dlt_zendesk.nosuch'::regclass)",
                         "SELECT crm_raw.land_from('salesforce', 'Account', 'crm.nodes'::regclass)",
                         "SELECT crm_raw.land_from('zendesk', 'tickets', 'dlt_foreign.tickets'::regclass)"):
                with lc.transaction(force_rollback=True), pytest.raises(psycopg.Error) as e:
                    lc.execute(stmt)
                assert sqlstate_of(e) in ("42501", "42P01"), stmt
                if "nosuch" not in stmt:
                    assert sqlstate_of(e) == "42501", stmt
            # readable, but a view of another role runs that role's code as the caller: refused
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA dlt_foreign TO {0}; GRANT SELECT ON ALL TABLES IN SCHEMA "
                                 "dlt_foreign TO {0}").format(sql.Identifier(loader.login)))
            with pytest.raises(psycopg.Error) as e:
                lc.execute("SELECT crm_raw.land_from('zendesk', 'tickets', 'dlt_foreign.tickets_view'::regclass)")
            assert sqlstate_of(e) == "42501"
            lc.rollback()
            # its plain table (no row-level security) is fine once granted
            s = lc.execute("SELECT crm_raw.land_from('zendesk', 'tickets', 'dlt_foreign.tickets'::regclass)").fetchone()[0]
            assert (s["mode"], s["landed"]) == ("rows", 1)
            lc.commit()
        assert conn.execute("SELECT count(*) FROM pg_attribute WHERE attrelid = 'crm_raw.records'::regclass "
                            "AND attname = 'evil'").fetchone()[0] == 0
    finally:
        conn.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(foreign)))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(foreign)))


def test_elt_schema_must_be_the_loaders_own(conn):
    with pytest.raises(users.CrmError) as e:
        users.add_user(conn, f"x_{uuid.uuid4().hex[:8]}", "connector", sources=("zendesk",), elt_schema="crm_raw")
    assert e.value.sqlstate == "42501"
    with pytest.raises(users.CrmError) as e:
        users.add_user(conn, f"x_{uuid.uuid4().hex[:8]}", "reader", name="R", elt_schema="dlt_x")
    assert e.value.sqlstate == "22023"


def test_a_loaders_type_never_runs_as_the_admin_who_lands_its_table(loader, conn, logins_admin):
    """A column of the loader's own type with the loader's cast to json would run the loader's
    function as whoever calls land_from (an admin): such a table of another role is refused,
    and the function never runs — observed from what it would have logged."""
    lc = psycopg.connect(loader.dsn, autocommit=True)
    try:
        lc.execute("CREATE TABLE dlt_zendesk.who_ran (who text)")
        lc.execute("GRANT INSERT ON dlt_zendesk.who_ran TO PUBLIC")
        lc.execute("CREATE TYPE dlt_zendesk.evil AS ENUM ('x')")
        lc.execute("""CREATE FUNCTION dlt_zendesk.evil_json(dlt_zendesk.evil) RETURNS json LANGUAGE plpgsql AS $$
                      BEGIN INSERT INTO dlt_zendesk.who_ran VALUES (current_user); RETURN '"x"'::json; END $$""")
        lc.execute("CREATE CAST (dlt_zendesk.evil AS json) WITH FUNCTION dlt_zendesk.evil_json(dlt_zendesk.evil)")
        lc.execute("CREATE TABLE dlt_zendesk.evil_tickets (id bigint, subject text, updated_at timestamptz, "
                   "tag dlt_zendesk.evil)")
        lc.execute("INSERT INTO dlt_zendesk.evil_tickets VALUES (1, 's', now(), 'x')")
        lc.execute("GRANT USAGE ON SCHEMA dlt_zendesk TO PUBLIC")
        lc.execute("GRANT SELECT ON dlt_zendesk.evil_tickets TO PUBLIC")
        admin = logins_admin()
        with pytest.raises(psycopg.Error) as e:
            admin.execute("SELECT crm_raw.land_from('zendesk', 'tickets', 'dlt_zendesk.evil_tickets'::regclass)")
        assert sqlstate_of(e) == "42501"
        admin.rollback()
        assert lc.execute("SELECT count(*) FROM dlt_zendesk.who_ran").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM crm_raw.connector_sources WHERE source = '*' "
                            "AND login_role = %s", (loader.login,)).fetchone()[0] == 0
        # the loader landing its own table runs only its own code, as itself
        s = lc.execute("SELECT crm_raw.land_from('zendesk', 'tickets', 'dlt_zendesk.evil_tickets'::regclass)").fetchone()[0]
        assert s["landed"] == 1
        assert {r[0] for r in lc.execute("SELECT who FROM dlt_zendesk.who_ran")} == {loader.login}
    finally:
        lc.close()
