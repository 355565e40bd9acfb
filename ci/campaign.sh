#!/usr/bin/env bash
# campaign.sh - run a fuzzing campaign and summarise it.
#
#   ci/campaign.sh                       libFuzzer on fuzz_heap, 60 s, every core
#   ci/campaign.sh --engine afl          the same target under AFL++
#   ci/campaign.sh --time 600 --jobs 2 --target fuzz_heap
#   ci/campaign.sh bench                 exec/s on the seed corpus, with and without
#                                        the every-op check (fuzz/README.md quotes it)
#
# Installs what is missing (apt-get), builds the `fuzz` preset (libFuzzer, ASan +
# UBSan, every-op check) or an AFL++ build, fuzzes with the seed corpus and the
# dictionary, prints progress, and ends with a summary: executions, exec/s,
# coverage, corpus size, and every crash decoded to its text trace with the
# replay's verdict.  Everything goes under build/campaign/<date>-<engine>/;
# corpus/ changes only through ci/corpus_merge.sh.
#
# Environment: HEAPLAB_BUILD_ROOT (default build/) for the build directories.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$HEAPLAB_ROOT"

ENGINE=libfuzzer TARGET=fuzz_heap TIME=60 JOBS=$(nproc) MODE=campaign WORK=""
while [ $# -gt 0 ]; do
    case "$1" in
        --engine) ENGINE=$2; shift 2 ;;
        --target) TARGET=$2; shift 2 ;;
        --time) TIME=$2; shift 2 ;;
        --jobs) JOBS=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        bench) MODE=bench; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) log "campaign.sh: unknown argument $1 (see --help)"; exit 2 ;;
    esac
done
case "$ENGINE" in libfuzzer|afl) ;; *) log "campaign.sh: --engine libfuzzer or afl"; exit 2 ;; esac

BUILD_ROOT=${HEAPLAB_BUILD_ROOT:-$HEAPLAB_ROOT/build}
SEEDS=$HEAPLAB_ROOT/corpus/$TARGET
DICT=$HEAPLAB_ROOT/fuzz/$TARGET.dict
TRACE_TOOL=hl-trace
# fuzz_heap_<name> (heaplab_add_allocator, docs/byoa.md) speaks fuzz_heap's input
# language: fuzz_heap's seeds and dictionary, and its own hl-trace-<name>.
case "$TARGET" in
    fuzz_heap_?*)
        [ -d "$SEEDS" ] || SEEDS=$HEAPLAB_ROOT/corpus/fuzz_heap
        [ -f "$DICT" ] || DICT=$HEAPLAB_ROOT/fuzz/fuzz_heap.dict
        TRACE_TOOL=hl-trace-${TARGET#fuzz_heap_} ;;
esac

# --- building ----------------------------------------------------------------------------
packages() {
    need_packages cmake make clang-14 libclang-rt-14-dev gcc libcmocka-dev pkg-config
    if [ "$ENGINE" = afl ]; then need_packages afl++; fi
}

# The libFuzzer build: the fuzz preset (clang, ASan + UBSan, every-op check).
build_libfuzzer() {   # build_libfuzzer DIR [extra cmake args]
    local dir=$1; shift
    run cmake --preset fuzz -B "$dir" "$@" >/dev/null
    run cmake --build "$dir" -j2 --target "$TARGET" "$TRACE_TOOL"
}

# The AFL++ build: afl-clang-fast links fuzz_heap with AFL's persistent driver.
build_afl() {   # build_afl DIR
    local dir=$1
    run env AFL_QUIET=1 cmake -S "$HEAPLAB_ROOT" -B "$dir" -DCMAKE_C_COMPILER=afl-clang-fast \
        -DCMAKE_BUILD_TYPE=Debug -DHEAPLAB_FUZZ=ON -DHL_CHECK_EVERY_OP=ON \
        "-DCMAKE_C_FLAGS=-O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" >/dev/null
    run env AFL_QUIET=1 cmake --build "$dir" -j2 --target "$TARGET" "$TRACE_TOOL"
}

# --- the summary --------------------------------------------------------------------------------
# Each crash: its text trace saved beside it (.txt) with the replay's output
# (.replay); the verdicts are printed grouped, one example each, the first
# example's trace in full when it is short.
report_crashes() {   # report_crashes HL_TRACE FILE...
    local trace=$1; shift
    local n=0 f verdict list
    list=$(mktemp)
    for f in "$@"; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        "$trace" decode "$f" > "$f.txt" 2>&1 || true
        "$trace" replay "$f" > "$f.replay" 2>&1 || true
        verdict=$(grep -m1 '^verdict:' "$f.replay" | sed -E 's/^verdict: op #[0-9]+ /verdict: /' || true)
        if [ -z "$verdict" ]; then   # the replay itself crashed: a sanitizer report
            verdict="replay crashed: $(grep -m1 -E 'ERROR:|runtime error' "$f.replay" | sed -E 's/^==[0-9]+==//; s/ on address.*//; s/ at pc.*//' || echo '?')"
            verdict="$verdict in $(grep -m1 -E '#[0-9]+ .* in (hl_|hl__)' "$f.replay" | sed -E 's/.* in ([a-z_0-9]+) .*/\1/' || echo '?')"
        fi
        printf '%s\t%s\n' "$verdict" "$f" >> "$list"
    done
    printf 'crashes:    %d\n' "$n"
    if [ "$n" -gt 0 ]; then
        cut -f1 "$list" | sort | uniq -c | sort -rn | while read -r count v; do
            f=$(grep -F -m1 "$v"$'\t' "$list" | cut -f2)
            printf '\n  %d x %s\n     e.g. %s\n     trace %s.txt (%s operations), replay %s.replay\n' "$count" "$v" "$f" "$f" \
                "$(grep -c '^[0-9]*:' "$f.txt" || true)" "$f"
            if [ "$(wc -l < "$f.txt")" -le 25 ]; then sed 's/^/       /' "$f.txt"; fi
        done
    fi
    rm -f "$list"
    return 0
}

summary_libfuzzer() {   # summary_libfuzzer LOG CORPUS CRASHDIR
    local log=$1 corpus=$2 crashes=$3 last
    last=$(grep -E '^#[0-9]+:? ' "$log" | tail -1 || true)
    printf '\n==== summary: libFuzzer on %s, %s s, %s jobs ====\n' "$TARGET" "$TIME" "$JOBS"
    printf 'executions: %s\n' "$(sed -E 's/^#([0-9]+).*/\1/' <<< "$last")"
    local execs secs
    execs=$(sed -E 's/^#([0-9]+).*/\1/' <<< "$last")
    secs=$(grep -oE ' time: [0-9]+s' <<< "$last" | grep -oE '[0-9]+' || echo "$TIME")
    printf 'exec/s:     %s (executions / %s s, all jobs)\n' "$(( ${execs:-0} / (${secs:-1} > 0 ? ${secs:-1} : 1) ))" "$secs"
    printf 'coverage:   cov %s, ft %s\n' "$(grep -oE 'cov: [0-9]+' <<< "$last" | cut -d' ' -f2)" \
        "$(grep -oE 'ft: [0-9]+' <<< "$last" | cut -d' ' -f2)"
    printf 'corpus:     %s inputs in %s (seeds: %s)\n' "$(find "$corpus" -type f | wc -l)" "$corpus" \
        "$(find "$SEEDS" -maxdepth 1 -type f | wc -l)"
    report_crashes "$BUILD/fuzz/$TRACE_TOOL" "$crashes"/crash-* "$crashes"/leak-* "$crashes"/timeout-* "$crashes"/oom-*
}

# --- engines ----------------------------------------------------------------------------------------
run_libfuzzer() {
    BUILD=${HEAPLAB_FUZZ_BUILD:-$BUILD_ROOT/fuzz}
    section "build ($BUILD)"; build_libfuzzer "$BUILD"; section_end
    local corpus=$WORK/corpus crashes=$WORK/crashes log=$WORK/libfuzzer.log
    mkdir -p "$corpus" "$crashes"
    find "$SEEDS" -maxdepth 1 -type f -exec cp {} "$corpus/" \;
    section "libFuzzer: $TARGET for $TIME s on $JOBS jobs (log: $log)"
    # fork mode: one worker per job, crashes collected without stopping the run
    (cd "$WORK" && run "$BUILD/fuzz/$TARGET" -fork="$JOBS" -ignore_crashes=1 -ignore_ooms=1 \
        -ignore_timeouts=1 -max_total_time="$TIME" -dict="$DICT" -artifact_prefix="$crashes/" \
        -print_final_stats=1 "$corpus" 2>&1 | tee "$log" | grep --line-buffered -E '^#[0-9]+:? |INFO: (fuzzed|exiting)|deadly|rule ') || true
    section_end
    summary_libfuzzer "$log" "$corpus" "$crashes"
}

run_afl() {
    BUILD=${HEAPLAB_AFL_BUILD:-$BUILD_ROOT/fuzz-afl}
    section "build ($BUILD)"; build_afl "$BUILD"; section_end
    local seeds=$WORK/seeds out=$WORK/afl i pids=()
    mkdir -p "$seeds"
    find "$SEEDS" -maxdepth 1 -type f -exec cp {} "$seeds/" \;
    export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
    section "AFL++: $TARGET for $TIME s on $JOBS instances (output: $out)"
    for ((i = 0; i < JOBS; i++)); do
        local role=(-S "s$i"); [ "$i" -eq 0 ] && role=(-M main)
        run afl-fuzz "${role[@]}" -i "$seeds" -o "$out" -x "$DICT" -m none -V "$TIME" \
            -- "$BUILD/fuzz/$TARGET" > "$WORK/afl-$i.log" 2>&1 &
        pids+=($!)
    done
    local t=0
    while [ "$t" -lt "$TIME" ] && kill -0 "${pids[0]}" 2>/dev/null; do
        sleep 10; t=$((t + 10))
        afl-whatsup -s "$out" 2>/dev/null | grep -E 'Cumulative speed|Total execs|Crashes saved' | tr -s ' ' | paste -sd';' || true
    done
    wait "${pids[@]}" || true
    section_end
    local execs=0 speed=0 cov="" count=0 f
    for f in "$out"/*/fuzzer_stats; do
        execs=$((execs + $(awk -F: '/^execs_done/ {gsub(/ /,"",$2); print $2}' "$f")))
        speed=$(awk -v s="$speed" -F: '/^execs_per_sec/ {gsub(/ /,"",$2); print s + $2}' "$f")
        count=$((count + $(awk -F: '/^corpus_count/ {gsub(/ /,"",$2); print $2}' "$f")))
        cov="$cov $(awk -F: '/^bitmap_cvg/ {gsub(/ /,"",$2); print $2}' "$f")"
    done
    printf '\n==== summary: AFL++ on %s, %s s, %s instances ====\n' "$TARGET" "$TIME" "$JOBS"
    printf 'executions: %s\nexec/s:     %s (sum of the last averages)\ncoverage:   bitmap%s\n' "$execs" "$speed" "$cov"
    printf 'corpus:     %s queue entries in %s\n' "$count" "$out"
    report_crashes "$BUILD/fuzz/$TRACE_TOOL" "$out"/*/crashes/id:*
}

# exec/s over the seed corpus, with and without the every-op check, one core.
run_bench() {
    local checked=${HEAPLAB_FUZZ_BUILD:-$BUILD_ROOT/fuzz} plain=$BUILD_ROOT/fuzz-nocheck reps=${BENCH_REPS:-100}
    section "build"; build_libfuzzer "$checked"; build_libfuzzer "$plain" -DHL_CHECK_EVERY_OP=OFF; section_end
    local files=() i
    mapfile -t files < <(find "$SEEDS" -maxdepth 1 -type f | sort)
    local args=(); for ((i = 0; i < reps; i++)); do args+=("${files[@]}"); done
    section "exec/s: ${#files[@]} seeds x $reps, ASan + UBSan"
    for b in "$checked" "$plain"; do
        local start end
        start=$(date +%s%N)
        "$b/fuzz/$TARGET" "${args[@]}" >/dev/null 2>&1
        end=$(date +%s%N)
        printf '%-45s %6d inputs in %6.2f s: %7.0f exec/s\n' "$(basename "$b")$( [ "$b" = "$plain" ] && echo ' (no every-op check)' || echo ' (every-op check)')" \
            "${#args[@]}" "$(echo "($end - $start) / 1000000000" | bc -l)" \
            "$(echo "${#args[@]} * 1000000000 / ($end - $start)" | bc -l)"
    done
    section_end
}

timer_start
packages
if [ "$MODE" = bench ]; then run_bench; exit 0; fi
WORK=${WORK:-$BUILD_ROOT/campaign/$(date +%Y%m%d-%H%M%S)-$ENGINE}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
if [ "$ENGINE" = libfuzzer ]; then run_libfuzzer; else run_afl; fi
printf '\nwork directory: %s (merge findings: ci/corpus_merge.sh %s)\ntotal: %s\n' "$WORK" \
    "$([ "$ENGINE" = afl ] && echo "--engine afl $WORK/afl/*/queue" || echo "$WORK/corpus")" "$(format_duration "$(timer_elapsed)")"
