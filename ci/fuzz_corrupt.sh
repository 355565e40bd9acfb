#!/usr/bin/env bash
# fuzz_corrupt.sh - the checker's own robustness (issue 5), under libFuzzer.
#
#   ci/fuzz_corrupt.sh [SECONDS]          build the fuzz preset (clang, ASan + UBSan,
#                                         every-op check), replay corpus/fuzz_corrupt,
#                                         fuzz SECONDS (default 600) on one core, and
#                                         print the detection rate at the end
#   ci/fuzz_corrupt.sh --keep-going [SECONDS]
#                                         the same, but a missed corruption does not stop
#                                         the run: it is counted, and the first input of
#                                         each kind saved (build/fuzz-corrupt/missed-N),
#                                         so the rate covers the whole run
#   ci/fuzz_corrupt.sh seeds [--check] [HL_TRACE]
#                                         corpus/fuzz_corrupt/NAME from traces/NAME.txt
#                                         (--check: compare instead of writing)
#
# Exit status: 0 when the run found nothing (no crash, no hang, no missed
# corruption), 1 otherwise, 2 on usage errors.
# Environment: HEAPLAB_BUILD_ROOT (default build/) for the build directories.
#
# A trace is "corrupt KIND INDEX OFFSET HOW VALUE" lines (at most 8, one
# corruption round each) and a fuzz_heap text trace (fuzz/README.md) that
# builds the heap; fuzz/README.md (section fuzz_corrupt) gives the kinds and hows.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$HEAPLAB_ROOT"

BUILD_ROOT=${HEAPLAB_BUILD_ROOT:-$HEAPLAB_ROOT/build}
SEEDS=$HEAPLAB_ROOT/corpus/fuzz_corrupt
KINDS=(header footer links region edge large lists bitmap counters heap raw-region raw-large)
HOWS=(xor set flip add16 add ptr)

# --- seeds: text -> bytes --------------------------------------------------------------------
index_of() {   # index_of WORD LIST...
    local word=$1 i=0; shift
    for w in "$@"; do
        [ "$w" = "$word" ] && { echo "$i"; return 0; }
        i=$((i + 1))
    done
    log "fuzz_corrupt.sh: unknown name '$word' (one of: $*)"
    return 1
}

byte() { printf "\\x$(printf %02x $(( $1 & 255 )))"; }

# encode_seed TRACE OUT HL_TRACE: the records, then the heap trace through hl-trace encode.
encode_seed() {
    local trace=$1 out=$2 hl=$3 tmp
    tmp=$(mktemp -d)
    grep -v '^[[:space:]]*corrupt[[:space:]]' "$trace" > "$tmp/heap.txt" || true
    "$hl" encode "$tmp/heap.txt" -o "$tmp/heap.bin"
    local n=0
    : > "$tmp/records.bin"
    while read -r _ kind index offset how value _; do
        local k h
        k=$(index_of "$kind" "${KINDS[@]}") && h=$(index_of "$how" "${HOWS[@]}") || { rm -rf "$tmp"; return 1; }
        { byte "$k"; byte $((index)); byte $((index >> 8)); byte $((offset)); byte "$h"; byte $((value)); } >> "$tmp/records.bin"
        n=$((n + 1))
    done < <(sed 's/#.*//' "$trace" | grep '^[[:space:]]*corrupt[[:space:]]')
    if [ "$n" -lt 1 ] || [ "$n" -gt 8 ]; then
        log "fuzz_corrupt.sh: $trace: $n corrupt lines, need 1 to 8"
        rm -rf "$tmp"
        return 1
    fi
    { byte $((n - 1)); cat "$tmp/records.bin" "$tmp/heap.bin"; } > "$out"
    rm -rf "$tmp"
}

seeds() {
    local check=0 hl=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --check) check=1 ;;
            *) hl=$1 ;;
        esac
        shift
    done
    if [ -z "$hl" ]; then
        hl=$BUILD_ROOT/fuzz/fuzz/hl-trace
        [ -x "$hl" ] || { run cmake --preset fuzz -B "$BUILD_ROOT/fuzz" >/dev/null; run cmake --build "$BUILD_ROOT/fuzz" -j2 --target hl-trace; }
    fi
    local bad=0 tmp
    tmp=$(mktemp)
    for trace in "$SEEDS"/traces/*.txt; do
        local name
        name=$(basename "$trace" .txt)
        encode_seed "$trace" "$tmp" "$hl" || { bad=1; continue; }
        if [ "$check" = 1 ]; then
            cmp -s "$tmp" "$SEEDS/$name" || { log "fuzz_corrupt.sh: corpus/fuzz_corrupt/$name is not the encoding of traces/$name.txt (run ci/fuzz_corrupt.sh seeds)"; bad=1; }
        else
            install -m 644 "$tmp" "$SEEDS/$name"
            log "wrote corpus/fuzz_corrupt/$name"
        fi
    done
    rm -f "$tmp"
    return $bad
}

if [ "${1:-}" = seeds ]; then
    shift
    seeds "$@"
    exit $?
fi

# --- the run -------------------------------------------------------------------------------------
KEEP_GOING=0
if [ "${1:-}" = --keep-going ]; then KEEP_GOING=1; shift; fi
SECONDS_TO_RUN=${1:-600}
case "$SECONDS_TO_RUN" in ''|*[!0-9]*) log "usage: ci/fuzz_corrupt.sh [--keep-going] [SECONDS] | seeds [--check] [HL_TRACE]"; exit 2 ;; esac

LF=$BUILD_ROOT/fuzz
WORK=$BUILD_ROOT/fuzz-corrupt
need_packages cmake make clang-14 libclang-rt-14-dev gcc libcmocka-dev pkg-config
rm -rf "$WORK"
mkdir -p "$WORK/corpus" "$WORK/crashes"

section "libFuzzer build ($LF)"
run cmake --preset fuzz -B "$LF" >/dev/null
run cmake --build "$LF" -j2 --target fuzz_corrupt hl-trace
section_end

mapfile -t INPUTS < <(find "$SEEDS" -maxdepth 1 -type f ! -name '*.txt' ! -name '*.md' | sort)
section "replay ${#INPUTS[@]} seeds"
run "$LF/fuzz/fuzz_corrupt" "${INPUTS[@]}" > "$WORK/replay.log" 2>&1 || { tail -30 "$WORK/replay.log"; log "fuzz_corrupt.sh: a seed fails"; exit 1; }
grep -E '^fuzz_corrupt: (detection|[0-9]+ inputs)' "$WORK/replay.log" || true
cp "${INPUTS[@]}" "$WORK/corpus/"
section_end

section "fuzz_corrupt: $SECONDS_TO_RUN s on one core"
export FUZZ_CORRUPT_KEEP_GOING=$KEEP_GOING FUZZ_CORRUPT_ARTIFACTS=$WORK
status=0
# -jobs=1 runs the fuzzer in a child whose output goes to fuzz-0.log, and
# keeps the parent's own exit status 0 even when the child crashes: judge by the log.
(cd "$WORK" && run "$LF/fuzz/fuzz_corrupt" -jobs=1 -workers=1 -max_total_time="$SECONDS_TO_RUN" -timeout=30 \
    -rss_limit_mb=4096 -max_len=1024 -dict="$HEAPLAB_ROOT/fuzz/fuzz_corrupt.dict" -print_final_stats=1 \
    -artifact_prefix="$WORK/crashes/" "$WORK/corpus" > "$WORK/parent.log" 2>&1) || status=1
LOG=$WORK/fuzz-0.log
[ -f "$LOG" ] || LOG=$WORK/parent.log
if grep -qE '^==[0-9]+== ?ERROR|^SUMMARY: |MISSED CORRUPTION|crashed while' "$LOG" || ls "$WORK"/crashes/* >/dev/null 2>&1; then
    status=1
    grep -m1 -B2 -A20 -E 'MISSED CORRUPTION|crashed while|ERROR: ' "$LOG" || tail -30 "$LOG"
fi
section_end

section "summary"
grep -E 'stat::(number_of_executed_units|average_exec_per_sec)' "$LOG" || true
sed -n '/^fuzz_corrupt: [0-9]* inputs/,$p' "$LOG" | grep -E '^(fuzz_corrupt|  )' | tail -25 || true
for m in "$WORK"/missed-*; do [ -f "$m" ] && log "missed corruption saved: $m"; done
[ "$status" -eq 0 ] && log "fuzz_corrupt.sh: no crash, hang or missed corruption" || log "fuzz_corrupt.sh: FAILED (see $LOG)"
exit "$status"
