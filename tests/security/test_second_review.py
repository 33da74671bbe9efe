"""Findings of the second adversarial review (after the first fixes), as ordinary LOGIN roles.

r1 a connector merges users/teams (rewrites memberships, takes over identities) or another
   source's accounts; r2 a writer squats the next internal codes (everyone's create_* fails)
   and probes hidden codes through 23505; r4 a writer forges audit events through the
   "self-verifying" loggers (a no-op UPDATE made the check pass); r5 a writer rewrites a
   source-derived comment, hangs an artifact on a system event, or writes on someone else's
   claimed customer; r8 a pooled client leaves a temporary domain that captures the next
   client's values. Each test decides from what the attack achieved.
"""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from tests.security.conftest import attempt, dsn_of, ingest, visible


def test_r1_connector_cannot_merge_principals_or_other_sources(sec, db):
    """A connector (allowed zendesk only) merges alice's user node into rita's (and a team into
    another), and two Salesforce accounts. Property: memberships, identities and the CRM
    accounts are unchanged — rita sees no more accounts, alice keeps her identity, both
    accounts stay live."""
    w = sec
    w.login("conn", "crm_connector", user=False)
    w.admin.execute("SELECT crm.allow_source(%s, 'zendesk')", (w.role_name("conn"),))
    ingest(db, "salesforce", "User", "salesforce/User.csv")
    ingest(db, "salesforce", "Account", "salesforce/Account.csv")
    accounts = [r[0] for r in w.admin.execute(
        "SELECT n.id FROM crm.nodes n JOIN crm.node_sources s ON s.node_id = n.id "
        "WHERE s.source = 'salesforce' AND n.node_type = 'org' ORDER BY n.id LIMIT 2").fetchall()]
    rita = w.connect("rita")
    before = visible(rita, "org")
    conn = w.connect("conn")
    attempt(conn, "SELECT crm.merge_nodes(%s, %s, 'dup')", (w.users["rita"], w.users["alice"]))
    attempt(conn, "SELECT crm.merge_nodes(%s, %s, 'dup')", (w.teams["Eve Team"], w.teams["Sales"]))
    attempt(conn, "SELECT crm.merge_nodes(%s, %s, 'dup')", (accounts[0], accounts[1]))
    assert visible(rita, "org") == before
    assert w.connect("alice").execute("SELECT crm.current_actor()").fetchone()[0] == w.users["alice"]
    assert w.admin.execute("SELECT count(*) FROM crm.nodes WHERE id = ANY(%s) AND archived_at IS NULL",
                           ([w.users["alice"], w.teams["Sales"], *accounts],)).fetchone()[0] == 4


def test_r2_internal_codes_cannot_be_squatted_or_probed(sec):
    """Eve (writer) creates nodes keyed with the next ORG codes (external_source internal), then
    probes the code of a node she cannot see. Property: another writer's crm.create_org still
    succeeds, and the probe answers the same for the hidden code as for a missing one."""
    w = sec
    eve = w.connect("eve", autocommit=False)
    eve.execute("SELECT crm.generate_crm_code('ORG')")
    nxt = eve.execute("SELECT crm.generate_crm_code('ORG')").fetchone()[0]
    eve.rollback()
    prefix, n = nxt.rsplit("-", 1)
    for i in range(int(n), int(n) + 3):
        attempt(eve, "INSERT INTO crm.nodes (node_type, label, properties, external_source, external_id, "
                     "restricted_to) VALUES ('org', 'squat', %s, 'internal', %s, %s)",
                (Jsonb({"name": "squat"}), f"{prefix}-{i:04d}", [w.teams["Eve Team"]]))
        eve.commit()
    alice = w.connect("alice")
    created = alice.execute("SELECT crm.create_org('Victim Org')").fetchone()[0]
    assert created is not None
    hidden_code = w.admin.execute("SELECT properties ->> 'code' FROM crm.nodes WHERE id = %s", (created,)).fetchone()[0]

    def outcome(code):
        try:
            with eve.transaction(force_rollback=True):
                eve.execute("INSERT INTO crm.nodes (node_type, label, properties, external_source, external_id, "
                            "restricted_to) VALUES ('org', 'probe', %s, 'internal', %s, %s)",
                            (Jsonb({"name": "probe"}), code, [w.teams["Eve Team"]]))
        except psycopg.Error as e:
            eve.rollback()
            return e.sqlstate
        return None
    assert created not in visible(w.connect("eve"), "org")
    assert outcome(hidden_code) == outcome(f"{prefix}-9999")


def test_r4_no_forged_archive_restore_or_release_events(sec):
    """Eve makes a no-op UPDATE of an account she may write (never archived, unclaimed), then
    tries every logger she can reach to record that it was restored or released. Property: no
    node_restored / owner_released event exists for it; a real archive logs exactly one
    node_archived with its reason."""
    w = sec
    acct = w.node("org", "Eve Account", ["Eve Team"])
    eve = w.connect("eve", autocommit=False)
    for q in ("SELECT crm_private.log_node_change(%s, 'forged', current_user)",
              "SELECT crm_private.log_claim_change(%s, current_user)",
              "SELECT crm_private.log_new_restrictions(ARRAY[%s]::uuid[], current_user)",
              "SELECT crm_private.log_access_event('node_restored', 'forged', '{}', ARRAY[%s]::uuid[], current_user)"):
        # each attempt in its own transaction, after a no-op UPDATE of the node
        eve.execute("UPDATE crm.nodes SET label = label WHERE id = %s", (acct,))
        if attempt(eve, q, (acct,)) is None:
            eve.commit()
        else:
            eve.rollback()

    def events(kind):
        return w.admin.execute("SELECT count(*) FROM crm.events e JOIN crm.event_participants p ON p.event_id = e.id "
                               "WHERE p.node_id = %s AND e.event_type = %s", (acct, kind)).fetchone()[0]
    assert events("node_restored") == 0 and events("owner_released") == 0
    eve.execute("SELECT crm.archive_node(%s, 'duplicate')", (acct,))
    eve.commit()
    assert events("node_archived") == 1
    assert w.admin.execute("SELECT e.properties ->> 'reason' FROM crm.events e JOIN crm.event_participants p "
                           "ON p.event_id = e.id WHERE p.node_id = %s AND e.event_type = 'node_archived'",
                           (acct,)).fetchone()[0] == "duplicate"


def test_r5_artifacts_follow_write_rules(sec, db):
    """Alice (writer, Acme's team) rewrites the text of an ingested ticket comment, moves an
    artifact of hers onto a system event, and attaches a note to a customer claimed by bob.
    Property: the comment text, the system event's artifacts and bob's customer are unchanged."""
    w = sec
    for source, obj, path in [("salesforce", "User", "salesforce/User.csv"),
                              ("salesforce", "Account", "salesforce/Account.csv"),
                              ("zendesk", "organizations", "zendesk/organizations.json"),
                              ("zendesk", "users", "zendesk/users.json"),
                              ("zendesk", "tickets", "zendesk/tickets.json"),
                              ("zendesk", "ticket_comments", "zendesk/tickets_9001_comments.json")]:
        ingest(db, source, obj, path)
    acme = w.admin.execute("SELECT id FROM crm.nodes WHERE external_id = '001000000000ACM'").fetchone()[0]
    team = w.admin.execute("SELECT restricted_to[1] FROM crm.nodes WHERE id = %s", (acme,)).fetchone()[0]
    w.admin.execute("SELECT crm.add_user_to_team(%s, %s)", (w.users["alice"], team))
    comment, body = w.admin.execute("SELECT id, body FROM crm.artifacts WHERE artifact_type = 'ticket_comment' "
                                    "LIMIT 1").fetchone()
    alice = w.connect("alice")
    assert comment in {r[0] for r in alice.execute("SELECT id FROM crm.artifacts")}   # she can read it
    attempt(alice, "UPDATE crm.artifacts SET body = 'FORGED' WHERE id = %s", (comment,))
    assert w.admin.execute("SELECT body FROM crm.artifacts WHERE id = %s", (comment,)).fetchone()[0] == body
    system_event = w.admin.execute("SELECT id FROM crm.events WHERE event_type = 'ticket_opened' LIMIT 1").fetchone()[0]
    mine = alice.execute("SELECT crm.log_note('my note', ARRAY[%s]::uuid[])", (acme,)).fetchone()[0]
    note = w.admin.execute("SELECT id FROM crm.artifacts WHERE event_id = %s", (mine,)).fetchone()[0]
    attempt(alice, "UPDATE crm.artifacts SET event_id = %s WHERE id = %s", (system_event, note))
    assert w.admin.execute("SELECT count(*) FROM crm.artifacts WHERE event_id = %s AND id = %s",
                           (system_event, note)).fetchone()[0] == 0
    bobs = w.admin.execute("INSERT INTO crm.nodes (node_type, properties, claimed_by) VALUES ('person', %s, %s) "
                           "RETURNING id", (Jsonb({"first_name": "Bob's", "last_name": "Customer"}),
                                            w.users["bob"])).fetchone()[0]
    w.own(bobs, acme)
    assert bobs in visible(alice)
    attempt(alice, "INSERT INTO crm.artifacts (artifact_type, node_id, body) VALUES ('note', %s, 'mine now')", (bobs,))
    assert w.admin.execute("SELECT count(*) FROM crm.artifacts WHERE node_id = %s", (bobs,)).fetchone()[0] == 0


def test_r8_act_as_refuses_a_connection_with_a_temporary_domain(sec):
    """Client 1 of a pooled connection (one session, no reset) leaves a temporary domain named
    uuid whose CHECK records every value it sees; client 2 acts for alice and casts ids.
    Property: the trap never sees alice's values (act_as refuses the soiled connection)."""
    w = sec
    svc = w.connect("svc", autocommit=False)
    svc.execute("CREATE FUNCTION pg_temp.spy(v pg_catalog.uuid) RETURNS bool LANGUAGE sql AS "
                "$$ SELECT pg_catalog.set_config('spy.seen', coalesce(pg_catalog.current_setting('spy.seen', true), '')"
                " || v::text || ';', false) IS NOT NULL $$")
    svc.execute("CREATE DOMAIN pg_temp.uuid AS pg_catalog.uuid CHECK (pg_temp.spy(VALUE))")
    svc.commit()
    acme = w.n["acme"]
    try:
        svc.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
        svc.execute("SELECT label FROM crm.nodes WHERE id = %s::uuid", (str(acme),)).fetchall()
        svc.commit()
    except psycopg.Error:
        svc.rollback()
    seen = svc.execute("SELECT current_setting('spy.seen', true)").fetchone()[0] or ""
    svc.rollback()
    assert str(acme) not in seen, "the temporary domain captured the acting client's values"
    assert dsn_of(w, "svc")   # (the login the README's pooler section describes)
