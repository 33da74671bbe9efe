"""Helpers for access-control tests: real login roles mapped to CRM users.

Superusers and table owners bypass RLS, so every access test connects as an ordinary
LOGIN role that is a member of crm_reader/crm_writer/crm_service/crm_admin.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb

PASSWORD = "crm360-test"


@dataclass
class World:
    """Login roles and CRM users of one test database."""

    admin: psycopg.Connection          # superuser connection (the DBA)
    dsn: str
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    roles: list[str] = field(default_factory=list)
    conns: list[psycopg.Connection] = field(default_factory=list)
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    teams: dict[str, uuid.UUID] = field(default_factory=dict)

    def role_name(self, name: str) -> str:
        return f"t_{name}_{self.suffix}"

    def login(self, name: str, *groups: str, user: bool = True) -> str:
        """Create a LOGIN role in the given crm groups; map it to a new CRM user (name)."""
        role = self.role_name(name)
        self.admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(PASSWORD)))
        self.roles.append(role)
        for g in groups:
            self.admin.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(g), sql.Identifier(role)))
        if user:
            uid = self.admin.execute("SELECT crm.create_user(%s, %s, %s)",
                                     (name.title(), f"{name}.{self.suffix}@example.com", role)).fetchone()[0]
            self.users[name] = uid
        return role

    def team(self, name: str, parent: str | None = None) -> uuid.UUID:
        tid = self.admin.execute("SELECT crm.create_team(%s, %s)",
                                 (name, self.teams[parent] if parent else None)).fetchone()[0]
        self.teams[name] = tid
        return tid

    def join(self, user: str, team: str) -> None:
        self.admin.execute("SELECT crm.add_user_to_team(%s, %s)", (self.users[user], self.teams[team]))

    def connect(self, name: str, autocommit: bool = True) -> psycopg.Connection:
        params = conninfo_to_dict(self.dsn)
        params.update(user=self.role_name(name), password=PASSWORD)
        c = psycopg.connect(make_conninfo(**params), autocommit=autocommit)
        self.conns.append(c)
        return c

    # --- graph helpers (as the DBA) -----------------------------------------------------
    def node(self, node_type: str, label: str, restricted_to: list | None = None, **props) -> uuid.UUID:
        defaults = {"org": {"name": label}, "person": {"first_name": label, "last_name": "X"},
                    "opportunity": {"name": label, "code": f"OPP-2401-{uuid.uuid4().hex[:6]}"},
                    "ticket": {"subject": label}, "contract": {"title": label},
                    "invoice": {"number": label}, "pipeline": {"name": label, "stages": []}}
        p = {**defaults.get(node_type, {"name": label}), **props}
        return self.admin.execute(
            "INSERT INTO crm.nodes (node_type, label, properties, restricted_to) VALUES (%s, %s, %s, %s) RETURNING id",
            (node_type, label, Jsonb(p), [self.teams.get(t, t) for t in (restricted_to or [])])).fetchone()[0]

    def own(self, child, parent) -> uuid.UUID:
        return self.admin.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('owned_by', %s, %s) "
                                  "RETURNING id", (child, parent)).fetchone()[0]

    def close(self) -> None:
        for c in self.conns:
            with contextlib.suppress(Exception):
                c.close()
        for r in reversed(self.roles):
            with contextlib.suppress(Exception):
                self.admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(r)))


def ids(conn: psycopg.Connection, query: str, params=None) -> set:
    return {r[0] for r in conn.execute(query, params).fetchall()}
