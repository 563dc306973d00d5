#!/usr/bin/env bash
# Starts or stops the tests' S3 server (s3server.js) on 127.0.0.1:PORT with bucket
# "pipy-test". Usage: tests/services/s3.sh start|stop [PORT]   (PORT defaults to 17900)
#
# Shared by concurrent test runs on one machine: `start` reuses a server already running
# on the port and counts its users; `stop` stops it when the last user leaves. The server's
# data lives in a temp folder removed at the last stop.
set -euo pipefail

action=${1:-}
port=${2:-${PIPY_S3_PORT:-17900}}
here=$(cd "$(dirname "$0")" && pwd)
state=/tmp/pipy-s3-$port
mkdir -p "$state"
exec 9>"$state.lock"
flock 9

answers() {
  # Any HTTP answer means the server is up (an unsigned request gets 403 or 200).
  curl -s -o /dev/null -m 2 "http://127.0.0.1:$port/" 2>/dev/null
}

running() {
  [[ -f "$state/pid" ]] && kill -0 "$(cat "$state/pid")" 2>/dev/null
}

case "$action" in
  start)
    if running && answers; then
      echo $(( $(cat "$state/users" 2>/dev/null || echo 0) + 1 )) > "$state/users"
      echo "s3.sh: reusing the S3 server on port $port"
      exit 0
    fi
    if [[ ! -d "$here/node_modules/@20minutes/s3rver" ]]; then
      echo "s3.sh: $here/node_modules is missing; run scripts/install-deps.sh" >&2
      exit 1
    fi
    rm -rf "$state/data"
    mkdir -p "$state/data"
    NODE_OPTIONS=--openssl-legacy-provider nohup node "$here/s3server.js" "$port" \
      "$state/data" pipy-test < /dev/null > "$state/log" 2>&1 9>&- &
    echo $! > "$state/pid"
    for _ in $(seq 1 100); do
      if answers; then
        echo 1 > "$state/users"
        echo "s3.sh: S3 server on http://127.0.0.1:$port (pid $(cat "$state/pid"))"
        exit 0
      fi
      if ! running; then
        break
      fi
      sleep 0.1
    done
    echo "s3.sh: the S3 server did not start on port $port:" >&2
    cat "$state/log" >&2
    exit 1
    ;;
  stop)
    users=$(( $(cat "$state/users" 2>/dev/null || echo 1) - 1 ))
    if (( users > 0 )); then
      echo "$users" > "$state/users"
      exit 0
    fi
    if running; then
      pid=$(cat "$state/pid")
      kill "$pid"
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
    fi
    rm -rf "$state"
    exit 0
    ;;
  *)
    echo "usage: $0 start|stop [PORT]" >&2
    exit 2
    ;;
esac
