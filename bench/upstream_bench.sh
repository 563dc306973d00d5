#!/usr/bin/env bash
# A cached upstream project page against an internal one, in one run (issue 5: "served as
# fast as an internal one, same req/s within 10%").
#
#   bench/upstream_bench.sh [DURATION]        (default 10s per wrk run)
#
# Starts a stub upstream on loopback (tests/e2e/stub_upstream.py) with one project of 20
# wheels, a `pipy serve` (2 I/O threads, no access log) proxying it, uploads an internal
# project of 20 wheels, warms both pages, then runs wrk (PEP 691 JSON, 2 threads, 32
# connections) on each page alternately, three times, and prints the best req/s and the ratio. Needs
# Debian's /usr/bin/python3 and wrk. Everything is stopped at exit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PIPY=${PIPY:-$ROOT/build/src/pipy}
command -v wrk >/dev/null || { echo "upstream_bench: wrk is missing" >&2; exit 1; }
[[ -x $PIPY ]] || { echo "upstream_bench: no pipy binary at $PIPY" >&2; exit 1; }
exec /usr/bin/python3 "$ROOT/bench/upstream_bench.py" "$PIPY" "${1:-10s}"
