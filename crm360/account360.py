"""Account 360 in the terminal (`crm360 account`) and the daily digest (`crm360 digest`).

Thin: every number comes from SQL (crm.resolve_account, crm.get_account_summary,
crm.recent_activity, crm.source_freshness, crm.daily_digest); this module only resolves
the identity to act as, renders rich tables and delivers the digest to a webhook.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from crm360.db import CrmError

DECISIVE_KINDS = ("id", "crm_id", "exact_name", "domain")


class Ambiguous(CrmError):
    """More than one account matches: the caller must pick (exit code 2)."""

    def __init__(self, text: str, candidates: list[dict]):
        super().__init__(f"{len(candidates)} accounts match {text!r}; pass one of their ids",
                         hint="crm360 account <id>")
        self.candidates = candidates


# --------------------------------------------------------------------------- identity
def act_as(conn: psycopg.Connection, user: str) -> uuid.UUID:
    """Inside the current transaction: become crm_service and act as `user` (id or email).

    The connecting role must be allowed to SET ROLE crm_service (a superuser, or a role that
    is a member of crm_service, e.g. the DBA/admin); row-level security then applies as
    that user until the transaction ends.
    """
    conn.execute("SET LOCAL ROLE crm_service")
    row = conn.execute(
        "SELECT id FROM crm.nodes WHERE node_type = 'user' AND archived_at IS NULL "
        "AND (id::text = lower(%(u)s) OR lower(properties ->> 'email') = lower(%(u)s) "
        "     OR lower(label) = lower(%(u)s)) ORDER BY (id::text = lower(%(u)s)) DESC LIMIT 2",
        {"u": user}).fetchall()
    if not row:
        raise CrmError(f"no CRM user {user!r}", sqlstate="P0002", hint="pass a user id or email")
    uid = row[0][0]
    conn.execute("SELECT crm.act_as(%s)", (uid,))
    return uid


# --------------------------------------------------------------------------- account
def resolve(conn: psycopg.Connection, text: str) -> dict:
    """The one account `text` designates, or Ambiguous / CrmError(P0002)."""
    cur = conn.execute("SELECT account_id, name, domain, crm_id, match_kind, score "
                       "FROM crm.resolve_account(%s, 10)", (text,))
    cols = [d.name for d in cur.description]
    matches = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    if not matches:
        raise CrmError(f"no account matches {text!r}", sqlstate="P0002",
                       hint="try part of the name, a domain, an email address or the CRM id")
    best = matches[0]
    if len(matches) == 1:
        return best
    if best["match_kind"] in DECISIVE_KINDS:
        same = [m for m in matches if m["match_kind"] == best["match_kind"]]
        if len(same) == 1:
            return best
        matches = same
    raise Ambiguous(text, matches)


def fetch(conn: psycopg.Connection, account_id, days: int = 30) -> dict:
    """Everything `crm360 account` shows, as plain JSON-able data."""
    summary = conn.execute("SELECT crm.get_account_summary(%s)", (account_id,)).fetchone()[0]
    aid = summary["account"]["id"]
    cur = conn.execute("SELECT occurred_at, source, event_type, channel, summary, about_type, about_label, "
                       "about_node_id, event_id FROM crm.recent_activity(%s, %s)", (aid, days))
    cols = [d.name for d in cur.description]
    activity = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    cur = conn.execute("SELECT source, object, status, overdue, last_success_at, last_attempt_at, "
                       "last_run_status, last_error, expected_interval::text AS expected_interval "
                       "FROM crm.source_freshness ORDER BY source, object")
    cols = [d.name for d in cur.description]
    freshness = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    # data-quality issues naming this account (both sides of a duplicate pair); evidence only
    # for admin/connector sessions (it may quote raw source payloads)
    flags = [{"kind": r[0], "detected_at": r[1], "source": r[2], "evidence": r[3]} for r in conn.execute(
        "SELECT kind, detected_at, source, evidence FROM crm_private.quality_items(NULL, NULL, current_user) WHERE account_id = %s "
        "ORDER BY detected_at DESC LIMIT 60", (aid,))]
    return {"summary": summary, "recent_activity": activity, "freshness": freshness, "data_quality": flags}


def _money(x: Any) -> str:
    if x is None:
        return "—"
    return f"{float(x):,.2f}"


def short_money(x: Any) -> str:
    """1234567 -> '1.2M', 467000 -> '467k', None -> 'hidden' (a value the caller may not read)."""
    if x is None:
        return "hidden"
    v = float(x)
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:,.1f}{unit}" if abs(v) < div * 100 else f"{v / div:,.0f}{unit}"
    return f"{v:,.0f}"


def _d(x: Any) -> str:
    if x is None:
        return "—"
    return str(x)[:16].replace("T", " ")


STATUS_STYLE = {"fresh": "green", "stale": "yellow", "failed": "red", "never": "magenta"}


def render(console: Console, data: dict, *, activity_limit: int = 20) -> None:
    s = data["summary"]
    a = s["account"]
    head = f"[bold]{a['name']}[/bold]  {a.get('domain') or ''}  CRM id {a.get('crm_id') or '—'}\n" \
           f"owner {a.get('owner') or '—'}{' <' + a['owner_email'] + '>' if a.get('owner_email') else ''}" \
           f" · team {a.get('team') or '—'}\nid {a['id']}"
    if a.get("merged_from"):
        head += f"\n(merged from {a['merged_from']})"
    console.print(Panel(head, title="Account 360", expand=False))

    t, o, arr, inv, lt = s["open_tickets"], s["active_opportunities"], s["arr"], s["invoices"], s["last_touch"]
    m = Table(title="Summary", show_header=False)
    m.add_column("what")
    m.add_column("value", justify="right")
    m.add_row("open tickets (high/urgent)", f"{t['count']} ({t['high_priority']})")
    m.add_row("oldest open ticket, days", _d(t["oldest_open_age_days"]))
    m.add_row("active opportunities", str(o["count"]))
    m.add_row("pipeline / weighted", f"{_money(o['pipeline_value'])} / {_money(o['weighted_value'])}")
    m.add_row("ARR (active contracts)", f"{_money(arr['amount'])} ({arr['active_contracts']})")
    m.add_row("next renewal", _d(arr["next_renewal_date"]))
    m.add_row("open invoices", f"{inv['open_count']} · {_money(inv['open_amount'])}")
    m.add_row("overdue invoices", f"{inv['overdue_count']} · {_money(inv['overdue_amount'])}")
    m.add_row("last touch", f"{_d(lt['at'])} ({lt['type'] or '—'}, {_d(lt['days_since'])} days ago)")
    console.print(m)

    if t["most_urgent"]:
        tt = Table(title=f"Most urgent open tickets ({t['count']} open)")
        for c in ("subject", "status", "priority", "age (days)"):
            tt.add_column(c)
        for x in t["most_urgent"]:
            tt.add_row(x["subject"], x["status"], x["priority"] or "", _d(x["age_days"]))
        console.print(tt)
    if o["items"]:
        ot = Table(title="Active opportunities")
        for c in ("name", "stage", "value", "probability", "close date"):
            ot.add_column(c)
        for x in o["items"][:15]:
            ot.add_row(x["name"], x["stage"] or "", _money(x["value"]), _d(x["probability"]), _d(x["close_date"]))
        console.print(ot)
    if inv["items"]:
        it = Table(title="Open invoices")
        for c in ("number", "remaining", "due", "overdue (days)"):
            it.add_column(c)
        for x in inv["items"][:15]:
            it.add_row(x["number"], f"{_money(x['amount_remaining'])} {x.get('currency') or ''}",
                       _d(x["due_date"]), _d(x["days_overdue"]) if x["overdue"] else "")
        console.print(it)
    if arr.get("contracts"):
        ct = Table(title="Active contracts")
        for c in ("title", "annual value", "effective", "end", "in term"):
            ct.add_column(c)
        for x in arr["contracts"][:15]:
            ct.add_row(x["title"], _money(x["annual_value"]), _d(x["effective_date"]), _d(x["end_date"]),
                       "yes" if x["in_term"] else "no")
        console.print(ct)
    if data["recent_activity"]:
        shown = data["recent_activity"][:activity_limit]
        more = len(data["recent_activity"]) - len(shown)
        at = Table(title=f"Recent activity (30 days{f', latest {len(shown)} of {len(shown) + more}' if more else ''})")
        for c in ("when", "source", "type", "summary"):
            at.add_column(c)
        for x in shown:
            at.add_row(_d(x["occurred_at"]), x["source"], x["event_type"], (x["summary"] or "")[:70])
        console.print(at)
    ft = Table(title="Sources (last synced)")
    for c in ("group", "source", "last synced", "status"):
        ft.add_column(c)
    for x in s["sources"]:
        st = x["status"]
        ft.add_row(x["group"], x["source"], _d(x["last_synced_at"]),
                   f"[{STATUS_STYLE.get(st, 'white')}]{st}[/]")
    console.print(ft)
    dq = s["data_quality"]
    console.print(f"Data quality: {_plural(dq['orphans'], 'orphan')}, "
                  f"{_plural(dq['identity_mismatches'], 'identity mismatch', 'identity mismatches')}, "
                  f"{_plural(dq['duplicate_candidates'], 'duplicate candidate')}", highlight=False)
    flags = [f for f in data["data_quality"] if f["detected_at"] is not None]
    if flags:
        qt = Table(title="Data-quality flags")
        for c in ("kind", "source", "what"):
            qt.add_column(c)
        for f in flags[:15]:
            qt.add_row(f["kind"].replace("_", " "), f["source"] or "", describe_evidence(f["kind"], f["evidence"], a["id"]))
        console.print(qt)


def describe_evidence(kind: str, ev: dict | None, account_id: Any = None) -> str:
    """One readable line for a data-quality item's evidence (no raw JSON)."""
    if not ev:
        return "(evidence for admins and connectors)"
    if kind == "duplicate_candidate":
        a, o = ev.get("account") or {}, ev.get("other") or {}
        other = a if str(o.get("id")) == str(account_id) else o
        why = ev.get("reasons") or str(ev.get("kind", "")).replace("_", " ")
        score = ev.get("score", ev.get("similarity"))
        return (f"{other.get('name')} ({other.get('domain') or 'no domain'}): {why}"
                + (f", score {float(score):.2f}" if score is not None else ""))
    if kind == "identity_mismatch":
        if ev.get("crm_id"):
            return (f"record {ev.get('record_id')}: CRM id {ev['crm_id']} and domain "
                    f"{', '.join(ev.get('domains') or [])} name different accounts (the CRM id wins)")
        return str(ev.get("reason") or ev.get("kind") or "account changed between syncs")
    return str(ev.get("reason") or ev.get("kind") or "")


def render_candidates(console: Console, e: Ambiguous) -> None:
    """The candidates, with the id to pass never cut (the CRM id, else the account id; every id
    with --json), readable at 80 columns."""
    t = Table(title=e.message)
    t.add_column("id to pass", no_wrap=True, overflow="fold", min_width=18)
    for c in ("name", "domain", "match"):
        t.add_column(c, overflow="fold")
    for m in e.candidates:
        t.add_row(m["crm_id"] or str(m["account_id"]), m["name"], m["domain"] or "",
                  f"{m['match_kind'].replace('_', ' ')} {float(m['score']):.2f}")
    console.print(t)


# --------------------------------------------------------------------------- digest
def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _every(interval: Any) -> str:
    """A PostgreSQL interval as people say it: '01:00:00' -> 'hour', '1 day' -> 'day', '2 days' -> '2 days'."""
    if not interval:
        return "—"
    text = str(interval).strip()
    parts = []
    for chunk in text.split():
        if ":" in chunk:
            h, m, sec = (int(float(x)) for x in (chunk.split(":") + ["0", "0"])[:3])
            parts += [(h, "hour"), (m, "minute"), (sec, "second")]
    days = [(int(x), "day") for x, u in zip(text.split(), text.split()[1:], strict=False) if u.startswith("day")]
    parts = [p for p in days + parts if p[0]]
    if len(parts) == 1 and parts[0][0] == 1:
        return parts[0][1]
    return ", ".join(_plural(n, unit) for n, unit in parts) or text


def _first_line(error: str | None) -> str:
    """The first line of an error (parsers add a caret block below it)."""
    return (error or "").strip().splitlines()[0] if error and error.strip() else ""


def digest_text(d: dict) -> list[tuple[str, str]]:
    """(title, markdown body) per section of the digest, Slack mrkdwn-compatible. A failing
    source is reported once per team (its error once, in the Platform section)."""
    out: list[tuple[str, str]] = []
    for t in d["teams"]:
        lines = []
        failing = set()
        for f in t["connector_failures"]:
            failing.add((f["source"], f["object"]))
            lines.append(f"• :x: *{f['source']}/{f['object']}* failed {_plural(f['runs'], 'time')} "
                         f"({f['accounts_affected']} of your accounts; error under Platform)")
        for s in t["stale_sources"]:
            if (s["source"], s["object"]) in failing:
                continue
            lines.append(f"• :warning: *{s['source']}/{s['object']}* is {s['status']} — last sync "
                         f"{_d(s['last_success_at'])}, expected every {_every(s['expected_interval'])} "
                         f"({s['accounts_affected']} of your accounts)")
        dq = (t["new_orphans"], t["new_identity_mismatches"], t["new_duplicate_candidates"])
        if any(dq):
            lines.append(f"• new: {_plural(dq[0], 'orphan')}, {_plural(dq[1], 'identity mismatch', 'identity mismatches')}, "
                         f"{_plural(dq[2], 'duplicate candidate')}")
            for i in t["items"][:5]:
                lines.append(f"    – {i['kind'].replace('_', ' ')} · {i['account'] or '—'} · {i['source']}")
        out.append((f"{t['team']} ({_plural(t['accounts'], 'account')})", "\n".join(lines) or "all clear"))
    u = d["unassigned"]
    if u["new_orphans"] or u["new_identity_mismatches"] or u["new_duplicate_candidates"]:
        out.append(("Unassigned (no account or no team)",
                    f"{_plural(u['new_orphans'], 'orphan')}, "
                    f"{_plural(u['new_identity_mismatches'], 'identity mismatch', 'identity mismatches')}, "
                    f"{_plural(u['new_duplicate_candidates'], 'duplicate candidate')}"))
    p = d["platform"]
    lines = []
    failing = set()
    for f in p["connector_failures"]:
        failing.add((f["source"], f["object"]))
        err = _first_line(f.get("error"))
        lines.append(f"• :x: {f['source']}/{f['object']} failed {_plural(f['runs'], 'time')}" + (f": {err}" if err else ""))
    lines += [f"• :warning: {s['source']}/{s['object']} {s['status']} — last sync {_d(s['last_success_at'])}, "
              f"expected every {_every(s['expected_interval'])}"
              for s in p["stale_sources"] if (s["source"], s["object"]) not in failing]
    out.append(("Platform", "\n".join(lines) or "all connectors healthy"))
    return out


def slack_payload(d: dict) -> dict:
    """Slack-compatible incoming-webhook JSON: {text, blocks} (section text ≤ 3000 chars, ≤ 50 blocks)."""
    sections = digest_text(d)
    n_fail = len(d["platform"]["connector_failures"])
    n_stale = len(d["platform"]["stale_sources"])
    text = f"crm360 data digest {d['day']}: {n_fail} connector failure(s), {n_stale} unhealthy source(s)"
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": f"crm360 digest {d['day']}"}}]
    for title, body in sections[:24]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*\n{body}"[:3000]}})
        blocks.append({"type": "divider"})
    return {"text": text, "blocks": blocks[:50]}


def render_digest(console: Console, d: dict, *, max_teams: int | None = None) -> None:
    """Print the digest; with max_teams, only that many team sections (the rest counted)."""
    console.print(Panel(f"crm360 data digest for {d['day']} (as of {_d(d['as_of'])})", expand=False))
    sections = digest_text(d)
    n_teams = len(d["teams"])
    for k, (title, body) in enumerate(sections):
        if max_teams is not None and max_teams <= k < n_teams:
            if k == max_teams:
                console.print(f"… {_plural(n_teams - max_teams, 'more team')} (crm360 digest shows every team)",
                              highlight=False)
            continue
        console.print(f"[bold]{title}[/bold]")
        console.print(body, markup=False, highlight=False)


@dataclass
class Delivery:
    ok: bool
    attempts: int
    status: int | None
    message: str


def post_webhook(url: str, payload: dict, *, tries: int = 4, backoff: float = 1.0, timeout: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """POST JSON; retry with exponential backoff (backoff × 2^n) on 5xx, timeouts and connection
    errors, at most `tries` attempts; a 4xx is final (retrying cannot fix the request)."""
    body = json.dumps(payload, default=str).encode()
    last = ""
    status = None
    for attempt in range(1, tries + 1):
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "crm360-digest"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return Delivery(True, attempt, resp.status, f"delivered (HTTP {resp.status})")
        except urllib.error.HTTPError as e:
            status = e.code
            detail = ""
            with contextlib.suppress(Exception):
                detail = e.read(200).decode(errors="replace").strip()
            last = f"HTTP {e.code}" + (f": {detail}" if detail else "")
            if e.code < 500:
                return Delivery(False, attempt, e.code, f"webhook refused the digest ({last}); not retried")
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
            status = None
            last = f"{type(e).__name__}: {getattr(e, 'reason', e)}"
        if attempt < tries:
            sleep(backoff * 2 ** (attempt - 1))
    return Delivery(False, tries, status, f"could not deliver the digest after {tries} attempts ({last})")
