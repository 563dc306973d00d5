#!/usr/bin/env bash
# The long crash loop (tests/e2e/crashloop.py; tests/e2e/test_crash_loop.py is the short CI
# run): on each backend pair, `pipy serve` SIGKILLed at random moments under concurrent
# uploads and yanks KILLS times (default 300), then `pipy gc`, `pipy import` and
# `pipy migrate` killed midway and re-run ROUNDS times (default 20); after every kill
# `pipy check` must be clean and every acknowledged upload served with its exact bytes.
#
# Usage: bench/crashloop.sh [KILLS] [ROUNDS] [PAIR ...]   (PAIR: fs-sqlite, s3-postgres)
# Environment: PIPY (default build/src/pipy); PIPY_CRASH_S3_PORT / PIPY_CRASH_PG_PORT for the
# services of the s3-postgres pair (defaults 17971 / 17471; started or reused).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
kills=${1:-300}
rounds=${2:-20}
shift 2 || shift $# || true
pairs=("$@")
if (( ${#pairs[@]} == 0 )); then
  pairs=(fs-sqlite s3-postgres)
fi
export PIPY_BIN=${PIPY:-$root/build/src/pipy}
s3_port=${PIPY_CRASH_S3_PORT:-17971}
pg_port=${PIPY_CRASH_PG_PORT:-17471}
args=()
for p in "${pairs[@]}"; do
  args+=(--pair "$p")
done
if [[ " ${pairs[*]} " == *" s3-postgres "* ]]; then
  "$root/tests/services/s3.sh" start "$s3_port"
  "$root/tests/services/postgres.sh" start "$pg_port"
  trap '"$root/tests/services/s3.sh" stop "$s3_port"; "$root/tests/services/postgres.sh" stop "$pg_port"' EXIT
  args+=(--s3-endpoint "http://127.0.0.1:$s3_port"
         --postgres-url "$("$root/tests/services/postgres.sh" url "$pg_port")")
fi
/usr/bin/python3 "$root/tests/e2e/crashloop.py" --serve-kills "$kills" --cli-rounds "$rounds" \
  "${args[@]}"
