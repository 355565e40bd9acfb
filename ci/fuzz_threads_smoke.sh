#!/usr/bin/env bash
# fuzz_threads_smoke.sh - CI for the threaded target (issue 4).  ~5 minutes on 2 cores:
#   1. the fuzz preset (clang, ASan + UBSan, every-op check) replays corpus/fuzz_threads
#      and corpus/regressions/fuzz_threads, and runs ctest -L threads (every input, its
#      encoding, the 20-run determinism test);
#   2. the tsan preset replays the same inputs: no ThreadSanitizer report;
#   3. one crashing input replayed 20 times (separate processes): the same failing
#      operation and message every time;
#   4. libFuzzer runs fuzz_threads FUZZ_THREADS_SECONDS (30): no crash.
# Environment: HEAPLAB_BUILD_ROOT (default build/) for the build directories.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$HEAPLAB_ROOT"

BUILD_ROOT=${HEAPLAB_BUILD_ROOT:-$HEAPLAB_ROOT/build}
LF=$BUILD_ROOT/fuzz TS=$BUILD_ROOT/tsan
SECONDS_LF=${FUZZ_THREADS_SECONDS:-30}
WORK=$BUILD_ROOT/fuzz-threads-smoke
SEEDS=corpus/fuzz_threads REGRESSIONS=corpus/regressions/fuzz_threads
CRASH=$SEEDS/cross_double_free
CRASH_AT="op #10 t2 double_free s1 via=free: error double-free from free"
failures=0
fail() { log "fuzz_threads_smoke: FAILED: $*"; failures=$((failures + 1)); }

need_packages cmake make clang-14 libclang-rt-14-dev libcmocka-dev pkg-config
rm -rf "$WORK"; mkdir -p "$WORK"

inputs() { find "$SEEDS" "$REGRESSIONS" -maxdepth 1 -type f ! -name '*.txt' ! -name '*.md' 2>/dev/null | sort; }
mapfile -t INPUTS < <(inputs)

section "ASan build ($LF), replay ${#INPUTS[@]} inputs, ctest -L threads"
run cmake --preset fuzz -B "$LF" >/dev/null
run cmake --build "$LF" -j2 --target fuzz_threads fuzz_threads_replay fzt-trace
run "$LF/fuzz/fuzz_threads" "${INPUTS[@]}" > "$WORK/replay-asan.log" 2>&1 \
    || { tail -30 "$WORK/replay-asan.log"; fail "ASan replay"; }
(cd "$LF" && run ctest -L threads --output-on-failure > "$WORK/ctest-threads.log" 2>&1) \
    || { tail -30 "$WORK/ctest-threads.log"; fail "ctest -L threads"; }
tail -3 "$WORK/ctest-threads.log"
section_end

section "TSan build ($TS), replay ${#INPUTS[@]} inputs"
run cmake --preset tsan -B "$TS" >/dev/null
run cmake --build "$TS" -j2 --target fuzz_threads_replay
TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1" \
    run "$TS/fuzz/fuzz_threads_replay" "${INPUTS[@]}" > "$WORK/replay-tsan.log" 2>&1 \
    || { tail -40 "$WORK/replay-tsan.log"; fail "TSan replay"; }
if grep -q 'WARNING: ThreadSanitizer' "$WORK/replay-tsan.log"; then
    grep -m3 -A12 'WARNING: ThreadSanitizer' "$WORK/replay-tsan.log"
    fail "ThreadSanitizer reports"
fi
section_end

section "determinism: $CRASH 20 times"
run cmake "-DREPLAY=$LF/fuzz/fuzz_threads_replay" "-DINPUT=$CRASH" -DRUNS=20 "-DEXPECT=$CRASH_AT" \
    -P fuzz/threads_repeat.cmake || fail "the crash did not reproduce identically"
section_end

section "libFuzzer: $SECONDS_LF s"
mkdir -p "$WORK/lf-corpus" "$WORK/lf-crashes"
cp "${INPUTS[@]}" "$WORK/lf-corpus/"
if ! (cd "$WORK" && run "$LF/fuzz/fuzz_threads" -max_total_time="$SECONDS_LF" \
        -dict="$HEAPLAB_ROOT/fuzz/fuzz_threads.dict" -artifact_prefix="$WORK/lf-crashes/" \
        -print_final_stats=1 "$WORK/lf-corpus" > "$WORK/libfuzzer.log" 2>&1); then
    grep -m1 -A3 -E 'fuzz_threads: |ERROR' "$WORK/libfuzzer.log" || tail -20 "$WORK/libfuzzer.log"
    for c in "$WORK"/lf-crashes/*; do [ -f "$c" ] && "$LF/fuzz/fzt-trace" decode "$c" | head -40; done
    fail "libFuzzer found a crash (inputs in $WORK/lf-crashes)"
fi
grep -E 'stat::(number_of_executed_units|average_exec_per_sec)' "$WORK/libfuzzer.log" || true
section_end

[ "$failures" -eq 0 ] && log "fuzz_threads_smoke: passed" || log "fuzz_threads_smoke: $failures step(s) failed"
exit $(( failures > 0 ))
