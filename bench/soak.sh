#!/usr/bin/env bash
# A soak of `pipy serve` on each backend pair (bench/soak.py): N minutes (default 30) of mixed
# load — page reads, downloads, uploads, yanks, upstream fetches, webhook-triggered builds,
# npm publishes and installs — sampling RSS, fds and threads every 10 s; prints the 5xx
# count, the slopes after the warm-up, and `pipy check` with every acknowledged upload present.
#
# Then a read-only tail (reads, downloads, upstream fetches, npm installs; nothing new
# stored) of PIPY_SOAK_READ_ONLY minutes (default MINUTES/5): its slopes tell a leak from
# caches filling up with the data the mixed phase keeps adding.
#
# Usage: bench/soak.sh [MINUTES] [PAIR ...]     (PAIR: fs-sqlite, s3-postgres; default both)
# Environment: PIPY (default build/src/pipy); PIPY_SOAK_S3_PORT / PIPY_SOAK_PG_PORT, the
# ports of the S3 server and PostgreSQL started (or reused) for the s3-postgres pair
# (defaults 17970 / 17470).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
minutes=${1:-30}
shift || true
pairs=("$@")
if (( ${#pairs[@]} == 0 )); then
  pairs=(fs-sqlite s3-postgres)
fi
export PIPY_BIN=${PIPY:-$root/build/src/pipy}
s3_port=${PIPY_SOAK_S3_PORT:-17970}
pg_port=${PIPY_SOAK_PG_PORT:-17470}
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
read_only=${PIPY_SOAK_READ_ONLY:-$(( minutes / 5 ))}
/usr/bin/python3 -u "$here/soak.py" --minutes "$minutes" --read-only-minutes "$read_only" \
  "${args[@]}"
