#!/usr/bin/env bash
# mutants.sh - does fuzz_heap find bugs, not just run?  Plants each allocator
# bug in ci/mutants/*.patch into a temporary copy of the tree, builds the fuzz
# target there, fuzzes it as fuzzing benchmarks measure (Magma, FuzzBench):
# several trials with distinct seeds and a fixed budget on one core, misses
# counted as not found.  Prints a markdown table: mutant, description, hit
# rate, median seconds to the first crash, and the rule that caught it.
#
#   ci/mutants.sh                        every mutant, 3 trials of 60 s, libFuzzer
#   ci/mutants.sh --trials 5 --time 120  more trials, a longer budget
#   ci/mutants.sh --only 05,12           mutants whose names contain 05 or 12
#   ci/mutants.sh --engine afl           the same with AFL++ (afl-clang-fast)
#   ci/mutants.sh --control-time 30      the unmutated control run's budget
#   ci/mutants.sh --work DIR             keep everything in DIR (default: a temp dir,
#                                        removed at the end unless --keep)
#
# The control run fuzzes the unmutated tree first: it must find nothing.
# Exit status: 0 when the control is clean and every mutant was caught in every
# trial; 1 otherwise; 2 on a usage, patch or build error.
# Nothing in the source tree is modified: the copy lives under the work dir.
# Not part of ci/test.sh (it takes up to T x 60 s per mutant).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ENGINE=libfuzzer TRIALS=3 TIME=60 CONTROL_TIME=30 ONLY="" WORK="" KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --engine) ENGINE=$2; shift 2 ;;
        --trials) TRIALS=$2; shift 2 ;;
        --time) TIME=$2; shift 2 ;;
        --control-time) CONTROL_TIME=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --work) WORK=$2; KEEP=1; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) log "mutants.sh: unknown argument $1 (see --help)"; exit 2 ;;
    esac
done
case "$ENGINE" in libfuzzer|afl) ;; *) log "mutants.sh: --engine libfuzzer or afl"; exit 2 ;; esac
[[ "$TRIALS" =~ ^[1-9][0-9]*$ && "$TIME" =~ ^[1-9][0-9]*$ && "$CONTROL_TIME" =~ ^[0-9]+$ ]] ||
    { log "mutants.sh: --trials, --time and --control-time take whole numbers"; exit 2; }

MUTANTS_DIR=$HEAPLAB_ROOT/ci/mutants
SEEDS=$HEAPLAB_ROOT/corpus/fuzz_heap
DICT=$HEAPLAB_ROOT/fuzz/fuzz_heap.dict
SEED_BASE=1000   # trial t uses -seed=SEED_BASE+t, the same seeds for every mutant

# --- the temporary tree and its build ----------------------------------------------------------
# The tree is copied once; each mutant is applied to it, built, and undone by
# copying the pristine files back (a fresh mtime, so make rebuilds them).
# Patches touch src/ only (the allocator, not the checker or the harness).
copy_tree() {
    mkdir -p "$TREE" "$PRISTINE"
    tar -C "$HEAPLAB_ROOT" --exclude='./build' --exclude='./build-*' --exclude='./.git' -cf - . | tar -C "$TREE" -xf -
    cp -R "$TREE/src" "$PRISTINE/"
}

patched_files() { sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$1"; }

restore() {   # restore PATCH: the files PATCH touched, back to their pristine text
    local f
    for f in $(patched_files "$1"); do cp "$PRISTINE/$f" "$TREE/$f"; done
}

configure() {
    if [ "$ENGINE" = libfuzzer ]; then
        # the fuzz preset: clang-14, ASan + UBSan, HL_CHECK_EVERY_OP=ON, HEAPLAB_FUZZ=ON
        (cd "$TREE" && run cmake --preset fuzz -B "$BUILD" -DHEAPLAB_DEVELOPER=OFF) > "$WORK/configure.log" 2>&1
    else
        run env AFL_QUIET=1 cmake -S "$TREE" -B "$BUILD" -DCMAKE_C_COMPILER=afl-clang-fast \
            -DCMAKE_BUILD_TYPE=Debug -DHEAPLAB_FUZZ=ON -DHL_CHECK_EVERY_OP=ON -DHEAPLAB_DEVELOPER=OFF \
            "-DCMAKE_C_FLAGS=-O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
            > "$WORK/configure.log" 2>&1
    fi || { log "mutants.sh: cmake failed, see $WORK/configure.log"; tail -20 "$WORK/configure.log" >&2; exit 2; }
}

build_as() {   # build_as NAME: builds fuzz_heap and keeps it as $WORK/bin/NAME
    if ! env AFL_QUIET=1 cmake --build "$BUILD" -j2 --target fuzz_heap > "$WORK/build-$1.log" 2>&1; then
        log "mutants.sh: $1 does not build, see $WORK/build-$1.log"
        grep -m5 -E 'error' "$WORK/build-$1.log" >&2 || true
        return 1
    fi
    mkdir -p "$WORK/bin"
    cp "$BUILD/fuzz/fuzz_heap" "$WORK/bin/$1"
}

# --- which rule caught it ------------------------------------------------------------------------
# The oracle's "rule <name>" line (with the checker's invariant when the rule is
# "checker"), else the sanitizer's or libFuzzer's verdict.
caught_by() {   # caught_by LOG
    local log=$1 rule inv
    rule=$(grep -m1 -oE ': rule [a-z-]+' "$log" | sed 's/^: rule //' || true)
    if [ -n "$rule" ]; then
        if [ "$rule" = checker ]; then
            inv=$(grep -m1 -oE 'invariant [0-9]+ \([a-z_-]+\) violated' "$log" | sed -E 's/.*\((.*)\).*/\1/' || true)
            [ -n "$inv" ] || inv=$(grep -m1 -oE 'heap invariant [a-z_-]+ violated' "$log" | cut -d' ' -f3 || true)
            [ -n "$inv" ] && rule="checker: $inv"
        fi
        echo "$rule"
        return
    fi
    local asan frame
    asan=$(grep -m1 -oE 'ERROR: AddressSanitizer: [a-zA-Z-]+' "$log" | sed 's/.*: //' || true)
    if [ -n "$asan" ]; then
        frame=$(grep -m1 -oE '#[0-9]+ 0x[0-9a-f]+ in (hl_|hl__|fz_)[a-z_0-9]+' "$log" | sed 's/.* in //' || true)
        echo "ASan $asan${frame:+ in $frame}"
        return
    fi
    if grep -q 'runtime error:' "$log"; then
        asan=$(grep -m1 -oE 'runtime error: [a-z ]+' "$log" | sed -E 's/^runtime error: //; s/ +(to|of|at|for)? *$//')
        frame=$(grep -m1 -A12 'runtime error:' "$log" | grep -m1 -oE ' in (hl_|hl__|fz_)[a-z_0-9]+' | sed 's/^ in //' || true)
        echo "UBSan $asan${frame:+ in $frame}"
        return
    fi
    if grep -q 'ERROR: LeakSanitizer' "$log"; then echo "LeakSanitizer"; return; fi
    if grep -q 'ERROR: libFuzzer: timeout' "$log"; then echo "timeout (a hang)"; return; fi
    if grep -q 'out-of-memory' "$log"; then echo "out of memory"; return; fi
    if grep -q 'deadly signal' "$log"; then echo "deadly signal"; return; fi
    echo "?"
}

# --- one trial -----------------------------------------------------------------------------------
# Prints "found SECONDS RULE" or "missed". Time to detect: the run's wall time
# from start to the first crash (libFuzzer stops there; AFL++: the time: field
# of the first crash file).
trial_libfuzzer() {   # trial_libfuzzer BIN DIR SEED BUDGET
    local bin=$1 dir=$2 seed=$3 budget=$4 start end
    mkdir -p "$dir/corpus"
    find "$SEEDS" -maxdepth 1 -type f -exec cp {} "$dir/corpus/" \;
    start=$(date +%s%N)
    (cd "$dir" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        timeout $((budget + 60)) "$bin" -seed="$seed" -max_total_time="$budget" -timeout=10 \
        -dict="$DICT" -artifact_prefix="$dir/" -print_final_stats=1 "$dir/corpus" > "$dir/log" 2>&1) || true
    end=$(date +%s%N)
    if compgen -G "$dir/crash-*" > /dev/null || compgen -G "$dir/leak-*" > /dev/null ||
       compgen -G "$dir/timeout-*" > /dev/null || compgen -G "$dir/oom-*" > /dev/null; then
        printf 'found %s %s\n' "$(awk -v ns=$((end - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')" "$(caught_by "$dir/log")"
    else
        echo missed
    fi
}

trial_afl() {   # trial_afl BIN DIR SEED BUDGET
    local bin=$1 dir=$2 seed=$3 budget=$4 crash ms
    mkdir -p "$dir/seeds"
    find "$SEEDS" -maxdepth 1 -type f -exec cp {} "$dir/seeds/" \;
    AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_BENCH_UNTIL_CRASH=1 \
        ASAN_OPTIONS=abort_on_error=1:symbolize=0 \
        timeout $((budget + 60)) afl-fuzz -i "$dir/seeds" -o "$dir/out" -x "$DICT" -m none -s "$seed" \
        -V "$budget" -- "$bin" > "$dir/log" 2>&1 || true
    crash=$(find "$dir/out" -path '*/crashes/id:*' -type f 2>/dev/null | sort | head -1)
    if [ -z "$crash" ]; then echo missed; return; fi
    ms=$(sed -nE 's/.*,time:([0-9]+).*/\1/p' <<< "$crash")
    # the rule: the crashing input replayed through the same binary
    ASAN_OPTIONS=detect_leaks=0 timeout 60 "$bin" "$crash" > "$dir/replay.log" 2>&1 || true
    printf 'found %s %s\n' "$(awk -v ms="${ms:-0}" 'BEGIN { printf "%.2f", ms / 1000 }')" "$(caught_by "$dir/replay.log")"
}

trial() { if [ "$ENGINE" = afl ]; then trial_afl "$@"; else trial_libfuzzer "$@"; fi; }

# --- the table -----------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "-"; else if (NR % 2) printf "%.1f", v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The rules that caught it, most frequent first, with counts when they differ.
rules_of() {   # rules_of FILE (one rule a line)
    sort "$1" | uniq -c | sort -rn | awk '{ c = $1; $1 = ""; sub(/^ /, ""); r = r (r ? "; " : "") $0 (c > 1 ? " (x" c ")" : "") } END { print r ? r : "-" }'
}

# --- main ------------------------------------------------------------------------------------------
need_packages cmake make patch clang-14 libclang-rt-14-dev
[ "$ENGINE" = afl ] && need_packages afl++
mapfile -t PATCHES < <(find "$MUTANTS_DIR" -maxdepth 1 -name '*.patch' | sort)
if [ -n "$ONLY" ]; then
    keep=()
    for p in "${PATCHES[@]}"; do
        IFS=, read -ra want <<< "$ONLY"
        for w in "${want[@]}"; do [[ "$(basename "$p")" == *"$w"* ]] && { keep+=("$p"); break; }; done
    done
    PATCHES=("${keep[@]}")
fi
[ ${#PATCHES[@]} -gt 0 ] || { log "mutants.sh: no mutants in $MUTANTS_DIR${ONLY:+ matching $ONLY}"; exit 2; }

if [ -z "$WORK" ]; then WORK=$(mktemp -d "${TMPDIR:-/tmp}/heaplab-mutants.XXXXXX"); fi
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
TREE=$WORK/tree PRISTINE=$WORK/pristine BUILD=$WORK/build-$ENGINE
cleanup() { if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; else log "mutants.sh: work directory kept: $WORK"; fi; }
trap cleanup EXIT
timer_start

section "copy the tree to $TREE and check every patch applies"
rm -rf "$TREE" "$PRISTINE"
copy_tree
for p in "${PATCHES[@]}"; do
    (cd "$TREE" && patch -p1 --dry-run -s < "$p" > /dev/null) || { log "mutants.sh: $(basename "$p") does not apply to src/"; exit 2; }
done
log "${#PATCHES[@]} mutants apply"
section_end

section "configure ($ENGINE) and build the unmutated control"
configure
build_as control || exit 2
section_end

STATUS=0
if [ "$CONTROL_TIME" -gt 0 ]; then
    section "control: the unmutated tree, $CONTROL_TIME s, must find nothing"
    result=$(trial "$WORK/bin/control" "$WORK/trials/control" "$SEED_BASE" "$CONTROL_TIME")
    if [ "$result" = missed ]; then
        CONTROL="clean ($CONTROL_TIME s, nothing found)"
    else
        CONTROL="FOUND A CRASH: ${result#found } (see $WORK/trials/control/log)"
        STATUS=1
    fi
    log "control: $CONTROL"
    section_end
fi

ROWS=()
for p in "${PATCHES[@]}"; do
    name=$(basename "$p" .patch)
    desc=$(sed -n 's/^Description: //p' "$p" | head -1)
    section "mutant $name: $desc"
    (cd "$TREE" && patch -p1 -s < "$p")
    built=1
    build_as "$name" || built=0
    restore "$p"
    hits=0 times=$WORK/times-$name rules=$WORK/rules-$name
    : > "$times"; : > "$rules"
    if [ "$built" = 1 ]; then
        for ((t = 1; t <= TRIALS; t++)); do
            result=$(trial "$WORK/bin/$name" "$WORK/trials/$name-$t" $((SEED_BASE + t)) "$TIME")
            log "  trial $t (seed $((SEED_BASE + t))): $result"
            if [ "$result" != missed ]; then
                hits=$((hits + 1))
                read -r _ secs rule <<< "$result"
                echo "$secs" >> "$times"
                echo "$rule" >> "$rules"
            fi
        done
    else
        echo "does not build" >> "$rules"
    fi
    [ "$hits" -eq "$TRIALS" ] || STATUS=1
    ROWS+=("| $name | $desc | $hits/$TRIALS | $(median < "$times") | $(rules_of "$rules") |")
    section_end
done

TABLE=$WORK/results.md
{
    printf '\n## ci/mutants.sh: %s, %s trials x %s s per mutant, one core\n\n' "$ENGINE" "$TRIALS" "$TIME"
    [ "$CONTROL_TIME" -gt 0 ] && printf 'Control (unmutated): %s\n\n' "$CONTROL"
    printf '| mutant | description | hit rate | median s to first crash | caught by |\n'
    printf '|---|---|---|---|---|\n'
    printf '%s\n' "${ROWS[@]}"
    printf '\nmedian over the trials that found it; total time %s\n' "$(format_duration "$(timer_elapsed)")"
} | tee "$TABLE"
[ "$KEEP" = 1 ] && log "table saved in $TABLE"
if [ "$STATUS" -ne 0 ]; then log "mutants.sh: a mutant was missed in some trial, or the control run crashed"; fi
exit "$STATUS"
