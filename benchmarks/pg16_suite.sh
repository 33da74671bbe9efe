#!/usr/bin/env bash
# Run the crm360 test suite against PostgreSQL 16 (DESIGN §1: "any PostgreSQL >= 16").
#
# PostgreSQL 16 comes from the `pgserver` wheel (PyPI; PostgreSQL 16.2 + pgvector 0.6.2) in a
# venv of its own. That wheel has no contrib, and crm360 needs pg_trgm: it is built here with
# PGXS against the wheel's headers from the pg_trgm sources of Debian's postgresql-15 source
# package (same extension version, 1.6), patched for 16 (the varatt.h split; 15.18's backported
# bounded-mblen helpers, which 16.2 lacks, replaced by their unbounded originals). apt uses a
# private sources list and state directory under $WORK: the system's apt configuration is not
# touched. The server runs on a Unix socket only (no TCP), in its own data directory, as an
# unprivileged OS user when run as root.
#
#   bash benchmarks/pg16_suite.sh [pytest args...]      # default: the whole suite, -q
#
# Environment: WORK (default /tmp/crm360-pg16), PY (the project's python, default
# .venv/bin/python), PG16_PORT (default 5416). Exit status: pytest's.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-/tmp/crm360-pg16}
PY=${PY:-.venv/bin/python}
PORT=${PG16_PORT:-5416}
VENV=$WORK/venv
DATA=$WORK/data
mkdir -p "$WORK"

# 1. PostgreSQL 16 from PyPI
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q pgserver
fi
PG=$("$VENV/bin/python" -c 'import pgserver, pathlib; print(pathlib.Path(pgserver.__file__).parent / "pginstall")')
"$PG/bin/postgres" --version

# 2. pg_trgm for it (built once)
if [ ! -f "$PG/share/postgresql/extension/pg_trgm.control" ]; then
    APT=$WORK/apt
    mkdir -p "$APT/lists/partial"
    echo "deb-src http://deb.debian.org/debian bookworm main" > "$APT/sources.list"
    O=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$APT/lists")
    apt-get "${O[@]}" update -qq
    (cd "$APT" && apt-get "${O[@]}" source --download-only -qq postgresql-15)
    SRC=$(ls -d "$APT"/postgresql-15_*.orig.tar.bz2 | head -1)
    rm -rf "$APT/src" && mkdir -p "$APT/src"
    tar xjf "$SRC" -C "$APT/src" --wildcards '*/contrib/pg_trgm'
    T=$(ls -d "$APT"/src/*/contrib/pg_trgm)
    sed -i 's|#include "access/gist.h"|#include "access/gist.h"\n#include "varatt.h"|' "$T/trgm.h"
    sed -i -E 's/t_is(alpha|digit|space)_with_len\(c, len\)/t_is\1(c)/g' "$T/trgm.h"
    sed -i '0,/#include "postgres.h"/s||#include "postgres.h"\n#include "varatt.h"\n#include "fmgr.h"\n#include "utils/guc.h"\n#include "utils/array.h"\n#include "utils/builtins.h"|' "$T/trgm_op.c"
    sed -i -E 's/pg_mblen_range\(([^,]+), [a-z]+\)/pg_mblen(\1)/g; s/pg_mblen_unbounded\(/pg_mblen(/g' "$T/trgm_op.c"
    make -s -C "$T" USE_PGXS=1 PG_CONFIG="$PG/bin/pg_config" >/dev/null
    make -s -C "$T" USE_PGXS=1 PG_CONFIG="$PG/bin/pg_config" install >/dev/null
fi

# 2b. pgvector >= 0.7 (DESIGN §1; the migrator refuses older): the wheel has 0.6.2. Built once
# from Debian trixie's pgvector source package (0.8.0), without -march=native.
if ! grep -q "default_version = '0\.[89]\|default_version = '[1-9]" "$PG/share/postgresql/extension/vector.control"; then
    APT=$WORK/apt
    mkdir -p "$APT/lists-trixie/partial" "$APT/src"
    echo "deb-src http://deb.debian.org/debian trixie main" > "$APT/sources-trixie.list"
    O=(-o "Dir::Etc::SourceList=$APT/sources-trixie.list" -o Dir::Etc::SourceParts=/dev/null
       -o "Dir::State::Lists=$APT/lists-trixie")
    apt-get "${O[@]}" update -qq
    (cd "$APT" && apt-get "${O[@]}" source --download-only -qq pgvector)
    tar xzf "$(ls "$APT"/pgvector_*.orig.tar.gz | head -1)" -C "$APT/src"
    V=$(ls -d "$APT"/src/pgvector-* | head -1)
    make -s -C "$V" USE_PGXS=1 PG_CONFIG="$PG/bin/pg_config" OPTFLAGS="" >/dev/null
    make -s -C "$V" USE_PGXS=1 PG_CONFIG="$PG/bin/pg_config" OPTFLAGS="" install >/dev/null
fi

# 3. a PostgreSQL 16 cluster of its own (Unix socket in the data directory)
RUN=()
if [ "$(id -u)" = 0 ]; then
    id crm360pg16 >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin crm360pg16
    chown crm360pg16 "$WORK"
    RUN=(setpriv --reuid=crm360pg16 --regid="$(id -g crm360pg16)" --clear-groups)
fi
if [ ! -f "$DATA/PG_VERSION" ]; then
    "${RUN[@]}" "$PG/bin/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
"${RUN[@]}" "$PG/bin/pg_ctl" -D "$DATA" -l "$WORK/server.log" -w \
    -o "-c listen_addresses='' -c unix_socket_directories=$DATA -p $PORT -c fsync=off -c max_connections=200" start
trap '"${RUN[@]}" "$PG/bin/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null' EXIT
export DATABASE_URL="postgresql://postgres@/postgres?host=$DATA&port=$PORT"
"$PG/bin/psql" "$DATABASE_URL" -Atc "SELECT version()"
"$PG/bin/psql" "$DATABASE_URL" -Atc "SELECT name, default_version FROM pg_available_extensions WHERE name IN ('vector', 'pg_trgm') ORDER BY 1"

# 4. the suite
set +e
"$PY" -m pytest -q -p no:cacheprovider "${@:-tests}"
status=$?
exit $status
