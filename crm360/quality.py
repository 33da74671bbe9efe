"""`crm360 quality`: the data-quality queue in the terminal, as CSV or JSON, and merges.

Thin: the three lists are SQL views (crm.orphans, crm.duplicate_candidates,
crm.identity_mismatches) read as the caller; this module flattens their evidence into
readable columns, renders them at 80 columns without cutting an id the user has to pass on,
and runs `crm.merge_nodes` + `crm.reconcile_orphans()` for `crm360 quality merge`.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import textwrap
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crm360.db import CrmError
from crm360.db import connect as db_connect

KINDS = ("duplicates", "orphans", "mismatches")
RELATION = {"duplicates": "crm.duplicate_candidates", "orphans": "crm.orphans",
            "mismatches": "crm.identity_mismatches"}
TITLE = {"duplicates": "Duplicate candidates", "orphans": "Orphans (records with no account)",
         "mismatches": "Identity mismatches"}

# Flat, readable columns; the jsonb evidence is taken apart here, in SQL, as the caller.
SQL = {
    "duplicates": """
        SELECT d.score, d.kind,
               d.account_id, d.account_crm_id, d.account_name, d.domain,
               d.other_account_id, d.other_crm_id, d.other_name, d.other_domain,
               d.reasons, d.source, d.detected_at
          FROM crm.duplicate_candidates d
         ORDER BY d.score DESC, d.detected_at DESC, d.account_id, d.other_account_id""",
    "orphans": """
        SELECT o.source, o.object, o.external_id, o.reason,
               (SELECT string_agg(x, ', ') FROM jsonb_array_elements_text(
                    CASE WHEN jsonb_typeof(o.evidence -> 'match' -> 'domains') = 'array'
                         THEN o.evidence -> 'match' -> 'domains' ELSE '[]' END) AS x) AS domains,
               o.evidence -> 'match' ->> 'crm_id' AS crm_id_tried,
               o.record_id, (o.evidence ->> 'run_id')::bigint AS run_id, o.detected_at
          FROM crm.orphans o
         ORDER BY o.detected_at DESC, o.source, o.object, o.external_id""",
    "mismatches": """
        SELECT m.kind, m.source, m.object, m.external_id,
               m.account_id, a.label AS account_name,
               CASE WHEN a.external_source = 'salesforce' THEN a.external_id END AS account_crm_id,
               m.evidence ->> 'crm_id' AS stored_crm_id,
               (SELECT string_agg(x, ', ') FROM jsonb_array_elements_text(
                    CASE WHEN jsonb_typeof(m.evidence -> 'domains') = 'array'
                         THEN m.evidence -> 'domains' ELSE '[]' END) AS x) AS domains,
               dn.id AS domain_account_id, dn.label AS domain_account_name,
               CASE WHEN dn.external_source = 'salesforce' THEN dn.external_id END AS domain_account_crm_id,
               pn.id AS previous_account_id, pn.label AS previous_account_name,
               CASE WHEN pn.external_source = 'salesforce' THEN pn.external_id END AS previous_account_crm_id,
               (m.evidence ->> 'record_id')::bigint AS record_id, m.detected_at
          FROM crm.identity_mismatches m
          LEFT JOIN crm.nodes a ON a.id = m.account_id
          LEFT JOIN crm.nodes dn ON dn.id::text = m.evidence ->> 'domain_account_id'
          LEFT JOIN crm.nodes pn ON pn.id::text = m.evidence ->> 'previous_account_id'
         ORDER BY m.detected_at DESC, m.source, m.object, m.external_id""",
}


@dataclass
class Section:
    kind: str
    total: int | None = None          # None: the caller may not read the view
    rows: list[dict] = field(default_factory=list)
    note: str | None = None


def _jsonable(v: Any) -> Any:
    """JSON values: uuids and times as text, scores as numbers."""
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    return v


def _csv_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    return str(v)


def can_read(conn: psycopg.Connection, kind: str) -> bool:
    return conn.execute("SELECT has_table_privilege(%s, 'SELECT')", (RELATION[kind],)).fetchone()[0]


def fetch(conn: psycopg.Connection, kinds: list[str] | tuple[str, ...] = KINDS, limit: int | None = None,
          *, strict: bool = False) -> list[Section]:
    """The requested lists, newest/most likely first, at most `limit` rows each (None = all).

    A list the caller may not read (orphans and mismatches are for admins and connectors: they
    quote source records) is skipped with a note, or raises 42501 when `strict`."""
    out = []
    for kind in kinds:
        if not can_read(conn, kind):
            if strict:
                raise CrmError(f"you may not read {RELATION[kind]}", sqlstate="42501",
                               hint="orphans and identity mismatches are for admins and connectors (crm_admin, "
                                    "crm_connector): they quote raw source records")
            out.append(Section(kind, note=f"{RELATION[kind]} is for admins and connectors only"))
            continue
        total = conn.execute(f"SELECT count(*) FROM {RELATION[kind]}").fetchone()[0]
        sql = SQL[kind] + (" LIMIT %s" if limit is not None else "")
        cur = conn.execute(sql, (limit,) if limit is not None else None)
        cols = [d.name for d in cur.description]
        out.append(Section(kind, total, [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]))
    return out


# ------------------------------------------------------------------------ output
def to_json(sections: list[Section]) -> str:
    doc = {s.kind: ({"total": s.total, "rows": [{k: _jsonable(v) for k, v in r.items()} for r in s.rows]}
                    if s.total is not None else {"total": None, "rows": [], "note": s.note})
           for s in sections}
    return json.dumps(doc, indent=2)


def to_csv(section: Section) -> str:
    buf = io.StringIO()
    cols = list(section.rows[0]) if section.rows else _columns(section.kind)
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in section.rows:
        w.writerow([_csv_value(r[c]) for c in cols])
    return buf.getvalue()


def _columns(kind: str) -> list[str]:
    # the column names of an empty list (for a CSV header)
    return {"duplicates": ["score", "kind", "account_id", "account_crm_id", "account_name", "domain",
                           "other_account_id", "other_crm_id", "other_name", "other_domain", "reasons", "source",
                           "detected_at"],
            "orphans": ["source", "object", "external_id", "reason", "domains", "crm_id_tried", "record_id", "run_id",
                        "detected_at"],
            "mismatches": ["kind", "source", "object", "external_id", "account_id", "account_name", "account_crm_id",
                           "stored_crm_id", "domains", "domain_account_id", "domain_account_name",
                           "domain_account_crm_id", "previous_account_id", "previous_account_name",
                           "previous_account_crm_id", "record_id", "detected_at"]}[kind]


def _day(x: Any) -> str:
    return "—" if x is None else str(x)[:10]


def account_ref(account_id: Any, crm_id: str | None) -> str:
    """The id to pass to `crm360 quality merge`: the Salesforce Account Id when there is one
    (18 characters), else the account's uuid — always in full."""
    return crm_id or str(account_id)


def _wrap(text: str | None, width: int) -> str:
    """Text wrapped (markup-escaped) to `width`: the cell of a fixed-width column never cuts."""
    return "\n".join(escape(line) for line in textwrap.wrap(text or "", width, break_long_words=True)) or "—"


def _id(ref: str) -> str:
    return f"[cyan]{escape(ref)}[/cyan]"


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", show_lines=True, expand=False)


# Columns that hold an id a user passes on are no_wrap and exactly as wide as the longest such
# id (or a little wider); everything else in them is wrapped to that width here, so rich never
# shortens them; the free-text column takes the rest of the console and wraps.
def render_section(console: Console, s: Section, *, show_total: bool = True) -> None:
    title = TITLE[s.kind]
    if s.total is None:
        console.print(f"[bold]{title}[/bold]: not shown — {s.note}", highlight=False)
        return
    if show_total:
        title += f" — {s.total}" + (f", showing {len(s.rows)}" if len(s.rows) < s.total else "")
    if not s.rows:
        console.print(f"[bold]{title}[/bold]: none", highlight=False)
        return
    t = _table(title)
    if s.kind == "duplicates":
        refs = [(account_ref(r["account_id"], r["account_crm_id"]), account_ref(r["other_account_id"], r["other_crm_id"]))
                for r in s.rows]
        w = max(20, *(len(x) for pair in refs for x in pair))
        two = 7 + 2 * (w + 3) + 20 <= console.width        # score, two account columns, ≥ 17 for why
        t.add_column("score", justify="right", no_wrap=True)
        for name in (("account", "other account") if two else ("accounts",)):
            t.add_column(name, no_wrap=True, width=w)
        t.add_column("why", min_width=14)

        def cell(name: str | None, ref: str, domain: str | None) -> str:
            return f"{_wrap(name, w)}\n{_id(ref)}\n{_wrap(domain or 'no domain', w)}"

        for r, (ra, rb) in zip(s.rows, refs, strict=True):
            a, b = cell(r["account_name"], ra, r["domain"]), cell(r["other_name"], rb, r["other_domain"])
            t.add_row(f"{r['score']:.2f}", *([a, b] if two else [f"{a}\n\n{b}"]), escape(r["reasons"] or ""))
    elif s.kind == "orphans":
        w = max(16, *(len(r["external_id"] or "") for r in s.rows))
        t.add_column("record", no_wrap=True, width=w)
        t.add_column("reason", min_width=20)
        t.add_column("since", no_wrap=True)
        for r in s.rows:
            t.add_row(f"{_wrap(r['source'] + ' ' + r['object'], w)}\n{_id(r['external_id'] or '')}",
                      escape(r["reason"] or ""), _day(r["detected_at"]))
    else:
        def ref(r: dict, prefix: str) -> str:
            return account_ref(r[f"{prefix}_id"], r[f"{prefix}_crm_id"]) if r[f"{prefix}_id"] else ""

        w = max(18, *(len(ref(r, p)) for r in s.rows for p in ("account", "domain_account", "previous_account")))
        rec = max(16, *(len(r["external_id"] or "") for r in s.rows))
        two = rec + 3 + 2 * (w + 3) + 1 <= console.width
        t.add_column("record", no_wrap=True, width=rec)
        for name in (("attached to", "other signal") if two else ("attached to · other signal",)):
            t.add_column(name, no_wrap=True, width=w)
        for r in s.rows:
            if r["kind"] == "crm_id_vs_domain":
                other = (_wrap(f"but domain {r['domains'] or '—'} is {r['domain_account_name'] or 'another account'}",
                               w) + f"\n{_id(ref(r, 'domain_account'))}")
            else:
                other = (_wrap(f"was {r['previous_account_name'] or 'another account'} in the previous sync", w)
                         + f"\n{_id(ref(r, 'previous_account'))}")
            attached = f"{_wrap(r['account_name'], w)}\n{_id(ref(r, 'account'))}"
            t.add_row(f"{_wrap(r['source'] + ' ' + r['object'], rec)}\n{_id(r['external_id'] or '')}\n"
                      f"{_wrap(r['kind'], rec)}\nsince {_day(r['detected_at'])}",
                      *([attached, other] if two else [f"{attached}\n\n{other}"]))
    console.print(t)


def render(console: Console, sections: list[Section]) -> None:
    for s in sections:
        render_section(console, s)
    if any(s.kind == "duplicates" and s.rows for s in sections):
        console.print("Merge a pair: crm360 quality merge KEEP DROP, with the ids shown (Salesforce Account Id "
                      "or uuid); DROP is archived into KEEP and orphans are retried.", highlight=False, markup=False)


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


ORPHAN_GROUPS_SQL = """
    SELECT o.source, o.object, count(*) AS records,
           (array_agg(o.reason ORDER BY o.detected_at DESC, o.external_id))[1] AS example_reason,
           (array_agg(o.external_id ORDER BY o.detected_at DESC, o.external_id))[1] AS example_id
      FROM crm.orphans o
     GROUP BY o.source, o.object
     ORDER BY count(*) DESC, o.source, o.object
     LIMIT %s"""


def render_report(conn: psycopg.Connection, console: Console, limit: int = 4) -> None:
    """A compact data-quality report, readable at 80 columns: the totals, the `limit` most
    likely duplicate pairs, orphans per source object (count and one example) and the first
    `limit` identity mismatches. Lists the caller may not read are left out. Used by
    `crm360 demo`; `crm360 quality` prints the full lists."""
    sections = {s.kind: s for s in fetch(conn, KINDS, limit)}
    words = {"duplicates": ("duplicate candidate", None), "orphans": ("orphan", None),
             "mismatches": ("identity mismatch", "identity mismatches")}
    totals = ", ".join(plural(s.total, *words[k]) for k, s in sections.items() if s.total is not None)
    console.print(f"[bold]Data quality[/bold]: {totals or 'no list you may read'}", highlight=False)
    dup = sections["duplicates"]
    if dup.total:
        render_section(console, dup)
    orph = sections["orphans"]
    if orph.total:
        cur = conn.execute(ORPHAN_GROUPS_SQL, (limit,))
        groups = cur.fetchall()
        t = _table(f"Orphans by source object — {plural(orph.total, 'record')}")
        t.add_column("source object", no_wrap=True)
        t.add_column("records", justify="right", no_wrap=True)
        t.add_column("for example", min_width=24)
        for source, obj, n, reason, ext in groups:
            t.add_row(f"{escape(source)}\n{escape(obj)}", str(n),
                      f"{_id(ext or '')}: {escape(reason or '')}")
        console.print(t)
    mis = sections["mismatches"]
    if mis.total:
        render_section(console, mis)
    if dup.rows or orph.total or mis.total:
        console.print("Full lists: crm360 quality [--kind duplicates|orphans|mismatches] · "
                      "merge a pair: crm360 quality merge KEEP DROP", highlight=False, markup=False)


# ------------------------------------------------------------------------ merge
@dataclass
class MergeResult:
    keep: dict
    drop: dict
    merged: bool                       # False: DROP was merged into KEEP before
    children_moved: int
    orphans_before: int | None
    orphans_after: int | None
    retried: list[dict] = field(default_factory=list)
    read_models: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"keep": {k: _jsonable(v) for k, v in self.keep.items()},
                "drop": {k: _jsonable(v) for k, v in self.drop.items()},
                "merged": self.merged, "children_moved": self.children_moved,
                "orphans_before": self.orphans_before, "orphans_after": self.orphans_after,
                "orphans_resolved": (self.orphans_before - self.orphans_after
                                     if self.orphans_before is not None and self.orphans_after is not None else None),
                "reconcile": self.retried,
                "read_models": [{k: _jsonable(v) for k, v in x.items()} for x in self.read_models]}


def find_account(conn: psycopg.Connection, ref: str) -> dict:
    """The account `ref` names: a node uuid, or a Salesforce Account Id (15 or 18 characters,
    the account that carries it — also when it was merged away before)."""
    text = ref.strip()
    try:
        node_id = uuid.UUID(text)
    except ValueError:
        node_id = None
    if node_id is not None:
        row = conn.execute("SELECT id, node_type, label, CASE WHEN external_source = 'salesforce' THEN external_id END, "
                           "archived_at FROM crm.nodes WHERE id = %s", (node_id,)).fetchone()
    else:
        if not text.isalnum() or len(text) not in (15, 18):
            raise CrmError(f"{ref!r} is neither an account id (uuid) nor a Salesforce Account Id",
                           sqlstate="22023", hint="pass the ids `crm360 quality` shows (uuid, or 15/18-character "
                                                  "Salesforce Account Id)")
        row = conn.execute(
            "SELECT id, node_type, label, external_id, archived_at FROM crm.nodes "
            "WHERE node_type = 'org' AND external_source = 'salesforce' "
            "AND (external_id = %(id)s OR (length(%(id)s) = 15 AND left(external_id, 15) = %(id)s)) "
            "ORDER BY archived_at IS NULL DESC LIMIT 1", {"id": text}).fetchone()
    if row is None:
        raise CrmError(f"no account {ref!r}", sqlstate="P0002",
                       hint="list the candidates with `crm360 quality --kind duplicates`; an account you may not "
                            "see is not found either")
    if row[1] != "org":
        raise CrmError(f"{ref!r} is a {row[1]}, not an account", sqlstate="22023",
                       hint="crm360 quality merge merges accounts; use crm.merge_nodes for other records")
    return {"id": row[0], "name": row[2], "crm_id": row[3], "archived": row[4] is not None}


def merge(dsn: str, keep_ref: str, drop_ref: str, *, reason: str | None = None, retry_orphans: bool = True,
          refresh: bool = True, connect=db_connect) -> MergeResult:
    """Merge account DROP into KEEP (crm.merge_nodes) and commit, then retry every orphan
    (crm.reconcile_orphans()): records that were ambiguous between the two accounts, or
    matched the dropped one, now resolve; then refresh the read models the merge made stale
    (crm.refresh_read_models(), as `crm360 reconcile` does; a failure there is reported, the
    merge stands)."""
    with connect(dsn) as conn:
        keep, drop = find_account(conn, keep_ref), find_account(conn, drop_ref)
        if keep["id"] == drop["id"]:
            raise CrmError("KEEP and DROP are the same account", sqlstate="22023",
                           hint="pass the two accounts of a duplicate pair")
        children = conn.execute(
            "SELECT count(*) FROM crm.edges WHERE target_id = %s AND edge_type = 'owned_by' "
            "AND archived_at IS NULL AND effective_to IS NULL", (drop["id"],)).fetchone()[0]
        can_orphans = can_read(conn, "orphans")
        before = conn.execute("SELECT count(*) FROM crm.orphans").fetchone()[0] if can_orphans else None
        merged = conn.execute("SELECT crm.merge_nodes(%s, %s, %s)",
                              (keep["id"], drop["id"], reason or "crm360 quality merge")).fetchone()[0]
        conn.commit()
    result = MergeResult(keep, drop, merged, children if merged else 0, before, before)
    with connect(dsn) as conn:
        if retry_orphans:
            cur = conn.execute("SELECT * FROM crm.reconcile_orphans()")
            cols = [d.name for d in cur.description]
            result.retried = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
            conn.commit()
            if can_orphans:
                result.orphans_after = conn.execute("SELECT count(*) FROM crm.orphans").fetchone()[0]
                conn.commit()
        if refresh:
            from crm360.connectors import refresh_read_models
            result.read_models = refresh_read_models(conn)
    return result


def render_merge(console: Console, r: MergeResult) -> None:
    k, d = r.keep, r.drop
    kref, dref = account_ref(k["id"], k["crm_id"]), account_ref(d["id"], d["crm_id"])
    if r.merged:
        console.print(f"Merged {d['name']} ({dref}) into {k['name']} ({kref}): {plural(r.children_moved, 'record')} "
                      f"it owned, its activity, assertions and source links now belong to {k['name']}; "
                      f"{d['name']} is archived with a merged_into link.", highlight=False, markup=False)
    else:
        console.print(f"Nothing to merge: {d['name']} ({dref}) was merged into {k['name']} ({kref}) before.",
                      highlight=False, markup=False)
    if r.retried or r.orphans_before is not None:
        applied = sum(x.get("applied") or 0 for x in r.retried)
        line = f"Orphans retried: {plural(applied, 'record')} applied"
        if r.orphans_before is not None and r.orphans_after is not None:
            line += f"; orphans {r.orphans_before} → {r.orphans_after}"
        console.print(line, highlight=False, markup=False)
    failed = [x for x in r.read_models if x.get("error")]
    done = [x["public_view"] or x["read_model"] for x in r.read_models if x.get("refreshed")]
    if failed:
        console.print(f"Read models not refreshed: {failed[0]['error']} [{failed[0].get('sqlstate')}] — "
                      "run crm360 refresh", highlight=False, markup=False)
    elif done:
        console.print(f"Read models refreshed: {', '.join(done)}", highlight=False, markup=False)
