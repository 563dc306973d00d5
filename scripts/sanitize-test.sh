#!/usr/bin/env bash
# Builds pipy with sanitizers and runs the tests against that build (make test-asan,
# make test-tsan). Any sanitizer report fails the run, whether or not the test noticed it.
#
#   scripts/sanitize-test.sh asan [BUILD_DIR]   ASan + UBSan (+ LeakSanitizer): every ctest
#                                               entry, unit tests and the e2e suites, with
#                                               PIPY_BIN the sanitized pipy
#   scripts/sanitize-test.sh tsan [BUILD_DIR]   TSan: the unit tests of the concurrent code
#
# Environment:
#   JOBS                      parallel build and test jobs (default: nproc)
#   PIPY_SANITIZE_EXCLUDE     asan: a regex of ctest names to leave out (ctest -E), e.g.
#                             '^e2e_(s3pg_|multinode|outage|migrate_import)' (.ci/run)
#
# Reports go to BUILD_DIR/sanitizer-reports/ (log_path), so a report from a process whose
# exit status nobody checks (a killed server, a child) still fails the run; halt_on_error
# and abort_on_error make the process itself fail too. Suppressions are only for third-party
# code and live in tests/sanitizers/, one comment per entry.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-}
jobs=${JOBS:-$(nproc)}
case "$kind" in
  asan) build=${2:-$root/build-asan}; sanitize=address,undefined ;;
  tsan) build=${2:-$root/build-tsan}; sanitize=thread ;;
  *) echo "usage: $0 asan|tsan [BUILD_DIR]" >&2; exit 2 ;;
esac
mkdir -p "$build"
build=$(cd "$build" && pwd)

# The TSan run: the test binaries of the code that shares state between threads.
tsan_tests=(
  http_server_test http_server_hardening_test http_access_log_test http_metrics_test
  http_tls_test
  index_blob_cache_test index_page_cache_test index_formats_test
  sqlite_build_queue_test sqlite_catalog_test postgres_catalog_test
  caching_blob_store_test filesystem_blob_store_test upstream_cache_test
  builder_logic_test builder_process_test
)

if [[ ! -f "$build/build.ninja" ]]; then
  unity=()
  if [[ "$kind" == tsan ]]; then
    # One translation unit per batch of a target's sources: the TSan build of the tests
    # below takes ~2 minutes from scratch instead of several (CMakeLists.txt lists the
    # sources that must stay on their own).
    unity=(-DCMAKE_UNITY_BUILD=ON)
  fi
  cmake -S "$root" -B "$build" -G Ninja -DPIPY_SANITIZE="$sanitize" "${unity[@]}"
fi
if [[ "$kind" == asan ]]; then
  cmake --build "$build" -j "$jobs"
else
  cmake --build "$build" -j "$jobs" --target "${tsan_tests[@]}"
fi

reports=$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
supp=$root/tests/sanitizers
common="halt_on_error=1:abort_on_error=1:disable_coredump=1:print_stacktrace=1"
# A small quarantine: the e2e suites bound the server's RSS (150 MiB), and ASan's default
# 256 MiB quarantine alone would exceed that. PIPY_SANITIZER tells the e2e tests which
# absolute memory bounds to widen for the sanitizer's own overhead.
export PIPY_SANITIZER=$kind
export ASAN_OPTIONS="detect_leaks=1:$common:log_path=$reports/asan:quarantine_size_mb=16:check_initialization_order=1:strict_init_order=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="$common:log_path=$reports/ubsan:suppressions=$supp/ubsan.supp"
export TSAN_OPTIONS="$common:log_path=$reports/tsan:suppressions=$supp/tsan.supp:second_deadlock_stack=1"

status=0
if [[ "$kind" == asan ]]; then
  exclude=()
  if [[ -n "${PIPY_SANITIZE_EXCLUDE:-}" ]]; then
    exclude=(-E "$PIPY_SANITIZE_EXCLUDE")
  fi
  (cd "$build" && ctest --output-on-failure -j "$jobs" "${exclude[@]}") || status=1
else
  # Each binary runs whole (one process per binary, not per test: TSan's start-up is slow),
  # two at a time; PostgreSQL's tests get the fixture's server.
  export PIPY_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:17432/pipy_test
  "$root/tests/services/postgres.sh" start 17432
  logs=$build/tsan-logs
  mkdir -p "$logs"
  printf '%s\n' "${tsan_tests[@]}" | xargs -P "$jobs" -I{} sh -c '
    bin=$(find "$1/src" -name "$2" -type f -perm -u+x | head -n 1)
    if "$bin" --gtest_brief=1 >"$3/$2.log" 2>&1; then
      echo "tsan: $2 passed"
    else
      echo "tsan: $2 FAILED (log: $3/$2.log)"; tail -n 40 "$3/$2.log"; exit 1
    fi' _ "$build" {} "$logs" || status=1
  "$root/tests/services/postgres.sh" stop 17432 || true
fi

if compgen -G "$reports/*" >/dev/null; then
  echo "sanitizer reports ($reports):" >&2
  for f in "$reports"/*; do
    echo "=== $f" >&2
    head -n 60 "$f" >&2
  done
  status=1
fi
if [[ $status -ne 0 ]]; then
  echo "$kind: FAILED" >&2
else
  echo "$kind: every test passed, no sanitizer reports"
fi
exit $status
