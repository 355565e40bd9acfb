#!/usr/bin/env bash
# ossfuzz_check.sh - runs .clusterfuzzlite/build.sh the way OSS-Fuzz does (no
# docker: its variables, temporary SRC, WORK and OUT, a copy of the source as
# $SRC/heaplab), then every target it wrote to $OUT on its seed corpus for a
# few seconds.
#
#   ci/ossfuzz_check.sh [--engine libfuzzer|ubsan|afl|all] [--dir DIR] [--seconds N]
#
#   libfuzzer  CC=clang-14, OSS-Fuzz's ASan flags with -fsanitize=fuzzer-no-link,
#              LIB_FUZZING_ENGINE=-fsanitize=fuzzer; each target runs -max_total_time
#              with the dict and max_len its .options give
#   ubsan      the same with OSS-Fuzz's UBSan flags (SANITIZER=undefined) and its
#              run-time UBSAN_OPTIONS (halt on error, unsigned overflow silenced)
#   afl        CC=afl-clang-fast, the same ASan flags, LIB_FUZZING_ENGINE=Debian's
#              libAFLDriver.a; each target replays its seeds, then afl-fuzz -V
#
# Fails unless build.sh succeeds, every target it was to ship is in $OUT with its
# _seed_corpus.zip (inputs only), .dict and .options beside it, the seeds and
# the dictionary are loaded, and every run ends clean (no crash, no report).
# ctest ossfuzz/<engine> (label ossfuzz, fuzz/ossfuzz.cmake) runs one engine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ENGINE=all DIR=$HEAPLAB_ROOT/build/ossfuzz-check SECS=3
while [ $# -gt 0 ]; do
    case "$1" in
        --engine) ENGINE=$2; shift 2 ;;
        --dir) DIR=$2; shift 2 ;;
        --seconds) SECS=$2; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) log "ossfuzz_check: unknown argument $1 (see --help)"; exit 2 ;;
    esac
done
case "$ENGINE" in libfuzzer|ubsan|afl|all) ;; *) log "ossfuzz_check: --engine libfuzzer, ubsan, afl or all"; exit 2 ;; esac

failures=0
fail() { log "ossfuzz_check: FAILED: $*"; failures=$((failures + 1)); }
need_tool() { command -v "$1" >/dev/null 2>&1 || { log "ossfuzz_check: $1 is missing ($2)"; exit 1; }; }
need_tool cmake "apt-get install cmake"
need_tool zip "apt-get install zip"
need_tool unzip "apt-get install unzip"

# OSS-Fuzz's address-sanitizer flags (its base-builder's CFLAGS for ASan).
ASAN_FLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope"
# And for UBSan: unsigned overflow instrumented (coverage signal) but recoverable,
# silenced at run time by UBSAN_OPTIONS as OSS-Fuzz's runners do.
UB_CHECKS=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr
UBSAN_FLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=$UB_CHECKS,unsigned-integer-overflow -fno-sanitize-recover=$UB_CHECKS"
UBSAN_RUN_OPTIONS=halt_on_error=1:print_stacktrace=1:silence_unsigned_overflow=1
AFL_DRIVER=/usr/lib/afl/libAFLDriver.a    # what Debian's afl++ 4.04c ships as OSS-Fuzz's libAFLDriver.a
# The targets build.sh must ship (more may come from examples/allocators).
CORE_TARGETS="fuzz_heap fuzz_threads fuzz_corrupt"
unset ASAN_OPTIONS UBSAN_OPTIONS MSAN_OPTIONS

build() {   # build ENGINE: build.sh in $root/{src,work,out}
    local engine=$1 cc cxx flags lib sanitizer=address fuzzing_engine=$1
    case "$engine" in
        libfuzzer|ubsan)
            need_tool clang-14 "apt-get install clang-14 libclang-rt-14-dev"
            cc=clang-14 cxx=clang++-14 flags="$ASAN_FLAGS -fsanitize=fuzzer-no-link" lib=-fsanitize=fuzzer
            if [ "$engine" = ubsan ]; then
                flags="$UBSAN_FLAGS -fsanitize=fuzzer-no-link" sanitizer=undefined fuzzing_engine=libfuzzer
            fi ;;
        afl)
            need_tool afl-clang-fast "apt-get install afl++"
            [ -f "$AFL_DRIVER" ] || { log "ossfuzz_check: $AFL_DRIVER is missing (apt-get install afl++)"; exit 1; }
            cc=afl-clang-fast cxx=afl-clang-fast++ flags=$ASAN_FLAGS lib=$AFL_DRIVER ;;
    esac
    rm -rf "$root"
    mkdir -p "$root/src" "$root/work" "$root/out"
    # A copy, as the Dockerfile's COPY makes one (and $root may be inside the tree).
    mkdir -p "$root/src/heaplab"
    tar -C "$HEAPLAB_ROOT" --exclude=./build --exclude='./build-*' --exclude=./.git -cf - . | tar -C "$root/src/heaplab" -xf -
    cp "$HEAPLAB_ROOT/.clusterfuzzlite/build.sh" "$root/src/build.sh"
    section "build.sh for $engine ($root/build.log)"
    if ! (cd "$root/src/heaplab" && run env SRC="$root/src" WORK="$root/work" OUT="$root/out" \
            CC="$cc" CXX="$cxx" CFLAGS="$flags" CXXFLAGS="$flags" LIB_FUZZING_ENGINE="$lib" \
            SANITIZER="$sanitizer" FUZZING_ENGINE="$fuzzing_engine" ARCHITECTURE=x86_64 AFL_QUIET=1 \
            bash "$root/src/build.sh") > "$root/build.log" 2>&1; then
        tail -40 "$root/build.log"
        fail "build.sh for $engine"
        section_end
        return 1
    fi
    grep '^heaplab build.sh:' "$root/build.log"
    section_end
}

# The names build.sh was to ship: the CMake manifest minus its exclusions.
expected_targets() {
    local manifest=$root/work/heaplab-build/ossfuzz-targets.txt name
    [ -s "$manifest" ] || { fail "no $manifest"; return 0; }
    while read -r name _; do
        grep -qx "heaplab build.sh: not shipping $name (HEAPLAB_OSSFUZZ_EXCLUDE)" "$root/build.log" || echo "$name"
    done < "$manifest"
}

option_value() { sed -n "s/^$2 = //p" "$1"; }

# Checks the files beside a target and unzips its seeds into $run/seeds;
# sets n_seeds, dict, max_len.
check_files() {   # check_files TARGET RUNDIR
    local t=$1 run=$2 out=$root/out
    n_seeds=0 dict="" max_len=""
    local f
    for f in "$out/${t}_seed_corpus.zip" "$out/$t.dict" "$out/$t.options"; do
        [ -s "$f" ] || { fail "$t: no $(basename "$f") beside it"; return 1; }
    done
    [ "$(head -1 "$out/$t.options")" = "[libfuzzer]" ] || { fail "$t.options: no [libfuzzer] section"; return 1; }
    dict=$(option_value "$out/$t.options" dict) max_len=$(option_value "$out/$t.options" max_len)
    if [ -z "$dict" ] || [ ! -f "$out/$dict" ]; then fail "$t.options: dict = '$dict' is not in \$OUT"; return 1; fi
    case "$max_len" in ''|*[!0-9]*) fail "$t.options: max_len = '$max_len'"; return 1 ;; esac
    if unzip -Z1 "$out/${t}_seed_corpus.zip" | grep -E '\.(txt|md)$|/'; then
        fail "$t: the seed corpus holds traces, READMEs or directories"; return 1
    fi
    mkdir -p "$run/seeds"
    unzip -q -o "$out/${t}_seed_corpus.zip" -d "$run/seeds"
    n_seeds=$(find "$run/seeds" -type f | wc -l)
    [ "$n_seeds" -gt 0 ] || { fail "$t: empty seed corpus"; return 1; }
}

run_libfuzzer() {   # run_libfuzzer TARGET RUNDIR
    local t=$1 run=$2 status=0
    mkdir -p "$run/corpus"
    (cd "$run" && UBSAN_OPTIONS=$UBSAN_RUN_OPTIONS "$root/out/$t" -max_total_time="$SECS" -dict="$root/out/$dict" -max_len="$max_len" \
        -artifact_prefix="$run/" -print_final_stats=1 "$run/corpus" "$run/seeds") > "$run/fuzz.log" 2>&1 || status=$?
    if [ "$status" -ne 0 ] || ls "$run"/crash-* "$run"/leak-* "$run"/timeout-* "$run"/oom-* >/dev/null 2>&1 \
            || grep -q 'runtime error' "$run/fuzz.log"; then
        grep -m1 -B2 -A20 -E 'ERROR|runtime error|rule |deadly' "$run/fuzz.log" || tail -20 "$run/fuzz.log"
        fail "$t: libFuzzer exit $status (log $run/fuzz.log)"; return 1
    fi
    grep -qE "^INFO: seed corpus: files: $n_seeds " "$run/fuzz.log" \
        || { fail "$t: libFuzzer did not read the $n_seeds seeds ($(grep -m1 'seed corpus' "$run/fuzz.log"))"; return 1; }
    grep -qE '^Dictionary: [1-9][0-9]* entries' "$run/fuzz.log" || { fail "$t: no dictionary loaded"; return 1; }
    printf '  %-24s %3d seeds, %s, %s\n' "$t" "$n_seeds" "$(grep -m1 -oE '^Dictionary: [0-9]+ entries' "$run/fuzz.log")" \
        "$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$run/fuzz.log" | sed 's/stat::number_of_executed_units/runs/')"
}

run_afl() {   # run_afl TARGET RUNDIR
    local t=$1 run=$2 status=0 stats crashes execs
    # AFL++'s driver, run by hand, runs each file it is given once.
    "$root/out/$t" "$run"/seeds/* > "$run/replay.log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        tail -20 "$run/replay.log"; fail "$t: the seed replay exited $status (log $run/replay.log)"; return 1
    fi
    [ "$(grep -c '^Execution successful' "$run/replay.log")" -eq "$n_seeds" ] \
        || { fail "$t: the driver did not run all $n_seeds seeds (log $run/replay.log)"; return 1; }
    status=0
    AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
        afl-fuzz -V "$SECS" -i "$run/seeds" -o "$run/afl" -x "$root/out/$dict" -m none -- "$root/out/$t" \
        > "$run/afl.log" 2>&1 || status=$?
    stats=$run/afl/default/fuzzer_stats
    if [ "$status" -ne 0 ] || [ ! -f "$stats" ]; then
        tail -20 "$run/afl.log"; fail "$t: afl-fuzz exit $status (log $run/afl.log)"; return 1
    fi
    crashes=$(awk -F: '/^saved_crashes/ {gsub(/ /,"",$2); print $2}' "$stats")
    execs=$(awk -F: '/^execs_done/ {gsub(/ /,"",$2); print $2}' "$stats")
    [ "${crashes:-x}" = 0 ] || { fail "$t: afl-fuzz saved ${crashes:-?} crashes ($run/afl/default/crashes)"; return 1; }
    [ "${execs:-0}" -gt 0 ] || { fail "$t: afl-fuzz ran nothing"; return 1; }
    grep -qE 'Loaded a total of [1-9][0-9]* extras' "$run/afl.log" || { fail "$t: afl-fuzz loaded no dictionary"; return 1; }
    printf '  %-24s %3d seeds replayed, afl-fuzz %s execs, 0 crashes\n' "$t" "$n_seeds" "$execs"
}

check_engine() {   # check_engine ENGINE
    local engine=$1 t expected=() shipped=()
    root=$DIR/$engine
    build "$engine" || return 0
    mapfile -t expected < <(expected_targets)
    for t in $CORE_TARGETS; do
        printf '%s\n' "${expected[@]}" | grep -qx "$t" || fail "$t is not among the targets build.sh ships"
    done
    mapfile -t shipped < <(find "$root/out" -maxdepth 1 -type f -perm -u+x ! -name '*.*' -printf '%f\n' | sort)
    for t in "${expected[@]}"; do
        printf '%s\n' "${shipped[@]}" | grep -qx "$t" || fail "$t is not in \$OUT"
    done
    section "$engine: ${#shipped[@]} targets, $SECS s each"
    for t in "${shipped[@]}"; do
        local run=$root/run/$t
        rm -rf "$run"; mkdir -p "$run"
        check_files "$t" "$run" || continue
        if [ "$engine" != afl ]; then run_libfuzzer "$t" "$run" || true; else run_afl "$t" "$run" || true; fi
    done
    section_end
}

timer_start
if [ "$ENGINE" = all ]; then engines="libfuzzer ubsan afl"; else engines=$ENGINE; fi
for e in $engines; do check_engine "$e"; done
log "ossfuzz_check: $engines in $(format_duration "$(timer_elapsed)"), $failures failure(s)"
[ "$failures" -eq 0 ]
