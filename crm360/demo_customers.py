"""The demo's customer-model showcase (issue 15, docs/customers.md): for the featured account's
company — fit scoring of its people for a product, a dynamic segment over them, tasks, and the
lead ranking — all through the SQL API, as the admin running the demo. Idempotent: a re-run
finds what the first run made and only refreshes the segment."""

from __future__ import annotations

import hashlib

import psycopg
from psycopg.types.json import Jsonb
from rich.console import Console
from rich.table import Table

PRODUCT = "crm360 Platform"
CRITERIA = (("Company size", 2.0, "200+ employees"), ("Engagement", 1.0, "replied or met in the last 90 days"),
            ("Decision power", 2.0, "signs or influences the purchase"))


def _score(person_key: str, criterion: str) -> int:
    """A deterministic demo score 20..99 (the demo's stand-in for a scoring model): the same for
    the same person (its label and source key) on every run."""
    h = hashlib.sha256(f"{person_key}:{criterion}".encode()).digest()
    return 20 + h[0] % 80


def _setup(conn: psycopg.Connection, account_id, name: str) -> tuple:
    product = conn.execute("SELECT crm.create_product(%s, 'what the demo scores leads for')", (PRODUCT,)).fetchone()[0]
    crits = [conn.execute("SELECT crm.set_fit_criterion(%s, %s, %s::numeric, %s)", (product, c, w, d)).fetchone()[0]
             for c, w, d in CRITERIA]
    rows = conn.execute(
        """SELECT p.id, p.label || ':' || coalesce(p.external_id, '') FROM crm.edges e JOIN crm.nodes p ON p.id = e.source_id
            WHERE e.target_id = %s AND e.edge_type = 'owned_by' AND e.archived_at IS NULL
              AND p.node_type = 'person' AND p.archived_at IS NULL ORDER BY p.label, p.id""", (account_id,)).fetchall()
    people = [r[0] for r in rows]
    keys = dict(rows)
    seg_name = f"{name}: decision makers (fit >= 60)"
    seg = conn.execute("SELECT id FROM crm.nodes WHERE node_type = 'segment' AND label = %s AND archived_at IS NULL",
                       (seg_name,)).fetchone()
    if seg:
        return product, seg[0], people
    for pid in people:
        for crit, (cname, _w, _d) in zip(crits, CRITERIA, strict=True):
            conn.execute("SELECT crm.assess_fit(%s, %s, %s, %s, 'model', 'demo-fit-v1')",
                         (pid, crit, _score(keys[pid], cname), f"demo model on {cname.lower()}"))
    if people:
        conn.execute("SELECT crm.bulk_tag(%s, 'renewal-2026')", (people,))
        conn.execute("SELECT crm.tag(%s, 'champion')", (people[0],))
    if len(people) > 2:
        conn.execute("SELECT crm.suppress(%s, 'asked not to be contacted (demo)')", (people[-1],))
    seg = conn.execute(
        "SELECT crm.create_segment(%s, 'dynamic', %s, 'people of the featured account who fit the product', 'outreach')",
        (seg_name, Jsonb({"all": [{"field": "company", "op": "eq", "value": str(account_id)},
                                  {"field": "fit", "product": str(product), "op": "gte", "value": 60}]}))).fetchone()[0]
    # the account's owner (its claimer, else the CRM owner reconciliation assigned) gets the quote task
    owner = conn.execute(
        """SELECT coalesce(a.claimed_by, (SELECT e.target_id FROM crm.edges e JOIN crm.nodes u ON u.id = e.target_id
                                           WHERE e.source_id = a.id AND e.edge_type = 'assigned_to'
                                             AND e.properties ->> 'role' = 'owner' AND e.archived_at IS NULL
                                             AND e.effective_to IS NULL AND u.node_type = 'user' LIMIT 1))
             FROM crm.nodes a WHERE a.id = %s""", (account_id,)).fetchone()[0]
    conn.execute("SELECT crm.create_task(%s, 'Send the renewal quote', now() + interval '3 days', %s)",
                 (account_id, owner))
    conn.execute("SELECT crm.create_task(%s, 'Book a QBR with the champion', now() - interval '2 days')", (account_id,))
    if people:
        conn.execute("SELECT crm.create_task(%s, 'Follow up on the pricing question', now() + interval '1 day')",
                     (people[0],))
    return product, seg, people


def showcase(conn: psycopg.Connection, account_id, console: Console) -> None:
    """Print a segment, the task list and the lead ranking of the featured account's company."""
    if not conn.execute("SELECT to_regprocedure('crm.refresh_segments(uuid[])') IS NOT NULL").fetchone()[0]:
        return
    name = conn.execute("SELECT label FROM crm.nodes WHERE id = %s", (account_id,)).fetchone()[0]
    with conn.transaction():
        product, seg, people = _setup(conn, account_id, name)
        entered, exited = conn.execute("SELECT entered, exited FROM crm.refresh_segments(ARRAY[%s]::uuid[])",
                                       (seg,)).fetchone()
    seg_label = conn.execute("SELECT label FROM crm.nodes WHERE id = %s", (seg,)).fetchone()[0]
    t = Table(title=f"Segment {seg_label!r} (dynamic, outreach) — refresh: +{entered} / -{exited}")
    for c in ("customer", "fit", "tags", "email", "member since"):
        t.add_column(c, justify="right" if c == "fit" else "left")
    for cust, fit, tags, email, since in conn.execute(
            """SELECT c.name, crm.fit_score(c.customer_id, %s), c.tags, c.primary_email,
                      to_char(m.entered_at, 'YYYY-MM-DD HH24:MI')
                 FROM crm.segment_members m JOIN crm.customers c ON c.customer_id = m.customer_id
                WHERE m.segment_id = %s AND m.is_member ORDER BY 2 DESC, 1""", (product, seg)):
        t.add_row(cust, f"{fit:.1f}" if fit is not None else "", tags or "", email or "", since)
    console.print(t)
    suppressed = conn.execute("SELECT count(*) FROM crm.customers WHERE customer_id = ANY (%s) AND suppressed",
                              (people,)).fetchone()[0]
    if suppressed:
        console.print(f"  ({suppressed} suppressed customer(s) of {name} excluded: outreach segments skip them, "
                      "crm.pick_channel returns nothing)", highlight=False)

    t = Table(title=f"Tasks on {name} and its people (crm.tasks)")
    for c in ("task", "on", "assignee", "due", "status"):
        t.add_column(c)
    for title, anchor, assignee, due, overdue, status in conn.execute(
            """SELECT t.title, t.anchor_label, coalesce(t.assignee, 'pool'), to_char(t.due_at, 'YYYY-MM-DD'),
                      t.is_overdue, t.status
                 FROM crm.tasks t
                WHERE t.anchor_id = %s OR t.anchor_id = ANY (%s)
                ORDER BY t.due_at NULLS LAST, t.title""", (account_id, people)):
        t.add_row(title, anchor or "", assignee, due or "", "[red]overdue[/red]" if overdue else status)
    console.print(t)

    t = Table(title=f"Leads for {PRODUCT!r} at {name} (crm.leads)")
    for c in ("rank", "customer", "fit", "assessed", "review", ""):
        t.add_column(c, justify="right" if c in ("rank", "fit") else "left")
    for rank, cust, fit, assessed, total, review, supp in conn.execute(
            """SELECT l.rank, l.customer, l.fit, l.criteria_assessed, l.criteria_total, l.review_status,
                      crm_private.is_suppressed(l.customer_id)
                 FROM crm.leads l
                WHERE l.product_id = %s AND l.customer_id = ANY (%s) ORDER BY l.rank, l.customer LIMIT 8""",
            (product, people)):
        t.add_row(str(rank), cust, f"{fit:.1f}", f"{assessed}/{total}", review, "suppressed" if supp else "")
    console.print(t)
    console.print("Try: [bold]SELECT * FROM crm.customers WHERE company = "
                  f"{name!r}[/bold], crm.my_tasks, crm.segment_members_at(segment, date) — docs/customers.md",
                  highlight=False)
