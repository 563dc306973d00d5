#!/usr/bin/env bash
# Pipy's benchmark: pipy against nginx serving the same index as static files.
#
#   bench/run.sh [--quick] [--cold-rebuild]      (`make bench` runs it without options)
#   BENCH_DATASET=big bench/run.sh               (20,000 projects x 10 versions: issue 14's
#                                                 "big" data set, results in results-big.md)
#
#   --quick          smoke run: 200 projects x 3 versions, 3 s wrk runs, 2,000-project cold
#                    start. Its numbers are not a measurement.
#   --cold-rebuild   rebuild the cached cold-start data folder.
#   --prepare        only generate the distributions and the cold-start data folder (niced),
#                    so that a later measured run spends its quiet minutes measuring.
#
# Environment: PIPY (default build/src/pipy), BENCH_OUT (default bench/out), BENCH_DATASET
# (default | big), BENCH_DURATION (wrk time per endpoint and server, e.g. 5s; default 10s).
# The big data set is 400,000 files: generating them takes ~2 min (once; cached in
# bench/out/dists-20000x10), loading them into pipy ~8 min at 900 uploads/s (30 min on a
# busy machine) per run; its cold start is timed on the run's own data folder, and its
# project pages are compared with the last default run's (bench/out/wrk-default.jsonl).
#
# One run: generates the distributions (cached in bench/out/dists-*), loads them into a fresh
# `pipy serve` through POST /legacy/ (bulk with parallel workers, then 1,000 sequential uploads
# timed on one keep-alive connection), renders every page pipy serves into a static docroot
# for nginx (tuned for static files: one worker per core, open_file_cache, sendfile) and
# checks that both servers answer the same bytes, runs wrk against both servers one endpoint
# at a time with each server's CPU time per request (/proc utime + stime, nginx's workers
# included), times 1 and then 8 concurrent uploaders on projects of their own, each step
# bracketed by the machine's durable-write limit (fsync of a new file and its folder,
# fsync_limit.py), repeats the project page with pipy's access log on, times cold starts on
# a 20,000-project data folder (cached in bench/out/cold-*; for the big data set, on the
# run's own data folder), and reports peak RSS. Results: bench/out/results.md; logs of the
# last run: bench/out/last-run/. Traffic goes to 127.0.0.1 only; every wait is bounded; pipy
# and nginx are stopped at exit, on errors too. Needs Debian's /usr/bin/python3, wrk, nginx.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
OUT=${BENCH_OUT:-$BENCH/out}
PY=/usr/bin/python3
PIPY=${PIPY:-$ROOT/build/src/pipy}

QUICK=0
COLD_REBUILD=0
PREPARE=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --cold-rebuild) COLD_REBUILD=1 ;;
    --prepare) PREPARE=1 ;;
    -h|--help) sed -n '2,33p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "bench: unknown option $arg" >&2; exit 2 ;;
  esac
done
if [[ $PREPARE == 1 && -z ${BENCH_NICED:-} ]]; then
  BENCH_NICED=1 exec nice -n 19 "${BASH_SOURCE[0]}" "$@"
fi
DATASET=${BENCH_DATASET:-default}
if [[ $QUICK == 1 ]]; then
  PROJECTS=200; VERSIONS=3; DURATION=3s; COLD_PROJECTS=2000
elif [[ $DATASET == big ]]; then
  PROJECTS=20000; VERSIONS=10; DURATION=10s; COLD_PROJECTS=20000
elif [[ $DATASET == default ]]; then
  PROJECTS=2000; VERSIONS=10; DURATION=10s; COLD_PROJECTS=20000
else
  echo "bench: BENCH_DATASET must be default or big, not $DATASET" >&2; exit 2
fi
[[ $QUICK == 1 ]] && DATASET=quick
DURATION=${BENCH_DURATION:-$DURATION}
WORKERS=4        # bulk-upload clients
SEQUENTIAL=1000  # timed sequential uploads
CONCURRENT=8     # clients of the timed concurrent uploads
SERVER_THREADS=$(nproc) # pipy I/O threads = nginx worker processes = cores

for tool in "$PY" wrk nginx; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make bench installs it)" >&2; exit 1; }
done
[[ -x $PIPY ]] || { echo "bench: no pipy binary at $PIPY (build it first)" >&2; exit 1; }

mkdir -p "$OUT"
RUN=$(mktemp -d /tmp/pipy-bench.XXXXXX)
chmod 755 "$RUN"
# A private copy: a rebuild of build/src/pipy during the run cannot mix two binaries.
cp "$PIPY" "$RUN/pipy"
PIPY_SHA=$(sha256sum "$PIPY" | cut -c1-12)
PIPY=$RUN/pipy
PIPY_PID=""
NGINX_PID=""

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
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
  if [[ -d $RUN ]]; then
    rm -rf "$OUT/last-run"
    mkdir -p "$OUT/last-run"
    cp "$RUN"/*.log "$RUN"/*.json "$RUN"/*.jsonl "$RUN"/*.toml "$RUN"/problems.txt \
      "$OUT/last-run/" 2>/dev/null || true
    cp "$RUN/nginx/nginx.conf" "$RUN/nginx/error.log" "$OUT/last-run/" 2>/dev/null || true
    rm -rf "$RUN"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

vm_hwm_kib() {
  awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

write_config() {  # FILE ACCESS_LOG(true|false)
  cat >"$1" <<EOF
[server]
threads = $SERVER_THREADS
access_log = $2
EOF
}

# start_pipy DATA CONFIG PORT LOG: starts `pipy serve` in the background (PIPY_PID) and
# waits up to 60 s for /healthz.
start_pipy() {
  "$PIPY" serve --data "$1" --listen "127.0.0.1:$3" --config "$2" >"$4" 2>&1 &
  PIPY_PID=$!
  if ! "$PY" "$BENCH/httpclient.py" wait "$3" /healthz 60 "$PIPY_PID"; then
    tail -20 "$4" >&2 || true
    echo "bench: pipy did not become ready on port $3 (log above)" >&2
    exit 1
  fi
}

make_token() {  # DATA CONFIG -> prints the token
  "$PIPY" token create --data "$1" --config "$2" --name bench --scope 'upload:*' \
    2>>"$RUN/token.log" | tail -n 1
}

json_get() {  # FILE KEY
  "$PY" -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"
}

COLD=$OUT/cold-$COLD_PROJECTS
COLD_DATA=$COLD/data
build_cold() {
  log "building the cold-start data folder ($COLD_PROJECTS projects; cached in $COLD)"
  rm -rf "$COLD"
  mkdir -p "$COLD/data"
  "$PY" "$BENCH/gen_dists.py" --out "$OUT/cold-gen-$COLD_PROJECTS" --projects "$COLD_PROJECTS" \
    --versions 1 --no-sdists --prefix cold-p
  local token port
  token=$(make_token "$COLD/data" "$CONF")
  port=$(free_port)
  start_pipy "$COLD/data" "$CONF" "$port" "$RUN/pipy-coldload.log"
  if "$PY" "$BENCH/upload.py" --port "$port" --token "$token" \
      --manifest "$OUT/cold-gen-$COLD_PROJECTS/manifest.tsv" --workers "$WORKERS" \
      --json "$RUN/coldload.json"; then
    touch "$COLD/complete.pending"
  else
    problem "loading the cold-start data folder had errors (coldload.json)"
  fi
  stop_pid "$PIPY_PID"
  PIPY_PID=""
  if [[ -f $COLD/complete.pending ]]; then
    mv "$COLD/complete.pending" "$COLD/complete"
  fi
}
measure_cold() {
  "$PY" "$BENCH/cold_start.py" --pipy "$PIPY" --data "$COLD_DATA" --config "$CONF" \
    --port "$(free_port)" --runs 3 --expect "$COLD_PROJECTS" --log "$RUN/pipy-cold.log" \
    >"$RUN/cold.json"
}

# ---------------------------------------------------------------- 1. distributions
DISTS=$OUT/dists-${PROJECTS}x${VERSIONS}
log "generating $PROJECTS projects x $VERSIONS versions (+1 MiB, 50 MiB wheels) in $DISTS"
GEN_T0=$(date +%s)
"$PY" "$BENCH/gen_dists.py" --out "$DISTS" --projects "$PROJECTS" --versions "$VERSIONS" --big
log "distributions ready after $(( $(date +%s) - GEN_T0 )) s"
MANIFEST=$DISTS/manifest.tsv
# The timed uploads' own projects, uploaded after the wrk runs (so the pages measured and
# rendered are those of the main manifest): 1 client, 100 projects x 5 versions, then 8
# clients, 400 projects x 5 versions (wheel + sdist each).
SEQ_DISTS=$OUT/seq-100x5
"$PY" "$BENCH/gen_dists.py" --out "$SEQ_DISTS" --projects 100 --versions 5 --prefix seq-p
CONC_DISTS=$OUT/conc-400x5
"$PY" "$BENCH/gen_dists.py" --out "$CONC_DISTS" --projects 400 --versions 5 --prefix conc-p
CONF=$RUN/pipy.toml
write_config "$CONF" false
if [[ $PREPARE == 1 ]]; then
  if [[ $DATASET == big ]]; then
    log "prepared $DISTS"
    exit 0
  fi
  if [[ $COLD_REBUILD == 1 || ! -f $COLD/complete ]]; then
    build_cold
  fi
  [[ -f $COLD/complete ]] || { echo "bench: could not build $COLD" >&2; exit 1; }
  log "prepared $DISTS and $COLD"
  exit 0
fi

# ---------------------------------------------------------------- 2. uploads
DATA=$RUN/data
mkdir -p "$DATA"
TOKEN=$(make_token "$DATA" "$CONF")
[[ -n $TOKEN ]] || { echo "bench: pipy token create printed no token" >&2; exit 1; }
PIPY_PORT=$(free_port)
start_pipy "$DATA" "$CONF" "$PIPY_PORT" "$RUN/pipy.log"
log "pipy pid $PIPY_PID on 127.0.0.1:$PIPY_PORT; uploading ($WORKERS workers, then $SEQUENTIAL sequential)"
UPLOAD_T0=$(date +%s)
if ! "$PY" "$BENCH/upload.py" --port "$PIPY_PORT" --token "$TOKEN" --manifest "$MANIFEST" \
    --workers "$WORKERS" --sequential "$SEQUENTIAL" --json "$RUN/upload.json"; then
  problem "some uploads failed (see upload.json / pipy.log)"
fi
kill -0 "$PIPY_PID" 2>/dev/null || { problem "pipy died during the uploads"; exit 1; }
log "uploads done after $(( $(date +%s) - UPLOAD_T0 )) s"

# ---------------------------------------------------------------- 3. static copy for nginx
log "rendering pipy's pages into a static docroot"
DOCROOT=$RUN/docroot
if ! "$PY" "$BENCH/render_static.py" --port "$PIPY_PORT" --docroot "$DOCROOT" \
    --manifest "$MANIFEST" --lists "$RUN/lists" >"$RUN/render.json"; then
  problem "pipy's pages are inconsistent with what was uploaded: $(cat "$RUN/render.json" 2>/dev/null)"
fi
[[ -s $RUN/lists/projects.txt ]] || { echo "bench: no project list rendered" >&2; exit 1; }
SMALL_URL=$(json_get "$RUN/render.json" small_url)
BIG1_URL=$(json_get "$RUN/render.json" big1m_url)
BIG50_URL=$(json_get "$RUN/render.json" big50m_url)
SMALL_SIZE=$(json_get "$RUN/render.json" small_size)

NGINX_PORT=$(free_port)
mkdir -p "$RUN/nginx"
NGINX_USER=""
[[ $(id -u) == 0 ]] && NGINX_USER="user root;"
cat >"$RUN/nginx/nginx.conf" <<EOF
# Generated by bench/run.sh: pipy's pages and files as static files, tuned as an operator
# tunes nginx for static files (one worker per core, as pipy runs one I/O thread per core).
$NGINX_USER
worker_processes $SERVER_THREADS;
# open_file_cache keeps up to 200,000 descriptors open per worker: the limit must exceed it
# (with 65,536 the big data set's pages ran into EMFILE and 500s).
worker_rlimit_nofile 262144;
daemon off;
pid $RUN/nginx/nginx.pid;
error_log $RUN/nginx/error.log warn;
events { worker_connections 8192; }
http {
  types {
    text/html html;
    application/vnd.pypi.simple.v1+json json;
  }
  default_type application/octet-stream;
  # pipy's Content-Type for HTML pages is "text/html; charset=utf-8"
  charset utf-8;
  charset_types text/html;
  server_tokens off;
  open_file_cache max=200000 inactive=60s;
  open_file_cache_valid 60s;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  access_log off;
  keepalive_timeout 3600s;
  keepalive_requests 100000000;
  client_body_temp_path $RUN/nginx/body;
  # PEP 691 by Accept, like pipy (without q-value parsing): JSON when asked for by name.
  map \$http_accept \$simple_index {
    default index.html;
    "~application/vnd\.pypi\.simple\.v1\+json" index.json;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $DOCROOT;
    location /simple/ {
      index \$simple_index;
      add_header Vary Accept;
    }
    location /files/ {
      add_header Cache-Control "public, max-age=31536000, immutable";
    }
  }
}
EOF
nginx -t -c "$RUN/nginx/nginx.conf" -p "$RUN/nginx/" >"$RUN/nginx-test.log" 2>&1 \
  || { cat "$RUN/nginx-test.log" >&2; exit 1; }
nginx -c "$RUN/nginx/nginx.conf" -p "$RUN/nginx/" >"$RUN/nginx.log" 2>&1 &
NGINX_PID=$!
"$PY" "$BENCH/httpclient.py" wait "$NGINX_PORT" /simple/ 30 "$NGINX_PID" \
  || { cat "$RUN/nginx/error.log" >&2; echo "bench: nginx did not start" >&2; exit 1; }
log "nginx pid $NGINX_PID on 127.0.0.1:$NGINX_PORT ($SERVER_THREADS workers)"
SAME_ARGS=()
for url in "$SMALL_URL" "$BIG1_URL"; do
  [[ -n $url ]] && SAME_ARGS+=(--path "$url")
done
if ! "$PY" "$BENCH/same_bytes.py" --pipy-port "$PIPY_PORT" --nginx-port "$NGINX_PORT" \
    --list "$RUN/lists/projects.txt" "${SAME_ARGS[@]}" >"$RUN/same.json"; then
  problem "nginx does not serve pipy's bytes: $(cat "$RUN/same.json" 2>/dev/null)"
fi
log "same bytes: $(cat "$RUN/same.json")"

# ---------------------------------------------------------------- 4. wrk
JSON_ACCEPT=application/vnd.pypi.simple.v1+json
wrk_one() {  # SERVER PORT PID NAME [wrk_run args...]
  local server=$1 port=$2 pid=$3 name=$4
  shift 4
  "$PY" "$BENCH/wrk_run.py" --server "$server" --name "$name" --port "$port" --pid "$pid" \
    --duration "$DURATION" --out "$RUN/wrk.jsonl" --log "$RUN/wrk.log" "$@" \
    || problem "wrk_run failed for $server $name"
}
wrk_both() {  # NAME [wrk_run args...]: pipy, then nginx, on the same endpoint
  wrk_one pipy "$PIPY_PORT" "$PIPY_PID" "$@"
  wrk_one nginx "$NGINX_PORT" "$NGINX_PID" "$@"
}
log "wrk: $DURATION per endpoint and server"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
wrk_both root --path /simple/
wrk_both project_html --list "$RUN/lists/projects.txt"
wrk_both project_json --list "$RUN/lists/projects.txt" --accept "$JSON_ACCEPT"
[[ -n $SMALL_URL ]] && wrk_both wheel_small --path "$SMALL_URL"
[[ -n $BIG1_URL ]] && wrk_both wheel_1m --path "$BIG1_URL"
[[ -n $BIG50_URL ]] && wrk_both wheel_50m --path "$BIG50_URL"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before / after the wrk runs: $LOAD_BEFORE / $LOAD_AFTER"

# Timed uploads, each bracketed by the durable-write limit of the data filesystem (new file
# written + fsync + folder fsync, 5 s), since other work on the machine moves that limit.
durable_limit() {  # NAME
  "$PY" "$BENCH/fsync_limit.py" --dir "$RUN" --json "$RUN/fsync-$1.json" >/dev/null \
    || problem "fsync_limit.py failed"
}
timed_uploads() {  # NAME MANIFEST CLIENTS
  "$PY" "$BENCH/upload_concurrent.py" --port "$PIPY_PORT" --token "$TOKEN" --manifest "$2" \
      --clients "$3" --pid "$PIPY_PID" --json "$RUN/upload-$1.json" \
    || problem "some timed uploads ($1) failed (see upload-$1.json / pipy.log)"
}
log "timed uploads: 1 client ($SEQ_DISTS), then $CONCURRENT clients ($CONC_DISTS)"
durable_limit before
timed_uploads sequential "$SEQ_DISTS/manifest.tsv" 1
durable_limit mid
timed_uploads concurrent "$CONC_DISTS/manifest.tsv" "$CONCURRENT"
durable_limit after

MAIN_HWM=$(vm_hwm_kib "$PIPY_PID")
kill -0 "$PIPY_PID" 2>/dev/null || problem "pipy (pid $PIPY_PID) is gone after the wrk runs"
stop_pid "$PIPY_PID"
PIPY_PID=""
stop_pid "$NGINX_PID"
NGINX_PID=""

# Same data, access log on (to a file), project pages only: what the log costs.
log "pipy with its access log on"
CONF_LOG=$RUN/pipy-accesslog.toml
write_config "$CONF_LOG" true
start_pipy "$DATA" "$CONF_LOG" "$PIPY_PORT" "$RUN/pipy-accesslog.log"
# A restarted pipy builds each project page on its first request: fetch them all once, as
# render_static.py did for the first instance, so both runs measure served pages.
"$PY" - "$PIPY_PORT" "$RUN/lists/projects.txt" "$BENCH" <<'PYEOF' || problem "warming the pages failed"
import sys
sys.path.insert(0, sys.argv[3])
import httpclient
conn = httpclient.Connection(int(sys.argv[1]), timeout=60)
for line in open(sys.argv[2]):
    if line.strip():
        conn.get(line.strip())
conn.close()
PYEOF
wrk_one pipy-accesslog "$PIPY_PORT" "$PIPY_PID" project_html --list "$RUN/lists/projects.txt"
LOG_HWM=$(vm_hwm_kib "$PIPY_PID")
stop_pid "$PIPY_PID"
PIPY_PID=""
ACCESS_LINES=$(wc -l <"$RUN/pipy-accesslog.log" || echo 0)
log "access log: $ACCESS_LINES lines"
# keep only the head of a possibly huge log for last-run/
head -c 200000 "$RUN/pipy-accesslog.log" >"$RUN/pipy-accesslog.head" 2>/dev/null || true
mv "$RUN/pipy-accesslog.head" "$RUN/pipy-accesslog.log"

# ---------------------------------------------------------------- 5. cold start
FRESH_COLD=0
if [[ $DATASET == big ]]; then
  COLD_DATA=$DATA  # the run's own 20,000 x 10 folder (400,000 files)
  FRESH_COLD=1
elif [[ $COLD_REBUILD == 1 || ! -f $COLD/complete ]]; then
  build_cold
  FRESH_COLD=1
fi
log "cold start on $COLD_PROJECTS projects (3 runs, $COLD_DATA)"
if ! measure_cold; then
  if [[ $FRESH_COLD == 0 ]]; then
    # The cached folder may come from an older pipy (schema): rebuild it once.
    log "cold start failed on the cached data folder; rebuilding it"
    build_cold
    measure_cold || problem "cold start: $(cat "$RUN/cold.json" 2>/dev/null)"
  else
    problem "cold start: $(cat "$RUN/cold.json" 2>/dev/null)"
  fi
fi
COLD_HWM=$(json_get "$RUN/cold.json" vm_hwm_kib_max 2>/dev/null || echo "")

# ---------------------------------------------------------------- 6-7. report
"$PY" - "$RUN" "$MAIN_HWM" "$LOG_HWM" "${COLD_HWM:-0}" <<'EOF'
import json, sys
run, main, logged, cold = sys.argv[1], int(sys.argv[2] or 0), int(sys.argv[3] or 0), int(sys.argv[4] or 0)
json.dump({"peak_kib": max(main, logged) or None, "main_kib": main, "accesslog_kib": logged,
           "cold_kib": cold}, open(run + "/rss.json", "w"))
EOF
# Server-side complaints during the run (the access-log run's lines are requests, skipped).
ERRLINES=$(grep -ihE 'error|fatal|abort|exception|terminate' "$RUN/pipy.log" "$RUN/pipy-cold.log" 2>/dev/null | head -5 || true)
if [[ -n $ERRLINES ]]; then
  problem "pipy logged errors, first lines: $(printf '%s' "$ERRLINES" | tr '\n' '|' | cut -c1-600)"
fi
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
COMMIT="$COMMIT (binary sha256 $PIPY_SHA)"
git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || COMMIT="$COMMIT + uncommitted changes in src/"
NGINX_VERSION=$(nginx -v 2>&1 | sed 's/.*nginx\///')
"$PY" - "$RUN" <<EOF
import json, os, sys
run = sys.argv[1]
problems = []
if os.path.exists(run + "/problems.txt"):
    problems = [l.strip() for l in open(run + "/problems.txt") if l.strip()]
json.dump({"quick": $QUICK == 1, "dataset": "$DATASET", "projects": $PROJECTS,
           "versions": $VERSIONS, "threads": $SERVER_THREADS,
           "load_before": "${LOAD_BEFORE:-}", "load_after": "${LOAD_AFTER:-}",
           "cold_data": "$([[ $DATASET == big ]] && echo run || echo cached)",
           "duration": "$DURATION", "access_log": False, "upload_workers": $WORKERS,
           "cold_projects": $COLD_PROJECTS, "commit": "$COMMIT",
           "nginx_version": "$NGINX_VERSION", "small_size": int("${SMALL_SIZE:-0}" or 0),
           "access_log_lines": int("${ACCESS_LINES:-0}" or 0), "problems": problems},
          open(run + "/meta.json", "w"))
EOF
RESULTS=$OUT/results.md
REFERENCE=()
case $DATASET in
  quick) RESULTS=$OUT/results-quick.md ;;
  big)
    RESULTS=$OUT/results-big.md
    # project pages are compared with the last default run's (2,000 projects)
    [[ -f $OUT/wrk-default.jsonl ]] && REFERENCE=(--reference "$OUT/wrk-default.jsonl") ;;
  default) cp "$RUN/wrk.jsonl" "$OUT/wrk-default.jsonl" 2>/dev/null || true ;;
esac
"$PY" "$BENCH/report.py" --run "$RUN" --out "$RESULTS" "${REFERENCE[@]}"
log "results written to $RESULTS; logs in $OUT/last-run/"
