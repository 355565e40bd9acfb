#!/usr/bin/env bash
# corpus_merge.sh - bring a campaign's findings back into corpus/.
#
#   ci/corpus_merge.sh [--engine libfuzzer|afl] [--target T] [--corpus OUT] DIR...
#       merge: keep the inputs of DIR... that add coverage to corpus/T
#       (libFuzzer -merge=1; AFL++: afl-cmin then afl-tmin on each), then write
#       each new input in canonical form with its text trace in corpus/T/traces/.
#       DIR may be a campaign directory of ci/campaign.sh (it has campaign.env; the
#       engine and target come from it): its corpus/ for libFuzzer, the queue/ of
#       every instance in its afl/ sync directory for AFL++; or an AFL++ sync
#       directory itself (*/queue).  --corpus OUT merges into OUT instead of corpus/T.
#   ci/corpus_merge.sh --regression CRASH NAME "what it caught"
#       minimise a crash (libFuzzer -minimize_crash=1) and keep it as
#       corpus/regressions/T/NAME with NAME.txt, whose first line says what it caught
#   ci/corpus_merge.sh --regen
#       re-encode corpus/T/ from corpus/T/traces/*.txt (after editing a trace)
# T: fuzz_heap (the default), fuzz_heap_<name>, fuzz_threads or fuzz_threads_<name>; a
# threaded target's inputs are written and read by fzt-trace instead of hl-trace, and a
# regression's verdict comes from its standalone driver (crash_lib.sh crash_replay).
#
# Uses the builds ci/campaign.sh makes (HEAPLAB_BUILD_ROOT, default build/).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/crash_lib.sh"
cd "$HEAPLAB_ROOT"

ENGINE=libfuzzer TARGET=fuzz_heap MODE=merge TARGET_SET=0 CORPUS_OUT=""
BUILD_ROOT=${HEAPLAB_BUILD_ROOT:-$HEAPLAB_ROOT/build}
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --engine) ENGINE=$2; shift 2 ;;
        --target) TARGET=$2; TARGET_SET=1; shift 2 ;;
        --corpus) CORPUS_OUT=$2; shift 2 ;;
        --regression) MODE=regression; shift ;;
        --regen) MODE=regen; shift ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) args+=("$1"); shift ;;
    esac
done
# A campaign directory names its engine and target (one campaign's at a time).
for d in "${args[@]}"; do
    if [ "$MODE" = merge ] && [ -f "$d/campaign.env" ]; then
        # shellcheck source=/dev/null
        ENGINE=$(source "$d/campaign.env"; echo "$CAMPAIGN_ENGINE")
        [ "$TARGET_SET" = 1 ] || TARGET=$(source "$d/campaign.env"; echo "$CAMPAIGN_TARGET")
    fi
done
CORPUS=${CORPUS_OUT:-corpus/$TARGET} LF=$BUILD_ROOT/fuzz AFL=$BUILD_ROOT/fuzz-afl
# The target's trace and replay tools (crash_lib.sh): hl-trace[-<name>] for fuzz_heap's
# language, fzt-trace and <target>_replay for the threaded targets.
target_tools "$TARGET"
TRACE=$LF/fuzz/$TRACE_TOOL REPLAY=$LF/fuzz/$REPLAY_TOOL
TOOLS=("$TRACE_TOOL"); [ "$REPLAY_TOOL" = "$TRACE_TOOL" ] || TOOLS+=("$REPLAY_TOOL")

build() {
    need_packages cmake make clang-14 libclang-rt-14-dev
    run cmake --preset fuzz -B "$LF" >/dev/null
    run cmake --build "$LF" -j2 --target "$TARGET" "${TOOLS[@]}"
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

# The directories a merge argument stands for: a campaign directory's corpus/ or its
# AFL++ instances' queues; a sync directory's queues; else the directory itself.
expand_dir() {   # expand_dir DIR
    local d=$1
    if [ -f "$d/campaign.env" ] && [ -d "$d/afl" ]; then d=$d/afl
    elif [ -f "$d/campaign.env" ]; then echo "$d/corpus"; return 0; fi
    if compgen -G "$d/*/queue" > /dev/null; then
        for q in "$d"/*/queue; do echo "$q"; done
    else
        echo "$d"
    fi
}

# The queues of several AFL++ instances as one flat directory (afl-cmin reads one),
# each file named after its instance and queue id (ids repeat across instances).
stage_queues() {   # stage_queues OUT QUEUE...
    local out=$1 q inst f; shift
    mkdir -p "$out"
    for q in "$@"; do
        inst=$(basename "$(dirname "$q")")
        find "$q" -maxdepth 1 -type f ! -name '.*' | while IFS= read -r f; do
            cp "$f" "$out/$inst-$(basename "$f" | cut -d, -f1 | tr ':' '_')"
        done
    done
}

merge_afl() {
    need_packages afl++
    local min=$BUILD_ROOT/cmin-$$ tmin=$BUILD_ROOT/tmin-$$ n=0 f
    # Inputs on stdin: given a file argument (@@), AFL's libFuzzer driver (4.04c) takes
    # it for a run count and asserts.
    run afl-cmin -i "$1" -o "$min" -m none -- "$AFL/fuzz/$TARGET"
    mkdir -p "$tmin"
    for f in "$min"/*; do
        afl-tmin -i "$f" -o "$tmin/$(basename "$f")" -m none -- "$AFL/fuzz/$TARGET" >/dev/null 2>&1 || cp "$f" "$tmin/"
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
    crash_replay "$TARGET_LANG" "$REPLAY" "$dir/$name" "$min.replay"
    crash_verdict "$min.replay"
    rm -f "$min.replay"
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
        mkdir -p "$CORPUS/traces"
        dirs=()
        for d in "${args[@]}"; do
            [ -d "$d" ] || { log "corpus_merge: $d: no such directory"; exit 2; }
            mapfile -t -O "${#dirs[@]}" dirs < <(expand_dir "$d")
        done
        log "corpus_merge: $ENGINE, $TARGET, into $CORPUS, from: ${dirs[*]}"
        if [ "$ENGINE" = afl ]; then
            stage=$BUILD_ROOT/stage-$$
            trap 'rm -rf "$stage" "$BUILD_ROOT/cmin-$$" "$BUILD_ROOT/tmin-$$"' EXIT
            stage_queues "$stage" "${dirs[@]}"
            merge_afl "$stage"
            rm -rf "$stage"
        else
            merge_libfuzzer "${dirs[@]}"
        fi ;;
esac
