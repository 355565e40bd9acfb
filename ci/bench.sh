#!/usr/bin/env bash
# bench.sh - the policy benchmark: configures and builds the release preset,
# runs bench/bench_policies and prints its markdown table (also kept in
# build/release/bench/results.md).  Arguments go to bench_policies
# (-q: a quick run, -r N: N repeats).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$HEAPLAB_ROOT"
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}

section "packages"
need_packages cmake make gcc libc6-dev
section_end

section "build (release preset)"
run cmake --preset release
run cmake --build --preset release --target bench_policies bench_threads
section_end

section "bench_policies"
run build/release/bench/bench_policies "$@" | tee build/release/bench/results.md
section_end

section "bench_threads (global API against glibc, same process)"
run build/release/bench/bench_threads | tee build/release/bench/results-threads.md
section_end
