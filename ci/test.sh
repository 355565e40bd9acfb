#!/usr/bin/env bash
# test.sh - heaplab's test command (the README's; .ci/run calls it).
#
# Installs what the build and the tests need (apt-get, only what is missing),
# then runs one CMake workflow (configure, build, ctest) per preset:
#   release    optimised build; also ctest -L ossfuzz: .clusterfuzzlite/build.sh
#              for libFuzzer (ASan, UBSan) and AFL++ (docs/oss-fuzz.md)
#   checked    debug build, a full heap check after every operation
#   asan       clang ASan + UBSan, checked
#   tsan       clang TSan, checked (the global API's tests and the stress test)
#   msan       clang MSan, checked; only the tests that need no cmocka (Debian's
#              libcmocka is not MSan-instrumented): the example, the install
#              check, the corpus replays and the MSan user-bug tests
#   valgrind   debug build with memcheck client requests, every test under
#              Valgrind memcheck
#   coverage   gcc --coverage, checked: every test, then gcovr's report of src/
#              and invariants/ (build/coverage/html), which fails below the
#              floors the preset sets (docs/coverage.md)
# Each workflow's ctest includes the example (label `example`) and the install
# check (label `install`: install into a temporary prefix, build
# examples/consumer with find_package and with pkg-config, run both).  Then, if
# it exists, ci/fuzz_smoke.sh.
#
# Stops at the first failure with a nonzero exit.  The last line is always
#   heaplab: N passed, N failed
# summed over every ctest run (the fuzz smoke's too); a step that fails
# without a failing ctest (a configure or build error, a fuzz crash) counts as
# one failure.  Each step's output is kept in build/ci-logs/<step>.log.
#
# HEAPLAB_CI_PRESETS="checked asan" runs only those workflows.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$HEAPLAB_ROOT"

presets=${HEAPLAB_CI_PRESETS:-"release checked asan tsan msan valgrind coverage"}
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
export CTEST_PARALLEL_LEVEL=${CTEST_PARALLEL_LEVEL:-2}

log_dir=build/ci-logs
passed=0
failed=0

finish() {
    local status=$?
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1     # failed before any test could: report it as a failure
    fi
    printf '\nci: total %s, exit %d\n' "$(format_duration "$(timer_elapsed)")" "$status"
    echo "heaplab: $passed passed, $failed failed"
    exit "$status"
}
trap finish EXIT

# Adds the counts of ctest's summary line(s) in a log to the totals; returns 1
# when the log has none.
count_ctest() {
    local line fails total found=1
    while IFS= read -r line; do
        fails=$(sed -E 's/.*tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
        total=$(sed -E 's/.*tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
        passed=$(( passed + total - fails ))
        failed=$(( failed + fails ))
        found=0
    done < <(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" || true)
    return "$found"
}

# Runs one step with its output kept in $log_dir/<name>.log, adds the ctest
# summaries it printed to the totals, and stops the run if it failed.
step() {
    local name=$1 log="$log_dir/$1.log" status failed_before=$failed
    shift
    section "$name"
    set +e
    run "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    count_ctest "$log" || true
    if [ "$status" -ne 0 ] && [ "$failed" -eq "$failed_before" ]; then
        failed=$(( failed + 1 ))    # it failed, but not in a ctest
    fi
    section_end
    if [ "$status" -ne 0 ]; then
        log "ci: $name failed (exit $status); log: $log"
        exit "$status"
    fi
}

timer_start

section "packages"
# make and libc6-dev: cmake and gcc only recommend them.  afl++ is for the
# fuzz smoke step and, with zip and unzip, for the release preset's ctest -L
# ossfuzz (ci/ossfuzz_check.sh).
need_packages cmake make gcc libc6-dev clang-14 libclang-rt-14-dev llvm-14 \
    libcmocka-dev valgrind pkg-config gcovr afl++ python3 perl git zip unzip
section_end

mkdir -p "$log_dir"
for preset in $presets; do
    step "workflow-$preset" cmake --workflow --preset "$preset"
done

if [ -f ci/fuzz_smoke.sh ]; then
    step fuzz-smoke bash ci/fuzz_smoke.sh
fi
