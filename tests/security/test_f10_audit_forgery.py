"""Finding 10: a writer forges audit events (access/system group) as if the system wrote them."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.security.conftest import uid


@pytest.mark.parametrize("event_type", ["grant_created", "node_purged"])
def test_writer_cannot_forge_audit_events(sec, event_type):
    """Finding 10 — system and audit events come only from crm360's own functions. Bob
    (writer, Sales) inserts a `grant_created` / `node_purged` event with
    actor_system = 'postgres' and Globex as participant, so his team sees it in Globex's
    timeline as if the system had written it.
    Property: afterwards no such event exists (ground truth, as the DBA), and alice sees no
    such entry in crm.timeline(Globex).
    """
    w, n = sec, sec.n
    marker = f"Forged {event_type} {uid()}"
    event = uuid.uuid4()
    bob = w.connect("bob", autocommit=False)
    try:
        bob.execute("INSERT INTO crm.events (id, event_type, summary, actor_system) VALUES (%s, %s, %s, 'postgres')",
                    (event, event_type, marker))   # (no RETURNING: not visible before it has participants)
        bob.execute("INSERT INTO crm.event_participants (event_id, node_id, role) VALUES (%s, %s, 'subject')",
                    (event, n["globex"]))
        bob.commit()
    except psycopg.Error:
        bob.rollback()
    stored = w.admin.execute("SELECT count(*) FROM crm.events WHERE summary = %s", (marker,)).fetchone()[0]
    try:
        shown = [r[0] for r in w.connect("alice").execute(
            "SELECT source FROM crm.timeline(%s, p_channels => ARRAY['access', 'system']) WHERE summary = %s",
            (n["globex"], marker)).fetchall()]
    except psycopg.Error:
        shown = []
    assert shown == [], f"alice's timeline of Globex shows the forged {event_type} (source {shown})"
    assert stored == 0, f"a writer stored a {event_type} audit event"
