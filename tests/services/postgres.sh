#!/usr/bin/env bash
# Starts or stops the tests' PostgreSQL 15 on 127.0.0.1:PORT with a database "pipy_test"
# (user "postgres", trust authentication, fsync off: test data only).
#
# Usage: tests/services/postgres.sh start|stop|pause|resume|url [PORT]   (PORT: 17432)
#   start   init (first time) and start; reuses a server already running and counts users
#   stop    stops when the last user leaves, and removes the data
#   pause   stops the server but keeps its data (fault tests: an outage)
#   resume  starts a paused server again on the same data
#   url     prints the database's URL
#
# The data lives in /tmp/pipy-postgres-PORT, owned by the postgres user (the server refuses
# to run as root; run as root, the script uses runuser).
set -euo pipefail

action=${1:-}
port=${2:-${PIPY_PG_PORT:-17432}}
state=/tmp/pipy-postgres-$port
db=pipy_test
url="postgresql://postgres@127.0.0.1:$port/$db"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

if [[ "$action" == url ]]; then
  echo "$url"
  exit 0
fi
if [[ -z "$bin" ]]; then
  echo "postgres.sh: PostgreSQL is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

exec 9>"$state.lock"
flock 9

running() {
  [[ -d "$state/data" ]] && as_postgres "$bin/pg_ctl" -D "$state/data" status >/dev/null 2>&1
}

server_start() {
  if ! as_postgres "$bin/pg_ctl" -D "$state/data" -l "$state/log" -w -t 30 \
      -o "-p $port -k $state -c listen_addresses=127.0.0.1 -c fsync=off \
          -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 9>&-; then
    echo "postgres.sh: PostgreSQL did not start on port $port:" >&2
    tail -n 20 "$state/log" >&2 || true
    exit 1
  fi
}

server_stop() {
  if running; then
    as_postgres "$bin/pg_ctl" -D "$state/data" -m fast -w -t 30 stop >/dev/null
  fi
}

case "$action" in
  start)
    if running; then
      echo $(( $(cat "$state/users" 2>/dev/null || echo 0) + 1 )) > "$state/users"
      echo "postgres.sh: reusing PostgreSQL on port $port"
      exit 0
    fi
    if [[ ! -f "$state/data/PG_VERSION" ]]; then
      rm -rf "$state"
      mkdir -p "$state"
      if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$state"
      fi
      chmod 700 "$state"
      as_postgres "$bin/initdb" -D "$state/data" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$state/initdb.log" 2>&1 || {
        cat "$state/initdb.log" >&2
        exit 1
      }
    fi
    server_start
    if [[ -z $(psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
      psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE $db" >/dev/null
    fi
    echo 1 > "$state/users"
    echo "postgres.sh: PostgreSQL on $url"
    ;;
  stop)
    users=$(( $(cat "$state/users" 2>/dev/null || echo 1) - 1 ))
    if (( users > 0 )); then
      echo "$users" > "$state/users"
      exit 0
    fi
    server_stop
    rm -rf "$state"
    ;;
  pause)
    server_stop
    ;;
  resume)
    if ! running; then
      server_start
    fi
    ;;
  *)
    echo "usage: $0 start|stop|pause|resume|url [PORT]" >&2
    exit 2
    ;;
esac
