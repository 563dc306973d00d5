#!/usr/bin/env bash
# CI smoke of the libFuzzer builds: every target (bench/fuzz_lib.sh builds them with
# clang-16, ASan and UBSan) runs over its checked-in seed corpus, then fuzzes for
# SMOKE_SECONDS (default 8) seconds; one target at a time. Exits 1 when any crashes or
# breaks an invariant. About 2.5 minutes for 16 targets once built. (`make test` has a
# lighter smoke of the same targets under g++: the ctest entries labelled fuzz.)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/fuzz_lib.sh
source bench/fuzz_lib.sh

SMOKE_SECONDS=${SMOKE_SECONDS:-8}
OUT=${OUT:-$(mktemp -d /tmp/pipy-fuzz-smoke.XXXXXX)}
fuzz_build

passed=0
failed=0
for t in $TARGETS; do
  fuzz_run "$t" -max_total_time="$SMOKE_SECONDS"
  if [ "$RUN_CRASHES" -gt 0 ] || [ "$RUN_RC" -ne 0 ]; then
    failed=$((failed + 1))
    echo "fuzz smoke: $t FAILED (exit $RUN_RC); log:" >&2
    tail -40 "$OUT/$t.log" >&2
  else
    passed=$((passed + 1))
    echo "fuzz smoke: $t ok ($RUN_EXECS executions, cov $RUN_COV)"
  fi
done
echo "fuzz-smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
