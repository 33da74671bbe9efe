"""Finding 7: identity and data acting as one user bleed into the next pooled transaction.

A pooled connection (a crm_service login) serves many clients, one transaction each. The
pool is simulated with ONE connection used by two "clients" in sequence;
test_f07_pgbouncer.py runs the same attacks through a real pgbouncer in transaction mode.
"""

from __future__ import annotations

import psycopg

from tests.security.conftest import visible


def _act(conn: psycopg.Connection, user) -> bool:
    """Start a client transaction acting for `user`; False when act_as is refused."""
    try:
        conn.execute("SELECT crm.act_as(%s)", (user,))
        return True
    except psycopg.Error:
        conn.rollback()
        return False


def _leak_identity_to_next_xid(conn: psycopg.Connection, user) -> int:
    """Client 1: act for `user`, then write the identity at SESSION level, bound to the id
    the next transaction will get (xids are sequential). Returns the predicted xid."""
    conn.execute("SELECT crm.act_as(%s)", (user,))
    predicted = int(conn.execute("SELECT pg_current_xact_id()::text").fetchone()[0]) + 1
    conn.execute("SELECT set_config('crm.act_as_user', %s, false), set_config('crm.act_as_xid', %s, false)",
                 (str(user), str(predicted)))
    conn.commit()
    return predicted


def test_session_level_identity_bound_to_a_predicted_xid_does_not_carry_over(sec):
    """Finding 7a — client 1 (acting as alice) sets crm.act_as_user / crm.act_as_xid at
    session level with the transaction id the next transaction will get. Client 2, the next
    transaction on the same pooled connection, has no identity of its own (it has not
    called act_as — a background job, or a request before its act_as); its first statement
    gets a transaction id (any write does).
    Property: client 2 has no identity and sees no account (xid collisions from other
    backends are retried, so the prediction is right at least once).
    """
    w, n = sec, sec.n
    svc = w.connect("svc", autocommit=False)
    for _ in range(20):
        try:
            predicted = _leak_identity_to_next_xid(svc, w.users["alice"])      # client 1
        except psycopg.Error:
            svc.rollback()
            predicted = None                                                   # refused: nothing leaked
        try:
            xid = int(svc.execute("SELECT pg_current_xact_id()::text").fetchone()[0])   # client 2
            actor = svc.execute("SELECT crm.current_actor()").fetchone()[0]
            seen = visible(svc, "org")
        except psycopg.Error:
            xid, actor, seen = None, None, set()
        svc.rollback()
        svc.execute("RESET ALL")
        svc.commit()
        if predicted is None or xid == predicted:
            break
    assert predicted is None or xid == predicted, "never got the predicted transaction id (busy server?)"
    assert actor is None, "client 2 acts as the previous client's user"
    assert not (seen & {n["acme"], n["globex"]}), "client 2 sees the previous client's accounts"


def test_with_hold_cursor_does_not_carry_rows_to_the_next_client(sec):
    """Finding 7b — client 1 (acting as alice) declares a WITH HOLD cursor over the accounts
    and commits; client 2 (acting as bob, who cannot see Acme) fetches from it.
    Property: client 2 never gets a row bob cannot see.
    """
    w, n = sec, sec.n
    svc = w.connect("svc", autocommit=False)
    assert _act(svc, w.users["alice"])
    svc.execute("DECLARE leak CURSOR WITH HOLD FOR SELECT id FROM crm.nodes WHERE node_type = 'org'")
    svc.commit()
    got = set()
    if _act(svc, w.users["bob"]):          # client 2
        try:
            got = {r[0] for r in svc.execute("FETCH ALL FROM leak").fetchall()}
        except psycopg.Error:
            svc.rollback()
    svc.rollback()
    bob_sees = visible(w.connect("bob"), "org")
    assert n["acme"] not in bob_sees
    assert got <= bob_sees, f"client 2 (bob) read alice's accounts from a held cursor: {got - bob_sees}"


def test_temp_table_does_not_carry_rows_to_the_next_client(sec):
    """Finding 7c — client 1 (acting as alice) copies the accounts she sees into a temporary
    table and commits; client 2 (acting as bob) reads it.
    Property: client 2 never gets a row bob cannot see.
    """
    w, n = sec, sec.n
    svc = w.connect("svc", autocommit=False)
    assert _act(svc, w.users["alice"])
    svc.execute("CREATE TEMP TABLE leak AS SELECT id FROM crm.nodes WHERE node_type = 'org'")
    svc.commit()
    got = set()
    if _act(svc, w.users["bob"]):          # client 2
        try:
            got = {r[0] for r in svc.execute("SELECT id FROM pg_temp.leak").fetchall()}
        except psycopg.Error:
            svc.rollback()
    svc.rollback()
    bob_sees = visible(w.connect("bob"), "org")
    assert n["acme"] not in bob_sees
    assert got <= bob_sees, f"client 2 (bob) read alice's accounts from a temp table: {got - bob_sees}"


def test_act_as_alternating_clients_never_bleed(sec):
    """Finding 7 (positive) — plain act_as use: 200 transactions on one pooled connection,
    alternately for alice and bob (and every third one without identity).
    Property: each transaction acts as exactly its own user and sees exactly that user's
    accounts; one without act_as has no identity and sees no account.
    """
    w, n = sec, sec.n
    expected = {w.users["alice"]: {n["acme"], n["globex"]}, w.users["bob"]: {n["globex"]}, None: set()}
    svc = w.connect("svc", autocommit=False)
    for i in range(200):
        user = None if i % 3 == 2 else (w.users["alice"] if i % 2 == 0 else w.users["bob"])
        if user is not None:
            svc.execute("SELECT crm.act_as(%s)", (user,))
        assert svc.execute("SELECT crm.current_actor()").fetchone()[0] == user, f"transaction {i}"
        assert visible(svc, "org") == expected[user], f"transaction {i}"
        if i % 2:
            svc.commit()
        else:
            svc.rollback()
