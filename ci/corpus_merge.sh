#!/usr/bin/env bash
# corpus_merge.sh - bring a campaign's findings back into corpus/.
#
#   ci/corpus_merge.sh [--engine libfuzzer|afl] [--target T] DIR...
#       merge: keep the inputs of DIR... that add coverage to corpus/T
#       (libFuzzer -merge=1; AFL++: afl-cmin then afl-tmin on each), then write
#       each new input in canonical form with its text trace in corpus/T/traces/
#   ci/corpus_merge.sh --regression CRASH NAME "what it caught"
#       minimise a crash (libFuzzer -minimize_crash=1) and keep it as
#       corpus/regressions/T/NAME with NAME.txt, whose first line says what it caught
#   ci/corpus_merge.sh --regen
#       re-encode corpus/T/ from corpus/T/traces/*.txt (after editing a trace)
#
# Uses the builds ci/campaign.sh makes (HEAPLAB_BUILD_ROOT, default build/).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$HEAPLAB_ROOT"

ENGINE=libfuzzer TARGET=fuzz_heap MODE=merge
BUILD_ROOT=${HEAPLAB_BUILD_ROOT:-$HEAPLAB_ROOT/build}
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --engine) ENGINE=$2; shift 2 ;;
        --target) TARGET=$2; shift 2 ;;
        --regression) MODE=regression; shift ;;
        --regen) MODE=regen; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) args+=("$1"); shift ;;
    esac
done
CORPUS=corpus/$TARGET LF=$BUILD_ROOT/fuzz AFL=$BUILD_ROOT/fuzz-afl
TRACE=$LF/fuzz/hl-trace

build() {
    need_packages cmake make clang-14 libclang-rt-14-dev
    run cmake --preset fuzz -B "$LF" >/dev/null
    run cmake --build "$LF" -j2 --target "$TARGET" hl-trace
}

# Writes input $1 into corpus dir $2 as the encoding of its trace, named by content.
canonical_add() {   # canonical_add INPUT DIR TRACEDIR
    local tmp name
    tmp=$(mktemp)
    "$TRACE" decode "$1" > "$tmp.txt"
    "$TRACE" encode "$tmp.txt" -o "$tmp"
    name=$(sha1sum "$tmp" | cut -c1-16)
    if [ -e "$2/$name" ]; then rm -f "$tmp" "$tmp.txt"; return 1; fi
    mv "$tmp" "$2/$name"
    { echo "# merged from $(basename "$1") on $(date +%F)"; cat "$tmp.txt"; } > "$3/$name.txt"
    rm -f "$tmp.txt"
    echo "$2/$name"
}

merge_libfuzzer() {
    local new=$BUILD_ROOT/merge-$$ n=0 f
    mkdir -p "$new"
    # -merge=1 copies into the first directory only what adds coverage to it
    cp -r "$CORPUS"/. "$new/" 2>/dev/null; rm -rf "$new/traces"
    local before; before=$(find "$new" -maxdepth 1 -type f | wc -l)
    run "$LF/fuzz/$TARGET" -merge=1 "$new" "$@" 2>&1 | grep -E 'MERGE-OUTER: [0-9]+ new files' || true
    for f in $(find "$new" -maxdepth 1 -type f | sort); do
        [ -e "$CORPUS/$(basename "$f")" ] && continue
        canonical_add "$f" "$CORPUS" "$CORPUS/traces" >/dev/null && n=$((n + 1)) || true
    done
    rm -rf "$new"
    log "corpus_merge: $n new inputs in $CORPUS (was $before)"
}

merge_afl() {
    need_packages afl++
    local min=$BUILD_ROOT/cmin-$$ tmin=$BUILD_ROOT/tmin-$$ n=0 f
    run afl-cmin -i "$1" -o "$min" -m none -- "$AFL/fuzz/$TARGET" @@
    mkdir -p "$tmin"
    for f in "$min"/*; do
        run afl-tmin -i "$f" -o "$tmin/$(basename "$f")" -m none -- "$AFL/fuzz/$TARGET" @@ >/dev/null 2>&1 || cp "$f" "$tmin/"
    done
    # then libFuzzer's merge against the corpus drops what it already covers
    merge_libfuzzer "$tmin"
    rm -rf "$min" "$tmin"
}

regression() {   # regression CRASH NAME WHY
    local crash=$1 name=$2 why=$3 dir=corpus/regressions/$TARGET min
    mkdir -p "$dir"
    min=$BUILD_ROOT/min-$name
    run "$LF/fuzz/$TARGET" -minimize_crash=1 -runs=20000 -exact_artifact_path="$min" "$crash" >/dev/null 2>&1 || true
    [ -s "$min" ] || cp "$crash" "$min"
    "$TRACE" decode "$min" > "$dir/$name.tmp"
    { echo "# $why"; cat "$dir/$name.tmp"; } > "$dir/$name.txt"
    rm -f "$dir/$name.tmp"
    "$TRACE" encode "$dir/$name.txt" -o "$dir/$name"
    "$TRACE" replay "$dir/$name" | grep -m1 verdict || true
    log "corpus_merge: kept $dir/$name and $dir/$name.txt (re-run cmake so ctest sees it)"
}

case "$MODE" in
    regen)
        build
        run "$TRACE" encode-dir "$CORPUS/traces" "$CORPUS"
        for f in corpus/regressions/"$TARGET"/*.txt; do [ -f "$f" ] && run "$TRACE" encode "$f" -o "${f%.txt}"; done
        ;;
    regression)
        [ ${#args[@]} -eq 3 ] || { log "usage: corpus_merge.sh --regression CRASH NAME \"what it caught\""; exit 2; }
        build; regression "${args[@]}" ;;
    merge)
        [ ${#args[@]} -ge 1 ] || { log "usage: corpus_merge.sh [--engine afl] DIR..."; exit 2; }
        build
        if [ "$ENGINE" = afl ]; then
            for d in "${args[@]}"; do merge_afl "$d"; done
        else
            merge_libfuzzer "${args[@]}"
        fi ;;
esac
