"""A realistic account list with planted duplicates and near-miss decoys, for judging
`crm.duplicate_candidates` (precision and recall) and timing it at scale.

`generate(accounts, seed=...)` returns a :class:`DupWorld`: Salesforce-style Account rows
(``Id``, ``Name``, ``Website``, ``OwnerId``, ``LastModifiedDate``) and the truth — which rows
are the same company (``entity``), which pairs were planted as duplicates and which were
planted as decoys. Deterministic in (accounts, seed).

What the list looks like (the independent dataset of issue 12, and the demo's names):

* company names from a small vocabulary, so that many share their first word ("Contoso
  Labs", "Contoso Media", "Contoso Holdings") — and numbered families ("Pied Piper 101
  Holdings", "Pied Piper 71 Holdings", "Contoso 138 Labs", "Contoso 132 Labs");
* about a third carry a legal form, written in many ways ("Inc", "Inc.", ", Inc.", "S.A.");
* websites derived from the name with varying TLDs, schemes and www.; about 12 % have none.

Planted duplicates (a second account of the same company; the truth says so):

* ``same_domain_mangled`` — same website, the name mangled (abbreviated, a region or a
  department added, letters swapped, a word dropped);
* ``same_name_no_domain`` — the exact name, no website;
* ``legal_form`` — another legal form or none, one website missing or both equal;
* ``case_punct_accent`` — upper case, hyphens or dots, accents added, one website missing;
* ``typo_no_domain`` — one letter wrong, missing, doubled or two letters swapped in a long
  name, no website.

Near-miss decoys (different companies; listing them is a false positive):

* ``numbered_variant`` — the next number in a family ("Contoso 138 Labs" / "Contoso 139
  Labs"), often without a website;
* ``shared_first_word`` — same first word, another second word, often without a website;
* ``group_word`` — "X Holdings" / "X Labs" / "X Group": companies of one group;
* ``legal_form_sibling`` — "Helix Robotics" (helixrobotics.de) / "Helix Robotics SA"
  (helixroboticssa.com): the same name apart from the legal form, but two different,
  present websites;
* ``look_alike`` — a similar-looking name ("Summit Media" / "Summit Medical"), one without
  a website.

The rule the view implements assumes — and this generator keeps — that two different
companies do not have the same normalized name unless both have (different) websites: a
second account with the same normalized name and no conflicting website is reported, by
design, as a duplicate.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from pathlib import Path

from crm360.demo_data import sf_dt, sf_id

STEMS = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Tyrell",
         "Cyberdyne", "Aperture", "Wonka", "Gringotts", "Oscorp", "Massive", "Dunder", "Pied Piper", "Blue Sky",
         "Nimbus", "Zephyr", "Quantum", "Helix", "Vertex", "Summit", "Atlas", "Nova", "Orion", "Polar", "Crimson",
         "Contoso", "Fabrikam", "Northwind", "Tailspin", "Litware", "Proseware", "Woodgrove", "Adatum", "Lucerne",
         "Alpine", "Coho", "Wingtip", "Southridge", "Relecloud", "Bellows", "Humongous", "Trey", "Wide World",
         "Fourth Coffee", "Margie's", "Société Générale", "Müller", "Ørsted", "Nordlicht", "Citrine", "Lumen",
         "Granite", "Beacon", "Harbor", "Keystone"]
WORDS = ["Dynamics", "Systems", "Labs", "Industries", "Logistics", "Analytics", "Foods", "Health", "Energy",
         "Robotics", "Media", "Capital", "Networks", "Materials", "Software", "Retail", "Biotech", "Motors",
         "Holdings", "Group", "Partners", "Solutions", "Technologies", "Consulting", "Ventures", "Pharma",
         "Aerospace", "Insurance", "Studios", "Telecom", "Security", "Cloud", "Devices", "Textiles", "Chemicals",
         "Mining", "Shipping", "Travel", "Hotels", "Realty", "Clinics", "Education", "Payments", "Genomics"]
# second words that look alike but name different businesses
LOOK_ALIKES = [("Media", "Medical"), ("Foods", "Goods"), ("Energy", "Synergy"), ("Capital", "Capitol"),
               ("Retail", "Rental"), ("Motors", "Rotors"), ("Health", "Wealth"), ("Travel", "Gravel"),
               ("Mining", "Dining"), ("Cloud", "Crowd"), ("Devices", "Services"), ("Hotels", "Motels")]
GROUP_WORDS = ["Holdings", "Labs", "Group", "International", "Ventures"]
FORMS = ["Inc", "Inc.", ", Inc.", "LLC", "L.L.C.", "GmbH", "Ltd", "Ltd.", "Limited", "SA", "S.A.", "BV", "B.V.",
         "Corp", "Corp.", "Corporation", "PLC", "AG", "Co.", "Company", "SAS", "Pty Ltd", "A/S"]
TLDS = [".com", ".com", ".com", ".io", ".net", ".de", ".co.uk", ".fr", ".nl"]
REGIONS = ["(EMEA)", "(APAC)", "- Billing", "- HQ", "Europe", "North America", "Intl"]
ACCENTS = {"e": "é", "a": "á", "o": "ö", "u": "ü", "i": "í", "c": "ç", "n": "ñ"}

PLANTED_KINDS = ("same_domain_mangled", "same_name_no_domain", "legal_form", "case_punct_accent", "typo_no_domain")
DECOY_KINDS = ("numbered_variant", "shared_first_word", "group_word", "legal_form_sibling", "look_alike")


@dataclass
class DupWorld:
    accounts: list[dict] = field(default_factory=list)    # Salesforce Account rows (+ "_entity")
    planted: list[tuple[str, str, str]] = field(default_factory=list)   # (Id, Id, kind): same company
    decoys: list[tuple[str, str, str]] = field(default_factory=list)    # (Id, Id, kind): different companies
    owners: list[dict] = field(default_factory=list)      # Salesforce User rows

    def entity_of(self) -> dict[str, int]:
        return {a["Id"]: a["_entity"] for a in self.accounts}

    def true_pairs(self) -> set[frozenset[str]]:
        """Every pair of accounts of one company (planted or not)."""
        by: dict[int, list[str]] = {}
        for a in self.accounts:
            by.setdefault(a["_entity"], []).append(a["Id"])
        return {frozenset((x, y)) for ids in by.values() for i, x in enumerate(ids) for y in ids[i + 1:]}


def _slug(name: str) -> str:
    s = name.lower()
    for k, v in {"é": "e", "ü": "u", "ø": "o", "ö": "o", "'": "", "ß": "ss"}.items():
        s = s.replace(k, v)
    return "".join(ch for ch in s if ch.isalnum())


def _website(rng: random.Random, domain: str) -> str:
    return rng.choice(["https://www.", "http://www.", "https://", "www.", ""]) + domain + rng.choice(["", "", "/", "/en"])


def _with_form(rng: random.Random, base: str) -> str:
    form = rng.choice(FORMS)
    return f"{base}{form}" if form.startswith(",") else f"{base} {form}"


def _typo(rng: random.Random, name: str) -> str:
    """One edit inside the longest word (at least 6 letters): swap, drop, double or replace."""
    words = name.split(" ")
    i = max(range(len(words)), key=lambda k: len(words[k]) if words[k].isalpha() else 0)
    w = words[i]
    p = rng.randrange(1, len(w) - 2)
    op = rng.choice(["swap", "drop", "double", "replace"])
    if op == "swap":
        w = w[:p] + w[p + 1] + w[p] + w[p + 2:]
    elif op == "drop":
        w = w[:p] + w[p + 1:]
    elif op == "double":
        w = w[:p] + w[p] + w[p:]
    else:
        w = w[:p] + rng.choice([c for c in "aeiourst" if c != w[p]]) + w[p + 1:]
    words[i] = w
    return " ".join(words)


def _mangle(rng: random.Random, name: str, stem: str, rest: str) -> str:
    how = rng.choice(["region", "initials", "typo", "drop_word", "upper_region"])
    if how == "region":
        return f"{name} {rng.choice(REGIONS)}"
    if how == "initials":
        return "".join(w[0] for w in stem.split()).upper() + (f" {rest}" if rest else " Inc")
    if how == "typo" and max(len(w) for w in name.split()) >= 7:
        return _typo(rng, name)
    if how == "drop_word" and rest:
        return stem
    return f"{name.upper()} {rng.choice(REGIONS)}"


def _case_punct_accent(rng: random.Random, name: str) -> str:
    how = rng.choice(["upper", "hyphen", "accent", "dots"])
    if how == "upper":
        return name.upper()
    if how == "hyphen" and " " in name:
        return name.replace(" ", "-", 1)
    if how == "accent":
        for plain, acc in ACCENTS.items():
            if plain in name:
                return name.replace(plain, acc, 1)
    return name.replace(" ", ". ", 1) + "." if " " in name else name.lower()


def generate(accounts: int = 2000, *, seed: int = 12) -> DupWorld:
    """About `accounts` Salesforce accounts: ~80 % ordinary, ~10 % planted duplicates, ~10 %
    decoys (each decoy is a new company whose name is a near miss of an existing one)."""
    rng = random.Random(seed)
    w = DupWorld()
    now = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
    w.owners = [{"Id": sf_id("005", 900 + i), "Name": f"Owner {i}", "Email": f"owner{i}@crm360-dups.example",
                 "IsActive": True} for i in range(8)]
    taken_keys: set[tuple] = set()        # (stem, number, word, word2) of existing companies
    taken_domains: set[str] = set()
    bases: list[dict] = []                 # the companies, for plants and decoys to copy from
    n_entities = 0

    def add(name: str, website: str | None, entity: int) -> dict:
        row = {"Id": sf_id("001", 500_000 + len(w.accounts)), "Name": name, "Website": website or "",
               "OwnerId": rng.choice(w.owners)["Id"],
               "LastModifiedDate": sf_dt(now - dt.timedelta(minutes=rng.randrange(1, 500_000))),
               "IsDeleted": False, "_entity": entity}
        w.accounts.append(row)
        return row

    def domain_for(base_name: str, extra: str = "") -> str:
        for _ in range(20):
            d = _slug(base_name) + extra + rng.choice(TLDS)
            if d not in taken_domains:
                taken_domains.add(d)
                return d
            extra = extra + str(rng.randrange(10))
        raise RuntimeError("no free domain")

    def company(key: tuple, *, website: bool | None = None, form: bool | None = None) -> dict | None:
        """A new company with name parts `key`; None when a company with that name exists."""
        nonlocal n_entities
        if key in taken_keys:
            return None
        taken_keys.add(key)
        stem, number, word, word2 = key
        base = " ".join(str(x) for x in (stem, number, word, word2) if x)
        name = _with_form(rng, base) if (rng.random() < 0.33 if form is None else form) else base
        has_site = rng.random() >= 0.12 if website is None else website
        domain = domain_for(base) if has_site else None
        n_entities += 1
        row = add(name, _website(rng, domain) if domain else None, n_entities)
        b = {"row": row, "key": key, "base": base, "domain": domain, "stem": stem,
             "rest": " ".join(str(x) for x in (number, word, word2) if x)}
        bases.append(b)
        return b

    def random_key() -> tuple:
        r = rng.random()
        stem, word = rng.choice(STEMS), rng.choice(WORDS)
        if r < 0.45:
            return (stem, None, word, None)
        if r < 0.85:
            return (stem, rng.randrange(1, 400), word, None)
        return (stem, None, word, rng.choice([x for x in WORDS if x != word]))

    n_plain = int(accounts * 0.8)
    while len(w.accounts) < n_plain:
        company(random_key())

    kinds = list(PLANTED_KINDS) + list(DECOY_KINDS)
    fresh = list(range(len(bases)))      # each company gets at most one plant or decoy: a
    rng.shuffle(fresh)                   # second copy of a decoy would be a duplicate of both
    while len(w.accounts) < accounts and fresh:
        kind = kinds[len(w.planted + w.decoys) % len(kinds)]
        b = bases[fresh.pop()]
        row, base, domain = b["row"], b["base"], b["domain"]
        if kind in PLANTED_KINDS:
            if kind == "same_domain_mangled":
                if not domain:
                    continue
                dup = add(_mangle(rng, base, b["stem"], b["rest"]), _website(rng, domain), row["_entity"])
            elif kind == "same_name_no_domain":
                dup = add(row["Name"], None, row["_entity"])
            elif kind == "legal_form":
                name = _with_form(rng, base) if row["Name"] == base or rng.random() < 0.5 else base
                if name == row["Name"]:
                    continue
                site = _website(rng, domain) if domain and rng.random() < 0.4 else None
                dup = add(name, site, row["_entity"])
            elif kind == "case_punct_accent":
                name = _case_punct_accent(rng, row["Name"])
                if name == row["Name"]:
                    continue
                dup = add(name, _website(rng, domain) if domain and rng.random() < 0.3 else None, row["_entity"])
            else:   # typo_no_domain
                if max(len(x) for x in base.split()) < 7:
                    continue
                dup = add(_typo(rng, row["Name"]), None, row["_entity"])
            w.planted.append((row["Id"], dup["Id"], kind))
            continue
        stem, number, word, word2 = b["key"]
        if kind == "numbered_variant":
            if number is None:
                continue
            new = company((stem, max(1, number + rng.choice([1, -1, 2, 10, -10])), word, word2),
                          website=rng.random() < 0.5)
        elif kind == "shared_first_word":
            new = company((stem, number, rng.choice([x for x in WORDS if x != word]), None), website=rng.random() < 0.5)
        elif kind == "group_word":
            if word in GROUP_WORDS or word2:
                continue
            new = company((stem, number, word, rng.choice(GROUP_WORDS)), website=rng.random() < 0.5)
        elif kind == "legal_form_sibling":
            if not domain:
                continue
            # a different company with the same name apart from the legal form: own website
            nonlocal_key = (stem, number, word, word2, "sibling")
            if nonlocal_key in taken_keys:
                continue
            taken_keys.add(nonlocal_key)
            n_entities += 1
            name = _with_form(rng, base) if row["Name"] == base else base
            new = {"row": add(name, _website(rng, domain_for(name)), n_entities)}
        else:   # look_alike
            pair = next((p for p in LOOK_ALIKES if word in p), None)
            if pair is None:
                continue
            other = pair[1] if word == pair[0] else pair[0]
            new = company((stem, number, other, word2), website=domain is not None and rng.random() < 0.3)
        if new is None:
            continue
        w.decoys.append((row["Id"], new["row"]["Id"], kind))
    return w


ACCOUNT_HEADER = ["Id", "Name", "Website", "OwnerId", "LastModifiedDate", "IsDeleted"]


def write_files(world: DupWorld, out: Path | str) -> tuple[Path, Path]:
    """Write salesforce/User.csv and salesforce/Account.csv (Bulk API 2.0 CSV) under out."""
    out = Path(out)
    (out / "salesforce").mkdir(parents=True, exist_ok=True)

    def write(path: Path, header: list[str], rows: list[dict]) -> None:
        buf = io.StringIO()
        wr = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", extrasaction="ignore")
        wr.writeheader()
        for r in rows:
            wr.writerow({k: ("true" if r.get(k) is True else "false" if r.get(k) is False else r.get(k, ""))
                         for k in header})
        path.write_text(buf.getvalue(), encoding="utf-8")

    users, accts = out / "salesforce" / "User.csv", out / "salesforce" / "Account.csv"
    write(users, ["Id", "Name", "Email", "IsActive"], world.owners)
    write(accts, ACCOUNT_HEADER, world.accounts)
    return users, accts


def judge(world: DupWorld, listed: set[frozenset[str]]) -> dict:
    """Precision/recall of the listed pairs (Salesforce Id pairs) against the truth."""
    truth = world.true_pairs()
    planted = {frozenset(p[:2]) for p in world.planted}
    decoys = {frozenset(p[:2]) for p in world.decoys}
    false = listed - truth
    return {
        "accounts": len(world.accounts), "listed": len(listed), "true": len(listed & truth), "false": len(false),
        "precision": (len(listed & truth) / len(listed)) if listed else 1.0,
        "planted": len(planted), "planted_found": len(planted & listed),
        "planted_missed": sorted(tuple(sorted(p)) for p in planted - listed),
        "planted_by_kind": {k: sum(1 for p in world.planted if p[2] == k) for k in PLANTED_KINDS},
        "decoys": len(decoys), "decoys_listed": len(decoys & listed),
        "decoys_by_kind": {k: sum(1 for p in world.decoys if p[2] == k) for k in DECOY_KINDS},
        "false_pairs": sorted(tuple(sorted(p)) for p in false),
    }
