# Shared by bench/fuzz.sh and bench/fuzz_smoke.sh (sourced): builds the libFuzzer targets
# (src/fuzz) with Debian's clang-16, ASan and UBSan, every library instrumented
# (-DPIPY_FUZZ=ON), and runs one target at a time.

FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
FUZZ_CXX=${FUZZ_CXX:-clang++-16}

fuzz_install_clang() {
  if command -v "$FUZZ_CXX" >/dev/null && [ -e /usr/lib/llvm-16/lib/clang/16/lib/linux/libclang_rt.fuzzer-x86_64.a ]; then
    return
  fi
  if [ "$(id -u)" = 0 ] && [ "$FUZZ_CXX" = clang++-16 ]; then
    echo "fuzz: installing clang-16 and its sanitizer runtimes" >&2
    apt-get install -y -q clang-16 libclang-rt-16-dev >&2 ||
      { apt-get update -q >&2 && apt-get install -y -q clang-16 libclang-rt-16-dev >&2; }
  else
    echo "fuzz: $FUZZ_CXX with libFuzzer is needed (apt-get install clang-16 libclang-rt-16-dev)" >&2
    exit 2
  fi
}

# Configures and builds every fuzz target (or those named in $TARGETS) into $FUZZ_BUILD_DIR.
fuzz_build() {
  fuzz_install_clang
  if [ ! -f "$FUZZ_BUILD_DIR/build.ninja" ]; then
    CXX=$FUZZ_CXX cmake -S . -B "$FUZZ_BUILD_DIR" -G Ninja -DPIPY_FUZZ=ON -DPIPY_TESTS=OFF >&2
  fi
  local all
  all=$(fuzz_all_targets)
  TARGETS=${TARGETS:-$all}
  # shellcheck disable=SC2046
  cmake --build "$FUZZ_BUILD_DIR" -j "${JOBS:-$(nproc)}" --target $(printf 'fuzz_%s ' $TARGETS) >&2
}

# Every target that src/fuzz/CMakeLists.txt declares, in file order.
fuzz_all_targets() {
  sed -n 's/^pipy_fuzz(\([a-z0-9_]*\) .*/\1/p' src/fuzz/CMakeLists.txt | tr '\n' ' '
}

# Runs target $1 with libFuzzer options "${@:2}" on a scratch copy of its seed corpus in
# $OUT/corpus/$1 (the checked-in corpus is never written), crash reproducers in
# $OUT/crashes/$1/. Sets RUN_EXECS, RUN_COV, RUN_FT, RUN_CRASHES (crash, leak, timeout and
# out-of-memory reproducers), RUN_SLOW (slow-unit files: an input that took over 10 s once,
# which a paused or starved process also produces; replay them to tell), RUN_SECONDS,
# RUN_RC.
fuzz_run() {
  local t=$1
  shift
  local bin="$FUZZ_BUILD_DIR/src/fuzz/fuzz_$t"
  mkdir -p "$OUT/corpus/$t" "$OUT/crashes/$t"
  cp -n src/fuzz/corpus/"$t"/* "$OUT/corpus/$t/" 2>/dev/null || true
  local log="$OUT/$t.log" start end
  start=$(date +%s)
  set +e
  "$bin" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$OUT/crashes/$t/" "$@" "$OUT/corpus/$t" >"$log" 2>&1
  RUN_RC=$?
  set -e
  end=$(date +%s)
  RUN_SECONDS=$((end - start))
  RUN_EXECS=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  local last
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
  RUN_COV=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  RUN_FT=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  RUN_CRASHES=$(find "$OUT/crashes/$t" -type f ! -name 'slow-unit-*' | wc -l)
  RUN_SLOW=$(find "$OUT/crashes/$t" -type f -name 'slow-unit-*' | wc -l)
  RUN_EXECS=${RUN_EXECS:-0}
}
