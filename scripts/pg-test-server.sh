#!/usr/bin/env bash
# A throw-away PostgreSQL + PostGIS server for the store tests and benchmarks.
#
#   eval "$(scripts/pg-test-server.sh)"        # start; exports STRIKE_ATLAS_TEST_PG_URL/_DIR
#   scripts/pg-test-server.sh stop "$STRIKE_ATLAS_TEST_PG_DIR"
#
# The cluster lives in a new temporary folder, listens on 127.0.0.1 only (on a free port, plus a
# Unix socket inside that folder), runs with fsync off (test data only!) and has:
#   - a role `atlas` (password login, CREATEDB, not a superuser), owner of database `atlas_test`;
#   - the postgis extension installed in `atlas_test` and in template1, so databases the tests
#     create for isolation have it too (a plain role may not CREATE EXTENSION postgis).
# Only the `export …` lines go to stdout; progress and errors go to stderr. The folder is made
# under /tmp (or $PG_TEST_TMPDIR); PG_BINDIR picks another PostgreSQL than the newest installed.
# Works as root (the server runs as the `postgres` user, which Debian's postgresql package
# creates) or as an ordinary user (the server runs as that user).
# Needs: apt-get install postgresql postgis   (Debian/Ubuntu; binaries in /usr/lib/postgresql/*/bin)
set -euo pipefail

die() {
  echo "pg-test-server: $*" >&2
  exit 1
}

find_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then
    echo "$PG_BINDIR"
    return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ] && command -v pg_config >/dev/null 2>&1; then
    dir=$(pg_config --bindir)
  fi
  [ -n "$dir" ] && [ -x "$dir/initdb" ] ||
    die "no PostgreSQL server binaries found (apt-get install -y postgresql postgis, or set PG_BINDIR)"
  echo "$dir"
}

# Run a command as the server's owner: `postgres` when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null 2>&1; then
      runuser -u postgres -- "$@"
    else
      su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

free_port() {
  python3 - <<'EOF' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

stop() {
  local dir=${1:-}
  [ -n "$dir" ] || die "usage: $0 stop <dir>  (the STRIKE_ATLAS_TEST_PG_DIR printed at start)"
  [ -f "$dir/data/PG_VERSION" ] || die "$dir is not a server folder made by this script"
  local bindir
  bindir=$(find_bindir)
  as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  rm -rf -- "$dir"
  echo "pg-test-server: stopped and removed $dir" >&2
}

start() {
  local bindir dir port password superuser
  bindir=$(find_bindir)
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 ||
      die "running as root needs the 'postgres' user (apt-get install -y postgresql)"
    superuser=postgres
  else
    superuser=$(id -un)
  fi
  local sharedir
  sharedir=$("$bindir/pg_config" --sharedir 2>/dev/null || echo "/usr/share/postgresql/$(basename "$(dirname "$bindir")")")
  [ -f "$sharedir/extension/postgis.control" ] ||
    die "PostGIS is not installed for $bindir (apt-get install -y postgis, or postgresql-<major>-postgis-3)"

  # not $TMPDIR: it may be private to root, and the server runs as postgres
  dir=$(mktemp -d "${PG_TEST_TMPDIR:-/tmp}/strike-atlas-pg.XXXXXX")
  chmod 700 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

  as_owner "$bindir/initdb" -D "$dir/data" -U "$superuser" --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    as_owner "$bindir/initdb" -D "$dir/data" -U "$superuser" --auth-local=trust \
      --auth-host=scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; rm -rf -- "$dir"; die "initdb failed"; }

  local started=""
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off \
          -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
      start >/dev/null 2>&1; then
      started=1
      break
    fi
  done
  if [ -z "$started" ]; then
    cat "$dir/server.log" >&2 || true
    rm -rf -- "$dir"
    die "the server did not start"
  fi

  psql_su() {
    as_owner "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U "$superuser" "$@"
  }
  {
    psql_su -d template1 -c "CREATE EXTENSION IF NOT EXISTS postgis"
    psql_su -d postgres -c "CREATE ROLE atlas LOGIN CREATEDB PASSWORD '$password'"
    psql_su -d postgres -c "CREATE DATABASE atlas_test OWNER atlas"
  } >&2 || { stop "$dir"; die "could not create the role, database or postgis extension"; }

  echo "pg-test-server: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') with PostGIS on 127.0.0.1:$port, data in $dir" >&2
  echo "export STRIKE_ATLAS_TEST_PG_URL=postgresql://atlas:$password@127.0.0.1:$port/atlas_test"
  echo "export STRIKE_ATLAS_TEST_PG_DIR=$dir"
}

case "${1:-start}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) die "usage: $0 [start | stop <dir>]" ;;
esac
