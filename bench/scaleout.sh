#!/usr/bin/env bash
# Scale-out benchmark (issue 4, item 7), as ratios measured in one run:
#
#   bench/scaleout.sh [--quick]
#
#   --quick   smoke run: 200 projects x 3 versions, 3 s wrk runs, one round. Its numbers are
#             not a measurement.
#
# 1. Starts a private S3 server (tests/services/s3.sh: s3rver, bucket "pipy-test") and a
#    private PostgreSQL (tests/services/postgres.sh), each on a free loopback port.
# 2. Downloads: `pipy serve` on S3 + SQLite with `[storage] redirect_downloads = true`; uploads
#    a 1 MiB and a 50 MiB wheel and keeps the 302's presigned Location of each; restarts pipy
#    on the same data with redirect_downloads off (pipy proxies the bytes); then wrk on the
#    pipy URL and on the presigned s3rver URL, alternately -> MiB/s ratio (target >= 0.8).
# 3. Project pages: the same index (500 x 3 by default, bench/gen_dists.py) uploaded into
#    `pipy serve` on filesystem + SQLite and on filesystem + PostgreSQL; every page fetched
#    once (cached), then wrk rotating over all project pages (bench/rotate.lua), HTML and
#    PEP 691 JSON, alternately -> req/s ratio (target: PostgreSQL >= 0.9 x SQLite) and p99.
# 4. Prints a Markdown table (date, machine) and writes bench/out/scaleout.md
#    (bench/out/scaleout-quick.md with --quick); logs in bench/out/last-run/scaleout/.
#
# Everything runs on 127.0.0.1; every wait is bounded; pipy, s3rver and PostgreSQL are stopped
# at exit (errors and Ctrl-C too). Needs Debian's /usr/bin/python3, wrk, node (s3rver from
# scripts/install-deps.sh) and PostgreSQL 15. Environment: PIPY (default build/src/pipy),
# BENCH_OUT (default bench/out), SCALEOUT_PROJECTS / SCALEOUT_VERSIONS (override the size).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
OUT=${BENCH_OUT:-$BENCH/out}
PY=/usr/bin/python3
PIPY=${PIPY:-$ROOT/build/src/pipy}
S3SH=$ROOT/tests/services/s3.sh
PGSH=$ROOT/tests/services/postgres.sh

QUICK=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,27p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "scaleout: unknown option $arg" >&2; exit 2 ;;
  esac
done
if [[ $QUICK == 1 ]]; then
  PROJECTS=${SCALEOUT_PROJECTS:-200}; VERSIONS=${SCALEOUT_VERSIONS:-3}; DURATION=3s; ROUNDS=1
else
  PROJECTS=${SCALEOUT_PROJECTS:-500}; VERSIONS=${SCALEOUT_VERSIONS:-3}; DURATION=10s; ROUNDS=3
fi
THREADS=2        # wrk threads
CONNS=16         # wrk connections
WORKERS=4        # bulk-upload clients
JSON_ACCEPT=application/vnd.pypi.simple.v1+json

for tool in "$PY" wrk node psql; do
  command -v "$tool" >/dev/null || { echo "scaleout: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
[[ -x $PIPY ]] || { echo "scaleout: no pipy binary at $PIPY (build it first)" >&2; exit 1; }

mkdir -p "$OUT"
RUN=$(mktemp -d /tmp/pipy-scaleout.XXXXXX)
chmod 755 "$RUN"
cp "$PIPY" "$RUN/pipy"  # a rebuild of build/src/pipy during the run cannot mix binaries
PIPY_SHA=$(sha256sum "$PIPY" | cut -c1-12)
PIPY=$RUN/pipy
PIDS=()          # pipy servers this script started
S3_PORT=""
PG_PORT=""

log() { printf '[scaleout %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
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
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do
    stop_pid "$pid"
  done
  # Private ports: nobody else uses these services, so their lock files go too.
  if [[ -n $S3_PORT ]]; then
    timeout 30 "$S3SH" stop "$S3_PORT" >/dev/null 2>&1 || true
    rm -f "/tmp/pipy-s3-$S3_PORT.lock"
  fi
  if [[ -n $PG_PORT ]]; then
    timeout 60 "$PGSH" stop "$PG_PORT" >/dev/null 2>&1 || true
    rm -f "/tmp/pipy-postgres-$PG_PORT.lock"
  fi
  if [[ -d $RUN ]]; then
    rm -rf "$OUT/last-run/scaleout"
    mkdir -p "$OUT/last-run/scaleout"
    cp "$RUN"/*.log "$RUN"/*.json "$RUN"/*.jsonl "$RUN"/*.toml "$RUN"/problems.txt \
      "$OUT/last-run/scaleout/" 2>/dev/null || true
    rm -rf "$RUN"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# write_config FILE [extra TOML...]
write_config() {
  local file=$1
  shift
  { printf '[server]\nthreads = 2\naccess_log = false\n\n'; printf '%s\n' "$@"; } >"$file"
}

# start_pipy NAME DATA CONFIG: starts `pipy serve` in the background, waits up to 60 s for
# /healthz; sets PORT_<NAME> and PID_<NAME>.
start_pipy() {
  local name=$1 data=$2 config=$3 port pid
  port=$(free_port)
  "$PIPY" serve --data "$data" --listen "127.0.0.1:$port" --config "$config" \
    >"$RUN/pipy-$name.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  if ! "$PY" "$BENCH/httpclient.py" wait "$port" /healthz 60 "$pid"; then
    tail -20 "$RUN/pipy-$name.log" >&2 || true
    echo "scaleout: pipy ($name) did not become ready on port $port (log above)" >&2
    exit 1
  fi
  printf -v "PORT_$name" '%s' "$port"
  printf -v "PID_$name" '%s' "$pid"
  log "pipy $name: pid $pid on 127.0.0.1:$port"
}

make_token() {  # DATA CONFIG -> prints the token
  "$PIPY" token create --data "$1" --config "$2" --name bench --scope 'upload:*' \
    2>>"$RUN/token.log" | tail -n 1
}

upload() {  # PORT TOKEN MANIFEST JSON
  "$PY" "$BENCH/upload.py" --port "$1" --token "$2" --manifest "$3" --workers "$WORKERS" \
    --json "$4" || { problem "uploads failed ($4)"; exit 1; }
}

measure() {  # LABEL NAME URL PID ROUND [scaleout.py wrk args...]
  local label=$1 name=$2 url=$3 pid=$4 round=$5
  shift 5
  "$PY" "$BENCH/scaleout.py" wrk --label "$label" --name "$name" --url "$url" --pid "$pid" \
    --round "$round" --duration "$DURATION" --threads "$THREADS" --conns "$CONNS" \
    --out "$RUN/wrk.jsonl" --log "$RUN/wrk.log" "$@" || problem "wrk failed: $label $name"
}

# ---------------------------------------------------------------- 0. distributions
DISTS=$OUT/dists-${PROJECTS}x${VERSIONS}
log "distributions: $PROJECTS projects x $VERSIONS versions (+1 MiB, 50 MiB wheels) in $DISTS"
"$PY" "$BENCH/gen_dists.py" --out "$DISTS" --projects "$PROJECTS" --versions "$VERSIONS" --big
# The two big wheels alone, for the S3 server (upload.py reads files from <manifest dir>/files).
mkdir -p "$RUN/big" "$RUN/small"
ln -s "$DISTS/files" "$RUN/big/files"
ln -s "$DISTS/files" "$RUN/small/files"
awk -F'\t' '$7 != "small"' "$DISTS/manifest.tsv" >"$RUN/big/manifest.tsv"
awk -F'\t' '$7 == "small"' "$DISTS/manifest.tsv" >"$RUN/small/manifest.tsv"
[[ $(wc -l <"$RUN/big/manifest.tsv") == 2 ]] || { echo "scaleout: no big wheels in $DISTS" >&2; exit 1; }
"$PY" "$BENCH/scaleout.py" paths --manifest "$RUN/small/manifest.tsv" --out "$RUN/pages.txt" >/dev/null

# ---------------------------------------------------------------- 1. services
S3_PORT=$(free_port)
log "starting s3rver on 127.0.0.1:$S3_PORT"
timeout 60 "$S3SH" start "$S3_PORT" >"$RUN/s3-start.log" 2>&1 \
  || { cat "$RUN/s3-start.log" >&2; exit 1; }
PG_PORT=$(free_port)
log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
timeout 120 "$PGSH" start "$PG_PORT" >"$RUN/postgres-start.log" 2>&1 \
  || { cat "$RUN/postgres-start.log" >&2; exit 1; }
PG_URL=$("$PGSH" url "$PG_PORT")

# ---------------------------------------------------------------- 2. downloads via S3
S3_TOML="[storage]
backend = \"s3\"
endpoint = \"http://127.0.0.1:$S3_PORT\"
bucket = \"pipy-test\"
prefix = \"bench/\"
access_key_id = \"S3RVER\"
secret_access_key = \"S3RVER\""
mkdir -p "$RUN/data-s3"
write_config "$RUN/s3-redirect.toml" "$S3_TOML" "redirect_downloads = true"
write_config "$RUN/s3.toml" "$S3_TOML" "redirect_downloads = false"
TOKEN=$(make_token "$RUN/data-s3" "$RUN/s3.toml")
[[ -n $TOKEN ]] || { echo "scaleout: pipy token create printed no token" >&2; exit 1; }
start_pipy s3redirect "$RUN/data-s3" "$RUN/s3-redirect.toml"
log "uploading the 1 MiB and 50 MiB wheels to pipy on S3"
upload "$PORT_s3redirect" "$TOKEN" "$RUN/big/manifest.tsv" "$RUN/upload-s3.json"
declare -A FILE_PATH DIRECT_URL
for kind in big1m big50m; do
  FILE_PATH[$kind]=$("$PY" "$BENCH/scaleout.py" fileurl --port "$PORT_s3redirect" --project "bench-$kind")
  # Presigned for 15 minutes (S3BlobStore): the direct runs below finish well within that.
  DIRECT_URL[$kind]=$("$PY" "$BENCH/scaleout.py" location --port "$PORT_s3redirect" \
    --path "${FILE_PATH[$kind]}")
done
stop_pid "$PID_s3redirect"
start_pipy s3 "$RUN/data-s3" "$RUN/s3.toml"
S3RVER_PID=$(cat "/tmp/pipy-s3-$S3_PORT/pid")
for ((round = 1; round <= ROUNDS; round++)); do
  for kind in big50m big1m; do
    measure pipy-s3 "$kind" "http://127.0.0.1:$PORT_s3${FILE_PATH[$kind]}" "$PID_s3" "$round"
    measure s3rver "$kind" "${DIRECT_URL[$kind]}" "$S3RVER_PID" "$round"
  done
done
stop_pid "$PID_s3"

# ---------------------------------------------------------------- 3. pages: SQLite vs PostgreSQL
mkdir -p "$RUN/data-sqlite" "$RUN/data-postgres"
write_config "$RUN/sqlite.toml"
write_config "$RUN/postgres.toml" "[catalog]
backend = \"postgres\"
url = \"$PG_URL\""
for backend in sqlite postgres; do
  token=$(make_token "$RUN/data-$backend" "$RUN/$backend.toml")
  [[ -n $token ]] || { echo "scaleout: no token for $backend" >&2; exit 1; }
  start_pipy "$backend" "$RUN/data-$backend" "$RUN/$backend.toml"
  port_var=PORT_$backend
  log "uploading $(wc -l <"$RUN/small/manifest.tsv") files to pipy on $backend"
  upload "${!port_var}" "$token" "$RUN/small/manifest.tsv" "$RUN/upload-$backend.json"
done
for backend in sqlite postgres; do  # every page once in each format: both served from cache
  port_var=PORT_$backend
  for accept in "" "$JSON_ACCEPT"; do
    "$PY" "$BENCH/scaleout.py" warm --port "${!port_var}" --list "$RUN/pages.txt" \
      ${accept:+--accept "$accept"} >>"$RUN/warm.jsonl" \
      || problem "warming $backend pages failed: $(tail -1 "$RUN/warm.jsonl")"
  done
done
for ((round = 1; round <= ROUNDS; round++)); do
  for name in page_html page_json; do
    accept=()
    [[ $name == page_json ]] && accept=(--accept "$JSON_ACCEPT")
    for backend in sqlite postgres; do
      port_var=PORT_$backend
      pid_var=PID_$backend
      measure "$backend" "$name" "http://127.0.0.1:${!port_var}/" "${!pid_var}" "$round" \
        --list "$RUN/pages.txt" "${accept[@]}"
    done
  done
done

# ---------------------------------------------------------------- 4. report
ERRLINES=$(grep -ihE 'error|fatal|abort|exception|terminate' "$RUN"/pipy-*.log 2>/dev/null | head -5 || true)
[[ -z $ERRLINES ]] || problem "pipy logged errors, first lines: $(printf '%s' "$ERRLINES" | tr '\n' '|' | cut -c1-600)"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
COMMIT="$COMMIT (binary sha256 $PIPY_SHA)"
git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || COMMIT="$COMMIT + uncommitted changes in src/"
S3RVER_VERSION=$(node -p 'require(process.argv[1]).version' \
  "$ROOT/tests/services/node_modules/@20minutes/s3rver/package.json" 2>/dev/null || echo "?")
PG_VERSION=$(psql "$PG_URL" -tAc 'SHOW server_version' 2>/dev/null | cut -d' ' -f1 || echo "?")
"$PY" - "$RUN/meta.json" <<EOF
import json, os, sys
problems = []
if os.path.exists("$RUN/problems.txt"):
    problems = [l.strip() for l in open("$RUN/problems.txt") if l.strip()]
json.dump({"quick": $QUICK == 1, "projects": $PROJECTS, "versions": $VERSIONS,
           "duration": "$DURATION", "rounds": $ROUNDS, "threads": $THREADS, "conns": $CONNS,
           "commit": "$COMMIT", "s3rver": "$S3RVER_VERSION", "postgres": "$PG_VERSION",
           "problems": problems}, open(sys.argv[1], "w"))
EOF
RESULTS=$OUT/scaleout.md
[[ $QUICK == 1 ]] && RESULTS=$OUT/scaleout-quick.md
"$PY" "$BENCH/scaleout.py" report --run "$RUN" --out "$RESULTS"
log "results written to $RESULTS; logs in $OUT/last-run/scaleout/"
