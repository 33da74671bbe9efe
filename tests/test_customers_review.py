"""The adversarial review of the customer model (issue 15, follow-up): each test replays one
attack as ordinary LOGIN roles (tests/access_helpers) and decides from the state observed
afterwards (rows, values), not only from the error raised.

World: team EMEA (alice and ada, writers) owns account Acme with customers ana and abe; ada
has claimed ana (alice sees ana but may not write her); team US (bob, writer) owns Globex with
customer gus; boss is an admin login."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.access_helpers import ids
from tests.crm_helpers import val


@pytest.fixture
def w(world):
    world.team("EMEA")
    world.team("US")
    for name, team in [("alice", "EMEA"), ("ada", "EMEA"), ("bob", "US")]:
        world.login(name, "crm_writer")
        world.join(name, team)
    world.login("boss", "crm_admin")
    n = {"acme": world.node("org", "Acme", ["EMEA"]), "globex": world.node("org", "Globex", ["US"])}
    for name, parent in [("ana", "acme"), ("abe", "acme"), ("gus", "globex")]:
        n[name] = world.node("person", name)
        world.own(n[name], n[parent])
    world.n = n
    assert val(world.connect("ada"), "SELECT crm.claim(%s)", (n["ana"],)) is True
    return world


def sqlstate(conn, sql, params=None):
    try:
        with conn.transaction():
            conn.execute(sql, params)
    except psycopg.Error as e:
        return e.sqlstate
    return None


def seg_row(w, seg):
    return w.admin.execute("SELECT label, properties, claimed_by, archived_at FROM crm.nodes WHERE id = %s",
                           (seg,)).fetchone()


# ---------------------------------------------------------------- F1 / F10: segments
def test_f1_an_admins_segment_cannot_be_rewritten_claimed_or_archived_by_a_writer(w):
    n = w.n
    boss, bob = w.connect("boss"), w.connect("bob")
    dyn = val(boss, "SELECT crm.create_segment('DE', 'dynamic', %s)",
              (Jsonb({"field": "country", "op": "eq", "value": "DE"}),))
    sta = val(boss, "SELECT crm.create_segment('VIP')")
    before = {s: seg_row(w, s) for s in (dyn, sta)}
    assert before[dyn][2] is None                           # an admin's segment is unclaimed
    attacks = [
        ("SELECT crm.set_segment_filter(%s, %s)", (dyn, Jsonb({"field": "country", "op": "eq", "value": "US"}))),
        ("UPDATE crm.nodes SET label = 'pwned' WHERE id = %s", (dyn,)),
        ("UPDATE crm.nodes SET properties = properties || '{\"purpose\": \"analysis\"}' WHERE id = %s", (dyn,)),
        ("UPDATE crm.nodes SET properties = properties || '{\"kind\": \"static\"}' - 'definition' WHERE id = %s", (dyn,)),
        ("SELECT crm.claim(%s)", (dyn,)),
        ("SELECT crm.archive_node(%s)", (dyn,)),
        ("SELECT crm.claim(%s)", (sta,)),
        ("UPDATE crm.nodes SET label = 'pwned' WHERE id = %s", (sta,)),
        ("SELECT crm.add_to_segment(%s, %s)", (sta, n["gus"])),                 # F10
        ("SELECT crm.bulk_add_to_segment(%s, %s)", (sta, [n["gus"]])),
        ("INSERT INTO crm.segment_memberships (segment_id, node_id) VALUES (%s, %s)", (sta, n["gus"])),
    ]
    for sql, params in attacks:
        assert sqlstate(bob, sql, params) is not None, sql
    assert {s: seg_row(w, s) for s in (dyn, sta)} == before
    assert val(w.admin, "SELECT count(*) FROM crm.segment_memberships") == 0
    # the admin still changes it; membership changes by the admin work
    boss.execute("SELECT crm.set_segment_filter(%s, %s)", (dyn, Jsonb({"field": "country", "op": "eq", "value": "FR"})))
    assert seg_row(w, dyn)[1]["definition"]["value"] == "FR"
    assert val(boss, "SELECT crm.add_to_segment(%s, %s)", (sta, n["gus"])) == 1


def test_f1_f10_a_members_segment_is_changed_by_its_creator_only(w):
    n = w.n
    alice, ada = w.connect("alice"), w.connect("ada")
    seg = val(alice, "SELECT crm.create_segment('Spring')")
    assert seg_row(w, seg)[2] == w.users["alice"]
    # a teammate who may write abe still may not put abe into Alice's segment, nor rename it
    assert sqlstate(ada, "SELECT crm.add_to_segment(%s, %s)", (seg, n["abe"])) == "42501"
    assert sqlstate(ada, "UPDATE crm.nodes SET label = 'Ada''s' WHERE id = %s", (seg,)) in ("42501", None)
    assert seg_row(w, seg)[0] == "Spring"
    assert val(w.admin, "SELECT count(*) FROM crm.segment_memberships WHERE segment_id = %s", (seg,)) == 0
    # the creator does
    assert val(alice, "SELECT crm.add_to_segment(%s, %s)", (seg, n["abe"])) == 1
    alice.execute("UPDATE crm.nodes SET label = 'Spring 26' WHERE id = %s", (seg,))
    assert seg_row(w, seg)[0] == "Spring 26"
    assert sqlstate(ada, "SELECT crm.remove_from_segment(%s, %s)", (seg, n["abe"])) == "42501"
    assert val(w.admin, "SELECT count(*) FROM crm.segment_memberships WHERE segment_id = %s AND left_at IS NULL",
               (seg,)) == 1


# ---------------------------------------------------------------- F2: channels
def test_f2_a_teammate_who_may_not_write_the_customer_cannot_touch_her_channels(w):
    n = w.n
    alice, ada = w.connect("alice"), w.connect("ada")
    email = val(ada, "SELECT crm.add_channel(%s, 'email', 'ana@acme.example', true)", (n["ana"],))
    phone = val(ada, "SELECT crm.add_channel(%s, 'phone', '+49 30 1234567')", (n["ana"],))
    assert val(ada, "SELECT crm.mark_channel(%s, 'bounced')", (email,)) is True
    ada.execute("SELECT crm.suppress(%s, 'asked us to stop')", (n["ana"],))
    assert email in ids(alice, "SELECT id FROM crm.nodes WHERE node_type = 'channel'")     # Alice sees them
    edges_before = val(w.admin, "SELECT count(*) FROM crm.edges WHERE archived_at IS NULL")
    attacks = [
        ("UPDATE crm.nodes SET properties = properties || '{\"value\": \"attacker@evil.example\"}' WHERE id = %s",
         (email,)),
        ("SELECT crm.supersede_assertion(NULL, 'channel_status', %s, NULL, '{\"status\": \"active\"}')", (email,)),
        ("SELECT crm.archive_node(%s)", (email,)),
        ("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('owned_by', %s, %s)", (email, n["abe"])),
        ("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('has_channel', %s, %s)", (n["abe"], phone)),
        ("SELECT crm.add_channel(%s, 'phone', '+49 30 1234567')", (n["abe"],)),
    ]
    for sql, params in attacks:
        assert sqlstate(alice, sql, params) is not None, sql
    # (the edges' own row policy already hides Ana's edges from Alice's UPDATE: 0 rows)
    alice.execute("UPDATE crm.edges SET archived_at = now() WHERE edge_type = 'has_channel' AND target_id = %s", (email,))
    assert val(w.admin, "SELECT properties ->> 'value' FROM crm.nodes WHERE id = %s", (email,)) == "ana@acme.example"
    assert val(w.admin, "SELECT archived_at FROM crm.nodes WHERE id = %s", (email,)) is None
    assert val(w.admin, "SELECT claim ->> 'status' FROM crm.assertions WHERE subject_node_id = %s "
                        "AND assertion_type = 'channel_status' AND superseded_at IS NULL", (email,)) == "bounced"
    assert val(w.admin, "SELECT count(*) FROM crm.edges WHERE archived_at IS NULL") == edges_before
    # Alice's own customer abe does not reach Ana's phone (Ana is suppressed)
    assert ids(alice, "SELECT channel_id FROM crm.pick_channel(%s, 'phone')", (n["abe"],)) == set()
    # whoever may write Ana still can
    assert val(ada, "SELECT crm.mark_channel(%s, 'active')", (email,)) is True
    # Alice adds a channel of her own customer as before
    assert val(alice, "SELECT crm.add_channel(%s, 'phone', '+49 30 7654321')", (n["abe"],)) is not None


# ---------------------------------------------------------------- F6: segment definitions
def test_f6_invalid_or_huge_definitions_are_refused_and_one_bad_segment_does_not_stop_refresh(w):
    n = w.n
    alice, boss = w.connect("alice"), w.connect("boss")
    w.admin.execute("UPDATE crm.nodes SET properties = properties || '{\"country\": \"DE\"}' WHERE id = %s", (n["abe"],))
    good = val(boss, "SELECT crm.create_segment('DE', 'dynamic', %s)",
               (Jsonb({"field": "country", "op": "eq", "value": "DE"}),))
    before = seg_row(w, good)
    assert sqlstate(boss, "UPDATE crm.nodes SET properties = jsonb_set(properties, '{definition}', "
                          "'{\"field\": \"nope\", \"op\": \"eq\", \"value\": 1}') WHERE id = %s", (good,)) == "CR053"
    assert sqlstate(boss, "INSERT INTO crm.nodes (node_type, label, properties) VALUES ('segment', 'bad', "
                           "'{\"name\": \"bad\", \"kind\": \"dynamic\", \"definition\": {\"op\": \"x\"}}')") == "CR053"
    huge = {"any": [{"field": "email", "op": "is_empty"}] * 201}
    assert sqlstate(boss, "SELECT crm.create_segment('huge', 'dynamic', %s)", (Jsonb(huge),)) == "CR053"
    assert sqlstate(boss, "SELECT crm.set_segment_filter(%s, %s)", (good, Jsonb(huge))) == "CR053"
    assert sqlstate(boss, "SELECT crm.create_segment('big', 'dynamic', %s)",
                    (Jsonb({"field": "country", "op": "in", "value": ["x" * 100] * 200}),)) == "CR053"
    # a writer (the reviewer's attacker) reaches no definition at all
    assert sqlstate(alice, "UPDATE crm.nodes SET properties = jsonb_set(properties, '{definition}', "
                           "'{\"op\": \"x\"}') WHERE id = %s", (good,)) is not None
    assert sqlstate(alice, "INSERT INTO crm.nodes (node_type, label, properties) VALUES ('segment', 'bad', "
                           "'{\"name\": \"bad\", \"kind\": \"dynamic\", \"definition\": {\"op\": \"x\"}}')") \
        is not None
    assert seg_row(w, good) == before
    assert val(w.admin, "SELECT count(*) FROM crm.nodes WHERE node_type = 'segment'") == 1
    # a stored filter that stops compiling (planted by the DBA past the trigger) is skipped
    bad = val(boss, "SELECT crm.create_segment('later broken', 'dynamic', %s)",
              (Jsonb({"field": "country", "op": "eq", "value": "FR"}),))
    w.admin.execute("ALTER TABLE crm.nodes DISABLE TRIGGER tg_nodes_customer__guard_update")
    w.admin.execute("UPDATE crm.nodes SET properties = jsonb_set(properties, '{definition}', '{\"field\": \"nope\"}') "
                    "WHERE id = %s", (bad,))
    w.admin.execute("ALTER TABLE crm.nodes ENABLE TRIGGER tg_nodes_customer__guard_update")
    rows = {r[0]: (r[1], r[2]) for r in boss.execute("SELECT segment_id, entered, exited FROM crm.refresh_segments()")}
    assert rows == {good: (1, 0), bad: (None, None)}
    assert ids(w.admin, "SELECT node_id FROM crm.segment_memberships WHERE segment_id = %s", (good,)) == {n["abe"]}


# ---------------------------------------------------------------- F3 / F4: dynamic segments
def test_f3_f4_a_member_cannot_probe_hidden_data_with_a_dynamic_segment(w):
    n = w.n
    alice, boss = w.connect("alice"), w.connect("boss")
    # Ana's employer is a company Alice cannot see
    secret = w.node("org", "SecretCo", ["US"])
    w.admin.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('employs', %s, %s)",
                    (secret, n["abe"]))
    probe = Jsonb({"field": "company.name", "op": "starts_with", "value": "SecretCo"})
    assert sqlstate(alice, "SELECT crm.create_segment('probe', 'dynamic', %s)", (probe,)) == "42501"
    static = val(alice, "SELECT crm.create_segment('mine')")
    assert sqlstate(alice, "UPDATE crm.nodes SET properties = properties || jsonb_build_object('kind', 'dynamic', "
                           "'definition', %s::jsonb) WHERE id = %s", (probe, static)) is not None
    assert val(w.admin, "SELECT count(*) FROM crm.nodes WHERE node_type = 'segment' "
                        "AND properties ->> 'kind' = 'dynamic'") == 0
    # a member's dynamic segment made before (planted by the DBA) is not evaluated: no rows, also none hidden
    legacy = val(w.admin, "INSERT INTO crm.nodes (node_type, label, properties, claimed_by) VALUES ('segment', 'old', "
                          "jsonb_build_object('name', 'old', 'kind', 'dynamic', 'definition', %s::jsonb), %s) "
                          "RETURNING id", (probe, w.users["alice"]))
    rows = {r[0]: (r[1], r[2]) for r in boss.execute("SELECT segment_id, entered, exited FROM crm.refresh_segments()")}
    assert rows == {legacy: (None, None)}
    assert val(w.admin, "SELECT count(*) FROM crm.segment_memberships WHERE segment_id = %s", (legacy,)) == 0
    # the same filter as an admin's segment works
    adm = val(boss, "SELECT crm.create_segment('probe', 'dynamic', %s)", (probe,))
    boss.execute("SELECT crm.refresh_segments(ARRAY[%s]::uuid[])", (adm,))
    assert ids(w.admin, "SELECT node_id FROM crm.segment_memberships WHERE segment_id = %s", (adm,)) == {n["abe"]}


# ---------------------------------------------------------------- F8: write scope by type
def test_f8_tags_tasks_and_bulk_operations_respect_the_write_scope_by_type(w):
    n = w.n
    alice = w.connect("alice")
    campaign = w.node("campaign", "Spring push", campaign_type="email")
    pipeline = val(w.admin, "SELECT id FROM crm.nodes WHERE node_type = 'pipeline' LIMIT 1")
    team = w.teams["EMEA"]
    tags_before = val(w.admin, "SELECT count(*) FROM crm.node_tags")
    for target in (campaign, pipeline, team, w.users["bob"]):
        assert sqlstate(alice, "SELECT crm.tag(%s, 'x')", (target,)) is not None
        assert sqlstate(alice, "SELECT crm.create_task(%s, 'x')", (target,)) is not None
        assert sqlstate(alice, "SELECT crm.add_note(%s, 'x')", (target,)) is not None
    with pytest.raises(psycopg.Error) as e:
        alice.execute("SELECT crm.bulk_archive(%s)", ([n["abe"], campaign],))
    assert e.value.sqlstate == "CR055" and e.value.diag.message_detail == f"refused ids: {campaign}"
    with pytest.raises(psycopg.Error) as e:
        alice.execute("SELECT crm.bulk_tag(%s, 'x')", ([n["abe"], campaign],))
    assert e.value.sqlstate == "CR055"
    assert val(w.admin, "SELECT count(*) FROM crm.node_tags") == tags_before
    assert val(w.admin, "SELECT count(*) FROM crm.task_items") == 0
    assert val(w.admin, "SELECT count(*) FROM crm.notes") == 0
    assert val(w.admin, "SELECT count(*) FROM crm.nodes WHERE archived_at IS NOT NULL") == 0
    # the admin may; the rep on her own customer may
    assert val(w.connect("boss"), "SELECT crm.tag(%s, 'x')", (campaign,)) is True
    assert val(alice, "SELECT crm.bulk_archive(%s)", ([n["abe"]],)) == 1


# ---------------------------------------------------------------- F11: outreach log
def test_f11_outreach_is_logged_by_writers_of_the_customer_and_not_in_the_future(w):
    n = w.n
    alice, ada = w.connect("alice"), w.connect("ada")
    before = val(w.admin, "SELECT count(*) FROM crm.events WHERE event_type = 'email_sent'")
    # Ana is Ada's: Alice sees her but may not log outreach on her
    assert sqlstate(alice, "SELECT crm.log_customer_event(%s, 'email_sent', '{\"subject\": \"Hi\"}')",
                    (n["ana"],)) == "42501"
    assert sqlstate(ada, "SELECT crm.log_customer_event(%s, 'email_sent', '{\"subject\": \"Hi\"}', "
                         "now() + interval '300 days')", (n["ana"],)) == "22023"
    assert val(w.admin, "SELECT count(*) FROM crm.events WHERE event_type = 'email_sent'") == before
    assert val(ada, "SELECT crm.log_customer_event(%s, 'email_sent', '{\"subject\": \"Hi\"}', "
                    "now() + interval '1 minute')", (n["ana"],)) is not None
    assert val(w.admin, "SELECT max(occurred_at) <= now() + interval '5 minutes' FROM crm.events "
                        "WHERE event_type = 'email_sent'") is True


# ---------------------------------------------------------------- F12: phone numbers
def test_f12_a_leading_00_is_the_international_prefix(w):
    n = w.n
    ada, alice = w.connect("ada"), w.connect("alice")
    assert val(w.admin, "SELECT crm_private.normalize_channel('phone', '0049 30 1234567')") == \
        val(w.admin, "SELECT crm_private.normalize_channel('phone', '+49 30 1234567')") == "49301234567"
    ch = val(ada, "SELECT crm.add_channel(%s, 'phone', '+49 30 1234567')", (n["ana"],))
    assert sqlstate(alice, "SELECT crm.add_channel(%s, 'phone', '0049 30 1234567')", (n["abe"],)) == "CR051"
    assert val(ada, "SELECT crm.add_channel(%s, 'phone', '0049 (30) 123-4567')", (n["ana"],)) == ch
    assert val(w.admin, "SELECT count(*) FROM crm.nodes WHERE node_type = 'channel'") == 1


# ---------------------------------------------------------------- F5: domain auto-match
def test_f5_domain_auto_match_only_matches_companies_the_caller_can_see(w):
    n = w.n
    alice, boss = w.connect("alice"), w.connect("boss")
    secret = w.node("org", "SecretCo", ["US"], domain="secret.example")
    w.admin.execute("UPDATE crm.nodes SET properties = properties || '{\"domain\": \"acme.example\"}' WHERE id = %s",
                    (n["acme"],))
    # abe has no employer edge (owned_by only): the hidden company's domain is no match
    alice.execute("SELECT crm.add_channel(%s, 'email', 'abe@secret.example')", (n["abe"],))
    alice.execute("SELECT crm.add_channel(%s, 'email', 'abe@nowhere.example')", (n["abe"],))
    assert val(w.admin, "SELECT count(*) FROM crm.edges WHERE edge_type = 'employs' AND source_id = %s",
               (secret,)) == 0
    assert val(w.admin, "SELECT count(*) FROM crm.events WHERE event_type = 'company_matched'") == 0
    assert val(w.admin, "SELECT count(*) FROM crm.events WHERE properties::text LIKE %s", (f"%{secret}%",)) == 0
    # a company she can see is matched as before
    alice.execute("SELECT crm.add_channel(%s, 'email', 'abe@acme.example')", (n["abe"],))
    assert ids(w.admin, "SELECT source_id FROM crm.edges WHERE edge_type = 'employs' AND target_id = %s "
                        "AND archived_at IS NULL", (n["abe"],)) == {n["acme"]}
    # an admin's run is not restricted
    gus_ch = val(boss, "SELECT crm.add_channel(%s, 'email', 'gus@secret.example')", (n["gus"],))
    assert gus_ch is not None
    assert ids(w.admin, "SELECT source_id FROM crm.edges WHERE edge_type = 'employs' AND target_id = %s",
               (n["gus"],)) == {secret}


# ---------------------------------------------------------------- F7: scoring assertions
def test_f7_fit_and_lead_assertions_name_live_criteria_and_products(w):
    n = w.n
    ada, boss = w.connect("ada"), w.connect("boss")
    prod = val(boss, "SELECT crm.create_product('Suite')")
    crit = val(boss, "SELECT crm.set_fit_criterion(%s, 'size', 1)", (prod,))
    hidden = w.node("org", "Hidden", ["US"])
    before = val(w.admin, "SELECT count(*) FROM crm.assertions")
    claim = {"product_id": str(prod), "criterion": "size", "score": 50, "assessed_by": "human"}
    bad = [(claim, "not-a-uuid", "fit_assessment"), (claim, "00000000-0000-0000-0000-000000000001", "fit_assessment"),
           ({**claim, "product_id": str(hidden)}, str(crit), "fit_assessment"),
           ({**claim, "product_id": "00000000-0000-0000-0000-000000000001"}, str(crit), "fit_assessment"),
           ({"status": "approved"}, "x", "lead_review"), ({"status": "approved"}, str(hidden), "lead_review")]
    for c, key, typ in bad:
        assert sqlstate(ada, "SELECT crm.supersede_assertion(NULL, %s, %s, NULL, %s, NULL, 1.0, %s)",
                        (typ, n["ana"], Jsonb(c), key)) == "CR013", (typ, key, c)
    assert val(w.admin, "SELECT count(*) FROM crm.assertions") == before
    assert val(w.admin, "SELECT count(*) FROM crm.events WHERE event_type = 'profile_scored'") == 0
    # everyone's fit history still answers; the real functions work
    assert val(ada, "SELECT crm.assess_fit(%s, %s, 80, 'fits')", (n["ana"], crit)) is not None
    assert val(ada, "SELECT crm.review_lead(%s, %s, 'approved')", (n["ana"], prod)) is not None
    assert val(w.admin, "SELECT count(*) FROM crm.assertions") == before + 2
    assert val(ada, "SELECT count(*) FROM crm.fit_history") >= 1


# ---------------------------------------------------------------- F9: bot look-alikes
def test_f9_look_alikes_of_the_bot_prefix_are_system_tags_too(w):
    n = w.n
    alice, boss = w.connect("alice"), w.connect("boss")
    before = val(w.admin, "SELECT count(*) FROM crm.tags")
    for name in ["bot\uff1ax", "b\u043et:x", "b\u200bot:x", "bot\u00a0:x", "bot :x", "BOT\ufe55x", "\u0432ot:x"]:
        assert sqlstate(alice, "SELECT crm.tag(%s, %s)", (n["abe"], name)) == "CR052", repr(name)
        assert sqlstate(alice, "SELECT crm.create_tag(%s)", (name,)) == "CR052", repr(name)
    assert val(w.admin, "SELECT count(*) FROM crm.tags") == before
    assert val(w.admin, "SELECT count(*) FROM crm.node_tags") == 0
    assert val(alice, "SELECT crm.tag(%s, 'robot: yes')", (n["abe"],)) is True      # not the prefix
    assert val(alice, "SELECT crm.tag(%s, 'bottom')", (n["abe"],)) is True
    assert val(boss, "SELECT crm.tag(%s, 'bot\uff1ax')", (n["abe"],)) is True         # a system role may
