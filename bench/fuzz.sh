#!/usr/bin/env bash
# Long fuzzing campaigns: builds every libFuzzer target (src/fuzz, clang-16 with ASan and
# UBSan, see bench/fuzz_lib.sh) and runs them one at a time, one process each, then prints
# per target the executions, the coverage (cov = edges, ft = features, from libFuzzer's
# last status line) and the crashes (reproducers in $OUT/crashes/<target>/).
#
#   bench/fuzz.sh                          every target, 60 s each
#   MAX_TOTAL_TIME=600 bench/fuzz.sh       10 minutes each
#   TARGETS="pep440 multipart" RUNS=10000000 bench/fuzz.sh
#                                          stop each after 10M executions (or the time)
#
# Environment: MAX_TOTAL_TIME (s per target, default 60), RUNS (executions per target,
# default unbounded), TARGETS (default all), FUZZ_BUILD_DIR (build-fuzz), OUT
# (bench/out/fuzz/<time>), FUZZ_ARGS (more libFuzzer flags). Exits 1 when any target
# crashed. The corpus each run grows stays in $OUT; copy back by hand only the inputs worth
# keeping (the checked-in seeds are kept small).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/fuzz_lib.sh
source bench/fuzz_lib.sh

MAX_TOTAL_TIME=${MAX_TOTAL_TIME:-60}
RUNS=${RUNS:--1}
OUT=${OUT:-bench/out/fuzz/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
fuzz_build

summary="$OUT/summary.md"
{
  echo "| target | executions | exec/s | cov | ft | crashes | slow units |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$summary"
failed=0
for t in $TARGETS; do
  echo "fuzz: $t (up to ${MAX_TOTAL_TIME}s)" >&2
  # shellcheck disable=SC2086
  fuzz_run "$t" -max_total_time="$MAX_TOTAL_TIME" -runs="$RUNS" ${FUZZ_ARGS:-}
  rate=$((RUN_EXECS / (RUN_SECONDS > 0 ? RUN_SECONDS : 1)))
  echo "| $t | $RUN_EXECS | $rate | ${RUN_COV:-?} | ${RUN_FT:-?} | $RUN_CRASHES | $RUN_SLOW |" >>"$summary"
  if [ "$RUN_CRASHES" -gt 0 ] || [ "$RUN_RC" -ne 0 ]; then
    failed=1
    echo "fuzz: $t FAILED (exit $RUN_RC), see $OUT/$t.log and $OUT/crashes/$t/" >&2
  fi
done
cat "$summary"
echo "fuzz: logs, corpora and crashes in $OUT" >&2
exit "$failed"
