#!/usr/bin/env bash
# Pipy's npm benchmark: pipy's /npm/ against Verdaccio 6.8.0 and against nginx serving
# pipy's own packuments and tarballs as static files, in one run.
#
#   bench/npm.sh [--quick]        (`make bench` runs it after run.sh)
#
#   --quick   smoke run: 2 s wrk runs, 60 sequential publishes, 3 race rounds, one npm
#             install per server; written to bench/out/npm-results-quick.md. Its numbers are
#             not a measurement.
#
# One run: generates npm tarballs (bench/npm_gen.py: a 1-version, a 100-version and a
# 1 MiB package, 50 internal packages depending on each other, the publish sets), starts
# pipy and Verdaccio (bench/npm/, pinned by its package-lock; installed with `npm ci` when
# missing) on loopback, publishes everything to both with npm's PUT body, copies pipy's
# packuments and tarballs into a docroot for a tuned nginx, runs wrk per endpoint against
# the three servers in turn (server CPU per request from /proc), times sequential publishes
# on one keep-alive connection, runs the 16-way publish race, and times `npm install` of the
# 50 internal packages with a cold cache from pipy and from Verdaccio. Results:
# bench/out/npm-results.md; logs of the last run: bench/out/npm-last-run/ (--quick:
# npm-last-run-quick/). Traffic goes to 127.0.0.1 only (Verdaccio has no uplinks and no
# audit middleware); every wait is bounded; the servers are stopped at exit, on errors too.
# Needs /usr/bin/python3, wrk, nginx, node and npm.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
OUT=${BENCH_OUT:-$BENCH/out}
PY=/usr/bin/python3
PIPY=${PIPY:-$ROOT/build/src/pipy}
VERDACCIO_DIR=$BENCH/npm
VERDACCIO_VERSION=6.8.0

QUICK=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "bench: unknown option $arg" >&2; exit 2 ;;
  esac
done
if [[ $QUICK == 1 ]]; then
  DURATION=2s; SEQ=60; RACE_ROUNDS=3; INSTALL_RUNS=1
else
  DURATION=10s; SEQ=500; RACE_ROUNDS=10; INSTALL_RUNS=5
fi
SEQ_MAX_SECONDS=90            # a slow server stops early; its rate is still exact
CORES=$(nproc)
SERVER_THREADS=$CORES         # pipy I/O threads = nginx workers (`auto`) = cores

for tool in "$PY" wrk nginx node npm; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make bench installs it)" >&2; exit 1; }
done
[[ -x $PIPY ]] || { echo "bench: no pipy binary at $PIPY (build it first)" >&2; exit 1; }

log() { printf '[npm-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

VERDACCIO_JS=$VERDACCIO_DIR/node_modules/verdaccio/bin/verdaccio
installed_version() {
  node -p 'require(process.argv[1]).version' "$VERDACCIO_DIR/node_modules/verdaccio/package.json" 2>/dev/null || true
}
if [[ $(installed_version) != "$VERDACCIO_VERSION" ]]; then
  log "installing Verdaccio $VERDACCIO_VERSION into $VERDACCIO_DIR (npm ci, from the lockfile)"
  (cd "$VERDACCIO_DIR" && timeout 600 npm ci --no-audit --no-fund --ignore-scripts >&2)
  [[ $(installed_version) == "$VERDACCIO_VERSION" ]] \
    || { echo "bench: Verdaccio $VERDACCIO_VERSION is not installed in $VERDACCIO_DIR" >&2; exit 1; }
fi

mkdir -p "$OUT"
LAST=$OUT/npm-last-run                 # a smoke run keeps its logs apart from a measurement's
[[ $QUICK == 1 ]] && LAST=$OUT/npm-last-run-quick
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
RUN=$(mktemp -d /tmp/pipy-npm-bench.XXXXXX)
chmod 755 "$RUN"
# A private copy: a rebuild of build/src/pipy during the run cannot mix two binaries.
cp "$PIPY" "$RUN/pipy"
PIPY_SHA=$(sha256sum "$PIPY" | cut -c1-12)
PIPY=$RUN/pipy
PIPY_PID=""
NGINX_PID=""
VERDACCIO_PID=""

problem() { log "PROBLEM: $*"; printf '%s\n' "$*" >>"$RUN/problems.txt"; }

# Stops one process this script started: SIGTERM, up to 10 s, then SIGKILL.
stop_pid() {
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    problem "process $pid did not stop within 10 s of SIGTERM; killed"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$PIPY_PID"
  stop_pid "$NGINX_PID"
  stop_pid "$VERDACCIO_PID"
  if [[ -d $RUN ]]; then
    rm -rf "$LAST"
    mkdir -p "$LAST"
    cp "$RUN"/*.log "$RUN"/*.json "$RUN"/*.jsonl "$RUN"/*.toml "$RUN"/*.yaml \
      "$RUN"/problems.txt "$LAST/" 2>/dev/null || true
    cp "$RUN/nginx/nginx.conf" "$RUN/nginx/error.log" "$LAST/" 2>/dev/null || true
    rm -rf "$RUN"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready NAME PORT PATH PID LOG: up to 60 s for a 200 on PATH.
wait_ready() {
  if ! "$PY" "$BENCH/httpclient.py" wait "$2" "$3" 60 "$4"; then
    tail -20 "$5" >&2 || true
    echo "bench: $1 did not become ready on port $2 (log above)" >&2
    exit 1
  fi
}

# ---------------------------------------------------------------- 1. packages
GEN=$RUN/gen
log "generating npm tarballs ($SEQ sequential publishes, $RACE_ROUNDS race rounds)"
"$PY" "$BENCH/npm_gen.py" --out "$GEN" --seq "$SEQ" --race-rounds "$RACE_ROUNDS"

# ---------------------------------------------------------------- 2. servers
CONF=$RUN/pipy.toml
cat >"$CONF" <<EOF
[server]
threads = $SERVER_THREADS
access_log = false
EOF
DATA=$RUN/data
mkdir -p "$DATA"
PIPY_TOKEN=$("$PIPY" token create --data "$DATA" --config "$CONF" --name bench \
  --scope 'upload:*' 2>>"$RUN/token.log" | tail -n 1)
[[ -n $PIPY_TOKEN ]] || { echo "bench: pipy token create printed no token" >&2; exit 1; }
PIPY_PORT=$(free_port)
"$PIPY" serve --data "$DATA" --listen "127.0.0.1:$PIPY_PORT" --config "$CONF" >"$RUN/pipy.log" 2>&1 &
PIPY_PID=$!
wait_ready pipy "$PIPY_PORT" /npm/-/ping "$PIPY_PID" "$RUN/pipy.log"
log "pipy pid $PIPY_PID on 127.0.0.1:$PIPY_PORT ($SERVER_THREADS threads)"

# Verdaccio as its docs set it up for a private registry, minus everything that would reach
# the internet: htpasswd users, publish for authenticated users, no uplinks, no audit
# middleware, no web UI, logs at warn (pipy's access log is off too). API tokens are JWTs:
# Verdaccio's default (legacy AES) tokens carry the password, so every authenticated request
# pays a bcrypt check and publishes drop to about 10/s; an operator who publishes a lot
# configures JWTs, so the reference does too.
VERD_PORT=$(free_port)
mkdir -p "$RUN/verdaccio/storage"
cat >"$RUN/verdaccio.yaml" <<EOF
storage: $RUN/verdaccio/storage
auth:
  htpasswd:
    file: $RUN/verdaccio/htpasswd
    max_users: 10
uplinks: {}
packages:
  '@*/*':
    access: \$all
    publish: \$authenticated
    unpublish: \$authenticated
  '**':
    access: \$all
    publish: \$authenticated
    unpublish: \$authenticated
server:
  keepAliveTimeout: 60
web:
  enable: false
max_body_size: 1000mb
log: { type: stdout, format: pretty, level: warn }
security:
  api:
    jwt:
      sign:
        expiresIn: 30d
listen: 127.0.0.1:$VERD_PORT
EOF
node "$VERDACCIO_JS" --config "$RUN/verdaccio.yaml" >"$RUN/verdaccio.log" 2>&1 &
VERDACCIO_PID=$!
wait_ready Verdaccio "$VERD_PORT" /-/ping "$VERDACCIO_PID" "$RUN/verdaccio.log"
# npm adduser's call: the answer holds the token npm would store in .npmrc.
VERD_TOKEN=$("$PY" - "$VERD_PORT" <<'EOF'
import json, sys, urllib.request
port = int(sys.argv[1])
body = json.dumps({"name": "bench", "password": "bench-password-1", "type": "user"}).encode()
req = urllib.request.Request("http://127.0.0.1:%d/-/user/org.couchdb.user:bench" % port,
                             data=body, method="PUT",
                             headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=30))["token"])
EOF
)
[[ -n $VERD_TOKEN ]] || { echo "bench: Verdaccio gave no token" >&2; exit 1; }
log "Verdaccio $VERDACCIO_VERSION pid $VERDACCIO_PID on 127.0.0.1:$VERD_PORT"

# ---------------------------------------------------------------- 3. publish the data
LOAD_SETS=one,hundred,big,internal
log "publishing $LOAD_SETS to pipy and to Verdaccio"
"$PY" "$BENCH/npm_publish.py" load --label pipy --gen "$GEN" --port "$PIPY_PORT" \
  --prefix /npm/ --token "$PIPY_TOKEN" --sets "$LOAD_SETS" --json "$RUN/load-pipy.json" \
  || problem "publishing to pipy had errors (load-pipy.json)"
"$PY" "$BENCH/npm_publish.py" load --label verdaccio --gen "$GEN" --port "$VERD_PORT" \
  --prefix / --token "$VERD_TOKEN" --sets "$LOAD_SETS" --json "$RUN/load-verdaccio.json" \
  || problem "publishing to Verdaccio had errors (load-verdaccio.json)"

# ---------------------------------------------------------------- 4. nginx on pipy's bytes
DOCROOT=$RUN/docroot
"$PY" "$BENCH/npm_static.py" --port "$PIPY_PORT" --docroot "$DOCROOT" --gen "$GEN" \
  --package bench-one --package bench-hundred --package bench-big >"$RUN/static.json" \
  || problem "pipy's packuments disagree with what was published: $(cat "$RUN/static.json")"
NGINX_PORT=$(free_port)
mkdir -p "$RUN/nginx"
NGINX_USER=""
[[ $(id -u) == 0 ]] && NGINX_USER="user root;"
cat >"$RUN/nginx/nginx.conf" <<EOF
# Generated by bench/npm.sh: pipy's packuments and tarballs as static files, tuned as an
# operator tunes nginx for static files.
$NGINX_USER
worker_processes auto;
worker_rlimit_nofile 65536;
daemon off;
pid $RUN/nginx/nginx.pid;
error_log $RUN/nginx/error.log warn;
events { worker_connections 8192; multi_accept on; }
http {
  types {
    application/json json;
    application/vnd.npm.install-v1+json abbrev;
    application/octet-stream tgz;
  }
  default_type application/json;
  access_log off;
  server_tokens off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  open_file_cache max=10000 inactive=60s;
  open_file_cache_valid 60s;
  open_file_cache_min_uses 1;
  open_file_cache_errors on;
  keepalive_timeout 60s;
  keepalive_requests 1000000;
  client_body_temp_path $RUN/nginx/body;
  # npm's abbreviated document by Accept, like pipy (a substring match, no q-values).
  map \$http_accept \$packument {
    default index.json;
    "~application/vnd\.npm\.install-v1\+json" index.abbrev;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT reuseport backlog=4096;
    root $DOCROOT;
    location ~ ^/npm/.+/-/[^/]+\.tgz\$ {
      add_header Cache-Control "public, max-age=31536000, immutable";
    }
    location /npm/ {
      try_files \$uri/\$packument =404;
      add_header Vary Accept;
      add_header Cache-Control "max-age=60, public";
    }
  }
}
EOF
nginx -t -c "$RUN/nginx/nginx.conf" -p "$RUN/nginx/" >"$RUN/nginx-test.log" 2>&1 \
  || { cat "$RUN/nginx-test.log" >&2; exit 1; }
nginx -c "$RUN/nginx/nginx.conf" -p "$RUN/nginx/" >"$RUN/nginx.log" 2>&1 &
NGINX_PID=$!
wait_ready nginx "$NGINX_PORT" /npm/bench-one "$NGINX_PID" "$RUN/nginx/error.log"
log "nginx pid $NGINX_PID on 127.0.0.1:$NGINX_PORT (worker_processes auto = $CORES)"

# ---------------------------------------------------------------- 5. wrk
ABBREVIATED='application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'
wrk_one() {  # SERVER PORT PID NAME PATH [wrk_run args...]
  local server=$1 port=$2 pid=$3 name=$4 path=$5
  shift 5
  "$PY" "$BENCH/npm_wrk.py" --server "$server" --name "$name" --port "$port" --pid "$pid" \
    --path "$path" --duration "$DURATION" --out "$RUN/wrk.jsonl" --log "$RUN/wrk.log" "$@" \
    || problem "wrk failed for $server $name"
}
wrk_all() {  # NAME PATH-AFTER-REGISTRY-ROOT [wrk_run args...]: pipy, nginx, Verdaccio in turn
  local name=$1 path=$2
  shift 2
  wrk_one pipy "$PIPY_PORT" "$PIPY_PID" "$name" "/npm/$path" "$@"
  wrk_one nginx "$NGINX_PORT" "$NGINX_PID" "$name" "/npm/$path" "$@"
  wrk_one verdaccio "$VERD_PORT" "$VERDACCIO_PID" "$name" "/$path" "$@"
}
log "wrk: $DURATION per endpoint and server"
wrk_all full_1 bench-one --accept application/json
wrk_all abbrev_1 bench-one --accept "$ABBREVIATED"
wrk_all full_100 bench-hundred --accept application/json
wrk_all abbrev_100 bench-hundred --accept "$ABBREVIATED"
wrk_all tarball_small bench-one/-/bench-one-1.0.0.tgz
wrk_all tarball_1m bench-big/-/bench-big-1.0.0.tgz
stop_pid "$NGINX_PID"
NGINX_PID=""

# ---------------------------------------------------------------- 6. publishes
log "sequential publishes ($SEQ new versions over 10 packages, one keep-alive connection)"
"$PY" "$BENCH/npm_publish.py" sequential --label pipy --gen "$GEN" --port "$PIPY_PORT" \
  --prefix /npm/ --token "$PIPY_TOKEN" --sets seq --pid "$PIPY_PID" \
  --max-seconds "$SEQ_MAX_SECONDS" --json "$RUN/seq-pipy.json" \
  || problem "sequential publishes to pipy had errors (seq-pipy.json)"
"$PY" "$BENCH/npm_publish.py" sequential --label verdaccio --gen "$GEN" --port "$VERD_PORT" \
  --prefix / --token "$VERD_TOKEN" --sets seq --pid "$VERDACCIO_PID" \
  --max-seconds "$SEQ_MAX_SECONDS" --json "$RUN/seq-verdaccio.json" \
  || problem "sequential publishes to Verdaccio had errors (seq-verdaccio.json)"
log "16-way publish race ($RACE_ROUNDS rounds, a new package each)"
"$PY" "$BENCH/npm_publish.py" race --label pipy --gen "$GEN" --port "$PIPY_PORT" \
  --prefix /npm/ --token "$PIPY_TOKEN" --sets race --json "$RUN/race-pipy.json" \
  || problem "the race against pipy could not run"
"$PY" "$BENCH/npm_publish.py" race --label verdaccio --gen "$GEN" --port "$VERD_PORT" \
  --prefix / --token "$VERD_TOKEN" --sets race --json "$RUN/race-verdaccio.json" \
  || problem "the race against Verdaccio could not run"

# ---------------------------------------------------------------- 7. npm install
log "npm install of the 50 internal packages, cold cache, $INSTALL_RUNS run(s) per server"
mkdir -p "$RUN/install"
"$PY" "$BENCH/npm_install.py" --gen "$GEN" --runs "$INSTALL_RUNS" --work "$RUN/install" \
  --registry "pipy=http://127.0.0.1:$PIPY_PORT/npm/" \
  --registry "verdaccio=http://127.0.0.1:$VERD_PORT/" --json "$RUN/install.json" \
  || problem "some npm installs failed (install.json)"

kill -0 "$PIPY_PID" 2>/dev/null || problem "pipy (pid $PIPY_PID) died during the run"
kill -0 "$VERDACCIO_PID" 2>/dev/null || problem "Verdaccio (pid $VERDACCIO_PID) died during the run"
# Nothing may have left loopback: Verdaccio's sockets to anything but 127.0.0.1.
OUTSIDE=$(ss -tnp 2>/dev/null | grep "pid=$VERDACCIO_PID," | awk '{print $5}' \
  | grep -v '^127\.0\.0\.1:' || true)
[[ -z $OUTSIDE ]] || problem "Verdaccio has connections off loopback: $OUTSIDE"
ERRLINES=$(grep -ihE 'error|fatal|abort|exception|terminate' "$RUN/pipy.log" 2>/dev/null | head -5 || true)
[[ -z $ERRLINES ]] || problem "pipy logged errors, first lines: $(printf '%s' "$ERRLINES" | tr '\n' '|' | cut -c1-600)"
PIPY_HWM=$(awk '/^VmHWM:/ {print $2}' "/proc/$PIPY_PID/status" 2>/dev/null || echo 0)
VERD_HWM=$(awk '/^VmHWM:/ {print $2}' "/proc/$VERDACCIO_PID/status" 2>/dev/null || echo 0)
stop_pid "$PIPY_PID"
PIPY_PID=""
stop_pid "$VERDACCIO_PID"
VERDACCIO_PID=""

# ---------------------------------------------------------------- 8. report
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
COMMIT="$COMMIT (binary sha256 $PIPY_SHA)"
git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || COMMIT="$COMMIT + uncommitted changes in src/"
"$PY" - "$RUN" <<EOF
import json, os, sys
run = sys.argv[1]
problems = []
if os.path.exists(run + "/problems.txt"):
    problems = [l.strip() for l in open(run + "/problems.txt") if l.strip()]
json.dump({"quick": $QUICK == 1, "duration": "$DURATION", "seq": $SEQ,
           "race_rounds": $RACE_ROUNDS, "install_runs": $INSTALL_RUNS, "cores": $CORES,
           "pipy_threads": $SERVER_THREADS, "commit": "$COMMIT",
           "nginx_version": "$(nginx -v 2>&1 | sed 's/.*nginx\///')",
           "node_version": "$(node --version)", "npm_version": "$(npm --version)",
           "verdaccio_version": "$VERDACCIO_VERSION",
           "loadavg": {"start": "$LOAD_START", "end": "$(cut -d' ' -f1-3 /proc/loadavg)"},
           "rss_kib": {"pipy": int("${PIPY_HWM:-0}" or 0), "verdaccio": int("${VERD_HWM:-0}" or 0)},
           "problems": problems}, open(run + "/meta.json", "w"))
EOF
RESULTS=$OUT/npm-results.md
[[ $QUICK == 1 ]] && RESULTS=$OUT/npm-results-quick.md
"$PY" "$BENCH/npm_report.py" --run "$RUN" --out "$RESULTS"
log "results written to $RESULTS; logs in $LAST/"
