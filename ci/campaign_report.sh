#!/usr/bin/env bash
# campaign_report.sh - turn a finished campaign directory into a report to open in a browser.
#
#   ci/campaign_report.sh [--no-coverage] DIR     DIR: what ci/campaign.sh made (either engine)
#
# Writes DIR/report/: index.html (hand-written HTML, no script, no network), with
#   - the summary ci/campaign.sh printed, and afl-whatsup's for AFL++;
#   - plots (gnuplot SVG, plots/*.svg) of coverage, exec/s and corpus size over time:
#     from libFuzzer's status lines (DIR/libfuzzer.log), from the plot_data of every
#     AFL++ instance (one line each), and links to afl-plot's pages (DIR/afl-plot/);
#   - every crash: its trace (hl-trace decode), the replay's verdict (hl-trace replay)
#     and its heap map (hl-trace svg), in crashes/; for a threaded target (fuzz_threads,
#     fuzz_threads_<name>) the trace is fzt-trace's, the replay the target's standalone
#     driver (crash_lib.sh crash_replay) and there is no heap map;
#   - coverage of src/ and invariants/ (and a byoa target's allocator directory) by the
#     campaign's corpus: a gcc --coverage build (cached in build/report-coverage, only
#     the target's replay driver), the corpus replayed through it, gcovr --html-details
#     (coverage/index.html).
# Exit status: 0 report written, 2 DIR is not a campaign directory.
# Environment: HEAPLAB_BUILD_ROOT (default build/), HEAPLAB_REPORT_COVERAGE_BUILD.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/crash_lib.sh"

COVERAGE=1
while [ $# -gt 1 ]; do
    case "$1" in
        --no-coverage) COVERAGE=0; shift ;;
        *) break ;;
    esac
done
case "${1:-}" in ''|-h|--help) sed -n '2,20p' "$0"; exit 2 ;; esac
[ -d "$1" ] || { log "campaign_report: $1: no such directory"; exit 2; }
DIR=$(cd "$1" && pwd)
BUILD_ROOT=${HEAPLAB_BUILD_ROOT:-$HEAPLAB_ROOT/build}
COV_BUILD=${HEAPLAB_REPORT_COVERAGE_BUILD:-$BUILD_ROOT/report-coverage}

# --- what ran ------------------------------------------------------------------------------------
if [ -f "$DIR/campaign.env" ]; then
    # shellcheck source=/dev/null
    source "$DIR/campaign.env"
elif [ -d "$DIR/afl" ] || [ -f "$DIR/libfuzzer.log" ]; then
    CAMPAIGN_ENGINE=$([ -d "$DIR/afl" ] && echo afl || echo libfuzzer)
    CAMPAIGN_TARGET=fuzz_heap CAMPAIGN_TRACE_TOOL=hl-trace
    CAMPAIGN_BUILD=$BUILD_ROOT/$([ "$CAMPAIGN_ENGINE" = afl ] && echo fuzz-afl || echo fuzz)
    log "campaign_report: no $DIR/campaign.env: assuming $CAMPAIGN_ENGINE on fuzz_heap"
else
    log "campaign_report: $DIR is not a campaign directory (no campaign.env, afl/ or libfuzzer.log)"
    exit 2
fi
ENGINE=$CAMPAIGN_ENGINE TARGET=$CAMPAIGN_TARGET
# The input language and its tools (crash_lib.sh); a campaign.env written before
# CAMPAIGN_LANG existed is a fuzz_heap-language one.
target_tools "$TARGET"
LANG_=${CAMPAIGN_LANG:-$TARGET_LANG}
TRACE=$CAMPAIGN_BUILD/fuzz/$CAMPAIGN_TRACE_TOOL
REPLAY=$CAMPAIGN_BUILD/fuzz/${CAMPAIGN_REPLAY_TOOL:-$REPLAY_TOOL}
for tool in "$TRACE" "$REPLAY"; do
    [ -x "$tool" ] || { log "campaign_report: $tool is missing (build the campaign's target first)"; exit 2; }
done
OUT=$DIR/report
rm -rf "$OUT"
mkdir -p "$OUT/plots" "$OUT/data" "$OUT/crashes"

html_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }
esc() { printf '%s' "$*" | html_escape; }

# --- time series ---------------------------------------------------------------------------------
# Each series is a file data/NAME.dat: seconds, coverage, exec/s, corpus size, executions.
# libFuzzer: the status lines ("#N ... cov: C ... corp: K[/size] exec/s[:] E ... time: Ts" in
# fork mode).  Without time: (plain mode), the time is N / E.  exec/s is computed from the
# executions between two status lines a second or more apart (fork mode's own figure is
# often 0).
series_libfuzzer() {
    grep -aE '^#[0-9]+:? ' "$DIR/libfuzzer.log" | awk '
        {
            n = substr($1, 2); sub(/:$/, "", n); cov = ""; corp = ""; t = ""; e = ""
            for (i = 2; i < NF; i++) {
                if ($i == "cov:") cov = $(i + 1)
                else if ($i == "corp:") { corp = $(i + 1); sub(/\/.*/, "", corp) }
                else if ($i == "time:") { t = $(i + 1); sub(/s$/, "", t) }
                else if ($i == "exec/s" || $i == "exec/s:") e = $(i + 1)
            }
            if (cov == "") next
            if (t == "") t = (e > 0) ? n / e : 0
            if (t > lt || NR == 1) { rate = (t > lt && NR > 1) ? (n - ln) / (t - lt) : 0; ln = n; lt = t
                                     printf "%s %s %.0f %s %s\n", t, cov, rate, corp, n }
        }' > "$OUT/data/libfuzzer.dat"
}

# AFL++ plot_data: columns named by its header line (4.x: relative_time ... edges_found).
# 4.04c writes no row in an instance's first minute (only a last one when it stops),
# so a short campaign has one point per instance here; the queue below fills in.
series_afl_plot() {
    local d name
    for d in "$DIR"/afl/*/; do
        name=$(basename "$d")
        [ -f "$d/plot_data" ] || continue
        awk -F', *' '
            /^#/ { sub(/^# */, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
            {
                t = $(("relative_time" in col) ? col["relative_time"] : 1)
                if (!("relative_time" in col)) { if (!seen++) t0 = t; t -= t0 }
                cov = ("edges_found" in col) ? $(col["edges_found"]) : $(col["map_size"]) + 0
                corp = ("corpus_count" in col) ? $(col["corpus_count"]) : $(col["paths_total"])
                printf "%s %s %s %s %s\n", t, cov, $(col["execs_per_sec"]) + 0, corp, ("total_execs" in col) ? $(col["total_execs"]) : "?"
            }' "$d/plot_data" > "$OUT/data/plot-$name.dat"
    done
}

# Every queue entry of an instance, in the order written (mtime, seconds after the
# instance's start_time): the corpus size over time, and exec/s from the execs:N in the
# names of the entries it found itself (synced ones have none).
series_afl_queue() {
    local d name start
    for d in "$DIR"/afl/*/; do
        name=$(basename "$d")
        [ -d "$d/queue" ] || continue
        start=$(awk -F: '/^start_time/ { gsub(/ /, "", $2); print $2 }' "$d/fuzzer_stats" 2>/dev/null || true)
        find "$d/queue" -maxdepth 1 -type f -name 'id:*' -printf '%T@ %f\n' | sort -n | awk -v t0="${start:-0}" '
            {
                if (t0 == 0) t0 = $1
                t = $1 - t0; if (t < 0) t = 0; n++; rate = "?"; e = "?"
                if (match($2, /execs:[0-9]+/)) {
                    e = substr($2, RSTART + 6, RLENGTH - 6)
                    if (e > 0 && t >= lt + 1) { if (lt > 0 || le > 0) rate = sprintf("%.0f", (e - le) / (t - lt)); lt = t; le = e }
                }
                printf "%.2f ? %s %d %s\n", t, rate, n, e
            }' > "$OUT/data/queue-$name.dat"
    done
}

# One SVG per quantity; one line per series (DATA: a glob under data/).
plot() {   # plot FILE TITLE YLABEL COLUMN DATA
    local file=$1 title=$2 ylabel=$3 col=$4 f plots="" name
    for f in "$OUT"/data/$5.dat; do
        [ -s "$f" ] || continue
        name=$(basename "$f" .dat); name=${name#plot-}; name=${name#queue-}
        plots="$plots${plots:+, }'$f' using 1:$col with linespoints linewidth 2 pointsize 0.6 title '$name'"
    done
    [ -n "$plots" ] || return 1
    gnuplot > "$OUT/plots/$file.log" 2>&1 <<EOF || { log "campaign_report: gnuplot failed on $file (plots/$file.log)"; return 1; }
set terminal svg size 800,360 dynamic noenhanced font 'sans,11' background rgb 'white'
set output '$OUT/plots/$file.svg'
set datafile missing '?'
set title "$title"
set xlabel 'seconds'
set ylabel "$ylabel"
set grid
set key left top
plot $plots
EOF
    rm -f "$OUT/plots/$file.log"
}

# --- crashes -----------------------------------------------------------------------------------------
# crashes/NNN (a copy of the input), NNN.txt (decode), NNN.replay.txt, NNN.svg; a
# tab-separated index line each in crashes/index.tsv: n, verdict, original path,
# instance, ms after the start, operations, heap map status, cause (crash_lib.sh).
# The heap map comes from the campaign's build; when its replay dies under a sanitizer
# before drawing, from the coverage build's tool (no sanitizers), said so in the report.
crash_found_ms() {   # crash_found_ms FILE
    local f=$1 ms
    ms=$(basename "$f" | grep -oE 'time:[0-9]+' | cut -d: -f2 || true)
    if [ -z "$ms" ] && [ -n "${CAMPAIGN_STARTED:-}" ]; then
        ms=$(( ($(stat -c %Y "$f") - CAMPAIGN_STARTED) * 1000 ))
        [ "$ms" -ge 0 ] || ms=""
    fi
    printf '%s' "${ms:-?}"
}

crashes() {
    local n=0 f id verdict inst svg plain=$COV_BUILD/fuzz/$CAMPAIGN_TRACE_TOOL
    : > "$OUT/crashes/index.tsv"
    while IFS= read -r f; do
        n=$((n + 1)); id=$(printf '%03d' "$n")
        cp "$f" "$OUT/crashes/$id"
        "$TRACE" decode "$f" > "$OUT/crashes/$id.txt" 2>&1 || true
        crash_replay "$LANG_" "$REPLAY" "$f" "$OUT/crashes/$id.replay.txt"
        verdict=$(crash_verdict "$OUT/crashes/$id.replay.txt")
        svg=campaign
        # a threaded input has no heap map (fzt-trace draws none: its heap is shared by threads)
        if [ "$LANG_" = threads ]; then
            svg=threads
        elif ! timeout 120 "$TRACE" svg "$f" -o "$OUT/crashes/$id.svg" > /dev/null 2>&1 || ! [ -s "$OUT/crashes/$id.svg" ]; then
            svg=none
            if [ -x "$plain" ] && timeout 120 "$plain" svg "$f" -o "$OUT/crashes/$id.svg" > /dev/null 2>&1 \
                && [ -s "$OUT/crashes/$id.svg" ]; then svg=plain; fi
        fi
        [ "$svg" != none ] || rm -f "$OUT/crashes/$id.svg"
        inst=$([ "$ENGINE" = afl ] && basename "$(dirname "$(dirname "$f")")" || echo libfuzzer)
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$verdict" "${f#"$DIR"/}" "$inst" "$(crash_found_ms "$f")" \
            "$(grep -c '^[0-9]*:' "$OUT/crashes/$id.txt" || true)" "$svg" \
            "$(crash_cause "$OUT/crashes/$id.replay.txt" "$HEAPLAB_ROOT" | tr '\t' ' ')" >> "$OUT/crashes/index.tsv"
    done < <(crash_files "$ENGINE" "$DIR")
    log "campaign_report: $n crashes"
}

# --- coverage ------------------------------------------------------------------------------------------
corpus_files() {
    if [ "$ENGINE" = afl ]; then
        find "$DIR"/afl/*/queue -maxdepth 1 -type f -name 'id:*' 2>/dev/null
    else
        find "$DIR/corpus" -maxdepth 1 -type f 2>/dev/null
    fi
}

# The allocator directory of a byoa target (fuzz_heap_NAME or fuzz_threads_NAME with
# examples/allocators/NAME, or NAME's part before its first _).
extra_filter() {
    local name=${TARGET#fuzz_heap_}
    name=${name#fuzz_threads_}
    [ "$name" != "$TARGET" ] || return 0
    # a variant (teach_fixed, teach_mt) lives in its allocator's directory (teach/)
    [ -d "$HEAPLAB_ROOT/examples/allocators/$name" ] || name=${name%%_*}
    if [ -d "$HEAPLAB_ROOT/examples/allocators/$name" ]; then
        printf '%s\n' "$HEAPLAB_ROOT/examples/allocators/$name/"
    fi
}

# Runs the corpus through the replay driver in batches of 100, in process (a byoa target
# would fork a child per input, whose counters are lost).  An input that aborts loses its
# process's counters, so a failed batch is run again one input at a time: only the
# failing inputs go uncounted.  Prints how many failed (an input the sanitizer build
# passed can fail here: the same bug seen by the oracle instead of ASan).
replay_corpus() {   # replay_corpus DRIVER
    local files=() i f failed=0
    mapfile -t files < <(corpus_files | sort)
    for ((i = 0; i < ${#files[@]}; i += 100)); do
        HEAPLAB_BYOA_MODE=inprocess "$1" "${files[@]:i:100}" >&2 2>&1 && continue
        for f in "${files[@]:i:100}"; do
            HEAPLAB_BYOA_MODE=inprocess "$1" "$f" > /dev/null 2>&1 || { failed=$((failed + 1)); log "failed: $f"; }
        done
    done
    echo "$failed"
}

coverage() {
    local replay=${TARGET}_replay
    need_packages gcc gcovr cmake make
    # Configured once; later reports rebuild only what changed.
    if [ ! -f "$COV_BUILD/CMakeCache.txt" ]; then
        run cmake -S "$HEAPLAB_ROOT" -B "$COV_BUILD" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug \
            -DHL_CHECK_EVERY_OP=ON "-DCMAKE_C_FLAGS=--coverage -fprofile-update=atomic" > "$OUT/coverage-build.log" 2>&1 \
            || { tail -20 "$OUT/coverage-build.log" >&2; return 1; }
    fi
    run cmake --build "$COV_BUILD" -j2 --target "$replay" "$CAMPAIGN_TRACE_TOOL" >> "$OUT/coverage-build.log" 2>&1 \
        || { tail -20 "$OUT/coverage-build.log" >&2; return 1; }
    find "$COV_BUILD" -name '*.gcda' -delete
    replay_corpus "$COV_BUILD/fuzz/$replay" > "$OUT/coverage-replay.status" 2> "$OUT/coverage-replay.log"
    [ "$(cat "$OUT/coverage-replay.status")" = 0 ] \
        || log "campaign_report: $(cat "$OUT/coverage-replay.status") corpus inputs failed in the coverage build: see report/coverage-replay.log"
    local filters=(--filter "$HEAPLAB_ROOT/src/" --filter "$HEAPLAB_ROOT/invariants/") f
    while IFS= read -r f; do filters+=(--filter "$f"); done < <(extra_filter)
    mkdir -p "$OUT/coverage"
    run gcovr --root "$HEAPLAB_ROOT" --object-directory "$COV_BUILD" "${filters[@]}" \
        --html-details --html-title "heaplab: coverage of the $TARGET campaign's corpus" \
        -o "$OUT/coverage/index.html" --print-summary > "$OUT/coverage-summary.txt" 2> "$OUT/coverage-gcovr.log" \
        || { tail -20 "$OUT/coverage-gcovr.log" >&2; return 1; }
    cat "$OUT/coverage-summary.txt"
}

# --- the page ------------------------------------------------------------------------------------------
seconds_text() {
    if [ "$1" = "?" ]; then echo "?"; else awk -v ms="$1" 'BEGIN { printf "%.1f s", ms / 1000 }'; fi
}

page_head() {
    cat <<EOF
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>heaplab campaign: $(esc "$ENGINE $TARGET") $(esc "$(basename "$DIR")")</title>
<style>
body { font-family: sans-serif; max-width: 1200px; margin: 1em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 0.5em; overflow-x: auto; font-size: 90%; }
img { max-width: 100%; border: 1px solid #ddd; }
.bad { color: #b00; font-weight: bold; }
</style>
</head>
<body>
<h1>heaplab campaign: $(esc "$TARGET") under $(esc "$ENGINE")</h1>
EOF
}

page_summary() {
    printf '<table>\n'
    printf '<tr><th>campaign directory</th><td><code>%s</code></td></tr>\n' "$(esc "$DIR")"
    printf '<tr><th>engine, target</th><td>%s, %s</td></tr>\n' "$(esc "$ENGINE")" "$(esc "$TARGET")"
    printf '<tr><th>time, jobs</th><td>%s s, %s</td></tr>\n' "$(esc "${CAMPAIGN_TIME:-?}")" "$(esc "${CAMPAIGN_JOBS:-?}")"
    [ -n "${CAMPAIGN_STARTED:-}" ] && printf '<tr><th>started</th><td>%s on %s</td></tr>\n' \
        "$(date -u -d "@$CAMPAIGN_STARTED" '+%Y-%m-%d %H:%M:%S UTC')" "$(esc "${CAMPAIGN_HOST:-?}")"
    printf '<tr><th>crashes</th><td>%s</td></tr>\n' "$(wc -l < "$OUT/crashes/index.tsv")"
    printf '<tr><th>report written</th><td>%s</td></tr>\n</table>\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    if [ -s "$DIR/summary.txt" ]; then
        printf '<h3>ci/campaign.sh summary</h3>\n<pre>'; html_escape < "$DIR/summary.txt"; printf '</pre>\n'
    fi
    if [ -s "$DIR/afl-whatsup.txt" ]; then
        printf '<h3>afl-whatsup -s -d</h3>\n<pre>'; sed -n '/Summary stats/,$p' "$DIR/afl-whatsup.txt" | html_escape; printf '</pre>\n'
    fi
}

page_plots() {
    local p any=0
    printf '<h2 id="plots">Over time</h2>\n'
    for p in coverage exec_speed corpus; do
        if [ -f "$OUT/plots/$p.svg" ]; then printf '<p><img src="plots/%s.svg" alt="%s over time"></p>\n' "$p" "$p"; any=1; fi
    done
    [ "$any" = 1 ] || printf '<p class="bad">No plot: no status lines or plot_data in the campaign directory.</p>\n'
    printf '<p>Data: '
    for p in "$OUT"/data/*.dat; do [ -f "$p" ] && printf '<a href="data/%s">%s</a> ' "$(basename "$p")" "$(basename "$p")"; done
    printf '(seconds, coverage, exec/s, corpus size, executions; ? where not known).</p>\n'
    if [ "$ENGINE" = afl ]; then
        printf '<p>AFL++ (4.04c) writes no plot_data row in an instance&#39;s first minute, only a last one when it stops: '
        printf 'in a short campaign the coverage plot has one point per instance.  Corpus size and exec/s come from the queue '
        printf '(each entry&#39;s write time; the execs:N in the names of the entries an instance found itself).</p>\n'
    fi
    if [ "$ENGINE" = afl ] && [ -d "$DIR/afl-plot" ]; then
        printf '<p>afl-plot, each instance: '
        for p in "$DIR"/afl-plot/*/index.html; do
            [ -f "$p" ] && printf '<a href="../afl-plot/%s/index.html">%s</a> ' "$(basename "$(dirname "$p")")" "$(basename "$(dirname "$p")")"
        done
        printf '</p>\n'
    fi
}

# Crashes grouped by cause (the rule and the sanitizer's report), the first of each
# cause in full (trace, replay, heap map), every one with its verdict and files.
page_crashes() {
    local n; n=$(wc -l < "$OUT/crashes/index.tsv")
    printf '<h2 id="crashes">Crashes: %s</h2>\n' "$n"
    [ "$n" -gt 0 ] || { printf '<p>None.</p>\n'; return 0; }
    printf '<h3>By cause</h3>\n<table>\n<tr><th>count</th><th>cause: the rule, and the sanitizer&#39;s first report</th><th>verdicts</th><th>first</th></tr>\n'
    cut -f8 "$OUT/crashes/index.tsv" | sort | uniq -c | sort -rn | while read -r count cause; do
        local first verdicts
        first=$(awk -F'\t' -v c="$cause" '$8 == c { print $1; exit }' "$OUT/crashes/index.tsv")
        verdicts=$(awk -F'\t' -v c="$cause" '$8 == c { print $2 }' "$OUT/crashes/index.tsv" | sort -u | wc -l)
        printf '<tr><td>%s</td><td>%s</td><td>%s</td><td><a href="#crash-%s">#%s</a></td></tr>\n' "$count" "$(esc "$cause")" \
            "$verdicts" "$first" "$first"
    done
    printf '</table>\n'
    local id verdict path inst ms ops svg cause seen=""
    while IFS=$'\t' read -r id verdict path inst ms ops svg cause; do
        printf '<h3 id="crash-%s">#%s: %s</h3>\n' "$id" "$id" "$(esc "$verdict")"
        printf '<p>%s, found after %s; %s operations; cause: %s. <a href="crashes/%s">input</a>, <a href="crashes/%s.txt">trace</a>, <a href="crashes/%s.replay.txt">replay</a>' \
            "$(esc "$path") ($(esc "$inst"))" "$(seconds_text "$ms")" "$ops" "$(esc "$cause")" "$id" "$id" "$id"
        case "$svg" in campaign|plain) printf ', <a href="crashes/%s.svg">heap map</a>' "$id" ;; esac
        printf '.</p>\n'
        case "$seen" in *$'\n'"$cause"$'\n'*) continue ;; esac
        seen="$seen"$'\n'"$cause"$'\n'
        printf '<pre>'; head -60 "$OUT/crashes/$id.txt" | html_escape; printf '</pre>\n'
        printf '<pre>'
        if grep -q '^verdict:' "$OUT/crashes/$id.replay.txt"; then
            grep -m1 -B3 -A12 '^verdict:' "$OUT/crashes/$id.replay.txt" | html_escape
        else
            tail -20 "$OUT/crashes/$id.replay.txt" | html_escape
        fi
        printf '</pre>\n'
        case "$svg" in
            campaign) printf '<p><img src="crashes/%s.svg" alt="heap map of crash %s"></p>\n' "$id" "$id" ;;
            plain) printf '<p>Heap map from the build without sanitizers (the sanitizer stopped the replay before it could draw):</p>\n<p><img src="crashes/%s.svg" alt="heap map of crash %s"></p>\n' "$id" "$id" ;;
            threads) printf '<p>No heap map: a threaded input has none (fzt-trace decodes it, but draws no SVG). The trace says which thread ran each operation; the replay is the target&#39;s standalone driver, up to %s runs (a free-running input races, so it may pass when replayed).</p>\n' "${CRASH_REPLAYS:-10}" ;;
            *) printf '<p>No heap map: hl-trace svg could not draw this input.</p>\n' ;;
        esac
    done < "$OUT/crashes/index.tsv"
}

page_coverage() {
    printf '<h2 id="coverage">Coverage of the corpus</h2>\n'
    if [ "$COVERAGE" = 0 ]; then printf '<p>Not measured (--no-coverage).</p>\n'; return 0; fi
    if [ ! -f "$OUT/coverage/index.html" ]; then printf '<p class="bad">Not measured: the coverage build or gcovr failed (see <a href="coverage-build.log">coverage-build.log</a>).</p>\n'; return 0; fi
    printf '<p>%s inputs replayed through <code>%s_replay</code> (gcc --coverage, every-op check) ' "$(corpus_files | wc -l)" "$(esc "$TARGET")"
    printf 'in <code>%s</code>: <a href="coverage/index.html">line by line</a>.</p>\n' "$(esc "$COV_BUILD")"
    [ "$(cat "$OUT/coverage-replay.status")" = 0 ] || printf '<p class="bad">%s inputs failed in this build and are not counted (an input the sanitizer build passed can fail without sanitizers: the same bug, seen by the oracle): <a href="coverage-replay.log">coverage-replay.log</a>.</p>\n' "$(cat "$OUT/coverage-replay.status")"
    printf '<pre>'; html_escape < "$OUT/coverage-summary.txt"; printf '</pre>\n'
}

# --- main --------------------------------------------------------------------------------------------
need_packages gnuplot-nox
if [ "$ENGINE" = afl ]; then
    series_afl_plot; series_afl_queue
    plot coverage "coverage (plot\\_data)" "edges found" 2 'plot-*' || true
    plot exec_speed "executions per second (queue entries' execs)" "exec/s" 3 'queue-*' || true
    plot corpus "corpus size (queue entries)" "inputs" 4 'queue-*' || true
else
    series_libfuzzer
    plot coverage "coverage" "cov (edges)" 2 libfuzzer || true
    plot exec_speed "executions per second" "exec/s" 3 libfuzzer || true
    plot corpus "corpus size" "inputs" 4 libfuzzer || true
fi
if [ "$COVERAGE" = 1 ]; then coverage || log "campaign_report: no coverage page"; fi
crashes
{
    page_head
    printf '<p><a href="#plots">over time</a> | <a href="#crashes">crashes</a> | <a href="#coverage">coverage</a></p>\n'
    page_summary
    page_plots
    page_crashes
    page_coverage
    printf '</body>\n</html>\n'
} > "$OUT/index.html"
log "campaign_report: $OUT/index.html"
