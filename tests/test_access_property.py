"""Property test (hypothesis): what each user sees, as themselves, equals a Python oracle.

Random teams (with nesting), users, memberships, accounts, owned_by children, restrictions,
grants and archive flags; then a random membership change or re-parenting, which must be
reflected at once. Every check runs as the user's own non-superuser login role.
"""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from tests.access_helpers import World, ids

CHILD_TYPES = ["person", "opportunity", "ticket"]


@st.composite
def worlds(draw):
    n_teams = draw(st.integers(1, 4))
    parents = [draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None for i in range(n_teams)]
    n_users = draw(st.integers(1, 3))
    memberships = [draw(st.sets(st.integers(0, n_teams - 1), max_size=2)) for _ in range(n_users)]
    n_accounts = draw(st.integers(1, 4))
    principal = st.one_of(st.tuples(st.just("team"), st.integers(0, n_teams - 1)),
                          st.tuples(st.just("user"), st.integers(0, n_users - 1)))
    accounts = [dict(restrict=draw(st.sets(principal, max_size=2)), archived=draw(st.booleans()))
                for _ in range(n_accounts)]
    children = [dict(type=draw(st.sampled_from(CHILD_TYPES)), parent=draw(st.integers(0, n_accounts - 1)),
                     restrict=draw(st.one_of(st.just(set()), st.sets(principal, max_size=1))),
                     archived=draw(st.booleans()))
                for _ in range(draw(st.integers(0, 6)))]
    grants = [dict(team=draw(st.integers(0, n_teams - 1)), node_type=draw(st.sampled_from(CHILD_TYPES + ["org"])))
              for _ in range(draw(st.integers(0, 2)))]
    change = draw(st.sampled_from(["none", "leave", "reparent", "unrestrict"]))
    pick = draw(st.integers(0, 100))
    return dict(parents=parents, memberships=memberships, accounts=accounts, children=children,
                grants=grants, change=change, pick=pick)


class Oracle:
    def __init__(self, spec, team_ids, user_ids, acc_ids, child_ids):
        self.spec, self.team_ids, self.user_ids = spec, team_ids, user_ids
        self.acc_ids, self.child_ids = acc_ids, child_ids
        self.members = [set(m) for m in spec["memberships"]]
        self.child_parent = [c["parent"] for c in spec["children"]]
        self.acc_restrict = [set(a["restrict"]) for a in spec["accounts"]]

    def pid(self, p):
        kind, i = p
        return self.team_ids[i] if kind == "team" else self.user_ids[i]

    def principals(self, u):
        out, todo = {self.user_ids[u]}, list(self.members[u])
        seen = set()
        while todo:
            t = todo.pop()
            if t in seen:
                continue
            seen.add(t)
            out.add(self.team_ids[t])
            if self.spec["parents"][t] is not None:
                todo.append(self.spec["parents"][t])
        return out

    def acl(self):
        acl = {}
        for i, a in enumerate(self.acc_restrict):
            acl[self.acc_ids[i]] = {self.pid(p) for p in a}
        for j, c in enumerate(self.spec["children"]):
            own = {self.pid(p) for p in c["restrict"]}
            acl[self.child_ids[j]] = own or acl[self.acc_ids[self.child_parent[j]]]
        return acl

    def node_types(self):
        t = {a: "org" for a in self.acc_ids}
        t.update({self.child_ids[j]: c["type"] for j, c in enumerate(self.spec["children"])})
        return t

    def visible(self, u):
        pr, acl, types = self.principals(u), self.acl(), self.node_types()
        granted = {g["node_type"] for g in self.spec["grants"] if self.team_ids[g["team"]] in pr}
        return {n for n, a in acl.items() if (a & pr) or types[n] in granted}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(spec=worlds())
def test_every_user_sees_exactly_what_the_oracle_says(conn, db, spec):
    w = World(admin=conn, dsn=db)
    try:
        _run(w, spec)
    finally:
        w.close()


def _run(w: World, spec) -> None:
    tag = uuid.uuid4().hex[:6]
    team_ids = []
    for i, parent in enumerate(spec["parents"]):
        team_ids.append(w.team(f"team{i}-{tag}", parent=f"team{parent}-{tag}" if parent is not None else None))
    user_ids = []
    for u, teams in enumerate(spec["memberships"]):
        w.login(f"u{u}", "crm_writer")
        user_ids.append(w.users[f"u{u}"])
        for t in teams:
            w.join(f"u{u}", f"team{t}-{tag}")
    oracle = Oracle(spec, team_ids, user_ids, [], [])

    def restrict_ids(r):
        return [oracle.pid(p) for p in r]

    acc_ids = []
    for i, a in enumerate(spec["accounts"]):
        acc_ids.append(w.admin.execute(
            "INSERT INTO crm.nodes (node_type, properties, restricted_to) VALUES ('org', %s, %s) RETURNING id",
            (Jsonb({"name": f"acc{i}-{tag}"}), restrict_ids(a["restrict"]))).fetchone()[0])
    child_ids = []
    for j, c in enumerate(spec["children"]):
        props = {"person": {"first_name": f"p{j}", "last_name": tag}, "ticket": {"subject": f"t{j}"},
                 "opportunity": {"name": f"o{j}", "code": f"OPP-2401-{tag}{j}"}}[c["type"]]
        cid = w.admin.execute("INSERT INTO crm.nodes (node_type, properties, restricted_to) VALUES (%s, %s, %s) "
                              "RETURNING id", (c["type"], Jsonb(props), restrict_ids(c["restrict"]))).fetchone()[0]
        w.admin.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('owned_by', %s, %s)",
                        (cid, acc_ids[c["parent"]]))
        child_ids.append(cid)
    # archive flags last (archived nodes cannot be linked; archiving changes no visibility)
    for i, a in enumerate(spec["accounts"]):
        if a["archived"]:
            w.admin.execute("SELECT crm.archive_node(%s)", (acc_ids[i],))
    for j, c in enumerate(spec["children"]):
        if c["archived"]:
            w.admin.execute("SELECT crm.archive_node(%s)", (child_ids[j],))
    for g in spec["grants"]:
        w.admin.execute("INSERT INTO crm.access_grants (grantee, grant_type, resource_type, access_level, scope) "
                        "VALUES (%s, 'team', 'node', 'read', %s)",
                        (f"team{g['team']}-{tag}", Jsonb({"node_type": g["node_type"]})))
    oracle.acc_ids, oracle.child_ids = acc_ids, child_ids
    mine = set(acc_ids) | set(child_ids)
    archived = {acc_ids[i] for i, a in enumerate(spec["accounts"]) if a["archived"]} | \
               {child_ids[j] for j, c in enumerate(spec["children"]) if c["archived"]}
    conns = [w.connect(f"u{u}") for u in range(len(user_ids))]

    def check(label):
        for u, c in enumerate(conns):
            expect = oracle.visible(u)
            got = ids(c, "SELECT id FROM crm.nodes WHERE id = ANY(%s)", (list(mine),))
            assert got == expect, (label, "nodes", u)
            edges = set(c.execute("SELECT source_id, target_id FROM crm.edges WHERE edge_type = 'owned_by' "
                                  "AND effective_to IS NULL AND archived_at IS NULL AND source_id = ANY(%s)",
                                  (child_ids,)).fetchall())
            want = {(child_ids[j], acc_ids[oracle.child_parent[j]]) for j in range(len(child_ids))
                    if child_ids[j] in expect and acc_ids[oracle.child_parent[j]] in expect}
            assert edges == want, (label, "edges", u)
            people = ids(c, "SELECT node_id FROM crm.contacts_directory_live WHERE node_id = ANY(%s)", (child_ids,))
            assert people == {n for n in expect if oracle.node_types()[n] == "person" and n not in archived}, \
                (label, "contacts_directory_live", u)
            opps = ids(c, "SELECT node_id FROM crm.opportunities_active_live WHERE node_id = ANY(%s)", (child_ids,))
            assert opps == {n for n in expect if oracle.node_types()[n] == "opportunity" and n not in archived}, \
                (label, "opportunities_active_live", u)

    check("initial")
    pick = spec["pick"]
    if spec["change"] == "leave" and any(spec["memberships"]):
        u = next(i for i in range((pick % len(user_ids)), pick % len(user_ids) + len(user_ids))
                 if spec["memberships"][i % len(user_ids)]) % len(user_ids)
        t = sorted(spec["memberships"][u])[0]
        w.admin.execute("SELECT crm.remove_user_from_team(%s, %s)", (user_ids[u], team_ids[t]))
        oracle.members[u].discard(t)
        check("after leave")
    elif spec["change"] == "reparent" and child_ids and len(acc_ids) > 1:
        j = pick % len(child_ids)
        new_parent = (oracle.child_parent[j] + 1) % len(acc_ids)
        with w.admin.transaction():
            # re-link as the DBA: archived endpoints are restored for the re-link, then archived again
            live = [x for x in (child_ids[j], acc_ids[new_parent]) if x in archived]
            for x in live:
                w.admin.execute("SELECT crm.restore_node(%s)", (x,))
            w.admin.execute("UPDATE crm.edges SET effective_to = now() WHERE source_id = %s AND edge_type = 'owned_by'",
                            (child_ids[j],))
            w.admin.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) VALUES ('owned_by', %s, %s)",
                            (child_ids[j], acc_ids[new_parent]))
            for x in live:
                w.admin.execute("SELECT crm.archive_node(%s)", (x,))
        oracle.child_parent[j] = new_parent
        check("after reparent")
    elif spec["change"] == "unrestrict" and any(spec["accounts"][i]["restrict"] for i in range(len(acc_ids))):
        i = next(k for k in range(len(acc_ids)) if spec["accounts"][k]["restrict"])
        kind, idx = sorted(spec["accounts"][i]["restrict"])[0]
        fn = "crm.unrestrict_access_from_team" if kind == "team" else "crm.unrestrict_access_from_user"
        w.admin.execute(f"SELECT {fn}(%s, %s)", (acc_ids[i], oracle.pid((kind, idx))))
        oracle.acc_restrict[i].discard((kind, idx))
        check("after unrestrict")
    for c in conns:
        c.close()
