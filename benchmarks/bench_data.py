"""Set-based generation of a benchmark graph (as the DBA: superuser, triggers fire as usual).

Shape (DESIGN §5): ``teams`` teams, one CRM user (a "rep") per team and member of it;
``accounts`` orgs, account i restricted to team i mod teams; each account owns
``opps + persons + tickets`` children through one-hop ``owned_by`` edges (inserted as nodes
first — with their account's acl, as reconciliation creates them — then all edges in one
statement, so the ACL inheritance trigger runs once, set-based, and finds nothing to change); opportunities get a deal_stage in the bench pipeline (about 1 in 8 in a
terminal stage), every second one a deal_value, a primary_contact (a person of the same
account) and an assigned_to owner (the rep of the account's team); persons get an
``employs`` edge from their account.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg.types.json import Jsonb

from crm360.bench import phase

PIPELINE_CODE = "PL-BENCH"
STAGES = [
    {"key": "prospecting", "order": 1},
    {"key": "qualification", "order": 2},
    {"key": "proposal", "order": 3},
    {"key": "negotiation", "order": 4},
    {"key": "closed_won", "order": 5, "terminal": True},
    {"key": "closed_lost", "order": 6, "terminal": True},
]
OPEN_STAGES = [s["key"] for s in STAGES if not s.get("terminal")]

# Account names: "<adjective> <noun> <industry> <nnnnn>" — searchable by fragments.
ADJECTIVES = ("Quantum", "Blue", "Northern", "Silver", "Rapid", "Bright", "Global", "Iron", "Green", "Prime",
              "Crystal", "Summit", "Golden", "Vector", "Apex", "Nova", "Stellar", "Coastal", "Urban", "Royal")
NOUNS = ("Harbor", "Peak", "River", "Forge", "Bridge", "Field", "Stone", "Wave", "Grove", "Point",
         "Ridge", "Gate", "Lake", "Crest", "Valley", "Spring", "Tower", "Path", "Works", "Labs")
INDUSTRIES = ("Logistics", "Software", "Foods", "Energy", "Health", "Capital", "Retail", "Media", "Robotics",
              "Textiles", "Pharma", "Mining", "Travel", "Security", "Analytics")


@dataclass
class Graph:
    accounts: int
    teams: int
    team_ids: list = field(default_factory=list)
    rep_user_ids: list = field(default_factory=list)   # rep i is a member of team i
    nodes: int = 0
    setup: dict = field(default_factory=dict)


def build_graph(conn: psycopg.Connection, *, accounts: int, teams: int, opps: int, persons: int,
                tickets: int) -> Graph:
    """Generate the graph on an autocommit superuser connection; returns ids and phase timings."""
    g = Graph(accounts=accounts, teams=teams)
    s = g.setup
    conn.execute("SET synchronous_commit = off")
    with phase(s, "pipeline_teams_users_s"):
        conn.execute("SELECT crm.create_pipeline('Bench pipeline', %s, %s)", (PIPELINE_CODE, Jsonb(STAGES)))
        g.team_ids = [r[0] for r in conn.execute(
            "SELECT crm.create_team(format('Bench team %%s', i)) FROM generate_series(1, %s) i ORDER BY i",
            (teams,)).fetchall()]
        g.rep_user_ids = [r[0] for r in conn.execute(
            "SELECT crm.create_user(format('Rep %%s', i), format('rep%%s@bench.example', i)) "
            "FROM generate_series(1, %s) i ORDER BY i", (teams,)).fetchall()]
        conn.execute("SELECT crm.add_user_to_team(u, t) FROM unnest(%s::uuid[], %s::uuid[]) AS x(u, t)",
                     (g.rep_user_ids, g.team_ids))
    with conn.transaction():
        conn.execute("CREATE TEMP TABLE bench_team (i int PRIMARY KEY, team_id uuid, rep_id uuid) ON COMMIT DROP")
        conn.execute("INSERT INTO bench_team SELECT i - 1, t, u FROM unnest(%s::uuid[], %s::uuid[]) "
                     "WITH ORDINALITY AS x(t, u, i)", (g.team_ids, g.rep_user_ids))
        with phase(s, "accounts_s"):
            conn.execute("""
                CREATE TEMP TABLE bench_acct ON COMMIT DROP AS
                SELECT i, gen_random_uuid() AS id,
                       format('%%s %%s %%s %%s', (%s::text[])[1 + i %% 20], (%s::text[])[1 + (i / 20) %% 20],
                              (%s::text[])[1 + (i / 400) %% 15], lpad(i::text, 5, '0')) AS name,
                       i %% %s AS team_i
                  FROM generate_series(0, %s - 1) i""",
                         (list(ADJECTIVES), list(NOUNS), list(INDUSTRIES), teams, accounts))
            conn.execute("""
                INSERT INTO crm.nodes (id, node_type, label, properties, restricted_to, external_id, external_source)
                SELECT a.id, 'org', a.name, jsonb_build_object('name', a.name, 'industry', 'bench'),
                       ARRAY[t.team_id], format('BENCH-ACC-%s', a.i), 'bench'
                  FROM bench_acct a JOIN bench_team t ON t.i = a.team_i""")
        per = opps + persons + tickets
        with phase(s, "child_nodes_s"):
            conn.execute("""
                CREATE TEMP TABLE bench_child ON COMMIT DROP AS
                SELECT gen_random_uuid() AS id, a.id AS account_id, a.i AS acct_i, a.team_i, k,
                       CASE WHEN k < %(o)s THEN 'opportunity' WHEN k < %(o)s + %(p)s THEN 'person'
                            ELSE 'ticket' END AS node_type
                  FROM bench_acct a, generate_series(0, %(per)s - 1) k""", {"o": opps, "p": persons, "per": per})
            conn.execute("CREATE INDEX ON bench_child (account_id, node_type, k)")
            # created with their account's acl (crm360's own ACL maintenance, as reconciliation
            # does): the owned_by inheritance below then finds nothing to change
            conn.execute("SELECT set_config('crm.acl_maintenance', 'on', true)")
            conn.execute("""
                INSERT INTO crm.nodes (id, node_type, label, properties, acl)
                SELECT c.id, c.node_type, x.label, x.props, ARRAY[t.team_id]
                  FROM bench_child c
                  JOIN bench_team t ON t.i = c.team_i
                  CROSS JOIN LATERAL (SELECT CASE c.node_type
                        WHEN 'opportunity' THEN format('Deal %s-%s', c.acct_i, c.k)
                        WHEN 'person' THEN format('Person%s Contact%s', c.k, c.acct_i)
                        ELSE format('Ticket %s-%s', c.acct_i, c.k) END AS label) l
                  CROSS JOIN LATERAL (SELECT l.label, CASE c.node_type
                        WHEN 'opportunity' THEN jsonb_build_object(
                            'name', l.label, 'code', format('OPP-BNCH-%s-%s', c.acct_i, c.k),
                            'estimated_value', 1000 * (1 + (c.acct_i + c.k) % 97))
                        WHEN 'person' THEN jsonb_build_object(
                            'first_name', format('Person%s', c.k), 'last_name', format('Contact%s', c.acct_i),
                            'email', format('p%s.%s@bench.example', c.k, c.acct_i), 'title', 'Buyer')
                        ELSE jsonb_build_object('subject', l.label, 'priority', 'normal') END AS props) x""")
            conn.execute("SELECT set_config('crm.acl_maintenance', 'off', true)")
            conn.execute("ANALYZE crm.nodes")   # statistics for the set-based triggers' plans
        with phase(s, "owned_by_edges_s"):
            conn.execute("INSERT INTO crm.edges (edge_type, source_id, target_id) "
                         "SELECT 'owned_by', c.id, c.account_id FROM bench_child c")
        with phase(s, "assertions_s"):
            conn.execute("""
                INSERT INTO crm.assertions (assertion_type, subject_node_id, claim)
                SELECT 'deal_stage', c.id,
                       jsonb_build_object('stage', CASE WHEN (c.acct_i + c.k) %% 8 = 7
                                                        THEN (ARRAY['closed_won','closed_lost'])[1 + c.acct_i %% 2]
                                                        ELSE (%s::text[])[1 + (c.acct_i + c.k) %% 4] END,
                                          'pipeline', %s::text)
                  FROM bench_child c WHERE c.node_type = 'opportunity'""", (OPEN_STAGES, PIPELINE_CODE))
            conn.execute("""
                INSERT INTO crm.assertions (assertion_type, subject_node_id, claim)
                SELECT 'deal_value', c.id, jsonb_build_object('amount', 500 * (1 + (c.acct_i * 7 + c.k) % 200),
                                                              'currency', 'EUR')
                  FROM bench_child c WHERE c.node_type = 'opportunity' AND c.k % 2 = 0""")
        with phase(s, "relationship_edges_s"):
            conn.execute("""
                INSERT INTO crm.edges (edge_type, source_id, target_id)
                SELECT 'employs', c.account_id, c.id FROM bench_child c WHERE c.node_type = 'person'""")
            if persons:
                conn.execute("""
                    INSERT INTO crm.edges (edge_type, source_id, target_id, properties)
                    SELECT 'primary_contact', o.id, p.id, '{"role": "decision_maker"}'
                      FROM bench_child o
                      JOIN bench_child p ON p.account_id = o.account_id AND p.node_type = 'person'
                                        AND p.k = %s + o.k %% %s
                     WHERE o.node_type = 'opportunity'""", (opps, persons))
            conn.execute("""
                INSERT INTO crm.edges (edge_type, source_id, target_id, properties)
                SELECT 'assigned_to', o.id, t.rep_id, '{"role": "owner"}'
                  FROM bench_child o JOIN bench_team t ON t.i = o.team_i
                 WHERE o.node_type = 'opportunity'""")
    with phase(s, "vacuum_analyze_s"):
        conn.execute("VACUUM ANALYZE")   # before the refresh: fresh tables have no statistics
    with phase(s, "refresh_views_s"):
        conn.execute("SELECT crm.refresh_crm_views()")
        conn.execute("ANALYZE crm_private.opportunities_active_mv, crm_private.contacts_directory_mv")
    g.nodes = conn.execute("SELECT count(*) FROM crm.nodes").fetchone()[0]
    conn.execute("RESET synchronous_commit")   # measurements on this connection commit durably
    return g
