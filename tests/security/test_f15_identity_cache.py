"""Issue 16: the caller's identity is resolved once per transaction (crm_private.caller_identity)
and kept in a transaction-local setting, crm.identity_cache, that every caller can read and set.

The attacks try to make that cache stand in for an identity the caller does not have: plant a
value, edit a valid one, replay one into the next pooled transaction, keep one across an
act_as switch or a membership change in the same transaction, and shadow the objects the
cache is checked with by temporary objects. Every test decides from what the attacker then
sees and writes (rows, and `recorded_by` — crm.current_actor() evaluated inside the events
trigger), not from an error.

World (tests/security/conftest.py): alice (writer, Sales EMEA) sees Acme; bob (writer, Sales)
sees Globex, not Acme; eve (writer, Eve Team) sees neither; svc (crm_service, unmapped).
"""

from __future__ import annotations

import hashlib

import psycopg
from psycopg.types.json import Jsonb

from tests.access_helpers import ids
from tests.security.conftest import visible

ACTIVITY = "SELECT crm.log_crm_activity('note', %s, %s, NULL, %s::uuid[], ARRAY['subject'])"


def _cache(conn) -> str | None:
    return conn.execute("SELECT current_setting('crm.identity_cache', true)").fetchone()[0]


def _events_on(admin, node, marker: str) -> list:
    """(recorded_by) of the events about `node` whose summary is `marker` (ground truth, as the DBA)."""
    return [r[0] for r in admin.execute(
        "SELECT e.recorded_by FROM crm.events e JOIN crm.event_participants p ON p.event_id = e.id "
        "WHERE p.node_id = %s AND e.summary = %s", (node, marker)).fetchall()]


def _log(conn, node, marker: str) -> psycopg.Error | None:
    """Log an activity on `node` inside a savepoint (a refusal keeps the transaction)."""
    conn.execute("SAVEPOINT attack")
    try:
        conn.execute(ACTIVITY, (marker, Jsonb({}), [node]))
    except psycopg.Error as e:
        conn.execute("ROLLBACK TO SAVEPOINT attack")
        return e
    conn.execute("RELEASE SAVEPOINT attack")
    return None


def _payload(actor, principals) -> str:
    members = ",".join(str(p) for p in principals)
    return f'({actor},f,"{{{members}}}",[])'


def test_a_planted_cache_is_ignored(sec):
    """eve plants, at session and at transaction level, a cache claiming alice's identity and
    teams (with a made-up MAC), then reads and writes.
    Property: eve sees no Acme row, writes nothing on Acme's deal, and what she writes
    elsewhere is recorded as hers."""
    w, n = sec, sec.n
    eve = w.connect("eve", autocommit=False)
    forged = "0" * 64 + _payload(w.users["alice"], [w.users["alice"], w.teams["Sales EMEA"], w.teams["Sales"]])
    eve.execute("SELECT set_config('crm.identity_cache', %s, false)", (forged,))
    eve.commit()
    for local in (False, True):
        eve.execute("SELECT set_config('crm.identity_cache', %s, %s)", (forged, local))
        assert eve.execute("SELECT crm.current_actor()").fetchone()[0] == w.users["eve"]
        assert n["acme"] not in visible(eve, "org")
        _log(eve, n["acme_opp"], f"planted {local}")
        eve.commit()
        assert _events_on(w.admin, n["acme_opp"], f"planted {local}") == []


def test_an_edited_cache_is_ignored(sec):
    """eve primes her own cache (a write call), reads the valid value, keeps its MAC and
    adds alice's team to the principals (and alice as the actor), in the same transaction.
    Property: the next statements still see and write as eve."""
    w, n = sec, sec.n
    eve = w.connect("eve", autocommit=False)
    mine = w.node("opportunity", "eve deal", ["Eve Team"])
    assert _log(eve, mine, "eve primes") is None
    value = _cache(eve)
    assert value and len(value) > 64, "the write call primes the cache"
    for actor in (w.users["eve"], w.users["alice"]):
        edited = value[:64] + _payload(actor, [w.users["eve"], w.teams["Eve Team"], w.teams["Sales EMEA"]])
        eve.execute("SELECT set_config('crm.identity_cache', %s, true)", (edited,))
        assert n["acme"] not in visible(eve, "org")
        assert n["acme_opp"] not in ids(eve, "SELECT id FROM crm.nodes WHERE node_type = 'opportunity'")
        _log(eve, n["acme_opp"], "edited")
        eve.rollback()
        assert _log(eve, mine, "eve primes") is None
        value = _cache(eve)
    eve.commit()
    assert _events_on(w.admin, n["acme_opp"], "edited") == []
    assert set(_events_on(w.admin, mine, "eve primes")) == {w.users["eve"]}


def test_a_cache_with_a_known_secret_in_temporary_objects_is_ignored(sec):
    """eve shadows every object the check reads with temporary ones — a table
    instance_secret holding a secret she knows, a sequence identity_epoch, a type identity,
    functions caller_identity / role_trusted / login_user / principals_of returning alice's
    identity — and forges a cache with her secret the way the check computes it.
    Property: nothing of it is used; eve sees and writes as eve."""
    w, n = sec, sec.n
    eve = w.connect("eve", autocommit=False)
    alice, emea = w.users["alice"], w.teams["Sales EMEA"]
    eve.execute("CREATE TEMP TABLE instance_secret (singleton boolean, secret text, created_at timestamptz)")
    eve.execute("INSERT INTO pg_temp.instance_secret VALUES (true, repeat('k', 64), now())")
    eve.execute("CREATE TEMP SEQUENCE identity_epoch")
    eve.execute("CREATE TYPE pg_temp.identity AS (actor uuid, acting boolean, principals uuid[], grants jsonb)")
    for fn, ret, body in [("caller_identity(name, boolean)", "pg_temp.identity",
                           f"SELECT ROW('{alice}'::uuid, false, ARRAY['{alice}','{emea}']::uuid[], '[]'::jsonb)::pg_temp.identity"),
                          ("role_trusted(name)", "boolean", "SELECT true"),
                          ("login_user(name)", "uuid", f"SELECT '{alice}'::uuid"),
                          ("principals_of(uuid)", "uuid[]", f"SELECT ARRAY['{alice}','{emea}']::uuid[]")]:
        eve.execute(f"CREATE FUNCTION pg_temp.{fn} RETURNS {ret} LANGUAGE sql AS $f${body}$f$")
    eve.commit()
    row = eve.execute("SELECT session_user::text, pg_backend_pid()::text, "
                      "EXTRACT(epoch FROM transaction_timestamp())::text").fetchone()
    payload = _payload(alice, [alice, emea])
    key = "/".join(["k" * 64 + "/identity", w.role_name("eve"), row[0], row[1], row[2], "1", "", "", ""])
    mac = hashlib.sha256((key + payload + key).encode()).hexdigest()
    eve.execute("SELECT set_config('crm.identity_cache', %s, true)", (mac + payload,))
    assert eve.execute("SELECT crm.current_actor()").fetchone()[0] == w.users["eve"]
    assert n["acme"] not in visible(eve, "org")
    _log(eve, n["acme_opp"], "shadowed")
    eve.commit()
    assert _events_on(w.admin, n["acme_opp"], "shadowed") == []


def test_a_cache_does_not_carry_into_the_next_pooled_transaction(sec):
    """Client 1 of a pooled service acts as alice, writes (priming the cache), copies the
    cache and the act_as settings to session level and commits. Client 2, the next
    transaction on the same connection, (a) does not call act_as, (b) acts as bob.
    Property: client 2 is (a) nobody — sees no Acme, writes nothing — and (b) bob: sees
    Globex but not Acme, and its write on Globex is recorded as bob's."""
    w, n = sec, sec.n
    svc = w.connect("svc", autocommit=False)
    for client2_acts_as_bob in (False, True):
        svc.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
        assert _log(svc, n["acme_opp"], "client 1") is None
        cache = _cache(svc)
        user, token = svc.execute("SELECT current_setting('crm.act_as_user'), "
                                  "current_setting('crm.act_as_token')").fetchone()
        svc.execute("SELECT set_config('crm.identity_cache', %s, false), set_config('crm.act_as_user', %s, false), "
                    "set_config('crm.act_as_token', %s, false)", (cache, user, token))
        svc.commit()
        # client 2
        if client2_acts_as_bob:
            svc.execute("SELECT crm.act_as(%s)", (w.users["bob"],))
            svc.execute("SELECT set_config('crm.identity_cache', %s, true)", (cache,))
        actor = svc.execute("SELECT crm.current_actor()").fetchone()[0]
        seen = visible(svc, "org")
        _log(svc, n["acme_opp"], f"client 2 {client2_acts_as_bob}")
        svc.commit()
        if client2_acts_as_bob:
            svc.execute("SELECT crm.act_as(%s)", (w.users["bob"],))
            svc.execute("SELECT set_config('crm.identity_cache', %s, true)", (cache,))
            assert _log(svc, n["globex_opp"], "client 2 bob") is None
            svc.commit()
            assert actor == w.users["bob"]
            assert n["globex"] in seen
            assert _events_on(w.admin, n["globex_opp"], "client 2 bob") == [w.users["bob"]]
        else:
            assert actor is None
        assert n["acme"] not in seen
        assert _events_on(w.admin, n["acme_opp"], f"client 2 {client2_acts_as_bob}") == []
        svc.execute("RESET ALL")
        svc.commit()
    assert set(_events_on(w.admin, n["acme_opp"], "client 1")) == {w.users["alice"]}


def test_act_as_a_then_b_in_one_transaction(sec):
    """A pooled service acts as alice, writes on Acme (priming alice's cache), then acts as
    bob in the same transaction — and puts alice's cache value back.
    Property: from the switch on, the transaction is bob: no Acme row, no write on Acme's
    deal, and its write on Globex is recorded as bob's; alice's write is alice's."""
    w, n = sec, sec.n
    svc = w.connect("svc", autocommit=False)
    svc.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
    assert _log(svc, n["acme_opp"], "as alice") is None
    alice_cache = _cache(svc)
    svc.execute("SELECT crm.act_as(%s)", (w.users["bob"],))
    for restore in (False, True):
        if restore:
            svc.execute("SELECT set_config('crm.identity_cache', %s, true)", (alice_cache,))
        assert svc.execute("SELECT crm.current_actor()").fetchone()[0] == w.users["bob"]
        seen = visible(svc, "org")
        assert n["acme"] not in seen and n["globex"] in seen
    _log(svc, n["acme_opp"], "as bob")
    svc.execute("SELECT crm.act_as(%s)", (w.users["bob"],))
    svc.execute("SELECT set_config('crm.identity_cache', %s, true)", (alice_cache,))
    assert _log(svc, n["globex_opp"], "as bob") is None
    svc.commit()
    assert _events_on(w.admin, n["acme_opp"], "as alice") == [w.users["alice"]]
    assert _events_on(w.admin, n["acme_opp"], "as bob") == []
    assert _events_on(w.admin, n["globex_opp"], "as bob") == [w.users["bob"]]


def test_a_membership_change_in_the_same_transaction_applies_to_the_next_write(sec):
    """An ordinary login in crm_admin and crm_service (as crm_service) acts as alice and writes on Acme
    (priming alice's cache: Sales EMEA), stops acting, removes alice from Sales EMEA, acts as
    alice again (the same act_as proof: same role, user and transaction) and restores the
    cache value from before the change.
    Property: after the change alice sees no Acme row and writes nothing on Acme's deal;
    her first write is there."""
    w, n = sec, sec.n
    w.login("ops", "crm_admin", "crm_service", user=False)
    ops = w.connect("ops", autocommit=False)
    # (an admin role acts only as crm_service: crm.act_as refuses crm_admin members)
    ops.execute("SET LOCAL ROLE crm_service")
    ops.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
    assert n["acme"] in visible(ops, "org")
    assert _log(ops, n["acme_opp"], "before the change") is None
    before = _cache(ops)
    ops.execute("SELECT set_config('crm.act_as_user', '', true)")
    ops.execute("RESET ROLE")
    assert ops.execute("SELECT crm.remove_user_from_team(%s, %s)",
                       (w.users["alice"], w.teams["Sales EMEA"])).fetchone()[0]
    ops.execute("SET LOCAL ROLE crm_service")
    ops.execute("SELECT crm.act_as(%s)", (w.users["alice"],))
    for restore in (False, True):
        if restore:
            ops.execute("SELECT set_config('crm.identity_cache', %s, true)", (before,))
        assert ops.execute("SELECT crm.current_actor()").fetchone()[0] == w.users["alice"]
        assert n["acme"] not in visible(ops, "org")
        assert n["acme_opp"] not in ids(ops, "SELECT id FROM crm.nodes WHERE node_type = 'opportunity'")
        _log(ops, n["acme_opp"], f"after the change {restore}")
    ops.commit()
    assert _events_on(w.admin, n["acme_opp"], "before the change") == [w.users["alice"]]
    assert _events_on(w.admin, n["acme_opp"], "after the change False") == []
    assert _events_on(w.admin, n["acme_opp"], "after the change True") == []


def test_the_dba_switching_roles_around_a_membership_change(sec):
    """The DBA, in one transaction: SET ROLE alice and write on Acme (priming alice's cache),
    RESET ROLE and add eve to Sales EMEA, SET ROLE eve and write on Acme, RESET ROLE and remove
    eve again, SET ROLE eve and write on Acme.
    Property: eve's first write (a member) is there, recorded as eve's; her second (no longer
    a member) is not; alice's is alice's."""
    w, n = sec, sec.n
    dba = w.admin
    with dba.transaction():
        dba.execute(f"SET LOCAL ROLE {w.role_name('alice')}")
        dba.execute(ACTIVITY, ("dba alice", Jsonb({}), [n["acme_opp"]]))
        dba.execute("RESET ROLE")
        dba.execute("SELECT crm.add_user_to_team(%s, %s)", (w.users["eve"], w.teams["Sales EMEA"]))
        dba.execute(f"SET LOCAL ROLE {w.role_name('eve')}")
        dba.execute(ACTIVITY, ("dba eve member", Jsonb({}), [n["acme_opp"]]))
        dba.execute("RESET ROLE")
        dba.execute("SELECT crm.remove_user_from_team(%s, %s)", (w.users["eve"], w.teams["Sales EMEA"]))
        dba.execute(f"SET LOCAL ROLE {w.role_name('eve')}")
        dba.execute("SAVEPOINT s")
        try:
            dba.execute(ACTIVITY, ("dba eve removed", Jsonb({}), [n["acme_opp"]]))
        except psycopg.Error:
            dba.execute("ROLLBACK TO SAVEPOINT s")
        seen = ids(dba, "SELECT id FROM crm.nodes WHERE node_type = 'org'")
        dba.execute("RESET ROLE")
    assert n["acme"] not in seen
    assert _events_on(w.admin, n["acme_opp"], "dba alice") == [w.users["alice"]]
    assert _events_on(w.admin, n["acme_opp"], "dba eve member") == [w.users["eve"]]
    assert _events_on(w.admin, n["acme_opp"], "dba eve removed") == []


def test_a_cache_primed_during_another_sessions_removal_ends_with_the_statement(sec):
    """The review's race: the DBA removes alice from her team in a transaction (the epoch has
    already moved), alice primes her identity while that transaction is still open (her
    snapshot still shows the membership, the MAC carries the new epoch), then the DBA commits.
    Property: alice's next statement, in the same transaction, no longer sees Acme and cannot
    write on its deal — the cache lives for one statement."""
    w, n = sec, sec.n
    alice = w.connect("alice", autocommit=False)
    dba = w.connect_dba() if hasattr(w, "connect_dba") else None
    if dba is None:
        dba = psycopg.connect(w.dsn, autocommit=False)
    assert n["acme"] in visible(alice, "org")
    alice.commit()
    dba.execute("SELECT crm.remove_user_from_team(%s, %s)", (w.users["alice"], w.teams["Sales EMEA"]))
    # alice's transaction starts after the removal's (a transaction begun before it keeps the
    # team until it ends: effective_to is compared with the caller's now(), pre-existing)
    alice.execute("SELECT crm_private.caller_identity(current_user, true)")      # primed mid-removal
    assert n["acme"] in visible(alice, "org")                                    # (not committed yet)
    dba.commit()
    assert n["acme"] not in visible(alice, "org")
    _log(alice, n["acme_opp"], "after removal")
    alice.commit()
    assert _events_on(w.admin, n["acme_opp"], "after removal") == []
    dba.close()


def test_the_first_identity_change_after_the_migration_counts(sec):
    """A fresh epoch sequence has last_value 1 before and after its first nextval: the cache
    reads it as 0 until it was called, so the first change moves it (review finding F1).
    Property: with the sequence restarted, a grant revoked in the same transaction as a primed
    write call is no longer used by the next write."""
    w, n = sec, sec.n
    w.admin.execute("ALTER SEQUENCE crm_private.identity_epoch RESTART")
    w.admin.execute("""INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope)
                       VALUES ('Eve Team', 'team', 'node', 'write', '{"node_type": "opportunity"}')""")
    # (the insert advanced the epoch: restart again so the state is the fresh one)
    w.admin.execute("ALTER SEQUENCE crm_private.identity_epoch RESTART")
    eve = w.connect("eve", autocommit=False)
    assert _log(eve, n["acme_opp"], "with grant") is None
    eve.execute("SELECT crm_private.caller_identity(current_user, true)")
    key = eve.execute("SELECT current_setting('crm.identity_cache', true)").fetchone()[0]
    w.admin.execute("DELETE FROM crm.access_grants WHERE grantee = 'Eve Team'")    # epoch: first nextval
    eve.execute("SELECT set_config('crm.identity_cache', %s, true)", (key,))       # replay within the statement key
    assert n["acme_opp"] not in visible(eve, "opportunity")
    _log(eve, n["acme_opp"], "after revoke")
    eve.commit()
    assert _events_on(w.admin, n["acme_opp"], "after revoke") == []
