"""`crm360 user`: create and list the login roles of crm360 users (docs/security.md, "Logins").

Guarantees
- `add_user` runs as the connecting DBA in ONE transaction: CREATE ROLE ... LOGIN (an existing
  role is refused, 42710, unless `existing`), GRANT crm_<kind>, ALTER ROLE ... SET
  statement_timeout / idle_in_transaction_session_timeout / lock_timeout (PostgreSQL applies
  role settings only to the role that logs in, never to members of a group role, so every
  login gets its own), then the CRM side: reader/writer/admin get a CRM user mapped to the
  login — the live CRM user with the given email when there is one (the Salesforce user
  ingestion created for a rep: their first session shows their accounts), else a new one
  (crm.create_user) — a connector its sources (crm.allow_source), a service nothing.
- `elt_schema` (connectors, docs/elt.md): the schema an ELT tool (dlt) loads into and its
  `<schema>_staging` twin (dlt's merge/replace staging dataset) are created OWNED BY the login,
  so the loader needs no CREATE on the database and can never touch crm360's schemas; an
  existing schema is accepted only when the login already owns it (42501 otherwise).
  Any error rolls everything back: no role, grant, setting or user is left behind.
- A password never travels in clear text: it is hashed on the client with the server's
  password_encryption (libpq PQencryptPasswordConn, as psql's \\password does), so the
  statement — and any server log of it — holds only the SCRAM verifier. Without a password
  the role has none (peer/cert/trust authentication).
- `list_users` reports every LOGIN role that is directly a member of a crm role, with its crm
  roles, mapped CRM user, allowed sources and role settings (pg_db_role_setting).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from crm360.db import CrmError


@dataclass(frozen=True)
class Kind:
    group: str
    statement_timeout: str
    idle_in_transaction_session_timeout: str
    lock_timeout: str
    crm_user: bool          # reader/writer/admin logins are a CRM user (crm.create_user)
    purpose: str


# Session defaults per kind (docs/security.md, "Logins"). "0" = no limit.
KINDS: dict[str, Kind] = {
    "reader": Kind("crm_reader", "60s", "5min", "10s", True, "analysts, BI tools: read as the mapped user"),
    "writer": Kind("crm_writer", "30s", "2min", "5s", True, "people and apps writing as the mapped user"),
    "service": Kind("crm_service", "30s", "1min", "5s", False, "a pooled service acting for users (crm.act_as)"),
    "connector": Kind("crm_connector", "0", "10min", "30s", False, "connectors: land raw rows of their sources, reconcile"),
    "admin": Kind("crm_admin", "0", "15min", "10s", True, "CRM admins: every row, teams, restrictions, logins"),
}
CRM_GROUPS = tuple(k.group for k in KINDS.values())
SETTINGS = ("statement_timeout", "idle_in_transaction_session_timeout", "lock_timeout")


def defaults(kind: str) -> dict[str, str]:
    k = KINDS[kind]
    return {s: getattr(k, s) for s in SETTINGS}


def _role(conn: psycopg.Connection, login: str):
    return conn.execute("SELECT oid, rolcanlogin, rolsuper, rolbypassrls FROM pg_catalog.pg_roles "
                        "WHERE rolname = %s", (login,)).fetchone()


def add_user(conn: psycopg.Connection, login: str, kind: str, *, name: str | None = None,
             email: str | None = None, password: str | None = None, sources: tuple[str, ...] = (),
             settings: dict[str, str] | None = None, existing: bool = False,
             elt_schema: str | None = None) -> dict:
    """Create (or, with `existing`, complete) the login `login` of kind `kind`; return what was
    done. Raises CrmError (nothing written) on bad input; psycopg errors also roll back."""
    if kind not in KINDS:
        raise CrmError(f'unknown role kind "{kind}"', sqlstate="22023",
                       hint=f"one of: {', '.join(KINDS)}")
    k = KINDS[kind]
    if not login or not login.strip():
        raise CrmError("the login name is empty", sqlstate="22023")
    values = {**defaults(kind), **{s: v for s, v in (settings or {}).items() if v is not None}}
    done: dict = {"login": login, "kind": kind, "crm_role": k.group, "created": False,
                  "password": password is not None, "settings": values, "user_id": None,
                  "user_name": None, "email": None, "sources": [], "elt_schemas": []}
    if elt_schema is not None and kind != "connector":
        raise CrmError("an ELT schema belongs to a connector login", sqlstate="22023",
                       hint="crm360 user add LOADER --role connector --source SRC --elt-schema dlt_SRC")
    if elt_schema is not None and (not elt_schema.strip() or elt_schema.startswith("pg_")):
        raise CrmError(f'"{elt_schema}" is not a schema name an ELT tool may own', sqlstate="22023",
                       hint="e.g. dlt_zendesk (dlt's dataset_name)")
    ident = sql.Identifier(login)
    with conn.transaction():
        role = _role(conn, login)
        if role is not None and not existing:
            raise CrmError(f'role "{login}" already exists', sqlstate="42710",
                           hint="pick another login name, or pass --existing to grant and configure the "
                                "existing role (its password is changed only when one is given)")
        if role is not None:
            _, canlogin, superuser, bypassrls = role
            if not canlogin:
                raise CrmError(f'role "{login}" exists but cannot log in (NOLOGIN)', sqlstate="22023",
                               hint=f"ALTER ROLE {ident.as_string(conn)} LOGIN first, or pick another name")
            if (superuser or bypassrls) and kind != "admin":
                raise CrmError(f'role "{login}" is a superuser or bypasses row-level security: as a crm '
                               f"{kind} it would see every row", sqlstate="42501",
                               hint="use an ordinary login role (NOSUPERUSER NOBYPASSRLS) for crm360 users")
        mapped = None
        if k.crm_user and role is not None:
            mapped = conn.execute(
                "SELECT l.user_id, u.label, u.properties ->> 'email' FROM crm.logins l "
                "JOIN crm.nodes u ON u.id = l.user_id AND u.archived_at IS NULL WHERE l.login_role = %s",
                (login,)).fetchone()
        existing_user = None
        if k.crm_user and mapped is None and email and email.strip():
            # the CRM user ingestion (or an admin) already created for this person: map, never duplicate
            found = conn.execute(
                "SELECT id, label, properties ->> 'email' FROM crm.nodes WHERE node_type = 'user' "
                "AND archived_at IS NULL AND lower(properties ->> 'email') = lower(%s) ORDER BY created_at, id",
                (email.strip(),)).fetchall()
            if len(found) > 1:
                raise CrmError(f'{len(found)} live CRM users have the email "{email.strip()}"', sqlstate="21000",
                               hint="map the login by id: SELECT crm.map_login(login, '<user uuid>'::uuid)")
            existing_user = found[0] if found else None
        if k.crm_user and mapped is None and existing_user is None and not (name and name.strip()):
            raise CrmError(f"a {kind} login is a CRM user: --name is required"
                           + (f' (no CRM user has the email "{email.strip()}" yet)' if email and email.strip() else ""),
                           sqlstate="22023",
                           hint=f"crm360 user add {login} --role {kind} --email you@example.com maps the login to the "
                                "CRM user ingestion created for that email; --name 'Full Name' creates a new one")
        if kind == "connector" and not sources:
            raise CrmError("a connector login needs at least one --source (or '*' for every source)",
                           sqlstate="22023",
                           hint="sources: SELECT DISTINCT source FROM crm_raw.source_objects")
        secret = None
        if password is not None:
            if password == "":
                raise CrmError("the password is empty", sqlstate="22023",
                               hint="omit --password-stdin/--password-env for a role without a password")
            secret = conn.pgconn.encrypt_password(password.encode(), login.encode()).decode()
        if role is None:
            q = sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS").format(ident)
            if secret is not None:
                q = sql.SQL("{} PASSWORD {}").format(q, sql.Literal(secret))
            conn.execute(q)
            done["created"] = True
        elif secret is not None:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(secret)))
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(k.group), ident))
        if done["created"]:
            conn.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(ident, sql.Literal(f"crm360 {kind} login")))
        for setting, value in values.items():
            conn.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(ident, sql.Identifier(setting),
                                                                     sql.Literal(str(value))))
        if k.crm_user:
            if mapped is None and existing_user is not None:
                conn.execute("SELECT crm.map_login(%s, %s::uuid)", (login, existing_user[0]))
                mapped = existing_user
                done["user_created"] = False
                done["user_found_by_email"] = True
            elif mapped is None:
                uid = conn.execute("SELECT crm.create_user(%s, %s, %s)",
                                   (name.strip(), email, login)).fetchone()[0]
                mapped = conn.execute("SELECT id, label, properties ->> 'email' FROM crm.nodes WHERE id = %s",
                                      (uid,)).fetchone()
                done["user_created"] = True
            else:
                done["user_created"] = False
            done["user_id"], done["user_name"], done["email"] = str(mapped[0]), mapped[1], mapped[2]
        if kind == "connector":
            for src in dict.fromkeys(sources):
                conn.execute("SELECT crm.allow_source(%s, %s)", (login, src))
            done["sources"] = sorted(r[0] for r in conn.execute(
                "SELECT source FROM crm_raw.connector_sources WHERE login_role = %s", (login,)))
        if elt_schema is not None:
            for schema in (elt_schema, f"{elt_schema}_staging"):
                owner = conn.execute("SELECT nspowner::regrole::text FROM pg_catalog.pg_namespace "
                                     "WHERE nspname = %s", (schema,)).fetchone()
                if owner is None:
                    conn.execute(sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(sql.Identifier(schema), ident))
                elif owner[0] != ident.as_string(conn):
                    raise CrmError(f'schema "{schema}" exists and belongs to {owner[0]}', sqlstate="42501",
                                   hint="an ELT tool loads into a schema of its own: pick another --elt-schema "
                                        "(dlt's dataset_name)")
                done["elt_schemas"].append(schema)
    return done


def set_password(conn: psycopg.Connection, login: str, password: str | None) -> dict:
    """Set (or, with None, remove) the password of crm360 login `login` — a LOGIN role that is a
    member of a crm role — hashed on the client as in `add_user`. A role that is not a crm360
    login is refused (42704 unknown, 22023 not a crm login): this is not a general ALTER ROLE."""
    role = _role(conn, login)
    if role is None:
        raise CrmError(f'role "{login}" does not exist', sqlstate="42704",
                       hint="create it with: crm360 user add LOGIN --role reader --name NAME --password-stdin")
    groups = [r[0] for r in conn.execute(
        "SELECT g.rolname::text FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid "
        "WHERE m.member = %s AND g.rolname = ANY (%s) ORDER BY 1", (role[0], list(CRM_GROUPS)))]
    if not role[1] or not groups:
        raise CrmError(f'role "{login}" is not a crm360 login (a LOGIN role that is a member of a crm role)',
                       sqlstate="22023", hint="see crm360 user list; make it one with crm360 user add --existing")
    ident = sql.Identifier(login)
    if password is None:
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD NULL").format(ident))
    else:
        if password == "":
            raise CrmError("the password is empty", sqlstate="22023",
                           hint="use --none to remove the password (no login over TCP then)")
        secret = conn.pgconn.encrypt_password(password.encode(), login.encode()).decode()
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(secret)))
    return {"login": login, "crm_roles": groups, "password": password is not None}


def describe(done: dict) -> list[str]:
    """The lines `crm360 user add` prints."""
    login = done["login"]
    lines = [f"{'created' if done['created'] else 'kept existing'} login role {login}"
             + (" (password set)" if done["password"] else
                (" (no password: peer/cert authentication)" if done["created"] else "")),
             f"granted {done['crm_role']} to {login}",
             "set " + ", ".join(f"{k} = {v}" for k, v in done["settings"].items()) + f" for {login}"]
    if done["user_id"]:
        who = done["user_name"] + (f" <{done['email']}>" if done["email"] else "")
        how = ("created" if done.get("user_created") else
               "found (by email)" if done.get("user_found_by_email") else "kept")
        lines.append(f"{how} CRM user {who} ({done['user_id']}) mapped to {login}")
    if done["sources"]:
        lines.append(f"allowed sources: {', '.join(done['sources'])}")
    if done.get("elt_schemas"):
        lines.append(f"ELT schemas owned by {login}: {', '.join(done['elt_schemas'])} "
                     "(land with crm_raw.land_from, docs/elt.md)")
    return lines


LIST_SQL = """
SELECT r.rolname::text AS login,
       array(SELECT g.rolname::text FROM pg_catalog.pg_auth_members m
               JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
              WHERE m.member = r.oid AND g.rolname = ANY (%(groups)s) ORDER BY g.rolname) AS crm_roles,
       l.user_id, u.label AS user_name, u.properties ->> 'email' AS email,
       array(SELECT s.source FROM crm_raw.connector_sources s WHERE s.login_role = r.rolname
              ORDER BY s.source) AS sources,
       array(SELECT c FROM pg_catalog.pg_db_role_setting d, unnest(d.setconfig) c
              WHERE d.setrole = r.oid AND d.setdatabase = 0) AS role_settings,
       array(SELECT c FROM pg_catalog.pg_db_role_setting d, unnest(d.setconfig) c
              WHERE d.setrole = r.oid
                AND d.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
           AS database_settings,
       r.rolsuper OR r.rolbypassrls AS bypasses_rls,
       %(password_sql)s AS has_password
  FROM pg_catalog.pg_roles r
  LEFT JOIN crm.logins l ON l.login_role = r.rolname
  LEFT JOIN crm.nodes u ON u.id = l.user_id
 WHERE r.rolcanlogin
   AND EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                WHERE m.member = r.oid AND g.rolname = ANY (%(groups)s))
 ORDER BY r.rolname
"""


def _settings(entries: list[str]) -> dict[str, str]:
    out = {}
    for e in entries or []:
        key, _, value = e.partition("=")
        out[key] = value
    return out


def list_users(conn: psycopg.Connection) -> list[dict]:
    """Every LOGIN role that is a direct member of a crm role, with what crm360 knows of it.
    `settings` holds the role's settings in effect in this database (database-specific ones
    override role-wide ones); has_password is NULL unless the caller may read pg_authid."""
    rows = []
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    superuser = conn.execute("SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user").fetchone()[0]
    # pg_roles masks rolpassword for everyone; only pg_authid (superusers) tells
    query = LIST_SQL.replace("%(password_sql)s", "(SELECT a.rolpassword IS NOT NULL FROM pg_catalog.pg_authid a "
                             "WHERE a.oid = r.oid)" if superuser else "NULL::boolean")
    for r in cur.execute(query, {"groups": list(CRM_GROUPS)}):
        settings = {**_settings(r.pop("role_settings")), **_settings(r.pop("database_settings"))}
        r["settings"] = {s: settings.get(s) for s in SETTINGS}
        r["other_settings"] = {k: v for k, v in settings.items() if k not in SETTINGS}
        r["user_id"] = str(r["user_id"]) if r["user_id"] else None
        rows.append(r)
    return rows
