"""Account 360 (issue 6): accounts_360, get_account_summary, recent_activity, timeline,
resolve_account, source_freshness, daily_digest — checked against hand-computed values on
fixture data written into the graph per docs/graph_contract.md. Access is tested as ordinary
LOGIN roles (the `world` fixture), never as a superuser."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import psycopg
import pytest

from tests import account360_fixtures as fx
from tests.crm_helpers import raises_sqlstate


@pytest.fixture
def a360(world):
    fx.build(world)
    world.admin.execute("SELECT crm.refresh_account_views()")
    return world


def summary(conn, account):
    return conn.execute("SELECT crm.get_account_summary(%s)", (account,)).fetchone()[0]


def row360(conn, account, view="crm.accounts_360"):
    cur = conn.execute(f"SELECT * FROM {view} WHERE account_id = %s", (account,))
    cols = [d.name for d in cur.description]
    r = cur.fetchone()
    return dict(zip(cols, r, strict=True)) if r else None


# ------------------------------------------------------------------ accounts_360
def test_accounts_360_every_field(a360):
    w, n, e = a360, a360.n, a360.expect
    alice = w.connect("alice")
    r = row360(alice, n["acme"])
    assert r["account_id"] == n["acme"] and r["account_id_text"] == str(n["acme"])
    assert (r["crm_id"], r["name"], r["domain"], r["owner_name"], r["team"]) == \
        ("001A000001", "ACME Corp.", "acme.com", "Alice", "Sales EMEA")
    assert r["open_tickets"] == e["open_tickets"]
    assert r["high_priority_open_tickets"] == e["high_priority"]
    assert abs(r["oldest_open_ticket_age_days"] - Decimal("10.0")) <= Decimal("0.1")
    assert r["active_opportunities"] == e["active_opportunities"]
    assert r["pipeline_value"] is None and r["weighted_pipeline_value"] is None   # deal_value is sensitive
    assert r["arr"] == e["arr"] and r["active_contracts"] == e["active_contracts"]
    assert r["next_renewal_date"] == e["next_renewal"]
    assert (r["open_invoices"], r["open_invoice_amount"]) == (e["open_invoices"], e["open_amount"])
    assert (r["overdue_invoices"], r["overdue_invoice_amount"]) == (e["overdue_invoices"], e["overdue_amount"])
    # the meeting 5 days ago, not the later ticket comment nor the future email
    assert abs(r["days_since_last_touch"] - Decimal("5.0")) <= Decimal("0.1")
    meeting_at = w.admin.execute("SELECT occurred_at FROM crm.events WHERE id = %s", (n["ev_meeting"],)).fetchone()[0]
    assert r["last_touch_at"] == meeting_at
    assert r["last_synced_crm"] is not None and r["last_synced_billing"] is None
    assert r["last_synced_clm"] < r["last_synced_tickets"] < r["last_synced_crm"]
    # orphans: no account; the planted duplicate's other account is admin-only (unrestricted),
    # so alice is not told that it exists — an admin sees the pair (tests/security/test_f12)
    assert (r["orphans"], r["identity_mismatches"], r["duplicate_candidates"]) == (0, 2, 0)
    # flat, typed: no json, arrays or floats
    types = w.admin.execute("""SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                                WHERE a.attrelid = 'crm.accounts_360'::regclass AND a.attnum > 0""").fetchall()
    assert not [t for t in types if t[1] in ("json", "jsonb", "real", "double precision") or t[1].endswith("[]")]
    missing = w.admin.execute("""SELECT a.attname FROM pg_attribute a WHERE a.attrelid = 'crm.accounts_360'::regclass
                                  AND a.attnum > 0 AND col_description(a.attrelid, a.attnum) IS NULL""").fetchall()
    assert missing == []


def test_accounts_360_admin_sees_values_and_live_twin_matches(a360):
    w, n, e = a360, a360.n, a360.expect
    boss = w.connect("boss")
    r = row360(boss, n["acme"])
    assert (r["pipeline_value"], r["weighted_pipeline_value"]) == (e["pipeline_value"], e["weighted"])
    live = row360(boss, n["acme"], "crm.accounts_360_live")
    skip = {"as_of", "oldest_open_ticket_age_days", "days_since_last_touch"}
    assert {k: v for k, v in r.items() if k not in skip} == {k: v for k, v in live.items() if k not in skip}
    assert boss.execute("SELECT count(*) FROM crm.accounts_360").fetchone()[0] == 3   # + the planted duplicate


def test_accounts_360_rows_only_for_visible_accounts(a360):
    w, n = a360, a360.n
    assert [r[0] for r in w.connect("alice").execute("SELECT account_id FROM crm.accounts_360")] == [n["acme"]]
    assert [r[0] for r in w.connect("bob").execute("SELECT account_id FROM crm.accounts_360")] == [n["globex"]]
    assert [r[0] for r in w.connect("bob").execute("SELECT account_id FROM crm.accounts_360_live")] == [n["globex"]]
    assert w.connect("svc").execute("SELECT count(*) FROM crm.accounts_360").fetchone()[0] == 0   # no identity


def test_accounts_360_live_rows_one_by_one_and_grouped_equal_the_live_twin(a360):
    """crm.accounts_360 computes the accounts it shows live one by one while they are at most
    a quarter of those the caller sees, else in one grouped pass (migration 0036): both give the
    live twin's rows, whole and filtered by account."""
    w, n = a360, a360.n
    extra = [w.node("org", f"EMEA account {i}", ["Sales EMEA"]) for i in range(4)]
    w.admin.execute("SELECT crm.refresh_account_views()")
    skip = ("as_of", "oldest_open_ticket_age_days", "days_since_last_touch")
    cols = [r[0] for r in w.admin.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'crm.accounts_360'::regclass AND attnum > 0 "
        "ORDER BY attnum").fetchall() if r[0] not in skip]
    q = "SELECT " + ", ".join(cols) + " FROM {} {} ORDER BY account_id"

    def same(conn, where="", params=None):
        got = conn.execute(q.format("crm.accounts_360", where), params).fetchall()
        assert got == conn.execute(q.format("crm.accounts_360_live", where), params).fetchall()
        return len(got)

    def stored(conn):
        return conn.execute("SELECT count(*) FROM crm.accounts_360 WHERE as_of < now()").fetchone()[0]

    alice, boss = w.connect("alice"), w.connect("boss")
    assert same(alice) == 5 and stored(alice) == 5 and same(boss) == 7
    # one of alice's five accounts changed since the refresh (as an incremental reconciliation
    # records it): computed live, one by one
    w.admin.execute("INSERT INTO crm_private.changed_accounts (account_id, changed_at) VALUES (%s, now())",
                    (n["acme"],))
    assert same(alice) == 5 and stored(alice) == 4
    assert same(alice, "WHERE account_id = %s", (n["acme"],)) == 1
    assert same(boss) == 7
    # all of them: one grouped pass
    w.admin.execute("INSERT INTO crm_private.changed_accounts (account_id, changed_at) "
                    "SELECT x, now() FROM unnest(%s::uuid[]) x", (extra,))
    assert same(alice) == 5 and stored(alice) == 0
    assert same(alice, "WHERE account_id = %s", (n["acme"],)) == 1
    assert same(boss) == 7


def test_accounts_360_refresh_is_logged_and_concurrent(a360):
    w = a360
    rows = w.admin.execute("SELECT view_name FROM crm.refresh_account_views()").fetchall()
    assert rows == [("crm_private.accounts_360_mv",)]
    assert w.admin.execute("SELECT count(*) FROM crm_private.view_refreshes "
                           "WHERE view_name = 'crm_private.accounts_360_mv'").fetchone()[0] == 1
    with raises_sqlstate("42501"):
        w.connect("alice").execute("SELECT crm.refresh_account_views()")


# ------------------------------------------------------------------ get_account_summary
def test_summary_every_field(a360):
    w, n, e = a360, a360.n, a360.expect
    s = summary(w.connect("alice"), n["acme"])
    assert s["account"]["name"] == "ACME Corp." and s["account"]["crm_id"] == "001A000001"
    assert s["account"]["owner"] == "Alice" and s["account"]["team"] == "Sales EMEA"
    t = s["open_tickets"]
    assert (t["count"], t["high_priority"]) == (e["open_tickets"], e["high_priority"])
    assert abs(t["oldest_open_age_days"] - 10.0) <= 0.1
    assert [x["id"] for x in t["most_urgent"]] == [str(n["t_urgent"]), str(n["t_high"]), str(n["t_pending"])]
    assert t["most_urgent"][0]["subject"] == "Ticket t_urgent" and t["most_urgent"][0]["status"] == "open"
    assert t["most_urgent"][0]["priority"] == "urgent" and abs(t["most_urgent"][0]["age_days"] - 10) <= 0.1
    o = s["active_opportunities"]
    assert o["count"] == 2 and o["pipeline_value"] is None and o["weighted_value"] is None
    assert [(x["name"], x["stage"], x["close_date"], x["value"]) for x in o["items"]] == \
        [("Deal o_nego", "negotiation", fx.day(10), None), ("Deal o_prop", "proposal", fx.day(30), None)]
    assert s["arr"]["amount"] == e["arr"] and s["arr"]["active_contracts"] == 1
    assert s["arr"]["next_renewal_date"] == e["next_renewal"].isoformat()
    i = s["invoices"]
    assert (i["open_count"], i["open_amount"], i["overdue_count"], i["overdue_amount"]) == (3, 850, 1, 300)
    assert [(x["number"], x["overdue"], x["days_overdue"]) for x in i["items"]] == \
        [("INV-2", True, 5), ("INV-1", False, None), ("INV-4", False, None)]
    assert s["last_touch"]["type"] == "meeting" and abs(s["last_touch"]["days_since"] - 5) <= 0.1
    src = {x["group"]: x for x in s["sources"]}
    assert [x["group"] for x in s["sources"]] == ["crm", "tickets", "clm", "billing"]
    assert {g: x["status"] for g, x in src.items()} == \
        {"crm": "fresh", "tickets": "failed", "clm": "stale", "billing": "never"}
    assert src["billing"]["last_synced_at"] is None and src["crm"]["last_synced_at"] is not None
    assert not s["data_quality"]["orphans"] and s["data_quality"]["identity_mismatches"] == 2   # orphans: no account
    assert s["data_quality"]["duplicate_candidates"] == 0   # the pair's other account is hidden from alice


def test_summary_admin_sees_deal_values(a360):
    s = summary(a360.connect("boss"), a360.n["acme"])
    assert s["active_opportunities"]["pipeline_value"] == 4000
    assert s["active_opportunities"]["weighted_value"] == 1100
    assert [x["value"] for x in s["active_opportunities"]["items"]] == [3000, 1000]


def test_summary_of_another_teams_account_is_not_found_without_leak(a360):
    w, n = a360, a360.n
    bob = w.connect("bob")
    assert summary(bob, n["globex"])["account"]["name"] == "Globex"
    with raises_sqlstate("P0002") as hidden:
        summary(bob, n["acme"])
    ghost = uuid.uuid4()
    with raises_sqlstate("P0002") as missing:
        summary(bob, ghost)
    norm = [re.sub(r"[0-9a-f-]{36}", "<id>", str(x.value)) for x in (hidden, missing)]
    assert norm[0] == norm[1]                                       # same error: no existence oracle
    assert hidden.value.diag.message_hint == missing.value.diag.message_hint
    with raises_sqlstate("P0002"):
        summary(bob, n["t_urgent"])                                 # a ticket is not an account
    with raises_sqlstate("P0002"):
        list(bob.execute("SELECT * FROM crm.recent_activity(%s)", (n["acme"],)))
    with raises_sqlstate("P0002"):
        list(bob.execute("SELECT * FROM crm.timeline(%s)", (n["acme"],)))
    assert bob.execute("SELECT count(*) FROM crm.resolve_account('acme')").fetchone()[0] == 0
    with raises_sqlstate("22023"):
        summary(bob, None)


def test_summary_via_service_acting_as_user(a360):
    w, n = a360, a360.n
    svc = w.connect("svc", autocommit=False)
    with svc.transaction():
        svc.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
        assert summary(svc, n["acme"])["open_tickets"]["count"] == 3
    with svc.transaction(), raises_sqlstate("P0002"):
        summary(svc, n["acme"])                                     # identity gone with the transaction


def test_summary_follows_a_merge(a360):
    w, n = a360, a360.n
    dup = w.node("org", "Acme Inc", ["Sales EMEA"])
    w.admin.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('merged_into', %s, %s)",
                    (dup, n["acme"]))
    w.admin.execute("UPDATE crm.nodes SET archived_at = now() WHERE id = %s", (dup,))
    s = summary(w.connect("alice"), dup)
    assert s["account"]["id"] == str(n["acme"]) and s["account"]["merged_from"] == str(dup)


# ------------------------------------------------------------------ recent_activity / timeline
def test_recent_activity_newest_first_within_window(a360):
    w, n = a360, a360.n
    alice = w.connect("alice")
    rows = alice.execute("SELECT event_type, channel, source, about_node_id, event_id, summary "
                         "FROM crm.recent_activity(%s, 30)", (n["acme"],)).fetchall()
    # comment (1 d), overdue INV-2 (due 5 d ago → reported at due + 1 day), meeting (5 d), call (20 d);
    # no future email, no 60-day-old note, nothing of Globex
    assert [r[0] for r in rows] == ["ticket_comment", "invoice_overdue", "meeting", "phone_call"]
    assert rows[0][1:4] == ("ticket", "zendesk", n["t_urgent"])
    assert rows[1][1] == "billing" and rows[1][3] == n["INV-2"] and rows[1][4] is None
    assert rows[2][1:4] == ("meeting", "salesforce", n["o_prop"]) and rows[2][5] == "QBR with Acme"
    assert rows[3][3] is None or rows[3][3] == n["acme"]
    assert [r[0] for r in alice.execute("SELECT event_type FROM crm.recent_activity(%s, 90)", (n["acme"],))][-1] == "note"
    with raises_sqlstate("22023"):
        alice.execute("SELECT * FROM crm.recent_activity(%s, 0)", (n["acme"],))


def test_timeline_filters(a360):
    w, n = a360, a360.n
    alice = w.connect("alice")

    def types(*args, **kw):
        q = ("SELECT event_type FROM crm.timeline(%(id)s, p_types => %(t)s, p_channels => %(c)s, "
             "p_from => %(f)s, p_to => %(to)s)")
        return [r[0] for r in alice.execute(q, {"id": n["acme"], "t": kw.get("t"), "c": kw.get("c"),
                                                "f": kw.get("f"), "to": kw.get("to")})]
    assert types() == ["email", "ticket_comment", "invoice_overdue", "meeting", "phone_call", "note"]
    assert types(t=["meeting", "phone_call"]) == ["meeting", "phone_call"]
    assert types(c=["email", "phone"]) == ["email", "phone_call"]
    assert types(c=["billing"]) == ["invoice_overdue"]
    now = dt.datetime.now(dt.UTC)
    assert types(f=now - dt.timedelta(days=21), to=now - dt.timedelta(days=2)) == ["invoice_overdue", "meeting", "phone_call"]
    # any node, not just accounts: the ticket's own timeline
    assert [r[0] for r in alice.execute("SELECT event_type FROM crm.timeline(%s)", (n["t_urgent"],))] == ["ticket_comment"]
    assert types(c=["access"]) == ["access_restricted"]           # audit events only when asked for
    for bad in ({"t": ["no_such_type"]}, {"c": ["carrier_pigeon"]},
                {"f": now, "to": now - dt.timedelta(days=1)}):
        with raises_sqlstate("22023"):
            types(**bad)
    with raises_sqlstate("22023"):
        alice.execute("SELECT * FROM crm.timeline(NULL)")


# ------------------------------------------------------------------ resolve_account
def test_resolve_account_ranking(a360):
    w, n = a360, a360.n
    w.node("org", "Acme Industries", ["Sales EMEA"], domain="acme-industries.com")
    w.node("org", "Initrode", ["Sales EMEA"])
    alice = w.connect("alice")

    def resolve(text):
        return [(r[0], r[1], r[2]) for r in alice.execute(
            "SELECT account_id, name, match_kind FROM crm.resolve_account(%s)", (text,))]
    r = resolve("Acme")
    assert r[0][1] == "ACME Corp." and r[0][2] == "similar_name" and {x[1] for x in r} == {"ACME Corp.", "Acme Industries"}
    assert resolve("acme corp.")[0] == (n["acme"], "ACME Corp.", "exact_name")
    assert resolve("001A000001") == [(n["acme"], "ACME Corp.", "crm_id")]
    assert resolve("jane.doe@acme.com")[0] == (n["acme"], "ACME Corp.", "domain")
    assert resolve("https://www.acme.com/pricing")[0] == (n["acme"], "ACME Corp.", "domain")
    assert resolve(str(n["acme"])) == [(n["acme"], "ACME Corp.", "id")]
    assert resolve("Globex") == []                                  # not visible to alice
    assert resolve("100%_") == []
    scores = [r[0] for r in alice.execute("SELECT score FROM crm.resolve_account('Acme')")]
    assert scores == sorted(scores, reverse=True)
    for bad in ("   ", None):
        with raises_sqlstate("22023"):
            alice.execute("SELECT * FROM crm.resolve_account(%s)", (bad,))
    with raises_sqlstate("22023"):
        alice.execute("SELECT * FROM crm.resolve_account('acme', 0)")


def test_resolve_account_uses_the_trigram_index(a360):
    w = a360
    w.admin.execute("INSERT INTO crm.nodes (node_type, properties) SELECT 'org', jsonb_build_object('name', 'Company ' || g) "
                    "FROM generate_series(1, 3000) g")
    w.admin.execute("ANALYZE crm.nodes")
    w.admin.execute("SET enable_seqscan = off")
    w.admin.execute("SET enable_bitmapscan = on")
    plan = "\n".join(r[0] for r in w.admin.execute(
        "EXPLAIN SELECT id FROM crm.nodes n WHERE n.node_type = 'org' AND n.archived_at IS NULL "
        "AND n.label OPERATOR(extensions.%) 'Acme'"))
    assert "Seq Scan" not in plan and ("nodes_org_label_trgm" in plan or "nodes_org_domain" in plan)


# ------------------------------------------------------------------ freshness
def test_source_freshness_status_and_overdue(a360):
    w = a360
    rows = {(r[0], r[1]): r[2:] for r in w.connect("alice").execute(
        "SELECT source, object, status, overdue, last_error, freshness_group FROM crm.source_freshness")}
    assert rows[("salesforce", "Account")][:2] == ("fresh", False)
    assert rows[("zendesk", "tickets")][:2] == ("failed", True)      # last success 2 h ago vs hourly
    assert rows[("zendesk", "tickets")][2] is None                  # error text: admins/connectors only
    assert rows[("clm", "contracts")][:2] == ("stale", True)        # silently stopped: 3 days vs daily
    assert rows[("stripe", "invoices")][:2] == ("never", True)
    boss = w.connect("boss")
    err = boss.execute("SELECT last_error FROM crm.source_freshness WHERE source = 'zendesk'").fetchone()[0]
    assert err == "HTTP 503 from Zendesk"
    # a fresh success within 1.5 × the interval is not overdue; older than that is
    fx.add_schedule(w.admin, "zendesk", "users", "1 day")
    fx.add_sync_run(w.admin, "zendesk", "users", "30 hours")
    assert boss.execute("SELECT status, overdue FROM crm.source_freshness WHERE object = 'users'").fetchone() == ("fresh", False)
    fx.add_schedule(w.admin, "zendesk", "organizations", "1 day")
    fx.add_sync_run(w.admin, "zendesk", "organizations", "37 hours")
    assert boss.execute("SELECT status, overdue FROM crm.source_freshness "
                        "WHERE object = 'organizations'").fetchone() == ("stale", True)


# ------------------------------------------------------------------ digest
def test_daily_digest_grouped_per_team(a360):
    w, n = a360, a360.n
    fx.add_quality_issue(w.admin, "orphan", n["acme"], "clm", {"old": True}, detected="3 days")   # not today
    d = w.connect("boss").execute("SELECT crm.daily_digest()").fetchone()[0]
    assert d["day"] == fx.TODAY.isoformat()
    teams = {t["team"]: t for t in d["teams"]}
    assert list(teams) == ["Sales EMEA", "Sales US"]
    emea, us = teams["Sales EMEA"], teams["Sales US"]
    assert (emea["new_orphans"], emea["new_identity_mismatches"]) == (0, 2)
    # the planted duplicate pair is listed for both of its accounts (Acme's team, and unassigned)
    assert emea["new_duplicate_candidates"] == 1 and d["unassigned"]["new_duplicate_candidates"] == 1
    assert (us["new_orphans"], us["new_identity_mismatches"], us["new_duplicate_candidates"]) == (0, 0, 0)
    assert {i["account"] for i in emea["items"]} == {"ACME Corp."}
    # the zendesk failure affects Acme (it has zendesk tickets), not Globex (no zendesk data)
    assert [(f["source"], f["object"], f["accounts_affected"]) for f in emea["connector_failures"]] == \
        [("zendesk", "tickets", 1)]
    assert us["connector_failures"] == []
    assert {(s["source"], s["status"]) for s in emea["stale_sources"]} == \
        {("clm", "stale"), ("salesforce", "fresh"), ("stripe", "never"), ("zendesk", "failed")} - {("salesforce", "fresh")}
    assert {(s["source"], s["status"]) for s in us["stale_sources"]} == set()   # salesforce is fresh
    assert d["unassigned"]["new_orphans"] == 3   # orphans have no account, hence no team
    assert d["platform"]["connector_failures"][0]["error"] == "HTTP 503 from Zendesk"
    # a rep only hears about the teams of accounts they can see
    d_alice = w.connect("alice").execute("SELECT crm.daily_digest()").fetchone()[0]
    assert [t["team"] for t in d_alice["teams"]] == ["Sales EMEA"]
    with raises_sqlstate("22023"):
        w.admin.execute("SELECT crm.daily_digest(current_date + 1)")
    old = w.admin.execute("SELECT crm.daily_digest(current_date - 3)").fetchone()[0]
    assert {t["team"]: t["new_orphans"] for t in old["teams"]} == {"Sales EMEA": 0, "Sales US": 0}
    assert old["unassigned"]["new_orphans"] == 1


def test_migration_0011_runs_twice(db):
    """0011 and the migrations that redefine what it made (0019: the Account 360 facts and
    storage; 0036: the facts set-based) run again, in order, without changing anything."""
    from crm360.migrator import sql_dir
    from tests.test_migrator import schema_dump
    before = schema_dump(db)
    with psycopg.connect(db) as c:
        for name in ("0011_account360.sql", "0019_owners_read_models.sql", "0036_accounts_360_set_based.sql"):
            c.execute((sql_dir() / name).read_text())
        c.commit()
    assert schema_dump(db) == before


def test_participant_added_later_is_visible_with_its_event(a360):
    """Regression (ACL maintenance): a participant added to an event whose acl it does not
    change got event_acl '{}' and stayed invisible to members."""
    w, n = a360, a360.n
    alice = w.connect("alice")
    roles = alice.execute("SELECT role FROM crm.event_participants WHERE event_id = %s ORDER BY role",
                          (n["ev_comment"],)).fetchall()
    assert roles == [("account",), ("subject",)]


def test_accounts_360_mv_depends_on_tables_only(conn):
    """Re-applying views (or issue 5 replacing the data-quality relations) can never drop it:
    the materialized view reads base tables, the private snapshot and the one definition of
    the aggregates it shares with its live twin (crm_private.accounts_360_facts, created by
    migrations 0017/0019, never by the repeatable files; it also computes whether the counted
    rows are uniform, so the materialized view itself reads only the account's acl)."""
    deps = conn.execute("""SELECT DISTINCT c.oid::regclass::text FROM pg_depend d
                             JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class c ON c.oid = d.refobjid
                            WHERE r.ev_class = 'crm_private.accounts_360_mv'::regclass
                              AND c.oid <> r.ev_class ORDER BY 1""").fetchall()
    assert [d[0] for d in deps] == ["crm.nodes", "crm_private.account_quality", "crm_private.accounts_360_facts"]
