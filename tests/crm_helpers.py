"""Small helpers shared by the CRM-layer tests (real database only)."""

from __future__ import annotations

import contextlib

import psycopg
import pytest


def val(conn: psycopg.Connection, sql: str, params=None):
    """The single value of a one-row, one-column query."""
    row = conn.execute(sql, params).fetchone()
    assert row is not None, sql
    return row[0]


@contextlib.contextmanager
def raises_sqlstate(sqlstate: str):
    """Assert that the block raises a database error with this SQLSTATE."""
    with pytest.raises(psycopg.Error) as e:
        yield e
    assert e.value.sqlstate == sqlstate, f"expected {sqlstate}, got {e.value.sqlstate}: {e.value}"


def last_code_number(conn: psycopg.Connection, prefix: str, yymm: str | None = None) -> int:
    """The last number handed out for `prefix` in UTC month `yymm` (default: this month), read
    from its code sequence (crm_private.code_sequence) as the superuser — ground truth; 0 when
    no code of that prefix-month was ever allocated."""
    row = conn.execute("""
        SELECT coalesce(pg_sequence_last_value(to_regclass(format('crm_private.%%I', format('code_%%s_%%s', lower(%s),
                            coalesce(%s, to_char(now() AT TIME ZONE 'UTC', 'YYMM')))))), 0)""",
                       (prefix, yymm)).fetchone()
    return int(row[0])


def person(conn, first="Ana", last="Silva", props="{}"):
    return val(conn, "SELECT crm.create_person(%s, %s, %s)", (first, last, props))


def org(conn, name="Acme", props="{}"):
    return val(conn, "SELECT crm.create_org(%s, %s)", (name, props))


def opportunity(conn, name="Deal", pipeline="PL-SALES", assignee=None, props="{}", teams=None):
    return val(conn, "SELECT crm.create_opportunity(%s, %s, %s, %s, %s)",
               (name, pipeline, assignee, props, teams or []))


def current_stage(conn, opp):
    return val(conn, "SELECT claim->>'stage' FROM crm.current_assertions "
                     "WHERE subject_node_id = %s AND assertion_type = 'deal_stage'", (opp,))
