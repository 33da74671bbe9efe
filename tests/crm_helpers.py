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
