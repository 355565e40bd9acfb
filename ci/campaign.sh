#!/usr/bin/env bash
# campaign.sh - run a fuzzing campaign and summarise it.
#
#   ci/campaign.sh                       libFuzzer on fuzz_heap, 60 s, every core
#   ci/campaign.sh --engine afl          the same target under AFL++: one -M main, a CMPLOG
#                                        -S secondary, the others -S with other power schedules
#   ci/campaign.sh --time 600 --jobs 2 --target fuzz_heap
#   ci/campaign.sh --target fuzz_threads_teach_mt   fuzz_heap_<name>, fuzz_threads and
#                                        fuzz_threads_<name> too (their seeds, dictionary
#                                        and trace tools: crash_lib.sh target_tools)
#   ci/campaign.sh --engine afl --suffix "$(hostname)"   instance names main-HOST ... (one
#                                        sync directory over several machines: docs/campaigns.md)
#   ci/campaign.sh bench                 exec/s on the seed corpus, with and without
#                                        the every-op check (fuzz/README.md quotes it)
#   more options: --work DIR (the campaign directory), --no-cmplog, --no-report
#
# Installs what is missing (apt-get), builds the `fuzz` preset (libFuzzer, ASan +
# UBSan, every-op check) or an AFL++ build, fuzzes with the seed corpus and the
# dictionary, prints progress, and ends with a summary: executions, exec/s,
# coverage, corpus size, and every crash decoded to its text trace with the
# replay's verdict; then ci/campaign_report.sh writes the HTML report
# (<work>/report/index.html).  Everything goes under build/campaign/<date>-<engine>/
# (campaign.env there says what ran); corpus/ changes only through ci/corpus_merge.sh.
#
# Environment: HEAPLAB_BUILD_ROOT (default build/) for the build directories;
# CRASH_REPLAYS (10): how many times a threaded crash is replayed (crash_lib.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/crash_lib.sh"
cd "$HEAPLAB_ROOT"

ENGINE=libfuzzer TARGET=fuzz_heap TIME=60 JOBS=$(nproc) MODE=campaign WORK="" CMPLOG=1 REPORT=1 SUFFIX=""
while [ $# -gt 0 ]; do
    case "$1" in
        --engine) ENGINE=$2; shift 2 ;;
        --target) TARGET=$2; shift 2 ;;
        --time) TIME=$2; shift 2 ;;
        --jobs) JOBS=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --suffix) SUFFIX=-$2; shift 2 ;;
        --no-cmplog) CMPLOG=0; shift ;;
        --no-report) REPORT=0; shift ;;
        bench) MODE=bench; shift ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) log "campaign.sh: unknown argument $1 (see --help)"; exit 2 ;;
    esac
done
case "$ENGINE" in libfuzzer|afl) ;; *) log "campaign.sh: --engine libfuzzer or afl"; exit 2 ;; esac
case "$JOBS$TIME" in *[!0-9]*) log "campaign.sh: --jobs and --time take whole numbers"; exit 2 ;; esac
[ "$JOBS" -ge 1 ] || { log "campaign.sh: --jobs must be at least 1"; exit 2; }

BUILD_ROOT=${HEAPLAB_BUILD_ROOT:-$HEAPLAB_ROOT/build}
# The target's input language (crash_lib.sh): fuzz_heap_<name> (heaplab_add_allocator,
# docs/byoa.md) speaks fuzz_heap's, with its own hl-trace-<name>; fuzz_threads and
# fuzz_threads_<name> speak fuzz_threads', decoded by fzt-trace and judged by the
# target's standalone driver.  Seeds and dictionary: the target's own, else its language's.
target_tools "$TARGET"
SEEDS=$HEAPLAB_ROOT/corpus/$TARGET
DICT=$HEAPLAB_ROOT/fuzz/$TARGET.dict
[ -d "$SEEDS" ] || SEEDS=$HEAPLAB_ROOT/corpus/$TARGET_SEEDS_NAME
[ -f "$DICT" ] || DICT=$HEAPLAB_ROOT/fuzz/$TARGET_SEEDS_NAME.dict
[ -d "$SEEDS" ] || { log "campaign.sh: no seeds for $TARGET (corpus/$TARGET or corpus/$TARGET_SEEDS_NAME)"; exit 2; }
[ -f "$DICT" ] || { log "campaign.sh: no dictionary for $TARGET (fuzz/$TARGET.dict or fuzz/$TARGET_SEEDS_NAME.dict)"; exit 2; }
TOOLS=("$TRACE_TOOL"); [ "$REPLAY_TOOL" = "$TRACE_TOOL" ] || TOOLS+=("$REPLAY_TOOL")

# --- building ----------------------------------------------------------------------------
packages() {
    need_packages cmake make clang-14 libclang-rt-14-dev gcc libcmocka-dev pkg-config
    if [ "$ENGINE" = afl ]; then need_packages afl++; fi
    # gnuplot draws afl-plot's pictures and the report's plots; gcovr its coverage pages
    [ "$MODE" = campaign ] || return 0
    if [ "$REPORT" = 1 ] || [ "$ENGINE" = afl ]; then need_packages gnuplot-nox; fi
    if [ "$REPORT" = 1 ]; then need_packages gcovr; fi
}

# The libFuzzer build: the fuzz preset (clang, ASan + UBSan, every-op check).
build_libfuzzer() {   # build_libfuzzer DIR [extra cmake args]
    local dir=$1; shift
    run cmake --preset fuzz -B "$dir" "$@" >/dev/null
    run cmake --build "$dir" -j2 --target "$TARGET" "${TOOLS[@]}"
}

# The AFL++ build: afl-clang-fast links fuzz_heap with AFL's persistent driver.
# With "cmplog": the same target compiled with AFL_LLVM_CMPLOG=1, the binary an
# instance is given with -c (it logs comparison operands for input-to-state).
build_afl() {   # build_afl DIR [cmplog]
    local dir=$1 cmplog=() targets=("$TARGET" "${TOOLS[@]}")
    if [ "${2:-}" = cmplog ]; then cmplog=(AFL_LLVM_CMPLOG=1); targets=("$TARGET"); fi
    run env AFL_QUIET=1 "${cmplog[@]}" cmake -S "$HEAPLAB_ROOT" -B "$dir" -DCMAKE_C_COMPILER=afl-clang-fast \
        -DCMAKE_BUILD_TYPE=Debug -DHEAPLAB_FUZZ=ON -DHL_CHECK_EVERY_OP=ON \
        "-DCMAKE_C_FLAGS=-O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" >/dev/null
    run env AFL_QUIET=1 "${cmplog[@]}" cmake --build "$dir" -j2 --target "${targets[@]}"
}

# --- the summary --------------------------------------------------------------------------------
# Each crash: its text trace saved beside it (.txt) with the replay's output
# (.replay); the verdicts are printed grouped, one example each, the first
# example's trace in full when it is short.
report_crashes() {   # report_crashes TOOL_DIR FILE...
    local tools=$1; shift
    local n=0 f verdict list
    list=$(mktemp)
    for f in "$@"; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        "$tools/$TRACE_TOOL" decode "$f" > "$f.txt" 2>&1 || true
        crash_replay "$TARGET_LANG" "$tools/$REPLAY_TOOL" "$f" "$f.replay"
        verdict=$(crash_verdict "$f.replay")
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
    local files=(); mapfile -t files < <(crash_files libfuzzer "$WORK")
    report_crashes "$BUILD/fuzz" "${files[@]}"
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

# The instances' roles: -M main; one CMPLOG secondary (-c, the AFL_LLVM_CMPLOG
# build); the others -S with AFL++'s other power schedules, so they do not all
# follow the same seeds.  With one job, main itself gets -c.
AFL_SCHEDULES=(explore coe lin quad exploit rare mmopt seek)
afl_instance_args() {   # afl_instance_args INDEX CMPLOG_BINARY: prints one argument a line
    local i=$1 cmplog_bin=$2
    if [ "$i" -eq 0 ]; then
        printf '%s\n' -M "main$SUFFIX"
        if [ "$JOBS" -eq 1 ] && [ -n "$cmplog_bin" ]; then printf '%s\n' -c "$cmplog_bin"; fi
    elif [ "$i" -eq 1 ] && [ -n "$cmplog_bin" ]; then
        printf '%s\n' -S "cmplog$SUFFIX" -c "$cmplog_bin"
    else
        local k=$((i - 1)); [ -z "$cmplog_bin" ] || k=$((i - 2))
        printf '%s\n' -S "s$i$SUFFIX" -p "${AFL_SCHEDULES[$(( k % ${#AFL_SCHEDULES[@]} ))]}"
    fi
}

run_afl() {
    BUILD=${HEAPLAB_AFL_BUILD:-$BUILD_ROOT/fuzz-afl}
    local cmplog_build=${HEAPLAB_AFL_CMPLOG_BUILD:-$BUILD_ROOT/fuzz-afl-cmplog} cmplog_bin=""
    section "build ($BUILD)"; build_afl "$BUILD"; section_end
    if [ "$CMPLOG" = 1 ]; then
        section "CMPLOG build ($cmplog_build)"; build_afl "$cmplog_build" cmplog; section_end
        cmplog_bin=$cmplog_build/fuzz/$TARGET
    fi
    local seeds=$WORK/seeds out=$WORK/afl i pids=() args=()
    mkdir -p "$seeds"
    find "$SEEDS" -maxdepth 1 -type f -exec cp {} "$seeds/" \;
    # No UI, no CPU-governor check, no core pinning that fails on a shared machine;
    # CMPLOG only on new paths (the seeds were compared before).
    export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_TRY_AFFINITY=1 \
        AFL_IMPORT_FIRST=1 AFL_CMPLOG_ONLY_NEW=1
    section "AFL++: $TARGET for $TIME s on $JOBS instances (sync directory: $out)"
    for ((i = 0; i < JOBS; i++)); do
        mapfile -t args < <(afl_instance_args "$i" "$cmplog_bin")
        run afl-fuzz "${args[@]}" -i "$seeds" -o "$out" -x "$DICT" -m none -V "$TIME" \
            -- "$BUILD/fuzz/$TARGET" > "$WORK/afl-$i.log" 2>&1 &
        pids+=($!)
    done
    local t=0
    while [ "$t" -lt "$TIME" ] && kill -0 "${pids[0]}" 2>/dev/null; do
        sleep 10; t=$((t + 10))
        afl-whatsup -s "$out" 2>/dev/null | grep -E 'Cumulative speed|Total execs|Crashes saved' | tr -s ' ' | paste -sd';' || true
    done
    local failed=0
    for i in "${!pids[@]}"; do
        if ! wait "${pids[$i]}"; then
            log "campaign.sh: afl-fuzz instance $i failed (log: $WORK/afl-$i.log)"; tail -5 "$WORK/afl-$i.log" >&2; failed=1
        fi
    done
    section_end
    # -d: the instances have stopped by now, and would otherwise be left out of the totals
    afl-whatsup -s -d "$out" 2>/dev/null > "$WORK/afl-whatsup.txt" || true
    sed -n '/Summary stats/,$p' "$WORK/afl-whatsup.txt"
    afl_plots "$out"
    afl_summary "$out"
    return "$failed"
}

# afl-plot's pictures of each instance (gnuplot), in <work>/afl-plot/<instance>/.  It
# needs two rows of plot_data, and AFL++ 4.04c writes none in an instance's first
# minute (then one a minute or so, and a last one when it stops).
afl_plots() {   # afl_plots SYNC_DIR
    local d name rows
    for d in "$1"/*/; do
        name=$(basename "$d")
        [ -f "$d/plot_data" ] || continue
        rows=$(grep -vc '^#' "$d/plot_data" || true)
        if [ "$rows" -lt 2 ]; then
            log "campaign.sh: afl-plot $name: skipped, plot_data has $rows row(s) (AFL++ writes none in the first minute)"
            continue
        fi
        mkdir -p "$WORK/afl-plot/$name"
        afl-plot "$d" "$WORK/afl-plot/$name" > "$WORK/afl-plot/$name.log" 2>&1 \
            || log "campaign.sh: afl-plot $name failed (see $WORK/afl-plot/$name.log)"
    done
}

afl_summary() {   # afl_summary SYNC_DIR
    local out=$1 execs=0 speed=0 cov="" count=0 f
    for f in "$out"/*/fuzzer_stats; do
        execs=$((execs + $(awk -F: '/^execs_done/ {gsub(/ /,"",$2); print $2}' "$f")))
        speed=$(awk -v s="$speed" -F: '/^execs_per_sec/ {gsub(/ /,"",$2); print s + $2}' "$f")
        count=$((count + $(awk -F: '/^corpus_count/ {gsub(/ /,"",$2); print $2}' "$f")))
        cov="$cov $(basename "$(dirname "$f")")=$(awk -F: '/^bitmap_cvg/ {gsub(/ /,"",$2); print $2}' "$f")"
    done
    printf '\n==== summary: AFL++ on %s, %s s, %s instances ====\n' "$TARGET" "$TIME" "$JOBS"
    printf 'executions: %s\nexec/s:     %s (sum of the last averages)\ncoverage:   bitmap%s\n' "$execs" "$speed" "$cov"
    printf 'corpus:     %s queue entries in %s/*/queue\n' "$count" "$out"
    local files=(); mapfile -t files < <(crash_files afl "$WORK")
    report_crashes "$BUILD/fuzz" "${files[@]}"
}

# What ran, for ci/campaign_report.sh and ci/corpus_merge.sh (sourced by them).
write_campaign_env() {
    {
        printf 'CAMPAIGN_ENGINE=%q\nCAMPAIGN_TARGET=%q\nCAMPAIGN_TIME=%q\nCAMPAIGN_JOBS=%q\n' "$ENGINE" "$TARGET" "$TIME" "$JOBS"
        printf 'CAMPAIGN_BUILD=%q\nCAMPAIGN_TRACE_TOOL=%q\nCAMPAIGN_SEEDS=%q\n' "$BUILD" "$TRACE_TOOL" "$SEEDS"
        printf 'CAMPAIGN_LANG=%q\nCAMPAIGN_REPLAY_TOOL=%q\nCAMPAIGN_DICT=%q\n' "$TARGET_LANG" "$REPLAY_TOOL" "$DICT"
        printf 'CAMPAIGN_STARTED=%q\nCAMPAIGN_HOST=%q\n' "$STARTED" "$(hostname)"
    } > "$WORK/campaign.env"
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
STARTED=$(date +%s)
BUILD=${HEAPLAB_FUZZ_BUILD:-$BUILD_ROOT/fuzz}
[ "$ENGINE" = afl ] && BUILD=${HEAPLAB_AFL_BUILD:-$BUILD_ROOT/fuzz-afl}
write_campaign_env
status=0
# The output also goes to campaign.log; the summary part of it to summary.txt (the report shows it).
if [ "$ENGINE" = libfuzzer ]; then
    run_libfuzzer 2>&1 | tee "$WORK/campaign.log" || status=$?
else
    run_afl 2>&1 | tee "$WORK/campaign.log" || status=$?
fi
sed -n '/^==== summary/,$p' "$WORK/campaign.log" > "$WORK/summary.txt"
if [ "$REPORT" = 1 ]; then
    HEAPLAB_BUILD_ROOT=$BUILD_ROOT run bash "$HEAPLAB_ROOT/ci/campaign_report.sh" "$WORK" || status=1
fi
printf '\nwork directory: %s (merge findings: ci/corpus_merge.sh %s)\n' "$WORK" "$WORK"
if [ "$REPORT" = 1 ] && [ -f "$WORK/report/index.html" ]; then printf 'report:         %s/report/index.html\n' "$WORK"; fi
printf 'total: %s\n' "$(format_duration "$(timer_elapsed)")"
exit "$status"
