"""The customer model of seed 002 (issue 15): channels, tags, segments, fit, suppression, deals,
activity-log event types — behaviour and validation, against the real database (as the DBA;
access rules are in tests/test_customers_access.py, as ordinary LOGIN roles)."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.crm_helpers import org, person, raises_sqlstate, val


def count(conn, sql, params=None) -> int:
    return val(conn, f"SELECT count(*) FROM ({sql}) x", params)


def events_of(conn, node, types) -> list[str]:
    return [r[0] for r in conn.execute(
        """SELECT e.event_type FROM crm.events e JOIN crm.event_participants p ON p.event_id = e.id
            WHERE p.node_id = %s AND p.role = 'subject' AND e.event_type = ANY (%s)
            ORDER BY e.recorded_at, e.event_type""", (node, types)).fetchall()]


# ------------------------------------------------------------------ channels, pick_channel, suppression
def test_channels_are_normalised_unique_per_kind_and_owned_by_their_person(conn):
    ana, bob = person(conn, "Ana"), person(conn, "Bob")
    ch = val(conn, "SELECT crm.add_channel(%s, 'email', '  Ana@ACME.Example ', true)", (ana,))
    assert val(conn, "SELECT properties FROM crm.nodes WHERE id = %s", (ch,)) == \
        {"channel_type": "email", "value": "ana@acme.example"}
    assert val(conn, "SELECT crm.add_channel(%s, 'email', 'ana@acme.example')", (ana,)) == ch   # idempotent
    with raises_sqlstate("CR051"):
        conn.execute("SELECT crm.add_channel(%s, 'email', 'ANA@acme.example')", (bob,))
    ph = val(conn, "SELECT crm.add_channel(%s, 'phone', '+49 (30) 123-4567')", (ana,))
    assert val(conn, "SELECT properties ->> 'value' FROM crm.nodes WHERE id = %s", (ph,)) == "49301234567"
    li = val(conn, "SELECT crm.add_channel(%s, 'linkedin', 'linkedin.com/in/Ana-Silva/?utm=x')", (ana,))
    assert val(conn, "SELECT properties ->> 'value' FROM crm.nodes WHERE id = %s", (li,)) == \
        "https://www.linkedin.com/in/ana-silva"
    val(conn, "SELECT crm.add_channel(%s, 'telegram', '-100123456789')", (ana,))
    for kind, value in [("email", "no-at-sign"), ("email", "a@b"), ("phone", "12"), ("phone", "call me"),
                        ("linkedin", "https://example.com/in/x"), ("telegram", "@ana"), ("fax", "123456789")]:
        with raises_sqlstate("CR050"):
            conn.execute("SELECT crm.add_channel(%s, %s, %s)", (ana, kind, value))
    # the channel belongs to its person: owned_by edge, so it inherits the person's visibility
    assert count(conn, "SELECT 1 FROM crm.edges WHERE source_id = %s AND target_id = %s AND edge_type = 'owned_by'",
                 (ch, ana)) == 1
    assert count(conn, "SELECT 1 FROM crm.edges WHERE source_id = %s AND edge_type = 'has_channel'", (ana,)) == 4
    org_id = org(conn, "Acme")
    with raises_sqlstate("CR012"):
        conn.execute("SELECT crm.add_channel(%s, 'email', 'info@acme.example')", (org_id,))


def test_pick_channel_skips_bounced_and_invalid_and_returns_nothing_when_suppressed(conn):
    ana = person(conn)
    work = val(conn, "SELECT crm.add_channel(%s, 'email', 'ana@work.example', true)", (ana,))
    home = val(conn, "SELECT crm.add_channel(%s, 'email', 'ana@home.example')", (ana,))
    phone = val(conn, "SELECT crm.add_channel(%s, 'phone', '+351 912 345 678')", (ana,))

    def pick(kind=None):
        r = conn.execute("SELECT channel_id FROM crm.pick_channel(%s, %s)", (ana, kind)).fetchall()
        return r[0][0] if r else None

    assert pick("email") == work                      # preferred first
    assert pick() == work
    assert val(conn, "SELECT crm.mark_channel(%s, 'bounced', 'mailbox full')", (work,)) is True
    assert val(conn, "SELECT crm.mark_channel(%s, 'bounced')", (work,)) is False
    assert pick("email") == home                      # bounced is never picked
    conn.execute("SELECT crm.mark_channel(%s, 'invalid')", (home,))
    assert pick("email") is None
    assert pick("phone") == phone
    # the bounce is history (channel_status assertions), not an overwrite
    assert count(conn, "SELECT 1 FROM crm.assertions WHERE subject_node_id = %s AND assertion_type = 'channel_status'",
                 (work,)) == 1
    conn.execute("SELECT crm.mark_channel(%s, 'active')", (work,))
    assert pick("email") == work
    with raises_sqlstate("CR013"):
        conn.execute("SELECT crm.mark_channel(%s, 'gone')", (work,))
    with raises_sqlstate("22023"):
        conn.execute("SELECT * FROM crm.pick_channel(%s, 'fax')", (ana,))

    # Exit — Suppress: no channel at all while suppressed; the customer is kept
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.suppress(%s, '  ')", (ana,))
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.suppress(%s, 'x', '2001-01-01')", (ana,))
    conn.execute("SELECT crm.suppress(%s, 'asked not to be contacted')", (ana,))
    assert pick("email") is None and pick() is None
    assert val(conn, "SELECT suppressed FROM crm.customers WHERE customer_id = %s", (ana,)) is True
    assert val(conn, "SELECT crm.unsuppress(%s, 'opted in')", (ana,)) is True
    assert val(conn, "SELECT crm.unsuppress(%s)", (ana,)) is False
    assert pick("email") == work
    claims = [r[0] for r in conn.execute(
        """SELECT claim FROM crm.assertions WHERE subject_node_id = %s AND assertion_type = 'do_not_contact'
            ORDER BY asserted_at""", (ana,)).fetchall()]
    assert [c.get("lifted") for c in claims] == [False, True]     # history kept
    # a suppression that expired no longer counts
    future = dt.date.today() + dt.timedelta(days=3)
    conn.execute("SELECT crm.suppress(%s, 'holiday', %s)", (ana, future))
    assert pick() is None
    assert val(conn, "SELECT crm_private.is_suppressed(%s, now() + interval '5 days')", (ana,)) is False


def test_email_bounced_event_marks_the_channel(conn):
    ana = person(conn)
    ch = val(conn, "SELECT crm.add_channel(%s, 'email', 'ana@x.example')", (ana,))
    conn.execute("SELECT crm.log_customer_event(%s, 'email_bounced', %s)",
                 (ana, Jsonb({"channel_id": str(ch), "reason": "5.1.1"})))
    assert conn.execute("SELECT * FROM crm.pick_channel(%s, 'email')", (ana,)).fetchall() == []


def test_domain_auto_match_links_exactly_one_company_never_free_mail(conn):
    acme = org(conn, "Acme", '{"domain": "acme.example"}')
    org(conn, "Twin A", '{"domain": "twin.example"}')
    org(conn, "Twin B", '{"domain": "twin.example"}')
    ana, bob, cid = person(conn, "Ana"), person(conn, "Bob"), person(conn, "Cid")
    conn.execute("SELECT crm.add_channel(%s, 'email', 'ana@acme.example')", (ana,))
    conn.execute("SELECT crm.add_channel(%s, 'email', 'bob@gmail.com')", (bob,))
    conn.execute("SELECT crm.add_channel(%s, 'email', 'cid@twin.example')", (cid,))
    employer = "SELECT source_id FROM crm.edges WHERE target_id = %s AND edge_type = 'employs' AND effective_to IS NULL"
    assert [r[0] for r in conn.execute(employer, (ana,))] == [acme]
    assert conn.execute(employer, (bob,)).fetchall() == []          # free mail never matches
    assert conn.execute(employer, (cid,)).fetchall() == []          # ambiguous: nothing guessed
    assert events_of(conn, ana, ["company_matched"]) == ["company_matched"]
    assert val(conn, "SELECT company FROM crm.customers WHERE customer_id = %s", (ana,)) == "Acme"
    # the set-based job: a person whose email was only in properties
    dan = person(conn, "Dan", props='{"email": "dan@acme.example"}')
    assert val(conn, "SELECT crm.match_companies()") == 1
    assert [r[0] for r in conn.execute(employer, (dan,))] == [acme]


def test_merge_companies_only_merges_orgs(conn):
    keep, drop = org(conn, "Acme"), org(conn, "ACME Inc")
    p = person(conn)
    conn.execute("SELECT crm.link_employment(%s, %s)", (drop, p))
    assert val(conn, "SELECT crm.merge_companies(%s, %s, 'dup')", (keep, drop)) is True
    assert val(conn, "SELECT crm.resolve_node_id(%s)", (drop,)) == keep
    assert val(conn, "SELECT company_id FROM crm.customers WHERE customer_id = %s", (p,)) == keep
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.merge_companies(%s, %s)", (keep, p))


# ------------------------------------------------------------------ tags
def test_tags_keep_history_and_log_events(conn):
    ana = person(conn)
    assert val(conn, "SELECT crm.tag(%s, 'VIP')", (ana,)) is True
    assert val(conn, "SELECT crm.tag(%s, 'vip')", (ana,)) is False          # case-insensitive, already on
    assert val(conn, "SELECT crm.untag(%s, 'vip')", (ana,)) is True
    assert val(conn, "SELECT crm.untag(%s, 'vip')", (ana,)) is False
    assert val(conn, "SELECT crm.tag(%s, 'vip')", (ana,)) is True
    hist = conn.execute("SELECT tag, removed_at IS NOT NULL FROM crm.tag_history WHERE node_id = %s "
                        "ORDER BY added_at, removed_at NULLS LAST", (ana,)).fetchall()
    assert hist == [("VIP", True), ("VIP", False)]          # two stays, the first closed, never deleted
    assert events_of(conn, ana, ["tag_added", "tag_removed"]) == ["tag_added", "tag_removed", "tag_added"]
    assert val(conn, "SELECT count(*) FROM crm.tags") == 1
    with raises_sqlstate("P0002"):
        conn.execute("SELECT crm.untag(%s, 'never-seen')", (ana,))
    for bad in ("", "a,b", "x" * 65):
        with raises_sqlstate("22023"):
            conn.execute("SELECT crm.create_tag(%s)", (bad,))
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.create_tag('blue', NULL, 'blue')")
    # history rows cannot be rewritten, even by the DBA through the table
    with raises_sqlstate("CR015"):
        conn.execute("UPDATE crm.node_tags SET removed_at = NULL WHERE node_id = %s AND removed_at IS NOT NULL", (ana,))
    with raises_sqlstate("42501"):
        conn.execute("DELETE FROM crm.node_tags")   # no hard delete, not even by the DBA


# ------------------------------------------------------------------ segments
def test_dynamic_segment_diffs_across_three_refreshes_with_history(conn):
    p1 = person(conn, "P1", props='{"country": "DE"}')
    p2 = person(conn, "P2", props='{"country": "DE"}')
    p3 = person(conn, "P3", props='{"country": "FR"}')
    conn.execute("SELECT crm.tag(%s, 'hot'), crm.tag(%s, 'hot')", (p1, p3))
    seg = val(conn, """SELECT crm.create_segment('Hot DE', 'dynamic', %s)""",
              (Jsonb({"all": [{"field": "country", "op": "eq", "value": "de"},
                              {"field": "tag", "op": "has", "value": "HOT"}]}),))
    assert conn.execute("SELECT * FROM crm.segment_members_at(%s, now())", (seg,)).fetchall() == []

    def refresh():
        before = val(conn, "SELECT clock_timestamp()")
        rows = conn.execute("SELECT entered, exited FROM crm.refresh_segments(ARRAY[%s]::uuid[])", (seg,)).fetchall()
        after = val(conn, "SELECT clock_timestamp()")
        return rows[0], before, after

    (e1, x1), b1, a1 = refresh()
    assert (e1, x1) == (1, 0)
    # p1 moves to France, p2 becomes hot
    conn.execute("UPDATE crm.nodes SET properties = properties || '{\"country\": \"FR\"}' WHERE id = %s", (p1,))
    conn.execute("SELECT crm.tag(%s, 'hot')", (p2,))
    (e2, x2), b2, a2 = refresh()
    assert (e2, x2) == (1, 1)
    # p1 comes back; p2 stays
    conn.execute("UPDATE crm.nodes SET properties = properties || '{\"country\": \"DE\"}' WHERE id = %s", (p1,))
    (e3, x3), b3, a3 = refresh()
    assert (e3, x3) == (1, 0)
    (e4, x4), _, _ = refresh()
    assert (e4, x4) == (0, 0)                              # nothing changed: nothing written

    rows = conn.execute("""SELECT node_id, entered_at, left_at, entered_reason, left_reason
                             FROM crm.segment_memberships WHERE segment_id = %s ORDER BY entered_at, node_id""",
                        (seg,)).fetchall()
    assert [(r[0], r[3], r[4]) for r in rows] == [(p1, "rule", "rule"), (p2, "rule", None), (p1, "rule", None)]
    first, p2row, again = rows
    assert b1 <= first[1] <= a1                             # joined at refresh 1
    assert b2 <= first[2] <= a2 and b2 <= p2row[1] <= a2    # p1 left and p2 joined at refresh 2 (one time)
    assert first[2] == p2row[1]
    assert b3 <= again[1] <= a3 and p2row[2] is None        # p1 re-entered at refresh 3; p2 untouched
    assert p3 not in {r[0] for r in rows}

    def members_at(t):
        return {r[0] for r in conn.execute("SELECT node_id FROM crm.segment_members_at(%s, %s)", (seg, t))}

    assert members_at(b1) == set()
    assert members_at(a1) == {p1}
    assert members_at(a2) == {p2}
    assert members_at(a3) == {p1, p2}
    assert events_of(conn, p1, ["segment_joined", "segment_left"]) == ["segment_joined", "segment_left", "segment_joined"]
    assert events_of(conn, p2, ["segment_joined", "segment_left"]) == ["segment_joined"]
    assert {r[0] for r in conn.execute("SELECT customer_id FROM crm.segment_members WHERE segment_id = %s AND is_member",
                                       (seg,))} == {p1, p2}
    # archived customers leave at the next refresh, with that reason
    conn.execute("SELECT crm.archive_node(%s, 'gone')", (p2,))
    refresh()
    assert val(conn, "SELECT left_reason FROM crm.segment_memberships WHERE node_id = %s AND segment_id = %s",
               (p2, seg)) == "archived"


def test_refresh_of_many_segments_in_one_call_equals_refreshing_each_alone(conn):
    """All dynamic segments are evaluated in one pass (62 a pass, as bit sets): 70 segments over
    the same people give exactly the memberships that refreshing each segment on its own gives."""
    people = [person(conn, f"P{i}", props=f'{{"country": "C{i % 7}", "city": "T{i % 5}"}}') for i in range(40)]
    for p in people[::3]:
        conn.execute("SELECT crm.tag(%s, 'hot')", (p,))
    segs = []
    for i in range(70):
        d = {"all": [{"field": "country", "op": "eq", "value": f"c{i % 7}"},
                     {"any": [{"field": "city", "op": "in", "value": [f"T{i % 5}", f"T{(i + 1) % 5}"]},
                              {"field": "tag", "op": "has", "value": "hot"}]}]}
        segs.append(val(conn, "SELECT crm.create_segment(%s, 'dynamic', %s, NULL, 'analysis')", (f"s{i:02d}", Jsonb(d))))

    def members():
        return {(r[0], r[1]) for r in conn.execute(
            "SELECT segment_id, node_id FROM crm.segment_memberships WHERE left_at IS NULL AND segment_id = ANY (%s)",
            (segs,))}

    with conn.transaction(force_rollback=True):
        for s in segs:
            conn.execute("SELECT crm.refresh_segments(ARRAY[%s]::uuid[])", (s,))
        alone = members()
    assert members() == set()
    warnings = []
    conn.add_notice_handler(lambda d: warnings.append(d.message_primary))
    rows = conn.execute("SELECT segment_id, entered, exited FROM crm.refresh_segments()").fetchall()
    assert warnings == []                      # the passes did it (no fallback to one by one)
    assert members() == alone and len(alone) > 70
    assert {r[0] for r in rows} == set(segs)
    assert sum(r[1] for r in rows) == len(alone) and all(r[2] == 0 for r in rows)
    # one change: one person leaves the segments of its old country and joins those of the new one
    conn.execute("UPDATE crm.nodes SET properties = properties || '{\"country\": \"C1\"}' WHERE id = %s", (people[0],))
    rows = conn.execute("SELECT segment_id, entered, exited FROM crm.refresh_segments()").fetchall()
    changed = members() ^ alone
    assert changed and {n for _, n in changed} == {people[0]}
    assert sum(r[1] + r[2] for r in rows) == len(changed)
    assert count(conn, "SELECT 1 FROM crm.segment_memberships WHERE node_id = %s AND left_reason = 'rule'",
                 (people[0],)) == sum(r[2] for r in rows)


def test_a_segment_failing_at_refresh_time_is_skipped_alone(conn):
    """A filter that compiles but fails when it runs (here: outreach segments read suppressions,
    and a suppression with an unreadable expiry date was planted past the validation) fails the
    one-pass refresh; the segments are then refreshed one by one and only the failing one is
    skipped, with a WARNING and NULL counts."""
    ana = person(conn, "Ana", props='{"country": "DE"}')
    bob = person(conn, "Bob", props='{"country": "DE"}')
    outreach = val(conn, "SELECT crm.create_segment('DE mail', 'dynamic', %s)",
                   (Jsonb({"field": "country", "op": "eq", "value": "DE"}),))
    analysis = val(conn, "SELECT crm.create_segment('DE count', 'dynamic', %s, NULL, 'analysis')",
                   (Jsonb({"field": "country", "op": "eq", "value": "DE"}),))
    conn.execute("SELECT crm.suppress(%s, 'asked us to stop')", (bob,))
    conn.execute("ALTER TABLE crm.assertions DISABLE TRIGGER USER")
    conn.execute("""UPDATE crm.assertions SET claim = claim || '{"expires": "soon"}'
                     WHERE subject_node_id = %s AND assertion_type = 'do_not_contact'""", (bob,))
    conn.execute("ALTER TABLE crm.assertions ENABLE TRIGGER USER")
    warnings = []
    conn.add_notice_handler(lambda d: warnings.append(d.message_primary))
    rows = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT segment_id, entered, exited FROM crm.refresh_segments()")}
    assert rows == {outreach: (None, None), analysis: (2, 0)}
    assert any("one-pass segment refresh failed" in m for m in warnings)
    assert any("DE mail" in m and "not refreshed" in m for m in warnings)
    assert {r[0] for r in conn.execute("SELECT node_id FROM crm.segment_memberships WHERE segment_id = %s",
                                       (analysis,))} == {ana, bob}
    assert count(conn, "SELECT 1 FROM crm.segment_memberships WHERE segment_id = %s", (outreach,)) == 0


def test_segment_filter_language_fields(conn):
    acme = org(conn, "Acme", '{"domain": "acme.example", "industry": "Robotics"}')
    ana = person(conn, "Ana", props='{"title": "CTO", "email": "ana@acme.example", "tier": "gold"}')
    bob = person(conn, "Bob", props='{"title": "Intern", "email": "bob@gmail.com"}')
    conn.execute("SELECT crm.link_employment(%s, %s)", (acme, ana))
    conn.execute("SELECT crm.add_channel(%s, 'phone', '+1 555 123 4567')", (bob,))
    prod = val(conn, "SELECT crm.create_product('Suite')")
    crit = val(conn, "SELECT crm.set_fit_criterion(%s, 'size', 1)", (prod,))
    conn.execute("SELECT crm.assess_fit(%s, %s, 85)", (ana, crit))
    conn.execute("SELECT crm.log_customer_event(%s, 'email_replied', '{}', now() - interval '2 days')", (bob,))

    def match(definition, purpose="analysis"):
        seg = val(conn, "SELECT crm.create_segment('s', 'dynamic', %s, NULL, %s)", (Jsonb(definition), purpose))
        conn.execute("SELECT crm.refresh_segments(ARRAY[%s]::uuid[])", (seg,))
        return {r[0] for r in conn.execute(
            "SELECT node_id FROM crm.segment_memberships WHERE segment_id = %s AND left_at IS NULL", (seg,))}

    assert match({"field": "title", "op": "in", "value": ["cto", "ceo"]}) == {ana}
    assert match({"field": "email_domain", "op": "eq", "value": "acme.example"}) == {ana}
    assert match({"field": "name", "op": "starts_with", "value": "bo"}) == {bob}
    assert match({"field": "property", "key": "tier", "op": "eq", "value": "GOLD"}) == {ana}
    assert match({"field": "company", "op": "eq", "value": str(acme)}) == {ana}
    assert match({"field": "company", "op": "is_empty"}) == {bob}
    assert match({"field": "company.industry", "op": "contains", "value": "robot"}) == {ana}
    assert match({"field": "fit", "product": str(prod), "op": "gte", "value": 80}) == {ana}
    assert match({"field": "fit", "product": str(prod), "op": "is_empty"}) == {bob}
    assert match({"field": "last_activity", "op": "within_days", "value": 7}) == {bob}
    assert match({"field": "last_activity", "op": "older_than_days", "value": 7}) == {ana}
    assert match({"field": "channel", "op": "has", "value": "phone"}) == {bob}
    assert match({"field": "owner", "op": "is_empty"}) == {ana, bob}
    assert match({"not": {"field": "title", "op": "eq", "value": "cto"}}) == {bob}
    assert match({"any": [{"field": "title", "op": "eq", "value": "intern"},
                          {"field": "fit", "product": str(prod), "op": "gt", "value": 50}]}) == {ana, bob}
    # values are parameters, never SQL: an injection attempt is just a string nobody has
    assert match({"field": "title", "op": "eq", "value": "x' OR '1'='1"}) == set()
    assert match({"field": "property", "key": "title", "op": "neq", "value": "CTO') OR true --"}) == {ana, bob}
    # outreach segments exclude the suppressed
    conn.execute("SELECT crm.suppress(%s, 'no')", (bob,))
    assert match({"field": "name", "op": "is_not_empty"}, "outreach") == {ana}
    assert match({"field": "suppressed", "op": "eq", "value": True}) == {bob}


@pytest.mark.parametrize("definition, path", [
    (None, "$"),
    ({"field": "salary", "op": "gt", "value": 1}, "$.field"),
    ({"field": "title", "op": "like", "value": "%"}, "$.op"),
    ({"field": "title; DROP TABLE crm.nodes", "op": "eq", "value": "x"}, "$.field"),
    ({"field": "property", "key": "x'); DROP TABLE crm.nodes; --", "op": "eq", "value": "x"}, "$.key"),
    ({"field": "title", "op": "eq"}, "$.value"),
    ({"field": "title", "op": "in", "value": []}, "$.value"),
    ({"field": "title", "op": "eq", "value": {"sql": "1"}}, "$.value"),
    ({"field": "company", "op": "eq", "value": "not-a-uuid"}, "$.value"),
    ({"field": "fit", "op": "gte", "value": 50}, "$.product"),
    ({"field": "fit", "product": "00000000-0000-0000-0000-000000000001", "op": "gte", "value": 500}, "$.value"),
    ({"field": "last_activity", "op": "within_days", "value": "7; select"}, "$.value"),
    ({"field": "created_at", "op": "before", "value": "yesterday-ish"}, "$.value"),
    ({"all": []}, "$.all"),
    ({"all": [{"field": "title", "op": "eq", "value": "a"}, {"field": "nope", "op": "eq", "value": 1}]}, "$.all[1].field"),
    ({"all": [{"field": "title", "op": "eq", "value": "a"}], "any": []}, "$"),
    ({"field": "title", "op": "eq", "value": "a", "sql": "true"}, "$"),
])
def test_invalid_segment_filters_are_refused_with_their_path(conn, definition, path):
    n = val(conn, "SELECT count(*) FROM crm.nodes")
    with raises_sqlstate("CR053") as e:
        conn.execute("SELECT crm.create_segment('bad', 'dynamic', %s)", (Jsonb(definition) if definition else None,))
    assert e.value.diag.message_detail == path
    assert val(conn, "SELECT count(*) FROM crm.nodes") == n            # nothing half-written


def test_segment_kind_rules(conn):
    ana = person(conn)
    with raises_sqlstate("CR054"):
        conn.execute("""SELECT crm.create_segment('s', 'static', '{"field": "title", "op": "is_empty"}')""")
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.create_segment('s', 'smart')")
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.create_segment(' ')")
    dyn = val(conn, """SELECT crm.create_segment('d', 'dynamic', '{"field": "title", "op": "is_empty"}')""")
    with raises_sqlstate("CR054"):
        conn.execute("SELECT crm.add_to_segment(%s, %s)", (dyn, ana))
    static = val(conn, "SELECT crm.create_segment('s')")
    with raises_sqlstate("CR054"):
        conn.execute("""SELECT crm.set_segment_filter(%s, '{"field": "title", "op": "is_empty"}')""", (static,))
    assert val(conn, "SELECT crm.add_to_segment(%s, %s)", (static, ana)) is True
    assert val(conn, "SELECT crm.add_to_segment(%s, %s)", (static, ana)) is False
    assert val(conn, "SELECT crm.remove_from_segment(%s, %s)", (static, ana)) is True
    assert val(conn, "SELECT crm.add_to_segment(%s, %s)", (static, ana)) is True
    assert count(conn, "SELECT 1 FROM crm.segment_memberships WHERE segment_id = %s", (static,)) == 2
    assert events_of(conn, ana, ["segment_joined", "segment_left"]) == ["segment_joined", "segment_left", "segment_joined"]
    with raises_sqlstate("CR012"):      # members are people
        conn.execute("INSERT INTO crm.segment_memberships (segment_id, node_id) VALUES (%s, %s)", (static, static))
    # a segment is a campaign target (seed 001 campaign_target edges)
    camp = val(conn, """INSERT INTO crm.nodes (node_type, label, properties)
                        VALUES ('campaign', 'Spring', '{"name": "Spring", "campaign_type": "email"}') RETURNING id""")
    conn.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('campaign_target', %s, %s)",
                 (camp, static))


# ------------------------------------------------------------------ fit scoring and leads
def test_fit_assessments_keep_history_and_rank_leads(conn):
    prod = val(conn, "SELECT crm.create_product('Suite')")
    assert val(conn, "SELECT crm.create_product('suite')") == prod
    size = val(conn, "SELECT crm.set_fit_criterion(%s, 'Company size', 3)", (prod,))
    stack = val(conn, "SELECT crm.set_fit_criterion(%s, 'Stack', 1)", (prod,))
    ana, bob = person(conn, "Ana"), person(conn, "Bob")
    conn.execute("SELECT crm.assess_fit(%s, %s, 40, 'small team')", (ana, size))
    t_first = val(conn, "SELECT clock_timestamp()")
    conn.execute("SELECT crm.assess_fit(%s, %s, 80, 'hired 50 people', 'model', 'fit-v2')", (ana, size))
    conn.execute("SELECT crm.assess_fit(%s, %s, 100)", (ana, stack))
    conn.execute("SELECT crm.assess_fit(%s, %s, 60)", (bob, size))
    hist = conn.execute("""SELECT score, assessed_by, assessor, valid_to IS NULL FROM crm.fit_history
                            WHERE customer_id = %s AND criterion_id = %s ORDER BY valid_from""", (ana, size)).fetchall()
    assert [(h[0], h[1], h[3]) for h in hist] == [(40, "human", False), (80, "model", True)]
    assert hist[1][2] == "fit-v2"
    assert val(conn, "SELECT crm.fit_score(%s, %s)", (ana, prod)) == 85        # (80*3 + 100*1) / 4
    assert val(conn, "SELECT crm.fit_score(%s, %s, %s)", (ana, prod, t_first)) == 40   # as it was then
    leads = conn.execute("SELECT customer_id, fit, rank, review_status FROM crm.leads WHERE product_id = %s "
                         "ORDER BY rank", (prod,)).fetchall()
    assert leads == [(ana, 85, 1, "pending"), (bob, 60, 2, "pending")]
    conn.execute("SELECT crm.review_lead(%s, %s, 'approved', 'call')", (ana, prod))
    conn.execute("SELECT crm.review_lead(%s, %s, 'rejected')", (bob, prod))
    assert dict(conn.execute("SELECT customer_id, review_status FROM crm.leads WHERE product_id = %s",
                             (prod,)).fetchall()) == {ana: "approved", bob: "rejected"}
    assert events_of(conn, ana, ["profile_scored"]) == ["profile_scored"] * 3
    for score, by in [(101, "human"), (-1, "human"), (50, "robot")]:
        with raises_sqlstate("CR013"):
            conn.execute("SELECT crm.assess_fit(%s, %s, %s, NULL, %s)", (ana, size, score, by))
    with raises_sqlstate("CR013"):
        conn.execute("SELECT crm.review_lead(%s, %s, 'maybe')", (ana, prod))
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.set_fit_criterion(%s, 'x', 0)", (prod,))
    with raises_sqlstate("P0002"):
        conn.execute("SELECT crm.assess_fit(%s, gen_random_uuid(), 50)", (ana,))
    assert conn.execute("SELECT fit, best_fit FROM crm.customers WHERE customer_id = %s", (ana,)).fetchone() == \
        ("Suite 85.0", 85)


# ------------------------------------------------------------------ activity log, timeline, deals
def test_activity_log_types_are_registered_with_channels_and_detail_shapes(conn):
    seed = {"email_sent", "email_opened", "email_clicked", "email_replied", "email_bounced", "linkedin_sent",
            "linkedin_replied", "telegram_sent", "telegram_replied", "tag_added", "tag_removed", "segment_joined",
            "segment_left", "bot_replied", "bot_escalated", "task_created", "task_completed", "owner_claimed",
            "owner_released", "profile_scored", "note_added", "deal_created"}
    rows = dict(conn.execute("SELECT event_type, channel FROM crm.event_types WHERE event_type = ANY (%s)",
                             (list(seed),)).fetchall())
    assert set(rows) == seed and all(rows.values())
    ana = person(conn)
    with raises_sqlstate("CR013"):       # email_clicked needs message_id and url
        conn.execute("""SELECT crm.log_customer_event(%s, 'email_clicked', '{"message_id": "m1"}')""", (ana,))
    with raises_sqlstate("CR013"):       # the registered JSON type
        conn.execute("""SELECT crm.log_customer_event(%s, 'email_sent', '{"subject": 42}')""", (ana,))
    with raises_sqlstate("CR013"):       # also for direct inserts
        conn.execute("INSERT INTO crm.events (event_type, properties) VALUES ('email_sent', '{}')")
    with raises_sqlstate("22023"):       # tag/segment/... events are crm360's
        conn.execute("""SELECT crm.log_customer_event(%s, 'tag_added', '{"tag": "x"}')""", (ana,))


def test_timeline_filters_cover_the_new_event_types(conn):
    ana = person(conn)
    old = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)
    conn.execute("""SELECT crm.log_customer_event(%s, 'email_sent', '{"subject": "Hello"}', %s)""", (ana, old))
    conn.execute("""SELECT crm.log_customer_event(%s, 'linkedin_replied', '{"text": "sure"}')""", (ana,))
    conn.execute("""SELECT crm.log_customer_event(%s, 'bot_escalated', '{"reason": "pricing"}')""", (ana,))
    conn.execute("SELECT crm.tag(%s, 'hot')", (ana,))
    seg = val(conn, "SELECT crm.create_segment('s')")
    conn.execute("SELECT crm.add_to_segment(%s, %s)", (seg, ana))

    def types(**kw):
        args = ", ".join(f"{k} => %({k})s" for k in kw)
        return sorted(r[0] for r in conn.execute(
            f"SELECT event_type FROM crm.timeline(%(n)s{', ' + args if args else ''})", {"n": ana, **kw}))

    assert types(p_types=["tag_added"]) == ["tag_added"]
    assert types(p_channels=["email"]) == ["email_sent"]
    assert types(p_channels=["linkedin", "bot"]) == ["bot_escalated", "linkedin_replied"]
    assert types(p_channels=["segment", "tag"]) == ["segment_joined", "tag_added"]
    assert types(p_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) == \
        ["bot_escalated", "linkedin_replied", "segment_joined", "tag_added"]
    assert types(p_to=dt.datetime(2025, 12, 31, tzinfo=dt.UTC)) == ["email_sent"]
    with raises_sqlstate("22023"):
        types(p_channels=["carrier_pigeon"])


def test_deals_the_edgr_way(conn):
    acme, ana = org(conn, "Acme"), person(conn)
    deal = val(conn, "SELECT crm.create_deal('Acme renewal', %s, %s, 'PL-EDGR', 12000, 'EUR')", (ana, acme))
    stage = "SELECT claim ->> 'stage' FROM crm.current_assertions WHERE subject_node_id = %s AND assertion_type = 'deal_stage'"
    assert val(conn, stage, (deal,)) == "open"
    conn.execute("SELECT crm.advance_deal_stage(%s, 'negotiating')", (deal,))
    conn.execute("SELECT crm.advance_deal_stage(%s, 'won')", (deal,))
    with raises_sqlstate("CR002"):                       # won is terminal
        conn.execute("SELECT crm.advance_deal_stage(%s, 'open')", (deal,))
    other = val(conn, "SELECT crm.create_deal('Acme upsell', %s, %s)", (ana, acme))
    with raises_sqlstate("CR001"):                       # the Salesforce-style stages are not EDGR's
        conn.execute("SELECT crm.advance_deal_stage(%s, 'closed_won')", (other,))
    edges = dict(conn.execute("SELECT edge_type, target_id FROM crm.edges WHERE source_id = %s "
                              "AND edge_type IN ('primary_contact', 'owned_by')", (deal,)).fetchall())
    assert edges == {"primary_contact": ana, "owned_by": acme}
    assert "deal_created" in [r[0] for r in conn.execute("SELECT event_type FROM crm.timeline(%s)", (ana,))]


def test_bulk_operations_are_set_based_and_all_or_nothing(conn):
    people = [person(conn, f"P{i}") for i in range(5)]
    assert val(conn, "SELECT crm.bulk_tag(%s, 'webinar')", (people,)) == 5
    assert val(conn, "SELECT crm.bulk_tag(%s, 'webinar')", (people,)) == 0
    assert val(conn, "SELECT crm.bulk_untag(%s, 'webinar')", (people[:2],)) == 2
    missing = uuid.UUID("00000000-0000-0000-0000-00000000dead")
    with raises_sqlstate("CR055") as e:
        conn.execute("SELECT crm.bulk_tag(%s, 'other')", (people + [missing],))
    assert e.value.diag.message_detail == f"refused ids: {missing}"
    assert val(conn, "SELECT count(*) FROM crm.node_tags nt JOIN crm.tags t ON t.id = nt.tag_id WHERE t.name = 'other'") == 0
    with raises_sqlstate("22023"):
        conn.execute("SELECT crm.bulk_tag(ARRAY[]::uuid[], 'x')")
    seg = val(conn, "SELECT crm.create_segment('s')")
    assert val(conn, "SELECT crm.bulk_add_to_segment(%s, %s)", (seg, people)) == 5
    assert val(conn, "SELECT crm.bulk_remove_from_segment(%s, %s)", (seg, people[:3])) == 3
    org_id = org(conn, "Acme")
    with raises_sqlstate("CR055"):                       # members are people
        conn.execute("SELECT crm.bulk_add_to_segment(%s, %s)", (seg, people + [org_id]))
    assert val(conn, "SELECT crm.bulk_archive(%s, 'cleanup')", (people[3:],)) == 2
    assert val(conn, "SELECT count(*) FROM crm.events WHERE event_type = 'node_archived'") == 2
    with raises_sqlstate("CR030"):                       # the DBA has no CRM identity to claim with
        conn.execute("SELECT crm.bulk_claim(%s)", (people,))


def test_write_customer_events_is_crm360s_own(conn):
    with raises_sqlstate("42501"):
        conn.execute("SELECT crm_private.write_customer_events(ARRAY['tag_added'], ARRAY[gen_random_uuid()], "
                     "ARRAY['{}'::jsonb], ARRAY['x'])")


def test_rollback_and_forward_again(db):
    from crm360.migrator import Migrator, sql_dir

    m = Migrator(db, echo=lambda s: None)
    # undo 0024_customer_model and every later migration
    later = [p.stem for p in sorted(sql_dir().glob("[0-9]*.sql"))
             if not p.name.endswith(".rollback.sql") and p.stem >= "0024_customer_model"]
    assert m.rollback(len(later))[-1] == "0024_customer_model"
    with psycopg.connect(db, autocommit=True) as c:
        assert val(c, "SELECT to_regclass('crm.node_tags')") is None
    m.migrate()
    with psycopg.connect(db, autocommit=True) as c:
        assert val(c, "SELECT to_regclass('crm.node_tags')") is not None
        p = person(c)
        assert val(c, "SELECT crm.tag(%s, 'back')", (p,)) is True


def test_merging_customers_moves_tags_notes_tasks_and_memberships(conn, world):
    world.login("alice", "crm_writer")
    keep, drop = person(conn, "Ana"), person(conn, "Ana (dup)")
    conn.execute("UPDATE crm.nodes SET claimed_by = %s WHERE id IN (%s, %s)", (world.users["alice"], keep, drop))
    alice = world.connect("alice")
    conn.execute("SELECT crm.tag(%s, 'vip'), crm.tag(%s, 'vip'), crm.tag(%s, 'hot')", (keep, drop, drop))
    note = val(alice, "SELECT crm.add_note(%s, 'met at the fair')", (drop,))
    task = val(conn, "SELECT crm.create_task(%s, 'call')", (drop,))
    seg = val(conn, "SELECT crm.create_segment('s')")
    conn.execute("SELECT crm.add_to_segment(%s, %s)", (seg, drop))
    assert val(conn, "SELECT crm.merge_nodes(%s, %s, 'duplicate')", (keep, drop)) is True
    assert val(conn, "SELECT anchor_id FROM crm.notes WHERE id = %s", (note,)) == keep
    assert val(conn, "SELECT anchor_id FROM crm.task_items WHERE id = %s", (task,)) == keep
    assert val(conn, "SELECT tags FROM crm.customers WHERE customer_id = %s", (keep,)) == "hot, vip"
    assert {r[0] for r in conn.execute("SELECT node_id FROM crm.segment_members_at(%s, now())", (seg,))} == {keep}
    assert val(conn, "SELECT left_reason FROM crm.segment_memberships WHERE node_id = %s", (drop,)) == "merged"
    assert val(conn, "SELECT count(*) FROM crm.node_tags WHERE node_id = %s AND removed_at IS NULL", (drop,)) == 0
