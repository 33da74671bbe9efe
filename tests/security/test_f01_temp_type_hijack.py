"""Finding 1: a crm_reader hijacks a type name through pg_temp and runs code as the owner."""

from __future__ import annotations

import psycopg

from tests.security.conftest import assert_probe_ran_only_as, install_probe


def test_reader_temp_domain_never_runs_as_owner(sec):
    """Finding 1 — `SET search_path = ''` still searches pg_temp first for types.

    A crm_reader creates domains pg_temp.text / pg_temp.uuid / pg_temp.jsonb whose CHECK
    calls its own pg_temp function, then reads the Account 360 and the other read models.
    SECURITY DEFINER code that names one of these types (a cast, a declaration) would
    validate the domain, running the reader's function as the function owner.
    Property: attacker code never runs as any role but the attacker's own (never as the
    crm360 owner or a superuser), and the reader does not end up a superuser.
    """
    w = sec
    w.admin.execute("SELECT crm.refresh_account_views()")
    w.admin.execute("SELECT crm.refresh_crm_views()")
    rita = w.connect("rita")
    role = w.role_name("rita")
    probe = install_probe(rita)
    for typ in ("text", "uuid", "jsonb"):
        rita.execute(f"CREATE DOMAIN pg_temp.{typ} AS pg_catalog.{typ} CHECK (pg_temp.crm_probe() OR VALUE IS NULL)")
    for query in ("SELECT count(*) FROM crm.accounts_360",
                  "SELECT count(*) FROM crm.contacts_directory",
                  "SELECT count(*) FROM crm.opportunities_active",
                  "SELECT count(*) FROM crm.nodes"):
        try:
            rita.execute(query).fetchall()
        except psycopg.Error:
            pass   # refusing is fine; what matters is who ran the probe
    assert_probe_ran_only_as(probe, w.admin, role)
