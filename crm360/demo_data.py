"""The demo world, written as the four source systems' native export files.

`generate(out_dir, seed=..., accounts=200, as_of=date)` writes, deterministically (same
seed, size and as_of → byte-identical files):

    salesforce/User.csv, Account.csv, Contact.csv, Event.csv, Task.csv   Bulk API 2.0 query CSV
    salesforce/Opportunity.json                                           REST query JSON
    zendesk/organizations.json, users.json, ticket_comments.json          list pages
    zendesk/tickets-1.json, tickets-2.json                                incremental export pages
    zendesk/ticket_comments-broken.json                                   a truncated page (planted failed run)
    clm/contracts.csv                                                     CLM CSV export
    stripe/customers.json                                                 list object
    stripe/invoices.ndjson                                                one invoice object per line
    manifest.json                                                         what was planted, file list

Formats follow issue 5 ("Sources and formats"). At the default size: 200 accounts, ~2,000
contacts, 5,000 tickets with ~10,000 comments, ~300 contracts, ~1,200 invoices, ~400
opportunities, ~600 meetings and ~1,500 calls/emails. Planted problems (listed in the
manifest): duplicate accounts (two CRM accounts sharing a domain with near-identical names),
orphans (a Zendesk organization and a Stripe customer with no CRM id and a free-mail or
unknown domain), identity drift (a Zendesk organization whose external_id points to account
A while its domain is account B's), a file that cannot be parsed (a failed run). The stale
source (CLM last delivered 3 days ago) is a sync-run fact, set up by `crm360 demo`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import random
from pathlib import Path

FORMAT_VERSION = 2
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

PREFIXES = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Tyrell",
            "Cyberdyne", "Aperture", "Wonka", "Gringotts", "Oscorp", "Massive", "Dunder", "Pied", "Blue", "Nimbus",
            "Zephyr", "Quantum", "Helix", "Vertex", "Summit", "Atlas", "Nova", "Orion", "Polar", "Crimson"]
SUFFIXES = ["Dynamics", "Systems", "Labs", "Industries", "Logistics", "Analytics", "Foods", "Health", "Energy",
            "Robotics", "Media", "Capital", "Networks", "Materials", "Software", "Retail", "Biotech", "Motors"]
FORMS = ["Inc", "LLC", "GmbH", "Ltd", "SA", "BV", "Corp"]
INDUSTRIES = ["Manufacturing", "Retail", "Healthcare", "Finance", "Technology", "Energy", "Media", "Logistics"]
COUNTRIES = ["US", "US", "US", "DE", "FR", "GB", "NL", "ES", "CA", "JP"]
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kara", "Liam", "Mia",
         "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Xena", "Yusuf", "Zoe"]
LAST = ["Silva", "Müller", "Smith", "Kowalski", "Dubois", "Rossi", "Tanaka", "García", "Nguyen", "Okafor", "Jensen",
        "Novak", "Haddad", "Kim", "Olsen", "Moreau", "Fischer", "Patel", "Lopez", "Brown"]
TITLES = ["CTO", "VP Engineering", "Head of Procurement", "IT Manager", "CFO", "Operations Lead", "Developer",
          "Data Engineer", "Office Manager", "CEO"]
STAGES = [("Prospecting", 10), ("Qualification", 20), ("Needs Analysis", 30), ("Proposal", 50),
          ("Negotiation", 75), ("Closed Won", 100), ("Closed Lost", 0)]
TICKET_SUBJECTS = ["Cannot log in", "Export fails with timeout", "Invoice shows wrong VAT", "API returns 500",
                   "SSO setup help", "Feature request: dark mode", "Data sync delayed", "Password reset loop",
                   "Webhook not firing", "Slow dashboard", "User provisioning error", "Billing address change"]
COMMENTS = ["Thanks for reaching out, we are looking into it.", "Could you send us the request id?",
            "We reproduced the issue and escalated it to engineering.", "A fix has been deployed, please retry.",
            "Still happening on our side.", "Works now, thank you!", "Attached the logs you asked for."]
FREE_MAIL = ["gmail.com", "yahoo.com", "outlook.com"]


def sf_id(prefix: str, n: int) -> str:
    """An 18-character Salesforce-looking id, deterministic in (prefix, n)."""
    h = hashlib.sha256(f"{prefix}:{n}".encode()).digest()
    body = "".join(B62[b % 62] for b in h[:12])
    return (prefix + body)[:15] + "AAA"


def sf_dt(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def zd_dt(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else ("true" if r.get(k) is True else "false" if r.get(k) is False
                                                      else r.get(k))) for k in header})
    path.write_text(buf.getvalue(), encoding="utf-8")


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=1, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")


def generate(out_dir: Path | str, *, seed: int = 42, accounts: int = 200,
             as_of: dt.date | None = None) -> dict:
    """Write the demo export files under out_dir; return the manifest."""
    out = Path(out_dir)
    as_of = as_of or dt.date.today()
    rng = random.Random(seed)
    now = dt.datetime.combine(as_of, dt.time(9, 0), tzinfo=dt.UTC)

    def past(days_max: float, days_min: float = 0.0) -> dt.datetime:
        return now - dt.timedelta(seconds=int(rng.uniform(days_min, days_max) * 86400))

    for d in ("salesforce", "zendesk", "clm", "stripe"):
        (out / d).mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------ salesforce users (owners)
    n_users = max(4, accounts // 16)
    users = []
    for i in range(n_users):
        fn, ln = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        users.append({"Id": sf_id("005", i), "Name": f"{fn} {ln}",
                      "Email": f"{fn.lower()}.{ln.lower()}@crm360-demo.example".replace("é", "e").replace("ü", "u"),
                      "IsActive": True})
    write_csv(out / "salesforce" / "User.csv", ["Id", "Name", "Email", "IsActive"], users)

    # ------------------------------------------------------------ accounts
    names: set[str] = set()
    accts = []
    for i in range(accounts):
        while True:
            name = f"{rng.choice(PREFIXES)} {rng.choice(SUFFIXES)}"
            if name not in names:
                break
            name = f"{name} {rng.choice(FORMS)}"
            if name not in names:
                break
        names.add(name)
        domain = name.lower().replace(" ", "") .replace(".", "") + rng.choice([".com", ".io", ".net", ".de"])
        accts.append({"Id": sf_id("001", i), "Name": name, "Website": f"https://www.{domain}", "_domain": domain,
                      "Industry": rng.choice(INDUSTRIES), "BillingCountry": rng.choice(COUNTRIES),
                      "AnnualRevenue": rng.randrange(1, 500) * 100000, "OwnerId": rng.choice(users)["Id"],
                      "LastModifiedDate": sf_dt(past(400, 30)), "IsDeleted": False})
    # planted duplicates: "Acme Corp" / "ACME Corp." share acme.com
    dup_a = {"Id": sf_id("001", 10_001), "Name": "Acme Corp", "Website": "https://www.acme.com", "_domain": "acme.com",
             "Industry": "Manufacturing", "BillingCountry": "US", "AnnualRevenue": 25_000_000,
             "OwnerId": users[0]["Id"], "LastModifiedDate": sf_dt(past(300, 100)), "IsDeleted": False}
    dup_b = dict(dup_a, Id=sf_id("001", 10_002), Name="ACME Corp.", Website="http://acme.com",
                 LastModifiedDate=sf_dt(past(20, 5)), OwnerId=users[1]["Id"])
    accts[0:0] = [dup_a]
    accts.append(dup_b)
    write_csv(out / "salesforce" / "Account.csv",
              ["Id", "Name", "Website", "Industry", "BillingCountry", "AnnualRevenue", "OwnerId",
               "LastModifiedDate", "IsDeleted"], accts)
    real_accts = accts[:-1]   # dup_b gets no children: it is the stray duplicate

    # ------------------------------------------------------------ contacts
    contacts = []
    per_acct: dict[str, list[dict]] = {}
    for i in range(accounts * 10):
        a = real_accts[i % len(real_accts)] if i < len(real_accts) else rng.choice(real_accts)
        fn, ln = rng.choice(FIRST), rng.choice(LAST)
        local = f"{fn}.{ln}".lower().replace("é", "e").replace("ü", "u").replace("í", "i")
        email = f"{local}{i}@{a['_domain']}"
        if i % 97 == 5:                      # the same person typed with another case elsewhere
            email = email.upper()
        c = {"Id": sf_id("003", i), "AccountId": a["Id"], "FirstName": fn, "LastName": ln, "Email": email,
             "Phone": f"+1 555 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
             "Title": rng.choice(TITLES), "OwnerId": a["OwnerId"], "LastModifiedDate": sf_dt(past(300, 10)),
             "IsDeleted": False}
        contacts.append(c)
        per_acct.setdefault(a["Id"], []).append(c)
    write_csv(out / "salesforce" / "Contact.csv",
              ["Id", "AccountId", "FirstName", "LastName", "Email", "Phone", "Title", "OwnerId",
               "LastModifiedDate", "IsDeleted"], contacts)

    # ------------------------------------------------------------ opportunities (REST JSON)
    opps = []
    for i in range(accounts * 2):
        a = rng.choice(real_accts)
        stage, prob = rng.choice(STAGES)
        closed = stage.startswith("Closed")
        close = as_of + dt.timedelta(days=rng.randrange(-120, -1) if closed else rng.randrange(5, 180))
        oid = sf_id("006", i)
        opps.append({"attributes": {"type": "Opportunity", "url": f"/services/data/v59.0/sobjects/Opportunity/{oid}"},
                     "Id": oid, "AccountId": a["Id"], "Name": f"{a['Name']} — {rng.choice(['Renewal', 'Expansion', 'New seats', 'Platform'])} {i}",
                     "StageName": stage, "Amount": float(rng.randrange(5, 300) * 1000), "CloseDate": close.isoformat(),
                     "Probability": float(prob), "IsClosed": closed, "IsWon": stage == "Closed Won",
                     "OwnerId": a["OwnerId"], "LastModifiedDate": sf_dt(past(60, 0.2)), "IsDeleted": False,
                     # the primary contact (Salesforce derives ContactId from the primary contact role);
                     # every fifth deal has none (picked without the generator: the rest stays as it was)
                     "ContactId": (per_acct[a["Id"]][i % len(per_acct[a["Id"]])]["Id"]
                                   if i % 5 and per_acct.get(a["Id"]) else None)})
    # the showcase account: two open deals closing soon
    for k, (name, stage, prob, amount, days) in enumerate([("Acme Corp — Platform renewal 2027", "Negotiation", 75, 240000.0, 40),
                                                            ("Acme Corp — EU expansion", "Proposal", 50, 95000.0, 75)]):
        oid = sf_id("006", 90_000 + k)
        opps.append({"attributes": {"type": "Opportunity", "url": f"/services/data/v59.0/sobjects/Opportunity/{oid}"},
                     "Id": oid, "AccountId": dup_a["Id"], "Name": name, "StageName": stage, "Amount": amount,
                     "CloseDate": (as_of + dt.timedelta(days=days)).isoformat(), "Probability": float(prob),
                     "IsClosed": False, "IsWon": False, "OwnerId": dup_a["OwnerId"],
                     "LastModifiedDate": sf_dt(past(5, 0.5)), "IsDeleted": False,
                     "ContactId": per_acct[dup_a["Id"]][k % len(per_acct[dup_a["Id"]])]["Id"]})
    write_json(out / "salesforce" / "Opportunity.json", {"totalSize": len(opps), "done": True, "records": opps})
    opps_by_acct: dict[str, list[dict]] = {}
    for o in opps:
        opps_by_acct.setdefault(o["AccountId"], []).append(o)

    # ------------------------------------------------------------ meetings (Event) and calls/emails (Task)
    events, tasks = [], []
    for i in range(accounts * 3):
        a = rng.choice(real_accts)
        who = rng.choice(per_acct.get(a["Id"]) or [None])
        what = rng.choice(opps_by_acct.get(a["Id"]) or [a])
        start = past(120, -14)               # some meetings are scheduled in the next two weeks
        events.append({"Id": sf_id("00U", i), "WhatId": what["Id"], "WhoId": who["Id"] if who else None,
                       "Subject": rng.choice(["QBR", "Kick-off", "Demo", "Pricing review", "Roadmap session"]),
                       "Description": "Discussed next steps.", "StartDateTime": sf_dt(start),
                       "EndDateTime": sf_dt(start + dt.timedelta(minutes=rng.choice([30, 45, 60]))),
                       "OwnerId": a["OwnerId"], "LastModifiedDate": sf_dt(min(start, now))})
    for i in range(int(accounts * 7.5)):
        a = rng.choice(real_accts)
        who = rng.choice(per_acct.get(a["Id"]) or [None])
        sub = rng.choice(["Email", "Email", "Call", "Call", "Task"])
        day = as_of - dt.timedelta(days=rng.randrange(0, 180))
        tasks.append({"Id": sf_id("00T", i), "WhatId": a["Id"], "WhoId": who["Id"] if who else None,
                      "Subject": {"Email": "Email: follow-up", "Call": "Call: check-in", "Task": "Prepare proposal"}[sub],
                      "Description": "", "ActivityDate": day.isoformat(), "Status": "Completed", "TaskSubtype": sub,
                      "OwnerId": a["OwnerId"], "LastModifiedDate": sf_dt(dt.datetime.combine(day, dt.time(17), tzinfo=dt.UTC))})
    # the showcase account: a pricing review last week, a QBR yesterday, a renewal call next week
    acme_contacts = per_acct.get(dup_a["Id"]) or [None]
    for k, (subject, days) in enumerate([("Pricing review", 6), ("QBR", 1), ("Renewal call", -5)]):
        start = now - dt.timedelta(days=days)
        events.append({"Id": sf_id("00U", 90_000 + k), "WhatId": opps[-2]["Id"],
                       "WhoId": acme_contacts[k % len(acme_contacts)]["Id"] if acme_contacts[0] else None,
                       "Subject": subject, "Description": "Renewal 2027: scope, pricing, the open outage.",
                       "StartDateTime": sf_dt(start), "EndDateTime": sf_dt(start + dt.timedelta(minutes=45)),
                       "OwnerId": dup_a["OwnerId"], "LastModifiedDate": sf_dt(min(start, now))})
    write_csv(out / "salesforce" / "Event.csv",
              ["Id", "WhatId", "WhoId", "Subject", "Description", "StartDateTime", "EndDateTime", "OwnerId",
               "LastModifiedDate"], events)
    write_csv(out / "salesforce" / "Task.csv",
              ["Id", "WhatId", "WhoId", "Subject", "Description", "ActivityDate", "Status", "TaskSubtype", "OwnerId",
               "LastModifiedDate"], tasks)

    # ------------------------------------------------------------ zendesk organizations and users
    orgs = []
    zorg_by_acct: dict[str, int] = {}
    for i, a in enumerate(real_accts):
        if i % 10 == 9:                                  # 10 % of accounts never set up in Zendesk
            continue
        zid = 360000000000 + i
        # most carry the CRM id; some only a matching domain (matched by domain)
        ext = a["Id"] if i % 7 or a is dup_a else None   # acme.com is shared by the planted duplicate
        orgs.append({"url": f"https://demo.zendesk.com/api/v2/organizations/{zid}.json", "id": zid, "name": a["Name"],
                     "domain_names": [a["_domain"]], "external_id": ext, "tags": [],
                     "created_at": zd_dt(past(700, 400)), "updated_at": zd_dt(past(300, 30))})
        zorg_by_acct[a["Id"]] = zid
    drift_a, drift_b = real_accts[3], real_accts[4]      # identity drift: CRM id of A, domain of B
    drift = {"url": "https://demo.zendesk.com/api/v2/organizations/369999999001.json", "id": 369999999001,
             "name": f"{drift_b['Name']} (EMEA)", "domain_names": [drift_b["_domain"]], "external_id": drift_a["Id"],
             "tags": ["migrated"], "created_at": zd_dt(past(200, 100)), "updated_at": zd_dt(past(10, 1))}
    orphan_org = {"url": "https://demo.zendesk.com/api/v2/organizations/369999999002.json", "id": 369999999002,
                  "name": "Freelancer Support Desk", "domain_names": ["gmail.com"], "external_id": None, "tags": [],
                  "created_at": zd_dt(past(100, 50)), "updated_at": zd_dt(past(9, 1))}
    unknown_org = {"url": "https://demo.zendesk.com/api/v2/organizations/369999999003.json", "id": 369999999003,
                   "name": "Northwind Traders", "domain_names": ["northwind-traders.example"], "external_id": None,
                   "tags": [], "created_at": zd_dt(past(100, 50)), "updated_at": zd_dt(past(9, 1))}
    orgs += [drift, orphan_org, unknown_org]
    write_json(out / "zendesk" / "organizations.json",
               {"organizations": orgs, "next_page": None, "previous_page": None, "count": len(orgs)})

    zusers = []
    requesters: dict[int, list[int]] = {}
    for i, c in enumerate(contacts[: accounts * 7]):
        zid_org = zorg_by_acct.get(c["AccountId"])
        if zid_org is None:
            continue
        uid = 370000000000 + i
        zusers.append({"id": uid, "name": f"{c['FirstName']} {c['LastName']}", "email": c["Email"].lower(),
                       "organization_id": zid_org, "role": "end-user",
                       "created_at": zd_dt(past(500, 200)), "updated_at": zd_dt(past(100, 5))})
        requesters.setdefault(zid_org, []).append(uid)
    for j, (org, dom) in enumerate([(drift, drift_b["_domain"]), (orphan_org, rng.choice(FREE_MAIL)),
                                    (unknown_org, "northwind-traders.example")]):
        uid = 379999999000 + j
        zusers.append({"id": uid, "name": f"{FIRST[j]} {LAST[j]}", "email": f"{FIRST[j].lower()}.x{j}@{dom}",
                       "organization_id": org["id"], "role": "end-user",
                       "created_at": zd_dt(past(90, 30)), "updated_at": zd_dt(past(20, 1))})
        requesters[org["id"]] = [uid]
    agents = [{"id": 380000000000 + k, "name": f"Agent {k}", "email": f"agent{k}@support.crm360-demo.example",
               "organization_id": None, "role": "agent", "created_at": zd_dt(past(900, 800)),
               "updated_at": zd_dt(past(100, 50))} for k in range(8)]
    zusers += agents
    write_json(out / "zendesk" / "users.json", {"users": zusers, "next_page": None, "previous_page": None,
                                                "count": len(zusers)})

    # ------------------------------------------------------------ tickets and comments
    org_ids = [o["id"] for o in orgs]
    weights = [1.0] * (len(org_ids) - 3) + [8.0, 10.0, 6.0]   # planted orgs get a visible share
    tickets, comments = [], []
    for i in range(accounts * 25):
        org = rng.choices(org_ids, weights)[0]
        created = past(365, 0.05)
        age = (now - created).days
        status = rng.choices(["new", "open", "pending", "hold", "solved", "closed"],
                             [1, 4, 2, 1, 6, 10] if age > 30 else [3, 6, 3, 1, 3, 0])[0]
        tid = 100000 + i
        upd = min(now, created + dt.timedelta(hours=rng.randrange(1, 24 * 20)))
        tickets.append({"url": f"https://demo.zendesk.com/api/v2/tickets/{tid}.json", "id": tid,
                        "subject": rng.choice(TICKET_SUBJECTS), "description": "Customer reported an issue.",
                        "status": status, "priority": rng.choices(["low", "normal", "high", "urgent"], [3, 8, 3, 1])[0],
                        "type": rng.choice(["question", "incident", "problem", "task"]),
                        "requester_id": rng.choice(requesters.get(org) or [agents[0]["id"]]),
                        "organization_id": org, "assignee_id": rng.choice(agents)["id"],
                        "tags": sorted(rng.sample(["billing", "api", "sso", "export", "ui", "urgent"], 2)),
                        "created_at": zd_dt(created), "updated_at": zd_dt(upd)})
        for k in range(rng.choice([1, 2, 2, 3])):
            comments.append({"id": 900000000 + i * 4 + k, "ticket_id": tid,
                             "author_id": tickets[-1]["requester_id"] if k % 2 == 0 else tickets[-1]["assignee_id"],
                             "body": rng.choice(COMMENTS), "public": True,
                             "created_at": zd_dt(min(now, created + dt.timedelta(hours=6 * (k + 1))))})
    # the showcase account (Acme Corp): open and urgent tickets, recent ones
    acme_org = zorg_by_acct[dup_a["Id"]]
    acme_people = requesters.get(acme_org) or [agents[0]["id"]]
    for k, (subject, status, priority, days) in enumerate([
            ("Production outage: API returns 500", "open", "urgent", 1.5),
            ("SSO login fails for EU users", "open", "high", 4),
            ("Export fails with timeout", "pending", "high", 9),
            ("Invoice shows wrong VAT", "new", "normal", 0.4),
            ("Feature request: audit log export", "hold", "low", 21)]):
        tid = 190000 + k
        created = now - dt.timedelta(days=days)
        tickets.append({"url": f"https://demo.zendesk.com/api/v2/tickets/{tid}.json", "id": tid, "subject": subject,
                        "description": "Reported by the customer's IT team.", "status": status, "priority": priority,
                        "type": "incident" if priority in ("urgent", "high") else "question",
                        "requester_id": acme_people[k % len(acme_people)], "organization_id": acme_org,
                        "assignee_id": agents[k % len(agents)]["id"], "tags": ["showcase"],
                        "created_at": zd_dt(created), "updated_at": zd_dt(min(now, created + dt.timedelta(hours=3)))})
        comments.append({"id": 990000000 + k, "ticket_id": tid, "author_id": tickets[-1]["requester_id"],
                         "body": "We need this fixed before the renewal call.", "public": True,
                         "created_at": zd_dt(min(now, created + dt.timedelta(hours=1)))})
    half = len(tickets) // 2
    write_json(out / "zendesk" / "tickets-1.json",
               {"tickets": tickets[:half], "after_cursor": "MTcwMDAwMDAwMC4w", "after_url":
                "https://demo.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor=MTcwMDAwMDAwMC4w",
                "end_of_stream": False})
    write_json(out / "zendesk" / "tickets-2.json",
               {"tickets": tickets[half:], "after_cursor": "MTcwMDAwMDAwMS4w", "after_url": None, "end_of_stream": True})
    write_json(out / "zendesk" / "ticket_comments.json",
               {"comments": comments, "next_page": None, "previous_page": None, "count": len(comments)})
    # planted failed run: a page cut off mid-transfer (cannot be parsed at all)
    broken = json.dumps({"comments": comments[:3], "next_page": None, "count": 3}, indent=1)
    (out / "zendesk" / "ticket_comments-broken.json").write_text(broken[: len(broken) // 2], encoding="utf-8")

    # ------------------------------------------------------------ CLM contracts
    contracts = []
    for i, a in enumerate(real_accts):
        for k in range(rng.choice([0, 1, 1, 2, 2, 3])):
            eff = as_of - dt.timedelta(days=rng.randrange(-60, 900))
            end = eff + dt.timedelta(days=365 * rng.choice([1, 1, 2, 3]) - 1)
            status = ("draft" if eff > as_of and k == 2 else "terminated" if rng.random() < 0.04
                      else "active" if end >= as_of else rng.choice(["expired", "expired", "active"]))
            contracts.append({"contract_id": f"CLM-{seed % 1000:03d}-{i:04d}-{k}", "title": f"{a['Name']} MSA {eff.year}",
                              "account_id": a["Id"] if (i + k) % 13 or a is dup_a else "", "counterparty_name": a["Name"],
                              "counterparty_domain": a["_domain"], "status": status,
                              "effective_date": eff.isoformat(), "end_date": end.isoformat(),
                              "annual_value": f"{rng.randrange(10, 400) * 500:.2f}", "currency": "USD",
                              "auto_renew": rng.random() < 0.6, "updated_at": zd_dt(past(60, 3))})
    # the showcase account: an active platform contract renewing in 45 days, an active support plan
    for k, (title, eff_days, years, value) in enumerate([("Acme Corp Platform MSA", 320, 1, "240000.00"),
                                                         ("Acme Corp Premium Support", 200, 2, "60000.00")]):
        eff = as_of - dt.timedelta(days=eff_days)
        contracts.append({"contract_id": f"CLM-{seed % 1000:03d}-ACME-{k}", "title": title, "account_id": dup_a["Id"],
                          "counterparty_name": dup_a["Name"], "counterparty_domain": dup_a["_domain"],
                          "status": "active", "effective_date": eff.isoformat(),
                          "end_date": (eff + dt.timedelta(days=365 * years - 1)).isoformat(), "annual_value": value,
                          "currency": "USD", "auto_renew": k == 1, "updated_at": zd_dt(past(30, 3))})
    contracts.append({"contract_id": f"CLM-{seed % 1000:03d}-9999-0", "title": "Consulting agreement (unknown party)",
                      "account_id": "", "counterparty_name": "J. Doe Consulting", "counterparty_domain": "hotmail.com",
                      "status": "active", "effective_date": (as_of - dt.timedelta(days=40)).isoformat(),
                      "end_date": (as_of + dt.timedelta(days=325)).isoformat(), "annual_value": "12000.00",
                      "currency": "USD", "auto_renew": False, "updated_at": zd_dt(past(30, 4))})
    write_csv(out / "clm" / "contracts.csv",
              ["contract_id", "title", "account_id", "counterparty_name", "counterparty_domain", "status",
               "effective_date", "end_date", "annual_value", "currency", "auto_renew", "updated_at"], contracts)

    # ------------------------------------------------------------ Stripe customers and invoices
    customers = []
    cust_by_acct: dict[str, dict] = {}
    for i, a in enumerate(real_accts):
        if i % 11 == 10:
            continue
        cid = "cus_" + sf_id("cus", i)[3:17]
        billing = (per_acct.get(a["Id"]) or [{"Email": f"billing@{a['_domain']}"}])[0]["Email"].lower()
        meta = {"salesforce_account_id": a["Id"]} if i % 6 or a is dup_a else {}   # some only match by email domain
        cust = {"id": cid, "object": "customer", "email": billing, "name": a["Name"], "metadata": meta,
                "created": int(past(800, 300).timestamp()), "currency": "usd", "livemode": False}
        customers.append(cust)
        cust_by_acct[a["Id"]] = cust
    orphan_cust = {"id": "cus_OrphanFreeMail01", "object": "customer", "email": "jdoe1984@gmail.com",
                   "name": "J. Doe", "metadata": {}, "created": int(past(200, 100).timestamp()), "currency": "usd",
                   "livemode": False}
    customers.append(orphan_cust)
    write_json(out / "stripe" / "customers.json",
               {"object": "list", "url": "/v1/customers", "has_more": False, "data": customers})
    invoices = []
    n_inv = 0
    for cust in customers:
        for _k in range(rng.choice([4, 5, 6, 7, 8]) if cust is not orphan_cust else 3):
            n_inv += 1
            created = past(360, 1)
            due = created + dt.timedelta(days=30)
            amount = rng.randrange(5, 200) * 10000
            if due.date() >= as_of:
                status = rng.choices(["open", "draft"], [9, 1])[0]
            else:
                status = rng.choices(["paid", "open", "uncollectible", "void"], [85, 9, 2, 4])[0]
            paid = amount if status == "paid" else 0
            invoices.append({"id": "in_" + sf_id("in", n_inv)[2:16], "object": "invoice",
                             "number": f"{cust['id'][4:12].upper()}-{n_inv:04d}", "customer": cust["id"],
                             "customer_email": cust["email"], "status": status, "amount_due": amount,
                             "amount_paid": paid, "amount_remaining": 0 if status in ("paid", "void") else amount - paid,
                             "currency": "usd", "created": int(created.timestamp()), "due_date": int(due.timestamp()),
                             "metadata": {}, "livemode": False})
    # the showcase account: one invoice overdue by 12 days, one open and not yet due
    acme_cust = cust_by_acct[dup_a["Id"]]
    for k, (due_days, amount) in enumerate([(-12, 6_000_000), (18, 2_000_000)]):
        n_inv += 1
        due = now + dt.timedelta(days=due_days)
        invoices.append({"id": "in_" + sf_id("in", n_inv)[2:16], "object": "invoice",
                         "number": f"ACME-{as_of.year}-{k + 1:03d}", "customer": acme_cust["id"],
                         "customer_email": acme_cust["email"], "status": "open", "amount_due": amount,
                         "amount_paid": 0, "amount_remaining": amount, "currency": "usd",
                         "created": int((due - dt.timedelta(days=30)).timestamp()), "due_date": int(due.timestamp()),
                         "metadata": {}, "livemode": False})
    (out / "stripe" / "invoices.ndjson").write_text(
        "".join(json.dumps(x, separators=(",", ":")) + "\n" for x in invoices), encoding="utf-8")

    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.name != "manifest.json")
    manifest = {
        "format_version": FORMAT_VERSION, "seed": seed, "accounts": accounts, "as_of": as_of.isoformat(),
        "counts": {"salesforce/User": len(users), "salesforce/Account": len(accts), "salesforce/Contact": len(contacts),
                   "salesforce/Opportunity": len(opps), "salesforce/Event": len(events), "salesforce/Task": len(tasks),
                   "zendesk/organizations": len(orgs), "zendesk/users": len(zusers), "zendesk/tickets": len(tickets),
                   "zendesk/ticket_comments": len(comments), "clm/contracts": len(contracts),
                   "stripe/customers": len(customers), "stripe/invoices": len(invoices)},
        "planted": {
            "duplicate_accounts": [{"ids": [dup_a["Id"], dup_b["Id"]], "names": [dup_a["Name"], dup_b["Name"]],
                                    "domain": "acme.com"}],
            "identity_drift": {"zendesk_organization": drift["id"], "external_id_points_to": drift_a["Id"],
                               "domain_matches": drift_b["Id"]},
            "orphans": {"zendesk_organizations": [orphan_org["id"], unknown_org["id"]],
                        "stripe_customers": [orphan_cust["id"]], "clm_contracts": [contracts[-1]["contract_id"]]},
            "failed_run": "zendesk/ticket_comments-broken.json (truncated JSON)",
            "stale_source": "clm/contracts: last successful run set 3 days back by `crm360 demo` (daily schedule)",
            "showcase_account": dup_a["Id"],
            "reps": [{"name": u["Name"], "email": u["Email"], "owns_showcase": u["Id"] == dup_a["OwnerId"]}
                     for u in users[:2]],
        },
        "files": files,
    }
    write_json(out / "manifest.json", manifest)
    return manifest


# the load order of the connector API: (source, object, files)
INGEST_PLAN = [
    ("salesforce", "User", ["salesforce/User.csv"]),
    ("salesforce", "Account", ["salesforce/Account.csv"]),
    ("salesforce", "Contact", ["salesforce/Contact.csv"]),
    ("salesforce", "Opportunity", ["salesforce/Opportunity.json"]),
    ("salesforce", "Event", ["salesforce/Event.csv"]),
    ("salesforce", "Task", ["salesforce/Task.csv"]),
    ("zendesk", "organizations", ["zendesk/organizations.json"]),
    ("zendesk", "users", ["zendesk/users.json"]),
    ("zendesk", "tickets", ["zendesk/tickets-1.json", "zendesk/tickets-2.json"]),
    ("zendesk", "ticket_comments", ["zendesk/ticket_comments.json"]),
    ("clm", "contracts", ["clm/contracts.csv"]),
    ("stripe", "customers", ["stripe/customers.json"]),
    ("stripe", "invoices", ["stripe/invoices.ndjson"]),
]
BROKEN = ("zendesk", "ticket_comments", ["zendesk/ticket_comments-broken.json"])
SCHEDULES = [(s, o, "1 day" if s in ("clm", "stripe") else "1 hour") for s, o, _ in INGEST_PLAN]


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="Write the crm360 demo world as native export files.")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--accounts", type=int, default=200)
    p.add_argument("--as-of", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    p.add_argument("--out", type=Path, default=None, help="default: ./.crm360/demo/<seed>")
    a = p.parse_args(argv)
    out = a.out or Path(".crm360") / "demo" / str(a.seed)
    m = generate(out, seed=a.seed, accounts=a.accounts, as_of=a.as_of)
    print(json.dumps({"out": str(out), "counts": m["counts"]}, indent=1))
    return 0
