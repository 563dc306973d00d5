#!/usr/bin/env bash
# TLS benchmark: pipy and nginx over HTTPS with the same certificate, in one run.
#
#   bench/tls.sh [--quick]        (PIPY=path/to/pipy; default build/src/pipy)
#
# Makes a self-signed P-256 certificate for 127.0.0.1, starts `pipy serve` with tls_cert /
# tls_key (2 I/O threads, no access log), uploads one project with a 1 MiB wheel, copies
# its project page and the wheel into a docroot for nginx (2 workers, TLS 1.2+, no session
# tickets, the same certificate), then runs wrk (-t2 -c64, keep-alive) on the project page
# and on the 1 MiB download against each. Reports req/s, p99 latency, and server CPU per
# request (utime+stime from /proc/<pid>/stat of the server, nginx's workers included) and
# the pipy/nginx ratios. Loopback only; both servers are stopped at exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=/usr/bin/python3
PIPY=${PIPY:-$ROOT/build/src/pipy}
DURATION=10s
[[ ${1:-} == --quick ]] && DURATION=3s
THREADS=2

for tool in "$PY" wrk nginx openssl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
done
[[ -x $PIPY ]] || { echo "bench: no pipy binary at $PIPY" >&2; exit 1; }

RUN=$(mktemp -d /tmp/pipy-tls-bench.XXXXXX)
chmod 755 "$RUN"
cp "$PIPY" "$RUN/pipy"
PIPY_PID=""
NGINX_PID=""
log() { printf '[tls-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

stop_pid() {
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$PIPY_PID"
  stop_pid "$NGINX_PID"
  rm -rf "$RUN"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- certificate
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$RUN/key.pem" -out "$RUN/cert.pem" -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 2>/dev/null

# ---------------------------------------------------------------- pipy
PIPY_PORT=$(free_port)
cat >"$RUN/pipy.toml" <<EOF
[server]
threads = $THREADS
access_log = false
tls_cert = "$RUN/cert.pem"
tls_key = "$RUN/key.pem"
EOF
"$RUN/pipy" serve --data "$RUN/data" --listen "127.0.0.1:$PIPY_PORT" --config "$RUN/pipy.toml" \
  >"$RUN/pipy.log" 2>&1 &
PIPY_PID=$!
for ((i = 0; i < 300; i++)); do
  curl -skf -o /dev/null "https://127.0.0.1:$PIPY_PORT/healthz" && break
  kill -0 "$PIPY_PID" 2>/dev/null || { cat "$RUN/pipy.log" >&2; exit 1; }
  sleep 0.1
done
TOKEN=$("$RUN/pipy" token create --data "$RUN/data" --config "$RUN/pipy.toml" --name bench \
  --scope 'upload:*' | tail -n1)

# Upload one project with a 1 MiB wheel, then copy what pipy serves into nginx's docroot.
DOCROOT=$RUN/docroot
PATHS=$(E2E=$ROOT/tests/e2e "$PY" - "$PIPY_PORT" "$TOKEN" "$RUN" "$DOCROOT" <<'EOF'
import http.client, os, re, ssl, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(sys.argv[0]).resolve().parent))
port, token, run, docroot = int(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
sys.path.insert(0, os.environ["E2E"])
from pydists import make_wheel, upload_form
from pipyharness import basic_auth
ctx = ssl._create_unverified_context()
def get(path, method="GET", body=None, headers=None):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    return r.status, r.read()
deadline = time.monotonic() + 30
while True:
    try:
        if get("/healthz")[0] == 200:
            break
    except OSError:
        pass
    assert time.monotonic() < deadline, "pipy did not start"
    time.sleep(0.1)
wheel = make_wheel(run / "dist", "tls-bench", "1.0.0", payload=os.urandom(1 << 20))
body, ctype = upload_form(wheel)
status, text = get("/legacy/", "POST", body, {"Content-Type": ctype, **basic_auth(token)})
assert status == 200, (status, text)
status, page = get("/simple/tls-bench/")
assert status == 200, status
href = re.search(rb'href="([^"#]+)', page).group(1).decode()
file_path = href if href.startswith("/") else "/simple/tls-bench/" + href
status, data = get(file_path)
assert status == 200 and len(data) > (1 << 20), (status, len(data))
(docroot / "simple" / "tls-bench").mkdir(parents=True)
(docroot / "simple" / "tls-bench" / "index.html").write_bytes(page)
target = docroot / file_path.lstrip("/")
target.parent.mkdir(parents=True, exist_ok=True)
target.write_bytes(data)
print("/simple/tls-bench/", file_path, len(data))
EOF
)
read -r PAGE_PATH FILE_PATH FILE_BYTES <<<"$PATHS"
log "pipy pid $PIPY_PID on https://127.0.0.1:$PIPY_PORT; page $PAGE_PATH, file $FILE_PATH ($FILE_BYTES bytes)"

# ---------------------------------------------------------------- nginx
NGINX_PORT=$(free_port)
mkdir -p "$RUN/nginx"
NGINX_USER=""
[[ $(id -u) == 0 ]] && NGINX_USER="user root;"
cat >"$RUN/nginx/nginx.conf" <<EOF
$NGINX_USER
worker_processes $THREADS;
daemon off;
pid $RUN/nginx/nginx.pid;
error_log $RUN/nginx/error.log warn;
events { worker_connections 4096; }
http {
  types { text/html html; }
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 60s;
  keepalive_requests 1000000;
  client_body_temp_path $RUN/nginx/body;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $RUN/cert.pem;
    ssl_certificate_key $RUN/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets off;
    root $DOCROOT;
  }
}
EOF
nginx -c "$RUN/nginx/nginx.conf" -p "$RUN/nginx/" >"$RUN/nginx.log" 2>&1 &
NGINX_PID=$!
for ((i = 0; i < 100; i++)); do
  curl -skf -o /dev/null "https://127.0.0.1:$NGINX_PORT$PAGE_PATH" && break
  sleep 0.1
done
log "nginx pid $NGINX_PID on https://127.0.0.1:$NGINX_PORT"

# ---------------------------------------------------------------- wrk
# CPU ticks (utime+stime) of a process and its children (nginx's workers).
ticks() {
  local total=0 pid
  for pid in $1 $(ps -o pid= --ppid "$1" 2>/dev/null); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
HZ=$(getconf CLK_TCK)
RESULTS=$RUN/results.txt
: >"$RESULTS"
measure() {  # SERVER PID PORT NAME PATH
  local server=$1 pid=$2 port=$3 name=$4 path=$5 before after out
  before=$(ticks "$pid")
  out=$(wrk -t2 -c64 -d"$DURATION" --latency "https://127.0.0.1:$port$path")
  after=$(ticks "$pid")
  echo "$out" >>"$RUN/wrk.log"
  "$PY" - "$server" "$name" "$before" "$after" "$HZ" "$out" >>"$RESULTS" <<'EOF'
import re, sys
server, name, before, after, hz, out = sys.argv[1:]
units = {"us": 1e-3, "ms": 1.0, "s": 1e3}
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
total = int(re.search(r"(\d+) requests in", out).group(1))
m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", out, re.M)
p99 = float(m.group(1)) * units[m.group(2)]
errors = re.search(r"Socket errors:.*", out)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
cpu_us = (int(after) - int(before)) / int(hz) / max(total, 1) * 1e6
print(f"{server} {name} {rps:.0f} {p99:.2f} {cpu_us:.1f} "
      f"{(errors.group(0).replace(' ', '_') if errors else '-')} "
      f"{non2xx.group(1) if non2xx else 0}")
EOF
}
for target in "page $PAGE_PATH" "download_1MiB $FILE_PATH"; do
  read -r name path <<<"$target"
  log "wrk $name: pipy"
  measure pipy "$PIPY_PID" "$PIPY_PORT" "$name" "$path"
  log "wrk $name: nginx"
  measure nginx "$NGINX_PID" "$NGINX_PORT" "$name" "$path"
done

"$PY" - "$RESULTS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    server, name, rps, p99, cpu, errors, non2xx = line.split()
    rows[(server, name)] = (float(rps), float(p99), float(cpu), errors, int(non2xx))
print(f"TLS bench: wrk -t2 -c64 keep-alive, {sys.argv[2]} cores, load average {sys.argv[3]}")
print(f"{'endpoint':<15}{'server':<7}{'req/s':>9}{'p99 ms':>9}{'CPU us/req':>12}  errors")
for name in ("page", "download_1MiB"):
    for server in ("pipy", "nginx"):
        rps, p99, cpu, errors, non2xx = rows[(server, name)]
        print(f"{name:<15}{server:<7}{rps:>9.0f}{p99:>9.2f}{cpu:>12.1f}  {errors} non2xx={non2xx}")
    p, n = rows[("pipy", name)], rows[("nginx", name)]
    print(f"{name:<15}{'ratio':<7}{p[0] / n[0]:>9.2f}{p[1] / n[1]:>9.2f}{p[2] / n[2]:>12.2f}"
          "  (pipy / nginx)")
EOF
