"""Property test (hypothesis): what every identity sees equals a Python oracle (the "oracle").

A random world per example — teams (nested), users (crm_writer or crm_reader logins),
accounts and their owned_by children (person, opportunity, ticket, contract, invoice) with
restrictions, claims, team tags and archive flags; employs and primary_contact edges;
current and superseded assertions (ticket_status, deal_stage, deal_value — sensitive —,
win_probability, contract_status, invoice_status); events with participants (ticket
comments: ticket as subject + its account; meetings: the account + a person, with or
without an opportunity as subject; other activities with random participants, users and
teams taking part); artifacts on events and on nodes; team and user grants (node read
grants by node_type, optionally AND teams; the deal_value assertion grant) — is built as
the superuser, the read models are refreshed, then a random change is made (leave a team,
re-parent a child by archiving or by ending its owned_by edge, unrestrict an account,
restrict a child to another team) and checked before and after a second refresh.

Identities, always ordinary LOGIN roles (never the superuser or the owner), with warm
connections reused across examples (Logins):
  * each user's own mapped login;
  * a grant-only reader (crm_reader, no team: only crm.access_grants rows);
  * an admin login (crm_admin + crm_service) acting for a user
    (BEGIN; SET LOCAL ROLE crm_service; SELECT crm.act_as(user); ...; COMMIT) — must be exactly
    that user (finding 11):
    for every user right after each refresh, for one user (in turn) otherwise;
  * a pooled service login (crm_service, unmapped) acting for one user per phase (in turn);
  * the admin login not acting: everything.

Surfaces, decided from the rows each identity observes: crm.nodes, crm.edges, crm.events,
crm.event_participants, crm.artifacts, crm.assertions, crm.current_assertions, the live
views crm.contacts_directory_live / crm.opportunities_active_live / crm.accounts_360_live
and their materialized wrappers crm.contacts_directory / crm.opportunities_active /
crm.accounts_360. The Account 360 aggregates are computed by the oracle too (only children
and touch events the identity can see: finding 12).

Wrappers vs live twins: right after a refresh every wrapper row equals its live twin (time-
dependent columns aside). After a change without a refresh, crm.contacts_directory and
crm.opportunities_active must still equal their twins (they re-apply visibility at once) —
except the account of an opportunity, stored data (issue 12): the account at the refresh,
shown only when the caller can see it now;
a row of crm.accounts_360 may be stale (documented: "as of the last refresh") but never
count what the caller cannot see (documented: "never a count or sum over children the
caller cannot see"): it equals the live row, or it is the stored row with exactly the
aggregates of the children owned at the refresh that the caller can see now.

Discrepancies this test found (explicit examples below, so they run every time):
  * STALE_RESTRICT, STALE_REPARENT, STALE_TOUCH — crm.accounts_360 serves a stored row
    while the account's acl is unchanged and the row was "uniform" at the refresh, but a
    counted child (or touch event) has since become invisible to the caller: restricted to
    another team, re-parented to an account the caller cannot see, or about a deal
    restricted elsewhere. The row counts it (open_tickets, active_opportunities,
    last_touch_at ...) though crm.accounts_360_live does not.
  * STALE_ATTENDED — the same for a touch event the account only attended (any role counts
    for the last touch; only the 'account' role marked the row changed).
  * ENDED_EDGE — a child re-parented by ending its owned_by edge (effective_to, which
    re-parents its acl) is still counted by crm_private.accounts_360_facts (filters owned_by
    on archived_at only) under its old account, live and stored.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

import psycopg
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb, set_json_loads

from tests.access_helpers import World

MAX_USERS = 3
CHILD_TYPES = ["person", "opportunity", "ticket", "contract", "invoice"]
ROLES = ["subject", "account", "attendee", "from"]
TOUCH = {"meeting", "phone_call", "email"}
OPEN_TICKET = {"new", "open", "pending", "hold"}
PAST = datetime(2024, 3, 1, tzinfo=UTC)
FUTURE = datetime(2099, 3, 1, tzinfo=UTC)
RENEWAL = date(2099, 12, 31)
CHANGES = ["none", "leave", "reparent_archive", "reparent_end", "unrestrict", "restrict_child"]
# time-dependent columns of crm.accounts_360(_live): not compared
VOLATILE = ["as_of", "oldest_open_ticket_age_days", "days_since_last_touch", "last_synced_crm",
            "last_synced_tickets", "last_synced_clm", "last_synced_billing"]
# the columns the oracle computes; the others (name, team, owner, quality counts) only MV vs live
AGGREGATES = ["open_tickets", "oldest_open_ticket_at", "high_priority_open_tickets", "active_opportunities",
              "pipeline_value", "weighted_pipeline_value", "arr", "active_contracts", "next_renewal_date",
              "open_invoices", "open_invoice_amount", "overdue_invoices", "overdue_invoice_amount", "last_touch_at"]


def _rare(draw, n=4):
    return draw(st.integers(0, n - 1)) == 0


@st.composite
def worlds(draw):
    n_teams = draw(st.integers(1, 4))
    parents = [draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None for i in range(n_teams)]
    team = st.integers(0, n_teams - 1)
    n_users = draw(st.integers(1, MAX_USERS))
    users = [dict(role=draw(st.sampled_from(["crm_writer", "crm_reader"])), teams=draw(st.sets(team, max_size=2)))
             for _ in range(n_users)]
    user = st.integers(0, n_users - 1)
    principal = st.one_of(st.tuples(st.just("team"), team), st.tuples(st.just("user"), user))
    n_accounts = draw(st.integers(1, 4))
    accounts = [dict(restrict=draw(st.sets(principal, max_size=2)), archived=_rare(draw),
                     claimer=draw(user) if _rare(draw) else None)
                for _ in range(n_accounts)]
    children = []
    for _ in range(draw(st.integers(1, 7))):
        children.append(dict(
            type=draw(st.sampled_from(CHILD_TYPES)), parent=draw(st.integers(0, n_accounts - 1)),
            restrict=draw(st.sets(principal, max_size=1)) if _rare(draw, 3) else set(),
            archived=_rare(draw, 6), tag=draw(team) if _rare(draw) else None,
            status=draw(st.sampled_from(["open", "pending", "solved", None])),      # ticket
            priority=draw(st.sampled_from([None, "high", "low"])),
            stage=draw(st.sampled_from(["prospecting", "negotiation", "closed_won", "dead", None])),
            value=draw(st.one_of(st.none(), st.integers(1, 1000))),
            probability=draw(st.sampled_from([None, "0.25", "0.5", "1"])),
            contact=draw(st.integers(0, 6)) if _rare(draw, 2) else None,            # opportunity
            superseded=_rare(draw, 3),
            active=draw(st.booleans()), annual=draw(st.integers(0, 500)), renewal=draw(st.booleans()),
            open=draw(st.booleans()), remaining=draw(st.integers(0, 300)), overdue=draw(st.booleans()),
            employer=draw(st.integers(0, n_accounts - 1)) if _rare(draw, 2) else None))   # person
    of_type = {t: [j for j, c in enumerate(children) if c["type"] == t] for t in CHILD_TYPES}
    slots = [("acc", i) for i in range(n_accounts)] + [("child", j) for j in range(len(children))]
    events = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["ticket_comment", "meeting", "other"]))
        if kind == "ticket_comment" and of_type["ticket"]:
            j = draw(st.sampled_from(of_type["ticket"]))
            etype, parts = "ticket_comment", [(("child", j), "subject"), (("acc", children[j]["parent"]), "account")]
        elif kind == "meeting":
            etype, parts = "meeting", [(("acc", draw(st.integers(0, n_accounts - 1))), "account")]
            if of_type["person"] and draw(st.booleans()):
                parts.append((("child", draw(st.sampled_from(of_type["person"]))), "attendee"))
            if of_type["opportunity"] and draw(st.booleans()):
                parts.append((("child", draw(st.sampled_from(of_type["opportunity"]))), "subject"))
        else:
            etype = draw(st.sampled_from(["email", "note", "phone_call", "meeting"]))
            parts = draw(st.lists(st.tuples(st.sampled_from(slots), st.sampled_from(ROLES)), max_size=3))
        if _rare(draw, 3):   # a user or a team taking part grants nothing
            parts.append((("user", draw(user)), "organizer") if draw(st.booleans()) else (("team", draw(team)), "attendee"))
        events.append(dict(type=etype, parts=sorted(set(parts)), future=_rare(draw, 5), body=draw(st.booleans())))
    node_artifacts = sorted(draw(st.sets(st.sampled_from(slots), max_size=3)))
    node_type = st.sampled_from(CHILD_TYPES + ["org"])
    team_grants = [dict(team=draw(team), node_type=draw(node_type), teams=draw(team) if _rare(draw, 3) else None)
                   for _ in range(draw(st.integers(0, 2)))]
    reader_grants = [dict(node_type=draw(node_type), teams=draw(team) if _rare(draw, 3) else None)
                     for _ in range(draw(st.integers(0, 3)))]
    deal_value_grants = sorted(draw(st.sets(st.one_of(st.tuples(st.just("team"), team),
                                                      st.tuples(st.just("user"), st.integers(0, n_users))),
                                            max_size=2)))   # user n_users is the grant-only reader
    return dict(parents=parents, users=users, accounts=accounts, children=children, events=events,
                node_artifacts=node_artifacts, team_grants=team_grants, reader_grants=reader_grants,
                deal_value_grants=deal_value_grants,
                change="none" if _rare(draw, 10) else draw(st.sampled_from(CHANGES[1:])),
                pick=draw(st.integers(0, 100)))


ADMIN = "admin"
POOL = ThreadPoolExecutor(max_workers=3)   # the identities of a phase are observed in parallel


@dataclass
class Oracle:
    """The documented rules, in Python. Users 0..n-1 are the spec's, user n the grant-only reader."""

    spec: dict
    tag: str
    login: object = None                                # user index (None: the reader) -> login role
    team_ids: list = field(default_factory=list)
    user_ids: list = field(default_factory=list)
    acc_ids: list = field(default_factory=list)
    child_ids: list = field(default_factory=list)
    created_at: dict = field(default_factory=dict)
    events: list = field(default_factory=list)          # dict(id, type, at, parts=[(node id, role)])
    edges: list = field(default_factory=list)           # (edge id, source, target)
    artifacts: list = field(default_factory=list)       # (artifact id, node id | None, event id | None)
    assertions: list = field(default_factory=list)      # (assertion id, subject, type, current)
    stored: dict = field(default_factory=dict)          # account id -> crm.accounts_360 row at the refresh

    def __post_init__(self):
        s = self.spec
        self.members = [set(u["teams"]) for u in s["users"]] + [set()]
        self.child_parent = [c["parent"] for c in s["children"]]
        self.refreshed_parent = list(self.child_parent)
        self.acc_restrict = [set(a["restrict"]) for a in s["accounts"]]
        self.child_restrict = [set(c["restrict"]) for c in s["children"]]

    # --- principals and grants ------------------------------------------------------------
    def pid(self, p):
        kind, i = p
        return self.team_ids[i] if kind == "team" else self.user_ids[i]

    def team_name(self, i):
        return f"team{i}-{self.tag}"

    def email(self, u):
        return f"{u}.{self.tag}@example.com"

    def principals(self, u):
        out, todo, seen = {self.user_ids[u]}, list(self.members[u]), set()
        while todo:
            t = todo.pop()
            if t in seen:
                continue
            seen.add(t)
            out.add(self.team_ids[t])
            if self.spec["parents"][t] is not None:
                todo.append(self.spec["parents"][t])
        return out

    def node_grants(self, u):
        """(node_type, team index | None) of the node read grants that apply to user u."""
        pr = self.principals(u)
        out = [(g["node_type"], g["teams"]) for g in self.spec["team_grants"] if self.team_ids[g["team"]] in pr]
        if u == len(self.spec["users"]):
            out += [(g["node_type"], g["teams"]) for g in self.spec["reader_grants"]]
        return out

    def reads_deal_value(self, u):
        return u == ADMIN or bool({self.pid(p) for p in self.spec["deal_value_grants"]} & self.principals(u))

    # --- nodes ---------------------------------------------------------------------------
    def nodes(self):
        """id -> (type, acl, team tags, archived) of this example's access-checked nodes."""
        s, out = self.spec, {}
        for i, a in enumerate(s["accounts"]):
            acl = {self.pid(p) for p in self.acc_restrict[i]}
            if a["claimer"] is not None:
                acl.add(self.user_ids[a["claimer"]])
            out[self.acc_ids[i]] = ("org", acl, set(), a["archived"])
        for j, c in enumerate(s["children"]):
            acl = {self.pid(p) for p in self.child_restrict[j]} or set(out[self.acc_ids[self.child_parent[j]]][1])
            tags = {self.team_name(c["tag"])} if c["tag"] is not None else set()
            out[self.child_ids[j]] = (c["type"], acl, tags, c["archived"])
        return out

    def visible(self, u):
        nodes = self.nodes()
        if u == ADMIN:
            return set(nodes)
        pr, grants = self.principals(u), self.node_grants(u)

        def granted(t, acl, tags):   # every scope key must match
            return any(gt == t and (team is None or self.team_ids[team] in acl or self.team_name(team) in tags)
                       for gt, team in grants)
        return {n for n, (t, acl, tags, _) in nodes.items() if acl & pr or granted(t, acl, tags)}

    # --- events --------------------------------------------------------------------------
    def about(self, ev):
        checked = [(n, r) for n, r in ev["parts"] if n in self._checked]
        for role in ("subject", "account"):
            if any(r == role for _, r in checked):
                return {n for n, r in checked if r == role}
        return {n for n, _ in checked}

    def visible_events(self, u, vis):
        return {e["id"] for e in self.events if u == ADMIN or self.about(e) & vis}

    # --- what identity u should observe ----------------------------------------------------
    def expect(self, u):
        self._checked = set(self.acc_ids) | set(self.child_ids)
        nodes, vis = self.nodes(), self.visible(u)
        evs = self.visible_events(u, vis)
        dv = self.reads_deal_value(u)
        s = self.spec
        ex = dict(nodes=vis, events=evs)
        ex["edges"] = {e for e, a, b in self.edges if a in vis and b in vis}
        ex["participants"] = {(e["id"], n, r) for e in self.events if e["id"] in evs for n, r in e["parts"]
                              if n in vis or n not in self._checked}
        ex["artifacts"] = {a for a, n, e in self.artifacts if (n in vis if n else e in evs)}
        ok = {a: sub in vis and (t != "deal_value" or dv) for a, sub, t, _ in self.assertions}
        ex["assertions"] = {a for a, v in ok.items() if v}
        ex["current_assertions"] = {a for a, _, _, cur in self.assertions if ok[a] and cur}
        live = {n for n in vis if not nodes[n][3]}
        ex["contacts"] = {}
        for j, c in enumerate(s["children"]):
            n = self.child_ids[j]
            if c["type"] == "person" and n in live:
                emp = self.acc_ids[c["employer"]] if c["employer"] is not None else None
                ex["contacts"][n] = emp if emp in live else None
        ex["opportunities"] = {}
        for j, c in enumerate(s["children"]):
            n = self.child_ids[j]
            if c["type"] == "opportunity" and n in live and c["stage"] not in ("closed_won", "closed_lost", "dead"):
                pc = self.contact_of(j)
                ex["opportunities"][n] = (pc if pc in live else None,
                                          Decimal(c["value"]) if dv and c["value"] is not None else None)
        # the account of each listed opportunity, now and at the last refresh (the stored copy's),
        # shown only when the identity can see that account
        ex["opportunity_accounts"], ex["opportunity_accounts_stored"] = {}, {}
        for j, n in enumerate(self.child_ids):
            if n in ex["opportunities"]:
                now_acc, stored_acc = self.acc_ids[self.child_parent[j]], self.acc_ids[self.refreshed_parent[j]]
                ex["opportunity_accounts"][n] = now_acc if now_acc in vis else None
                ex["opportunity_accounts_stored"][n] = stored_acc if stored_acc in vis else None
        ex["accounts"] = {self.acc_ids[i]: self.a360(u, i, self.child_parent, vis, evs)
                          for i in range(len(self.acc_ids)) if self.acc_ids[i] in live}
        ex["accounts_stale"] = {self.acc_ids[i]: self.a360(u, i, self.refreshed_parent, vis, evs)
                                for i in range(len(self.acc_ids)) if self.acc_ids[i] in live}
        return ex

    def contact_of(self, j):
        persons = [k for k, c in enumerate(self.spec["children"]) if c["type"] == "person"]
        c = self.spec["children"][j]["contact"]
        return self.child_ids[persons[c % len(persons)]] if c is not None and persons else None

    def a360(self, u, i, parent_of, vis, evs):
        """The Account 360 aggregates of account i for u: only children (owned by i under
        parent_of) and touch events u can see; deal values only with the deal_value grant."""
        s, acc = self.spec, self.acc_ids[i]
        kids = [(self.child_ids[j], c) for j, c in enumerate(s["children"])
                if parent_of[j] == i and not c["archived"] and self.child_ids[j] in vis]
        tickets = [(n, c) for n, c in kids if c["type"] == "ticket" and c["status"] in OPEN_TICKET]
        opps = [c for _, c in kids if c["type"] == "opportunity" and c["stage"] not in ("closed_won", "dead")]
        values = [c for c in opps if c["value"] is not None] if self.reads_deal_value(u) else []
        weighted = [Decimal(c["value"]) * Decimal(c["probability"]) for c in values if c["probability"]]
        contracts = [c for _, c in kids if c["type"] == "contract" and c["active"]]
        invoices = [c for _, c in kids if c["type"] == "invoice" and c["open"]]
        overdue = [c for c in invoices if c["overdue"]]
        touches = [e["at"] for e in self.events if e["type"] in TOUCH and e["at"] <= PAST and e["id"] in evs
                   and any(n == acc for n, _ in e["parts"])]
        return dict(
            open_tickets=len(tickets),
            oldest_open_ticket_at=min((self.created_at[n] for n, _ in tickets), default=None),
            high_priority_open_tickets=sum(c["priority"] == "high" for _, c in tickets),
            active_opportunities=len(opps),
            # money has 2 decimals; deal values are 0 without active deals, None only when hidden
            pipeline_value=money(sum(Decimal(c["value"]) for c in values)) if self.reads_deal_value(u) else None,
            weighted_pipeline_value=money(sum(weighted)) if self.reads_deal_value(u) else None,
            arr=money(sum(Decimal(c["annual"]) for c in contracts)), active_contracts=len(contracts),
            next_renewal_date=RENEWAL if any(c["renewal"] for c in contracts) else None,
            open_invoices=len(invoices), open_invoice_amount=money(sum(Decimal(c["remaining"]) for c in invoices)),
            overdue_invoices=len(overdue),
            overdue_invoice_amount=money(sum(Decimal(c["remaining"]) for c in overdue)),
            last_touch_at=max(touches, default=None))


def money(x) -> Decimal:
    """numeric(18,2) as PostgreSQL rounds it (half away from zero)."""
    return Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# One round trip per identity: every surface, rows as jsonb.
SURFACES = """
SELECT
 (SELECT coalesce(jsonb_agg(id), '[]') FROM crm.nodes WHERE id = ANY(%(nodes)s)),
 (SELECT coalesce(jsonb_agg(id), '[]') FROM crm.edges WHERE id = ANY(%(edges)s)),
 (SELECT coalesce(jsonb_agg(id), '[]') FROM crm.events WHERE id = ANY(%(events)s)),
 (SELECT coalesce(jsonb_agg(jsonb_build_array(event_id, node_id, role)), '[]')
    FROM crm.event_participants WHERE event_id = ANY(%(events)s)),
 (SELECT coalesce(jsonb_agg(id), '[]') FROM crm.artifacts WHERE id = ANY(%(artifacts)s)),
 (SELECT coalesce(jsonb_agg(id), '[]') FROM crm.assertions WHERE id = ANY(%(assertions)s)),
 (SELECT coalesce(jsonb_agg(id), '[]') FROM crm.current_assertions WHERE id = ANY(%(assertions)s)),
 (SELECT coalesce(jsonb_agg(to_jsonb(v) - 'as_of'), '[]') FROM crm.contacts_directory_live v WHERE node_id = ANY(%(nodes)s)),
 (SELECT coalesce(jsonb_agg(to_jsonb(v) - 'as_of'), '[]') FROM crm.contacts_directory v WHERE node_id = ANY(%(nodes)s)),
 (SELECT coalesce(jsonb_agg(to_jsonb(v) - 'as_of'), '[]') FROM crm.opportunities_active_live v WHERE node_id = ANY(%(nodes)s)),
 (SELECT coalesce(jsonb_agg(to_jsonb(v) - 'as_of'), '[]') FROM crm.opportunities_active v WHERE node_id = ANY(%(nodes)s)),
 (SELECT coalesce(jsonb_agg(to_jsonb(v) - %(volatile)s::text[]), '[]')
    FROM crm.accounts_360_live v WHERE account_id = ANY(%(nodes)s)),
 (SELECT coalesce(jsonb_agg(to_jsonb(v) - %(volatile)s::text[]), '[]')
    FROM crm.accounts_360 v WHERE account_id = ANY(%(nodes)s))
"""
SURFACE_NAMES = ["nodes", "edges", "events", "participants", "artifacts", "assertions", "current_assertions",
                 "contacts_directory_live", "contacts_directory", "opportunities_active_live", "opportunities_active",
                 "accounts_360_live", "accounts_360"]


def _ts(v):
    return datetime.fromisoformat(v) if v is not None else None


def _aggregates(row):
    out = {k: row[k] for k in AGGREGATES}
    out["oldest_open_ticket_at"] = _ts(out["oldest_open_ticket_at"])
    out["last_touch_at"] = _ts(out["last_touch_at"])
    out["next_renewal_date"] = date.fromisoformat(out["next_renewal_date"]) if out["next_renewal_date"] else None
    return out


def _rest(row):
    return {k: v for k, v in row.items() if k not in AGGREGATES}


class Logins:
    """The LOGIN roles of the test (ordinary roles, never superuser or owner), created once, and
    per database one warm connection per identity, reused by every example on it: a new
    connection's first read through the views costs more than everything else an example does.
    Each example maps the roles to its own new CRM users (crm.create_user ..., login), so a
    connection is always the user of the current example.
      own("crm_writer" | "crm_reader", u) — user u's own login; reader — the grant-only reader;
      adm(k) — crm_admin + crm_service (k-th connection: acting for user k, or not acting);
      svc — crm_service, unmapped (a pooled service)."""

    EVERY = 20          # a fresh clone of the template every EVERY examples

    def __init__(self, server, template):
        self.server, self.template, self.used = server, template, 0
        self.janitor = self.conn = self.dsn = None
        self.suffix = uuid.uuid4().hex[:8]
        self.groups = {**{self.role("w", u): ["crm_writer"] for u in range(MAX_USERS)},
                       **{self.role("r", u): ["crm_reader"] for u in range(MAX_USERS)},
                       self.role("g"): ["crm_reader"], self.role("adm"): ["crm_admin", "crm_service"],
                       self.role("svc"): ["crm_service"]}
        with psycopg.connect(server.dsn("postgres"), autocommit=True) as c:
            for role, groups in self.groups.items():
                c.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
                for g in groups:
                    c.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(g), sql.Identifier(role)))

    def role(self, kind, u=""):
        return f"t_oracle_{kind}{u}_{self.suffix}"

    def next(self):
        """The superuser connection for the next example (a new database every EVERY examples)."""
        if self.janitor is None or self.used % self.EVERY == 0:
            self.close_db()
            name = f"crm360_t_{uuid.uuid4().hex[:12]}"
            self.janitor = self.server.janitor(name, template=self.template)
            self.janitor.init()
            self.dsn = self.server.dsn(name)
            self.conn = self._connect(None)
            self.conns = {role: [] for role in self.groups}
        self.used += 1
        return self.conn

    def _connect(self, role):
        params = conninfo_to_dict(self.dsn)
        if role:
            params["user"] = role
        c = psycopg.connect(make_conninfo(**params), autocommit=True)
        set_json_loads(partial(json.loads, parse_float=Decimal), c)
        if role:
            c.execute("SET plan_cache_mode = force_generic_plan")   # the same statement, every example
        return c

    def connection(self, role, k=0):
        while len(self.conns[role]) <= k:
            self.conns[role].append(self._connect(role))
        return self.conns[role][k]

    def close_db(self):
        if self.janitor is not None:
            for c in [self.conn, *(c for cs in self.conns.values() for c in cs)]:
                c.close()
            self.janitor.drop()
            self.janitor = None

    def close(self):
        self.close_db()
        with psycopg.connect(self.server.dsn("postgres"), autocommit=True) as c:
            for role in self.groups:
                c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture
def logins(server, template_db):
    lg = Logins(server, template_db)
    yield lg
    lg.close()


def _kid(**kw):
    """A child of a hand-written world (explicit examples): an open ticket unless told otherwise."""
    return dict(type="ticket", parent=0, restrict=set(), archived=False, tag=None, status="open", priority=None,
                stage="prospecting", value=None, probability=None, contact=None, superseded=False, active=False,
                annual=0, renewal=False, open=False, remaining=0, overdue=False, employer=None) | kw


def _world(**kw):
    """A hand-written world: teams 0 and 1, user 0 (crm_reader) in team 0, account 0 restricted to team 0."""
    return dict(parents=[None, None], users=[dict(role="crm_reader", teams={0})],
                accounts=[dict(restrict={("team", 0)}, archived=False, claimer=None)], children=[], events=[],
                node_artifacts=[], team_grants=[], reader_grants=[], deal_value_grants=[], change="none",
                pick=0) | kw


# Found by this test (see the module docstring); kept as explicit examples so that they run every time.
# 1. A child restricted to another team after the refresh: crm.accounts_360 still counts it.
STALE_RESTRICT = _world(children=[_kid(), _kid()], change="restrict_child", pick=1)
# 2. A child re-parented (old edge archived) to an account the user cannot see after the refresh.
STALE_REPARENT = _world(accounts=[dict(restrict={("team", 0)}, archived=False, claimer=None),
                                  dict(restrict={("team", 1)}, archived=False, claimer=None)],
                        children=[_kid(type="opportunity")], change="reparent_archive")
# 3. A meeting about a deal restricted to another team after the refresh: still the last touch.
STALE_TOUCH = _world(children=[_kid(type="opportunity")], change="restrict_child",
                     events=[dict(type="meeting", parts=[(("acc", 0), "account"), (("child", 0), "subject")],
                                  future=False, body=False)])
# 5. An email the account only attended, about a contact re-parented to an account nobody but
#    admins sees: the event's acl changed, but only accounts taking part as 'account' were
#    marked changed, so the stored row still showed its date as the last touch.
STALE_ATTENDED = _world(users=[dict(role="crm_writer", teams=set())],
                        accounts=[dict(restrict=set(), archived=True, claimer=0),
                                  dict(restrict=set(), archived=True, claimer=None),
                                  dict(restrict={("user", 0)}, archived=False, claimer=None)],
                        children=[_kid(type="person", parent=0)], change="reparent_archive",
                        events=[dict(type="email", parts=[(("acc", 2), "attendee"), (("child", 0), "subject")],
                                     future=False, body=False)])
# 4. A child re-parented by ending its owned_by edge is counted under both accounts.
ENDED_EDGE = _world(accounts=[dict(restrict={("team", 0)}, archived=False, claimer=None) for _ in range(2)],
                    children=[_kid()], change="reparent_end")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(spec=worlds())
@example(spec=STALE_RESTRICT)
@example(spec=STALE_REPARENT)
@example(spec=STALE_TOUCH)
@example(spec=ENDED_EDGE)
@example(spec=STALE_ATTENDED)
def test_every_identity_sees_exactly_what_the_oracle_says(logins, spec):
    conn = logins.next()
    w = World(admin=conn, dsn=logins.dsn)
    _run(w, spec, logins)


def _build(w: World, spec, o: Oracle) -> None:
    """The world of the spec, written as the superuser (the DBA)."""
    x, tag = w.admin.execute, o.tag
    for i, parent in enumerate(spec["parents"]):
        o.team_ids.append(w.team(o.team_name(i), parent=o.team_name(parent) if parent is not None else None))
    for u, usr in enumerate(spec["users"]):
        o.user_ids.append(x("SELECT crm.create_user(%s, %s, %s)",
                            (f"U{u}", o.email(u), o.login(u))).fetchone()[0])
        for t in usr["teams"]:
            x("SELECT crm.add_user_to_team(%s, %s)", (o.user_ids[u], o.team_ids[t]))
    # the grant-only reader: no team
    o.user_ids.append(x("SELECT crm.create_user('G', %s, %s)", (o.email("g"), o.login(None))).fetchone()[0])

    def rows(sql, params):
        return x(sql, params).fetchall()

    accounts = spec["accounts"]
    got = dict(rows("INSERT INTO crm.nodes (node_type, label, properties, restricted_to, claimed_by) "
                    "SELECT 'org', l, jsonb_build_object('name', l), r::uuid[], c "
                    "FROM jsonb_to_recordset(%s) AS t(l text, r text[], c uuid) RETURNING label, id",
                    (Jsonb([dict(l=f"{tag} acc{i}", r=[str(o.pid(p)) for p in a["restrict"]],
                                 c=str(o.user_ids[a["claimer"]]) if a["claimer"] is not None else None)
                            for i, a in enumerate(accounts)]),)))
    o.acc_ids = [got[f"{tag} acc{i}"] for i in range(len(accounts))]
    children = spec["children"]
    props = {"person": lambda j: {"first_name": f"p{j}", "last_name": tag},
             "ticket": lambda j: {"subject": f"t{j}"},
             "opportunity": lambda j: {"name": f"o{j}", "code": f"OPP-2401-{tag}{j}"},
             "contract": lambda j: {"title": f"k{j}"} | ({"end_date": RENEWAL.isoformat()}
                                                        if children[j]["renewal"] else {}),
             "invoice": lambda j: {"number": f"i{j}-{tag}",
                                   "due_date": "2020-01-01" if children[j]["overdue"] else "2099-01-01"}}
    if children:
        got = dict(rows("INSERT INTO crm.nodes (node_type, label, properties, attrs, restricted_to) "
                        "SELECT t.t, l, p, a, r::uuid[] FROM jsonb_to_recordset(%s) "
                        "AS t(t text, l text, p jsonb, a jsonb, r text[]) RETURNING label, id",
                        (Jsonb([dict(t=c["type"], l=f"{tag} c{j}", p=props[c["type"]](j),
                                     a={"teams": [o.team_name(c["tag"])]} if c["tag"] is not None else {},
                                     r=[str(o.pid(p)) for p in c["restrict"]])
                                for j, c in enumerate(children)]),)))
        o.child_ids = [got[f"{tag} c{j}"] for j in range(len(children))]
        o.created_at = dict(rows("SELECT id, created_at FROM crm.nodes WHERE id = ANY(%s)", (o.child_ids,)))
    edges = [("owned_by", o.child_ids[j], o.acc_ids[c["parent"]]) for j, c in enumerate(children)]
    edges += [("employs", o.acc_ids[c["employer"]], o.child_ids[j]) for j, c in enumerate(children)
              if c["type"] == "person" and c["employer"] is not None]
    edges += [("primary_contact", o.child_ids[j], o.contact_of(j)) for j, c in enumerate(children)
              if c["type"] == "opportunity" and o.contact_of(j) is not None]
    if edges:
        o.edges = rows("INSERT INTO crm.edges (edge_type, source_id, target_id) "
                       "SELECT e, s, t FROM jsonb_to_recordset(%s) AS x(e text, s uuid, t uuid) "
                       "RETURNING id, source_id, target_id",
                       (Jsonb([dict(e=e, s=str(s), t=str(t)) for e, s, t in edges]),))

    claims = []   # (type, subject, claim, superseded first by a claim)
    for j, c in enumerate(children):
        n = o.child_ids[j]
        if c["type"] == "ticket" and c["status"]:
            claims.append(("ticket_status", n, {"status": c["status"]} | ({"priority": c["priority"]}
                                                                       if c["priority"] else {})))
        elif c["type"] == "opportunity":
            if c["stage"]:
                claims.append(("deal_stage", n, {"stage": c["stage"]}))
            if c["value"] is not None:
                claims.append(("deal_value", n, {"amount": c["value"], "currency": "EUR"}))
            if c["probability"]:
                claims.append(("win_probability", n, {"probability": float(c["probability"])}))
        elif c["type"] == "contract":
            claims.append(("contract_status", n, {"status": "active" if c["active"] else "expired",
                                                  "annual_value": c["annual"]}))
        elif c["type"] == "invoice":
            claims.append(("invoice_status", n, {"status": "open" if c["open"] else "paid",
                                                 "amount_remaining": c["remaining"]}))
    superseding = {(t, n) for t, n, _ in claims
                   if children[o.child_ids.index(n)]["superseded"] and t in ("ticket_status", "deal_stage", "deal_value")}
    first = {"ticket_status": {"status": "new"}, "deal_stage": {"stage": "qualification"},
             "deal_value": {"amount": 7, "currency": "USD"}}
    initial = [(t, n, first[t]) for t, n in sorted(superseding, key=str)] + \
              [(t, n, cl) for t, n, cl in claims if (t, n) not in superseding]
    if initial:
        for a, n, t in rows("INSERT INTO crm.assertions (assertion_type, subject_node_id, claim) "
                            "SELECT t, n, c FROM jsonb_to_recordset(%s) AS x(t text, n uuid, c jsonb) "
                            "RETURNING id, subject_node_id, assertion_type",
                            (Jsonb([dict(t=t, n=str(n), c=cl) for t, n, cl in initial]),)):
            o.assertions.append((a, n, t, (t, n) not in superseding))
    for t, n, cl in claims:
        if (t, n) in superseding:
            a = x("SELECT crm.supersede_assertion(NULL, %s, %s, NULL, %s)", (t, n, Jsonb(cl))).fetchone()[0]
            o.assertions.append((a, n, t, True))

    def node_of(slot):
        kind, i = slot
        return {"acc": o.acc_ids, "child": o.child_ids, "user": o.user_ids, "team": o.team_ids}[kind][i]

    for k, ev in enumerate(spec["events"]):
        at = (FUTURE if ev["future"] else PAST) - timedelta(hours=k)
        eid = x("INSERT INTO crm.events (event_type, summary, occurred_at) VALUES (%s, %s, %s) RETURNING id",
                (ev["type"], f"{tag} e{k}", at)).fetchone()[0]
        parts = sorted({(node_of(s), r) for s, r in ev["parts"]}, key=str)
        if parts:
            x("INSERT INTO crm.event_participants (event_id, node_id, role) "
              "SELECT %s, n, r FROM jsonb_to_recordset(%s) AS x(n uuid, r text)",
              (eid, Jsonb([dict(n=str(n), r=r) for n, r in parts])))
        o.events.append(dict(id=eid, type=ev["type"], at=at, parts=parts))
        if ev["body"]:
            art = x("INSERT INTO crm.artifacts (artifact_type, event_id, body) VALUES (%s, %s, %s) RETURNING id",
                    (ev["type"] + "_body", eid, f"body of e{k}")).fetchone()[0]
            o.artifacts.append((art, None, eid))
    for slot in spec["node_artifacts"]:
        n = node_of(slot)
        art = x("INSERT INTO crm.artifacts (artifact_type, node_id, body) VALUES ('document', %s, 'doc') "
                "RETURNING id", (n,)).fetchone()[0]
        o.artifacts.append((art, n, None))

    grants = [(o.team_name(g["team"]), "team", "node", {"node_type": g["node_type"]}
               | ({"teams": [o.team_name(g["teams"])]} if g["teams"] is not None else {}))
              for g in spec["team_grants"]]
    grants += [(o.email("g"), "user", "node", {"node_type": g["node_type"]}
                | ({"teams": [o.team_name(g["teams"])]} if g["teams"] is not None else {}))
               for g in spec["reader_grants"]]
    grants += [(o.team_name(i) if kind == "team" else str(o.user_ids[i]), kind, "assertion",
                {"assertion_type": "deal_value"}) for kind, i in spec["deal_value_grants"]]
    for grantee, kind, resource, scope in grants:
        x("INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope) "
          "VALUES (%s, %s, %s, 'read', %s)", (grantee, kind, resource, Jsonb(scope)))
    # archive flags last (archived nodes cannot be linked; archiving changes no visibility)
    for i, a in enumerate(accounts):
        if a["archived"]:
            x("SELECT crm.archive_node(%s)", (o.acc_ids[i],))
    for j, c in enumerate(children):
        if c["archived"]:
            x("SELECT crm.archive_node(%s)", (o.child_ids[j],))


def _refresh(w: World, o: Oracle):
    w.admin.execute("SELECT crm.refresh_crm_views()")
    w.admin.execute("SELECT crm.refresh_account_views()")
    o.refreshed_parent = list(o.child_parent)
    # what the superuser reads through crm.accounts_360 right after a refresh: the stored rows
    stored = w.admin.execute("SELECT coalesce(jsonb_agg(to_jsonb(v) - %s::text[]), '[]') FROM crm.accounts_360 v "
                             "WHERE account_id = ANY(%s)", (VOLATILE, o.acc_ids)).fetchone()[0]
    o.stored = {uuid.UUID(r["account_id"]): r for r in stored}


def _run(w: World, spec, logins: Logins) -> None:
    n = len(spec["users"])

    def login(u):   # the login role of user u (None: the grant-only reader)
        return logins.role("g") if u is None else logins.role("w" if spec["users"][u]["role"] == "crm_writer" else "r", u)
    o = Oracle(spec, uuid.uuid4().hex[:6], login=login)
    _build(w, spec, o)
    _refresh(w, o)
    own = [logins.connection(login(u)) for u in range(n)] + [logins.connection(login(None))]
    # the admin login acting for each user, and not acting: one connection each, so that all
    # the observations of a phase can run in parallel
    adm = [logins.connection(logins.role("adm"), k) for k in range(n + 2)]
    svc = logins.connection(logins.role("svc"))
    params = dict(nodes=o.acc_ids + o.child_ids, edges=[e for e, _, _ in o.edges],
                  events=[e["id"] for e in o.events], artifacts=[a for a, _, _ in o.artifacts],
                  assertions=[a for a, *_ in o.assertions], volatile=VOLATILE)

    def observe(c, act_as=None):
        if act_as is None:
            return dict(zip(SURFACE_NAMES, c.execute(SURFACES, params, prepare=True).fetchone(), strict=True))
        with c.transaction():
            # an admin role acts only as crm_service (crm.act_as refuses crm_admin members);
            # for the pooled service login the same statement changes nothing
            c.execute("SET LOCAL ROLE crm_service")
            c.execute("SELECT crm.act_as(%s)", (act_as,))
            return dict(zip(SURFACE_NAMES, c.execute(SURFACES, params, prepare=True).fetchone(), strict=True))

    def check(label, refreshed):
        params["edges"] = [e for e, _, _ in o.edges]
        # one group per connection (a connection serves one thread at a time). Every phase: each
        # user's own login (the grant-only reader is user n) and the admin not acting; the admin
        # acting for every user right after a refresh (finding 11), else for one; the service
        # acting for one user. "One" is a different user in each phase and example, so every
        # identity is covered over the examples at a cost the test can afford.
        one = (spec["pick"] + len(label)) % (n + 1)
        acting = range(n + 1) if refreshed else [one]
        groups = [[(f"own login of user {u}" if u < n else "own login of the grant-only reader", own[u], None, u)]
                  for u in range(n + 1)]
        groups += [[(f"admin acting for user {u}", adm[u], o.user_ids[u], u)] for u in acting]
        groups += [[("admin", adm[n + 1], None, ADMIN)], [(f"service acting for user {one}", svc, o.user_ids[one], one)]]

        def run(group):
            return [(who, u, observe(c, act_as)) for who, c, act_as, u in group]
        for group in POOL.map(run, groups):
            for who, u, got in group:
                _compare(label, who, o.expect(u), got, refreshed, o)

    check("initial", refreshed=True)
    change = _change(w, spec, o)
    if change:
        event(f"change: {change}")
        check(f"after {change} (no refresh)", refreshed=False)
        _refresh(w, o)
        check(f"after {change} and a refresh", refreshed=True)


OPP_ACCOUNT = ("account_id", "account_id_text", "account_name")


def _without(row: dict, keys) -> dict:
    return {k: v for k, v in row.items() if k not in keys}


def _compare(label, who, ex, got, refreshed, o: Oracle) -> None:
    def where(surface):
        return f"{label}: {who}: {surface}"

    def idset(xs):
        return {uuid.UUID(x) for x in xs}
    for surface in ("nodes", "edges", "events", "artifacts", "assertions", "current_assertions"):
        seen = idset(got[surface])
        assert seen == ex[surface], (where(surface), "unexpected", seen - ex[surface], "missing", ex[surface] - seen)
    parts = {(uuid.UUID(e), uuid.UUID(nd), r) for e, nd, r in got["participants"]}
    assert parts == ex["participants"], (where("event_participants"), "unexpected", parts - ex["participants"],
                                         "missing", ex["participants"] - parts)

    def by_id(rows, key):
        return {uuid.UUID(r[key]): r for r in rows}

    def uid(v):
        return uuid.UUID(v) if v is not None else None
    for live_name, mv_name, key in (("contacts_directory_live", "contacts_directory", "node_id"),
                                    ("opportunities_active_live", "opportunities_active", "node_id")):
        live, mv = by_id(got[live_name], key), by_id(got[mv_name], key)
        if mv_name == "opportunities_active" and not refreshed:
            # the account is data of the stored copy: the opportunity's account at the last
            # refresh, shown only when the caller can see that account now; the rest equals the twin
            assert set(mv) == set(live), (where(mv_name + " vs " + live_name), set(mv) ^ set(live))
            for n, row in mv.items():
                assert _without(row, OPP_ACCOUNT) == _without(live[n], OPP_ACCOUNT), \
                    (where(mv_name + " vs " + live_name), row, live[n])
                assert uid(row["account_id"]) == ex["opportunity_accounts_stored"][n], \
                    (where(mv_name + " account"), row, ex["opportunity_accounts_stored"][n])
                assert (row["account_id_text"], row["account_name"] is None) == \
                    (row["account_id"], row["account_id"] is None), (where(mv_name + " account"), row)
            continue
        assert mv == live, (where(mv_name + " vs " + live_name), mv, live)
    contacts = {n: uid(r["org_id"]) for n, r in by_id(got["contacts_directory_live"], "node_id").items()}
    assert contacts == ex["contacts"], (where("contacts_directory_live"), contacts, ex["contacts"])
    opps = {n: (uid(r["primary_contact_id"]), r["current_value"])
            for n, r in by_id(got["opportunities_active_live"], "node_id").items()}
    assert opps == ex["opportunities"], (where("opportunities_active_live"), opps, ex["opportunities"])
    accounts = {n: uid(r["account_id"]) for n, r in by_id(got["opportunities_active_live"], "node_id").items()}
    assert accounts == ex["opportunity_accounts"], (where("opportunities_active_live account"), accounts)

    live, mv = by_id(got["accounts_360_live"], "account_id"), by_id(got["accounts_360"], "account_id")
    assert set(live) == set(ex["accounts"]), (where("accounts_360_live ids"), set(live) ^ set(ex["accounts"]))
    assert set(mv) == set(ex["accounts"]), (where("accounts_360 ids"), set(mv) ^ set(ex["accounts"]))
    for a, row in live.items():
        assert _aggregates(row) == ex["accounts"][a], (where(f"accounts_360_live aggregates of {a}"),
                                                      _aggregates(row), ex["accounts"][a])
    for a, row in mv.items():
        if refreshed or row == live[a]:
            assert row == live[a], (where(f"accounts_360 vs accounts_360_live for {a}"), row, live[a])
            continue
        # not refreshed since the change: the stored row, counting only what the caller sees now
        event("accounts_360 served a stored row that differs from the live one")
        stored = o.stored.get(a)
        assert stored is not None and _rest(row) == _rest(stored) \
            and _aggregates(row) == ex["accounts_stale"][a], \
            (where(f"accounts_360 row of {a}: neither the live row nor the stored row limited to what the "
                   "caller sees"), dict(shown=row, live=live[a], stored=stored,
                                         stale_visible=ex["accounts_stale"][a]))


def _change(w: World, spec, o: Oracle) -> str | None:
    """Apply the spec's change as the DBA (no refresh) — or, when it does not apply to this
    world, the next one that does; returns the change made (None: nothing to change)."""
    if spec["change"] == "none":
        return None
    at = CHANGES.index(spec["change"])
    for change in CHANGES[at:] + CHANGES[1:at]:
        if _apply(w, spec, o, change):
            return change
    return None


def _apply(w: World, spec, o: Oracle, change: str) -> bool:
    x, pick = w.admin.execute, spec["pick"]
    users, children = spec["users"], spec["children"]
    if change == "leave" and any(u["teams"] for u in users):
        u = next(k % len(users) for k in range(pick, pick + len(users)) if o.members[k % len(users)])
        t = sorted(o.members[u])[0]
        x("SELECT crm.remove_user_from_team(%s, %s)", (o.user_ids[u], o.team_ids[t]))
        o.members[u].discard(t)
        return True
    if change.startswith("reparent") and children and len(o.acc_ids) > 1:
        j = pick % len(children)
        new_parent = (o.child_parent[j] + 1) % len(o.acc_ids)
        child, account = o.child_ids[j], o.acc_ids[new_parent]
        archived = [n for n, c in ((child, children[j]), (account, spec["accounts"][new_parent])) if c["archived"]]
        end = "archived_at" if change == "reparent_archive" else "effective_to"
        with w.admin.transaction():
            # re-link as the DBA: archived endpoints are restored for the re-link, then archived again
            for n in archived:
                x("SELECT crm.restore_node(%s)", (n,))
            x(f"UPDATE crm.edges SET {end} = now() WHERE source_id = %s AND edge_type = 'owned_by' "
              "AND archived_at IS NULL AND effective_to IS NULL", (child,))
            e = x("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('owned_by', %s, %s) "
                  "RETURNING id, source_id, target_id", (child, account)).fetchone()
            for n in archived:
                x("SELECT crm.archive_node(%s)", (n,))
        o.edges.append(e)
        o.child_parent[j] = new_parent
        return True
    if change == "unrestrict" and any(o.acc_restrict):
        i = next(k % len(o.acc_ids) for k in range(pick, pick + len(o.acc_ids)) if o.acc_restrict[k % len(o.acc_ids)])
        kind, idx = sorted(o.acc_restrict[i])[0]
        fn = "crm.unrestrict_access_from_team" if kind == "team" else "crm.unrestrict_access_from_user"
        x(f"SELECT {fn}(%s, %s)", (o.acc_ids[i], o.pid((kind, idx))))
        o.acc_restrict[i].discard((kind, idx))
        return True
    if change == "restrict_child" and children:
        j = pick % len(children)
        account_teams = {i for kind, i in o.acc_restrict[o.child_parent[j]] if kind == "team"}
        others = [t for t in range(len(o.team_ids)) if t not in account_teams] or list(range(len(o.team_ids)))
        t = others[pick % len(others)]
        x("SELECT crm.restrict_access_to_team(%s, %s)", (o.child_ids[j], o.team_ids[t]))
        o.child_restrict[j].add(("team", t))
        return True
    return False
