"""The migrator: yoyo for numbered files, then the repeatable files, all under yoyo's lock.

Guarantees
- Before anything is changed, the server is checked: PostgreSQL >= 16, and the
  extensions `vector` (>= 0.7) and `pg_trgm` available. Otherwise MigrationError names
  the extension, the server version and how to install it.
- Numbered migrations (`sql/NNNN_topic.sql`) are applied by yoyo, each in its own
  transaction (or none, with `-- transactional: false`), under yoyo's lock table, so two
  migrators at once never both apply one file.
- A sha256 is recorded per applied numbered file; if an applied file changed afterwards,
  migrate refuses before applying anything and names the file.
- Then every file in `sql/functions` (by domain folder, in FUNCTION_DOMAINS order, then by
  name), `sql/views`, `sql/rls` (by name) is re-applied in ONE transaction; a failure leaves
  the previous versions in place.
- Then, for each numbered migration applied in this run that has a companion
  `sql/after/NNNN_topic.sql`, that file runs once, as crm_owner, in its own transaction: the
  backfills a migration cannot do itself because they call repeatable functions (which
  migrations never call). A failure there is reported with the file's name; the migration
  stays applied and the file can be run again by hand (each is safe to run twice).
- No crm360 object is owned by a superuser: before anything else the bootstrap
  (`sql/bootstrap/roles.sql`, as the connecting DBA) creates the NOLOGIN, non-superuser owner
  role `crm_owner` and the crm roles; every numbered migration and every repeatable file
  then runs under `SET ROLE crm_owner`, except the few that need the DBA's own privileges
  (creating extensions and roles: PRIVILEGED_MIGRATIONS, or a file whose first lines say
  `-- crm360: runs as the DBA`), after which `sql/bootstrap/adopt.sql` hands what they
  created to crm_owner. adopt.sql also runs at the start of every migrate, so a database
  migrated by an earlier crm360 as a superuser is taken over by crm_owner.
- Without superuser: before anything is changed, `sql/bootstrap/precheck.sql` (one read-only
  SELECT) lists every privilege the connecting role lacks for this run (extensions, roles,
  ADMIN on them, SET ROLE crm_owner, CREATE on the database and schemas, ownership of the
  bookkeeping tables). If anything is missing, migrate refuses (42501), names each item and
  prints the script a superuser runs once (`bootstrap_script`, from sql/bootstrap/superuser.sql;
  `crm360 migrate --print-bootstrap`).
- `status()` and `plan()` (--status, --dry-run) are strictly read-only: one READ ONLY
  transaction that reads yoyo's table and the checksums if they exist, and creates nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from crm360.db import CrmError, connect, to_yoyo_url

REPEATABLE_DIRS = ("functions", "views", "rls")
# sql/functions/<domain>/<name>.sql, one function per file, applied domain by domain in this
# order (a LANGUAGE sql body is checked when created: what it calls must exist already)
FUNCTION_DOMAINS = ("core", "access", "crm", "ingest", "quality", "read_models", "account360", "search", "customers")
MIN_SERVER = 160000
REQUIRED_EXTENSIONS = {"vector": "0.7.0", "pg_trgm": "1.4"}
EXTENSION_SCHEMA = "extensions"
CHECKSUM_TABLE = "public._crm360_checksums"
OWNER_ROLE = "crm_owner"
# Migrations applied before the owner role existed that create extensions or roles: they run
# as the connecting DBA (they cannot be edited any more: their checksums are recorded).
PRIVILEGED_MIGRATIONS = {"0001_foundation", "0005_access_control"}
PRIVILEGED_MARKER = "-- crm360: runs as the DBA"
BOOTSTRAP_LOCK = 0x63726D333630  # advisory lock key ("crm360") serialising concurrent bootstraps
REPEATABLE_ATTEMPTS = 3          # the repeatables transaction is retried after a deadlock (40P01)


class MigrationError(CrmError):
    pass


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def pin_search_path(dsn: str) -> str:
    """The migrator's connections search `public` only (pg_catalog is searched first anyway):
    never `"$user"` — a schema named after the connecting role (anyone with CREATE on the
    database can make one) would otherwise capture yoyo's tables and unqualified calls."""
    params = conninfo_to_dict(dsn)
    params["options"] = (params.get("options", "") + " -c search_path=public").strip()
    return make_conninfo(**params)


def sql_dir() -> Path:
    """The SQL tree: inside the installed package (wheel), or the checkout's sql/ (editable)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "sql", here.parent / "sql"):
        if (candidate / "functions").is_dir():
            return candidate
    raise CrmError("cannot find the crm360 SQL files", hint="reinstall the crm360 package")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _version_tuple(v: str) -> tuple[int, ...]:
    out = []
    for part in v.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits or 0))
    return tuple(out)


@dataclass
class MigrationInfo:
    id: str
    path: Path
    sha256: str
    applied: bool = False
    applied_at: str | None = None
    recorded_sha256: str | None = None
    has_rollback: bool = False

    @property
    def modified(self) -> bool:
        return self.applied and self.recorded_sha256 is not None and self.recorded_sha256 != self.sha256

    @property
    def state(self) -> str:
        return "modified" if self.modified else ("applied" if self.applied else "pending")


@dataclass
class RepeatableInfo:
    name: str
    path: Path
    sha256: str
    recorded_sha256: str | None = None

    @property
    def state(self) -> str:
        if self.recorded_sha256 is None:
            return "new"
        return "unchanged" if self.recorded_sha256 == self.sha256 else "changed"


@dataclass
class Status:
    """What the database holds compared with the SQL tree (read without changing anything)."""

    migrations: list[MigrationInfo]
    repeatables: list[RepeatableInfo]
    user: str = ""
    database: str = ""

    @property
    def pending(self) -> list[MigrationInfo]:
        return [i for i in self.migrations if not i.applied]

    @property
    def modified(self) -> list[MigrationInfo]:
        return [i for i in self.migrations if i.modified]

    @property
    def repeatables_to_apply(self) -> list[RepeatableInfo]:
        return [r for r in self.repeatables if r.state != "unchanged"]

    def repeatable_counts(self) -> dict[str, int]:
        out = {"total": len(self.repeatables), "unchanged": 0, "changed": 0, "new": 0}
        for r in self.repeatables:
            out[r.state] += 1
        return out

    @property
    def up_to_date(self) -> bool:
        return not self.pending and not self.modified and not self.repeatables_to_apply


@dataclass
class MigrateResult:
    applied: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    repeatables: list[RepeatableInfo] = field(default_factory=list)

    @property
    def repeatables_changed(self) -> list[RepeatableInfo]:
        return [r for r in self.repeatables if r.state != "unchanged"]


# The extension check is a query so tests can inject a server "without pgvector".
AVAILABLE_EXTENSIONS_SQL = """
SELECT a.name, a.default_version, e.extversion, n.nspname
  FROM pg_catalog.pg_available_extensions a
  LEFT JOIN pg_catalog.pg_extension e ON e.extname = a.name
  LEFT JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
 WHERE a.name = ANY(%s)
"""


class Migrator:
    def __init__(self, dsn: str, *, sql_path: Path | None = None,
                 echo: Callable[[str], None] = print, lock_timeout: int = 300,
                 extensions_sql: str = AVAILABLE_EXTENSIONS_SQL):
        self.dsn = pin_search_path(dsn)
        self.sql_path = Path(sql_path) if sql_path else sql_dir()
        self.echo = echo
        self.lock_timeout = lock_timeout
        self.extensions_sql = extensions_sql

    # -- discovery -------------------------------------------------------------
    def numbered_files(self) -> list[Path]:
        return sorted(p for p in self.sql_path.glob("[0-9]*.sql") if not p.name.endswith(".rollback.sql"))

    def repeatable_files(self) -> list[tuple[str, Path]]:
        out = []
        for d in REPEATABLE_DIRS:
            if d == "functions":
                root = self.sql_path / d
                loose = sorted(p.name for p in root.glob("*.sql"))
                unknown = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name not in FUNCTION_DOMAINS)
                if loose or unknown:
                    raise MigrationError(
                        f"sql/functions: {', '.join(loose + unknown)} outside the domain folders", sqlstate="58000",
                        hint=f"put each function file in one of sql/functions/{{{','.join(FUNCTION_DOMAINS)}}}/ "
                             "(a new domain also goes into crm360.migrator.FUNCTION_DOMAINS)")
                for dom in FUNCTION_DOMAINS:
                    for p in sorted((root / dom).glob("*.sql")):
                        out.append((f"{d}/{dom}/{p.name}", p))
                continue
            for p in sorted((self.sql_path / d).glob("*.sql")):
                out.append((f"{d}/{p.name}", p))
        return out

    # -- checks ----------------------------------------------------------------
    def _read_only(self) -> psycopg.Connection:
        conn = connect(self.dsn)
        conn.read_only = True
        return conn

    def precheck(self) -> Status:
        """Refuse (changing nothing) when the server cannot host crm360 or the connecting role
        lacks a privilege this run needs. Reads in one READ ONLY transaction; returns the status."""
        with self._read_only() as conn, conn.transaction():
            num = conn.info.server_version
            ver = conn.execute("SHOW server_version").fetchone()[0]
            if num < MIN_SERVER:
                raise MigrationError(
                    f"PostgreSQL {ver} is too old: crm360 needs PostgreSQL 16 or newer",
                    sqlstate="0A000", hint="use the embedded server (omit --dsn) or upgrade the server")
            rows = conn.execute(self.extensions_sql, (list(REQUIRED_EXTENSIONS),)).fetchall()
            self._check_extensions(rows, num, ver)
            st = self._read_status(conn)
            missing = self.missing_privileges(conn, st)
            self._check_bookkeeping_is_safe(conn)
        if missing:
            items = "\n".join(f"  - {problem}" + ("" if fix.startswith("(") else f"\n      fix: {fix}")
                              for problem, fix in missing)
            raise MigrationError(
                f"role {st.user} lacks {len(missing)} privilege(s) to migrate database {st.database}; "
                "nothing has been changed",
                sqlstate="42501",
                detail=f"missing:\n{items}",
                hint=f"a superuser runs this once, connected to database {st.database} (`crm360 migrate "
                     f"--print-bootstrap --owner {st.user} --dsn <this database>` prints it), then migrate "
                     f"again as {st.user}:\n\n{self.bootstrap_script(st.user, st.database)}")
        return st

    @staticmethod
    def _check_bookkeeping_is_safe(conn: psycopg.Connection) -> None:
        """A superuser writes the migrator's bookkeeping tables (yoyo's, the checksums): if
        another role owns them, its triggers, rules, policies or column defaults would run as
        the superuser. Refuse; the installing role migrates its own database."""
        rows = conn.execute("""
            SELECT c.oid::regclass::text, pg_catalog.pg_get_userbyid(c.relowner)
              FROM pg_catalog.pg_class c
              JOIN pg_catalog.pg_roles me ON me.rolname = current_user AND me.rolsuper
              JOIN pg_catalog.pg_roles o ON o.oid = c.relowner AND NOT o.rolsuper
             WHERE c.oid IN (pg_catalog.to_regclass('public._yoyo_migration'), pg_catalog.to_regclass('public._yoyo_log'),
                             pg_catalog.to_regclass('public._yoyo_version'), pg_catalog.to_regclass('public.yoyo_lock'),
                             pg_catalog.to_regclass('public._crm360_checksums'))""").fetchall()
        if rows:
            owners = sorted({r[1] for r in rows})
            raise MigrationError(
                f"the migrator's bookkeeping tables belong to {', '.join(owners)}: a superuser does not "
                "write tables another role controls (their triggers or defaults would run as the superuser)",
                sqlstate="42501", detail="tables: " + ", ".join(r[0] for r in rows) + "; nothing has been changed",
                hint=f"run crm360 migrate as {owners[0]} (the installing role), or, after checking them, "
                     f"ALTER TABLE ... OWNER TO a superuser")

    def _check_extensions(self, rows, num: int, ver: str) -> None:
        found = {r[0]: r for r in rows}
        for name, minimum in REQUIRED_EXTENSIONS.items():
            if name not in found:
                install = ("install pgvector >= 0.7 for this server (Debian/Ubuntu: "
                           f"apt install postgresql-{num // 10000}-pgvector; or build from "
                           "source with `make && make install` against this server's pg_config)"
                           if name == "vector" else
                           "install the PostgreSQL contrib package for this server")
                raise MigrationError(
                    f"extension \"{name}\" is not available on this server (PostgreSQL {ver})",
                    sqlstate="58P01",
                    detail=f"crm360 needs {name} >= {minimum}; nothing has been changed",
                    hint=install)
            _, default_version, installed, schema = found[name]
            have = installed or default_version
            if _version_tuple(have) < _version_tuple(minimum):
                raise MigrationError(
                    f"extension \"{name}\" {have} is too old on PostgreSQL {ver}; need >= {minimum}",
                    sqlstate="58P01", hint=f"upgrade {name} (ALTER EXTENSION {name} UPDATE after installing)")
            if installed and schema != EXTENSION_SCHEMA:
                raise MigrationError(
                    f"extension \"{name}\" is installed in schema \"{schema}\"; crm360 expects it in "
                    f"\"{EXTENSION_SCHEMA}\"",
                    sqlstate="55000",
                    hint=f"CREATE SCHEMA IF NOT EXISTS {EXTENSION_SCHEMA}; "
                         f"ALTER EXTENSION {name} SET SCHEMA {EXTENSION_SCHEMA};")

    def missing_privileges(self, conn: psycopg.Connection, st: Status) -> list[tuple[str, str]]:
        """(problem, fix) for every privilege the connecting role lacks (sql/bootstrap/precheck.sql)."""
        applied = {i.id for i in st.migrations if i.applied}
        query = self._bootstrap_sql("precheck.sql")
        for mid in PRIVILEGED_MIGRATIONS:
            if mid not in applied:
                query = query.replace(f"/*needs_{mid[:4]}*/false", "true")
        return [(r[0], r[1]) for r in conn.execute(query).fetchall()]

    def bootstrap_script(self, owner: str, database: str) -> str:
        """The SQL a superuser runs once (per database) so `owner` can migrate without superuser."""
        text = self._bootstrap_sql("superuser.sql")
        def body(name: str) -> str:  # the included file without its comment lines
            return "\n".join(line for line in self._bootstrap_sql(name).strip().splitlines()
                             if not line.lstrip().startswith("--"))

        for token, value in (("{{roles.sql}}", body("roles.sql")), ("{{adopt.sql}}", body("adopt.sql")),
                             ("{{owner_literal}}", quote_literal(owner)),
                             ("{{database_literal}}", quote_literal(database)),
                             ("{{owner}}", quote_ident(owner)),
                             ("{{database}}", quote_ident(database))):
            text = text.replace(token, value)
        return text

    def _read_status(self, conn: psycopg.Connection) -> Status:
        """Applied migrations and recorded checksums, read without creating anything: a table
        the migrator has not made yet simply means nothing is recorded."""
        user, database, yoyo_table, sums_table = conn.execute(
            "SELECT current_user, current_database(), to_regclass('_yoyo_migration')::text, "
            f"to_regclass('{CHECKSUM_TABLE}')::text").fetchone()
        applied_at: dict[str, str] = {}
        rec: dict[tuple[str, str], str] = {}
        if yoyo_table:
            applied_at = {r[0]: str(r[1]) for r in conn.execute(
                f"SELECT migration_id, applied_at_utc FROM {yoyo_table}").fetchall()}
        if sums_table:
            rec = {(r[0], r[1]): r[2] for r in conn.execute(
                f"SELECT kind, name, sha256 FROM {sums_table}").fetchall()}
        infos = []
        for m in self._migrations():
            p = Path(m.path)
            infos.append(MigrationInfo(
                id=m.id, path=p, sha256=sha256_file(p), applied=m.id in applied_at,
                applied_at=applied_at.get(m.id), recorded_sha256=rec.get(("migration", m.id)),
                has_rollback=p.with_name(p.stem + ".rollback.sql").exists()))
        reps = [RepeatableInfo(n, p, sha256_file(p), rec.get(("repeatable", n)))
                for n, p in self.repeatable_files()]
        return Status(infos, reps, user, database)

    def inspect(self) -> Status:
        """The status, read in one READ ONLY transaction (creates nothing, locks nothing)."""
        with self._read_only() as conn, conn.transaction():
            return self._read_status(conn)

    def plan(self) -> Status:
        """What `migrate` would do (--dry-run): the prechecks, then the status; read-only."""
        return self.precheck()

    # -- owner role ----------------------------------------------------------------
    def _bootstrap_sql(self, name: str) -> str:
        return (self.sql_path / "bootstrap" / name).read_text(encoding="utf-8")

    def bootstrap(self) -> None:
        """As the connecting DBA: create the roles (crm_owner first) and adopt crm360's objects."""
        with connect(self.dsn, autocommit=True) as conn:
            try:
                with conn.transaction():
                    conn.execute("SET LOCAL lock_timeout = '10s'")
                    conn.execute("SET LOCAL client_min_messages = warning")
                    # two migrators at once: one bootstrap at a time (concurrent GRANTs on the
                    # same catalog row fail with "tuple concurrently updated")
                    conn.execute("SELECT pg_catalog.pg_advisory_xact_lock(%s)", (BOOTSTRAP_LOCK,))
                    conn.execute(self._bootstrap_sql("roles.sql"))
                    conn.execute(self._bootstrap_sql("adopt.sql"))
            except psycopg.Error as e:
                err = CrmError.from_psycopg(e)
                raise MigrationError(
                    f"bootstrap failed: {err.message}", sqlstate=err.sqlstate, detail=err.detail,
                    hint=err.hint or "the bootstrap creates the roles crm_owner, crm_reader, crm_writer, "
                    "crm_service, crm_connector and crm_admin: run `crm360 migrate` once as a superuser "
                    "(or a role with CREATEROLE), or have a superuser run sql/bootstrap/roles.sql") from e

    def _adopt(self) -> None:
        with connect(self.dsn, autocommit=True) as conn, conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '10s'")
            conn.execute("SELECT pg_catalog.pg_advisory_xact_lock(%s)", (BOOTSTRAP_LOCK,))
            conn.execute(self._bootstrap_sql("adopt.sql"))

    @staticmethod
    def privileged(path: Path) -> bool:
        """Does this numbered migration run as the connecting DBA instead of crm_owner?"""
        if path.stem in PRIVILEGED_MIGRATIONS or path.stem.removesuffix(".rollback") in PRIVILEGED_MIGRATIONS:
            return True
        with path.open(encoding="utf-8") as f:
            head = [next(f, "") for _ in range(5)]
        return any(line.strip() == PRIVILEGED_MARKER for line in head)

    def _run_steps(self, backend, m, direction: str) -> None:
        """yoyo's apply_one/rollback_one, with the migration's own connection switched to
        crm_owner unless the file is privileged (then its objects are adopted afterwards)."""
        privileged = self.privileged(Path(m.path))
        backend.ensure_internal_schema_updated()
        with backend.copy() as mb:
            if not privileged:
                mb.execute(f"SET ROLE {OWNER_ROLE}")
            m.process_steps(mb, direction)
        backend.log_migration(m, direction)
        with backend.transaction():
            if direction == "apply":
                backend.mark_one(m, log=False)
            else:
                backend.unmark_one(m, log=False)
        if privileged and direction == "apply":
            self._adopt()

    # -- yoyo plumbing -----------------------------------------------------------
    def _backend(self):
        from yoyo import get_backend

        try:
            return get_backend(to_yoyo_url(self.dsn))
        except psycopg.OperationalError as e:
            raise CrmError(f"cannot connect to the database: {str(e).strip()}") from e

    def _migrations(self):
        from yoyo import read_migrations

        return read_migrations(str(self.sql_path))

    @staticmethod
    def _ensure_checksum_table(backend) -> None:
        with backend.transaction():
            backend.execute(f"""
                CREATE TABLE IF NOT EXISTS {CHECKSUM_TABLE} (
                    kind text NOT NULL CHECK (kind IN ('migration', 'repeatable')),
                    name text NOT NULL,
                    sha256 text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (kind, name))""")
            backend.execute(f"COMMENT ON TABLE {CHECKSUM_TABLE} IS "
                            "'crm360 migrator: sha256 of each applied numbered migration and "
                            "of each repeatable file as last applied'")

    @staticmethod
    def _recorded(backend, kind: str) -> dict[str, str]:
        cur = backend.execute(f"SELECT name, sha256 FROM {CHECKSUM_TABLE} WHERE kind = :k", {"k": kind})
        return dict(cur.fetchall())

    def _collect(self, backend) -> tuple[list[MigrationInfo], list[RepeatableInfo]]:
        applied_hashes = set(backend.get_applied_migration_hashes())
        applied_at = dict(backend.execute(
            f"SELECT migration_id, applied_at_utc FROM {backend.migration_table_quoted}").fetchall())
        rec_m = self._recorded(backend, "migration")
        rec_r = self._recorded(backend, "repeatable")
        infos = []
        for m in self._migrations():
            p = Path(m.path)
            infos.append(MigrationInfo(
                id=m.id, path=p, sha256=sha256_file(p), applied=m.hash in applied_hashes,
                applied_at=str(applied_at.get(m.id)) if m.id in applied_at else None,
                recorded_sha256=rec_m.get(m.id),
                has_rollback=p.with_name(p.stem + ".rollback.sql").exists()))
        reps = [RepeatableInfo(n, p, sha256_file(p), rec_r.get(n)) for n, p in self.repeatable_files()]
        return infos, reps

    # -- public operations -------------------------------------------------------
    def status(self) -> tuple[list[MigrationInfo], list[RepeatableInfo]]:
        """Read-only (see inspect)."""
        st = self.inspect()
        return st.migrations, st.repeatables

    def migrate(self) -> MigrateResult:
        self.precheck()
        self.bootstrap()
        backend = self._backend()
        result = MigrateResult()
        with backend.lock(timeout=self.lock_timeout):
            self._ensure_checksum_table(backend)
            infos, _ = self._collect(backend)
            modified = [i for i in infos if i.modified]
            if modified:
                names = ", ".join(str(i.path.name) for i in modified)
                raise MigrationError(
                    f"applied migration file(s) changed since they were applied: {names}",
                    sqlstate="CR900",
                    detail="; ".join(f"{i.path.name}: recorded sha256 {i.recorded_sha256[:12]}…, "
                                     f"file now {i.sha256[:12]}…" for i in modified),
                    hint="never edit an applied migration: restore the file (git checkout) and "
                         "put the change in a new numbered migration")
            # Adopt checksums of files applied before checksums were recorded.
            with backend.transaction():
                for i in infos:
                    if i.applied and i.recorded_sha256 is None:
                        self._record(backend, "migration", i.id, i.sha256)
            migrations = self._migrations()
            pending = backend.to_apply(migrations)
            by_id = {i.id: i for i in infos}
            for n, m in enumerate(pending, 1):
                self.echo(f"[{n}/{len(pending)}] applying {Path(m.path).name}")
                try:
                    self._run_steps(backend, m, "apply")
                except psycopg.Error as e:
                    err = CrmError.from_psycopg(e)
                    raise MigrationError(f"{Path(m.path).name}: {err.message}", sqlstate=err.sqlstate,
                                         detail=err.detail, hint=err.hint) from e
                with backend.transaction():
                    self._record(backend, "migration", m.id, by_id[m.id].sha256)
                result.applied.append(m.id)
            result.repeatables = self._apply_repeatables(backend)
            result.after = self._apply_after(result.applied)
        return result

    def _apply_after(self, applied: list[str]) -> list[str]:
        """sql/after/<id>.sql of the migrations applied in this run, in order, as crm_owner."""
        done = []
        for mid in applied:
            path = self.sql_path / "after" / f"{mid}.sql"
            if not path.exists():
                continue
            self.echo(f"  after      {path.name}")
            try:
                with psycopg.connect(self.dsn) as conn, conn.transaction():
                    conn.execute(f"SET LOCAL ROLE {OWNER_ROLE}")
                    conn.execute("SET LOCAL search_path = ''")
                    conn.execute("SET LOCAL client_min_messages = warning")
                    conn.execute(path.read_text(encoding="utf-8"))
            except psycopg.Error as e:
                err = CrmError.from_psycopg(e)
                raise MigrationError(f"after/{path.name}: {err.message}", sqlstate=err.sqlstate,
                                     detail=err.detail,
                                     hint=err.hint or f"{mid} is applied; fix the cause and run "
                                     f"sql/after/{path.name} by hand (it is safe to run twice)") from e
            done.append(mid)
        return done

    @staticmethod
    def _record(backend, kind: str, name: str, sha: str) -> None:
        backend.execute(
            f"INSERT INTO {CHECKSUM_TABLE} (kind, name, sha256) VALUES (:kind, :name, :sha) "
            "ON CONFLICT (kind, name) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now()",
            {"kind": kind, "name": name, "sha": sha})

    def _apply_repeatables(self, backend) -> list[RepeatableInfo]:
        # the files run in one transaction that takes ACCESS EXCLUSIVE locks (DROP/CREATE
        # POLICY, triggers) on live tables: a session or an autovacuum worker waiting for this
        # transaction while holding one of those tables deadlocks with it (seen against an
        # autovacuum cleaning a GIN index). PostgreSQL aborts one side; when it is this one,
        # nothing was applied, and the whole transaction is tried again (a few times).
        for attempt in range(1, REPEATABLE_ATTEMPTS + 1):
            try:
                return self._apply_repeatables_once(backend)
            except MigrationError as e:
                if e.sqlstate != "40P01" or attempt == REPEATABLE_ATTEMPTS:
                    raise
                self.echo(f"  deadlock while applying the repeatable files (attempt {attempt}); retrying")
                time.sleep(0.5 * attempt)
        raise AssertionError("unreachable")

    def _apply_repeatables_once(self, backend) -> list[RepeatableInfo]:
        _, reps = self._collect(backend)
        with psycopg.connect(self.dsn) as conn, conn.transaction():
            # a second migrator's bootstrap (roles, adopt.sql: ALTER ... OWNER over the same
            # objects) runs before it reaches yoyo's lock: it and these files take turns
            # (seen as a deadlock in rls/owner.sql with two migrators at once)
            conn.execute("SELECT pg_catalog.pg_advisory_xact_lock(%s)", (BOOTSTRAP_LOCK,))
            # as the owner: every function, view and policy belongs to crm_owner
            conn.execute(f"SET LOCAL ROLE {OWNER_ROLE}")
            conn.execute("SET LOCAL lock_timeout = '10s'")
            conn.execute("SET LOCAL check_function_bodies = off")
            # SQL-standard function bodies (RETURN / BEGIN ATOMIC) are bound when created:
            # bind them to schema-qualified objects and pg_catalog only, never to whatever
            # the migrating role's search_path holds
            conn.execute("SET LOCAL search_path = ''")
            conn.execute("SET LOCAL client_min_messages = warning")
            for r in reps:
                if r.state != "unchanged":
                    self.echo(f"  {r.state:>9}  {r.name}")
                try:
                    conn.execute(r.path.read_text(encoding="utf-8"))
                except psycopg.Error as e:
                    err = CrmError.from_psycopg(e)
                    raise MigrationError(f"{r.name}: {err.message}", sqlstate=err.sqlstate,
                                         detail=err.detail,
                                         hint=err.hint or "no repeatable file was applied "
                                         "(they run in one transaction)") from e
            # the bookkeeping table belongs to the migrating role, not to crm_owner
            conn.execute("RESET ROLE")
            for r in reps:
                conn.execute(
                    f"INSERT INTO {CHECKSUM_TABLE} (kind, name, sha256) VALUES ('repeatable', %s, %s) "
                    "ON CONFLICT (kind, name) DO UPDATE SET sha256 = EXCLUDED.sha256, "
                    "applied_at = CASE WHEN "
                    f"{CHECKSUM_TABLE}.sha256 = EXCLUDED.sha256 THEN {CHECKSUM_TABLE}.applied_at "
                    "ELSE now() END", (r.name, r.sha256))
            names = [r.name for r in reps]
            conn.execute(f"DELETE FROM {CHECKSUM_TABLE} WHERE kind = 'repeatable' "
                         "AND NOT (name = ANY(%s))", (names,))
        return reps

    def rollback(self, count: int = 1) -> list[str]:
        backend = self._backend()
        done: list[str] = []
        with backend.lock(timeout=self.lock_timeout):
            self._ensure_checksum_table(backend)
            migrations = self._migrations()
            to_rollback = list(backend.to_rollback(migrations))[:count]
            for m in to_rollback:
                p = Path(m.path)
                if not p.with_name(p.stem + ".rollback.sql").exists():
                    raise MigrationError(
                        f"{p.name} has no rollback file; it cannot be rolled back",
                        sqlstate="CR901",
                        detail=f"rolled back so far: {', '.join(done) or 'nothing'}",
                        hint="write a forward migration that undoes it instead")
            for m in to_rollback:
                self.echo(f"rolling back {Path(m.path).name}")
                try:
                    self._run_steps(backend, m, "rollback")
                except psycopg.Error as e:
                    err = CrmError.from_psycopg(e)
                    raise MigrationError(f"{Path(m.path).name}: {err.message}", sqlstate=err.sqlstate,
                                         detail=err.detail, hint=err.hint) from e
                with backend.transaction():
                    backend.execute(f"DELETE FROM {CHECKSUM_TABLE} WHERE kind = 'migration' AND name = :n",
                                    {"n": m.id})
                    # Repeatable objects may have been dropped with the schema they lived on:
                    # forget their hashes so the next migrate reports them as new.
                    backend.execute(f"DELETE FROM {CHECKSUM_TABLE} WHERE kind = 'repeatable'")
                done.append(m.id)
        return done

    def break_lock(self) -> None:
        self._backend().break_lock()
