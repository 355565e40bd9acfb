#!/usr/bin/env bash
# fuzz_smoke.sh - the fuzzing part of CI (ci/test.sh calls it).  Under ~9.5 minutes on 2 cores:
#   1. the libFuzzer build (fuzz preset: clang, ASan + UBSan, every-op check) replays
#      corpus/fuzz_heap and corpus/regressions/fuzz_heap;
#   2. a gcc build replays them with the standalone driver under Valgrind (zero errors)
#      and runs ctest -L corpus (each input, and the bytes = the encoding of the traces);
#   3. libFuzzer runs FUZZ_SMOKE_SECONDS (60) and AFL++ AFL_SMOKE_SECONDS (30): no crash;
#   4. ci/fuzz_threads_smoke.sh (the threaded target) and FUZZ_CORRUPT_SECONDS (30) of
#      ci/fuzz_corrupt.sh (the checker against corrupted heaps);
#   5. ci/campaign_smoke.sh: a parallel AFL++ campaign (main + CMPLOG, 20 s) and a
#      libFuzzer -fork=2 campaign (15 s, with the teaching allocator's planted bug), and
#      a threaded one (10 s on fuzz_threads_teach_mt), each with its HTML report checked
#      (about 1 minute 30 s, builds included).
# Environment: HEAPLAB_BUILD_ROOT (default build/) for the build directories.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$HEAPLAB_ROOT"

BUILD_ROOT=${HEAPLAB_BUILD_ROOT:-$HEAPLAB_ROOT/build}
LF=$BUILD_ROOT/fuzz GCC=$BUILD_ROOT/fuzz-gcc AFL=$BUILD_ROOT/fuzz-afl
LF_SECONDS=${FUZZ_SMOKE_SECONDS:-60} AFL_SECONDS=${AFL_SMOKE_SECONDS:-30}
WORK=$BUILD_ROOT/fuzz-smoke
SEEDS=corpus/fuzz_heap REGRESSIONS=corpus/regressions/fuzz_heap
failures=0
fail() { log "fuzz_smoke: FAILED: $*"; failures=$((failures + 1)); }

need_packages cmake make gcc clang-14 libclang-rt-14-dev valgrind afl++ libcmocka-dev pkg-config gnuplot-nox gcovr python3
rm -rf "$WORK"; mkdir -p "$WORK"

# The inputs: regular files, without the traces and READMEs kept beside them.
inputs() { find "$SEEDS" "$REGRESSIONS" -maxdepth 1 -type f ! -name '*.txt' ! -name '*.md' | sort; }
mapfile -t INPUTS < <(inputs)

section "libFuzzer build ($LF)"
run cmake --preset fuzz -B "$LF" >/dev/null
run cmake --build "$LF" -j2 --target fuzz_heap hl-trace
section_end

section "replay ${#INPUTS[@]} inputs under ASan + UBSan (every-op check)"
run "$LF/fuzz/fuzz_heap" "${INPUTS[@]}" > "$WORK/replay-asan.log" 2>&1 || { tail -30 "$WORK/replay-asan.log"; fail "ASan replay"; }
section_end

section "gcc build, standalone replay under Valgrind ($GCC)"
run cmake -S . -B "$GCC" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug -DHL_CHECK_EVERY_OP=ON >/dev/null
run cmake --build "$GCC" -j2 --target fuzz_heap_replay hl-trace fuzz_threads_replay fzt-trace fuzz_corrupt_replay
run valgrind --quiet --error-exitcode=99 --track-origins=yes "$GCC/fuzz/fuzz_heap_replay" "${INPUTS[@]}" \
    > "$WORK/replay-valgrind.log" 2>&1 || { tail -30 "$WORK/replay-valgrind.log"; fail "Valgrind replay"; }
(cd "$GCC" && run ctest -L corpus --output-on-failure -j2 > "$WORK/ctest-corpus.log" 2>&1) \
    || { tail -30 "$WORK/ctest-corpus.log"; fail "ctest -L corpus"; }
tail -3 "$WORK/ctest-corpus.log"
section_end

section "libFuzzer: $LF_SECONDS s"
mkdir -p "$WORK/lf-corpus" "$WORK/lf-crashes"
cp "${INPUTS[@]}" "$WORK/lf-corpus/"
if ! (cd "$WORK" && run "$LF/fuzz/fuzz_heap" -max_total_time="$LF_SECONDS" -dict="$HEAPLAB_ROOT/fuzz/fuzz_heap.dict" \
        -artifact_prefix="$WORK/lf-crashes/" -print_final_stats=1 "$WORK/lf-corpus" > "$WORK/libfuzzer.log" 2>&1); then
    grep -m1 -A3 -E 'fuzz_heap: op|ERROR' "$WORK/libfuzzer.log" || tail -20 "$WORK/libfuzzer.log"
    for c in "$WORK"/lf-crashes/*; do [ -f "$c" ] && "$LF/fuzz/hl-trace" decode "$c" | head -40; done
    fail "libFuzzer found a crash (inputs in $WORK/lf-crashes)"
fi
grep -E 'stat::(number_of_executed_units|average_exec_per_sec)' "$WORK/libfuzzer.log" || true
section_end

section "AFL++ build and $AFL_SECONDS s ($AFL)"
run env AFL_QUIET=1 cmake -S . -B "$AFL" -DCMAKE_C_COMPILER=afl-clang-fast -DCMAKE_BUILD_TYPE=Debug \
    -DHEAPLAB_FUZZ=ON -DHL_CHECK_EVERY_OP=ON \
    "-DCMAKE_C_FLAGS=-O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" >/dev/null
run env AFL_QUIET=1 cmake --build "$AFL" -j2 --target fuzz_heap
mkdir -p "$WORK/afl-seeds"
cp "${INPUTS[@]}" "$WORK/afl-seeds/"
AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
    run afl-fuzz -i "$WORK/afl-seeds" -o "$WORK/afl" -x "$HEAPLAB_ROOT/fuzz/fuzz_heap.dict" -m none -V "$AFL_SECONDS" \
    -- "$AFL/fuzz/fuzz_heap" > "$WORK/afl.log" 2>&1 || { tail -20 "$WORK/afl.log"; fail "afl-fuzz did not run"; }
crashes=$(find "$WORK/afl" -path '*/crashes/id:*' -type f | wc -l)
grep -E '^(execs_done|execs_per_sec|bitmap_cvg|saved_crashes) ' "$WORK"/afl/*/fuzzer_stats 2>/dev/null | sed 's|.*/fuzzer_stats:||' || true
if [ "$crashes" -ne 0 ]; then
    for c in $(find "$WORK/afl" -path '*/crashes/id:*' -type f | head -3); do "$LF/fuzz/hl-trace" replay "$c" | grep -m1 verdict || true; done
    fail "AFL++ found $crashes crashes (in $WORK/afl)"
fi
section_end

# The threaded target (TSan and ASan replays, the 20-run determinism test, a
# short libFuzzer run) and the checker's robustness target (a short run).
section "fuzz_threads smoke"
HEAPLAB_BUILD_ROOT=$BUILD_ROOT run bash ci/fuzz_threads_smoke.sh || fail "fuzz_threads smoke"
section_end
section "fuzz_corrupt: ${FUZZ_CORRUPT_SECONDS:-30} s"
HEAPLAB_BUILD_ROOT=$BUILD_ROOT run bash ci/fuzz_corrupt.sh "${FUZZ_CORRUPT_SECONDS:-30}" || fail "fuzz_corrupt"
section_end
# Parallel campaigns (AFL++ with CMPLOG, libFuzzer fork mode) and their reports.
section "campaigns and reports"
HEAPLAB_BUILD_ROOT=$BUILD_ROOT run bash ci/campaign_smoke.sh || fail "campaign smoke"
section_end

[ "$failures" -eq 0 ] && log "fuzz_smoke: passed" || log "fuzz_smoke: $failures step(s) failed"
exit $(( failures > 0 ))
