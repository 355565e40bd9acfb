# shellcheck shell=bash
# crash_lib.sh - what ci/campaign.sh and ci/campaign_report.sh say about one crash: source it.
#
#   target_tools TARGET            the target's input language and the tools that read it
#   crash_files ENGINE DIR         every crash file of the campaign in DIR, one a line
#   crash_replay LANG TOOL FILE OUT  replay one crash into OUT, with a verdict line
#   crash_verdict REPLAY_OUTPUT    the verdict line of a replay's output
#   crash_cause REPLAY_OUTPUT      what the crash comes down to, to group crashes

# Two input languages: fuzz_heap's (fuzz_heap, fuzz_heap_<name>, fuzz_corrupt...) and
# fuzz_threads' (fuzz_threads, fuzz_threads_<name>: docs/byoa.md "The threaded target").
# Sets TARGET_LANG (heap or threads), TARGET_SEEDS_NAME (the name of the seeds in
# corpus/ and of the dictionary in fuzz/, when the target has none of its own),
# TRACE_TOOL (decode and encode: hl-trace, hl-trace-<name>, fzt-trace) and REPLAY_TOOL
# (judges one crash: hl-trace[-<name>] replay, or the threaded target's standalone
# driver <target>_replay).  The tools are targets of the fuzz build (build/fuzz/fuzz/).
# shellcheck disable=SC2034  # the variables are for the caller
target_tools() {   # target_tools TARGET
    case "$1" in
        fuzz_threads|fuzz_threads_?*)
            TARGET_LANG=threads TARGET_SEEDS_NAME=fuzz_threads TRACE_TOOL=fzt-trace REPLAY_TOOL=$1_replay ;;
        fuzz_heap_?*)
            TARGET_LANG=heap TARGET_SEEDS_NAME=fuzz_heap TRACE_TOOL=hl-trace-${1#fuzz_heap_}
            REPLAY_TOOL=$TRACE_TOOL ;;
        *) TARGET_LANG=heap TARGET_SEEDS_NAME=$1 TRACE_TOOL=hl-trace REPLAY_TOOL=hl-trace ;;
    esac
}

# libFuzzer's artifacts (crash-, leak-, timeout-, oom-; a planted crash-* too), or
# the crashes of every AFL++ instance sharing the sync directory.
crash_files() {   # crash_files ENGINE DIR
    if [ "$1" = afl ]; then
        find "$2"/afl/*/crashes -maxdepth 1 -type f -name 'id:*' ! -name '*.txt' ! -name '*.replay' 2>/dev/null | sort
    else
        find "$2"/crashes -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
            -o -name 'oom-*' \) ! -name '*.txt' ! -name '*.replay' ! -name '*.svg' 2>/dev/null | sort
    fi
}

# A fuzz_heap input: `hl-trace replay` once (one thread: a crash comes back every run).
# A threaded input: the standalone driver (FZT_VERBOSE=1: each deterministic operation
# as it runs) up to CRASH_REPLAYS times (10), until a run fails.  A free-running input
# races, and a race comes back in some runs only (docs/byoa.md); a deterministic one
# fails on the first run.  A failed run prints the finding and its "verdict:" line
# (fuzz/threads_oracle.c, fuzz/byoa/runner.c; a sanitizer's report has none, see
# crash_verdict); when every run passes, the verdict is "no violation in N replays".
# Each run may take 120 s.
crash_replay() {   # crash_replay LANG TOOL FILE OUT
    local lang=$1 tool=$2 f=$3 out=$4 runs=${CRASH_REPLAYS:-10} i rc=0 run
    if [ "$lang" != threads ]; then
        timeout 120 "$tool" replay "$f" > "$out" 2>&1 || true
        return 0
    fi
    run=$(mktemp)
    for ((i = 1; i <= runs; i++)); do
        rc=0
        # in a subshell whose stderr is dropped: bash's "Aborted" notice, not the replay's
        (FZT_VERBOSE=1 timeout 120 "$tool" "$f" > "$run" 2>&1; exit $?) 2>/dev/null || rc=$?
        [ "$rc" -eq 0 ] || break
    done
    if [ "$rc" -eq 0 ]; then
        { cat "$run"
          printf 'verdict: no violation in %d replays (exit status 0 each): a race these runs did not hit, or not a finding of this build\n' "$runs"
        } > "$out"
    else
        { printf 'replay %d (of up to %d) failed with exit status %d:\n' "$i" "$runs" "$rc"
          cat "$run"
          [ "$rc" -ne 124 ] || printf 'verdict: rule hang: the replay did not finish within 120 s\n'
        } > "$out"
    fi
    rm -f "$run"
}

# The replay's "verdict:" line without the op number (so equal findings group);
# when the replay itself died, the sanitizer's error and the first heaplab frame.
crash_verdict() {   # crash_verdict REPLAY_OUTPUT
    local out=$1 verdict
    verdict=$(grep -m1 '^verdict:' "$out" | sed -E 's/^verdict: op #[0-9]+ /verdict: /' || true)
    if [ -z "$verdict" ]; then
        verdict="replay crashed: $(grep -m1 -E 'ERROR:|runtime error' "$out" | sed -E 's/^==[0-9]+==//; s/ on (unknown )?address.*//; s/ at pc.*//' || true)"
        verdict="$verdict in $(grep -m1 -E '#[0-9]+ .* in (hl_|hl__)' "$out" | sed -E 's/.* in ([a-z_0-9]+) .*/\1/' || true)"
    fi
    printf '%s\n' "$verdict"
}

# What a crash comes down to, to group crashes that differ only in their operations:
# the oracle's rule and, when a sanitizer spoke, its first report (kind and source
# location; addresses left out).
crash_cause() {   # crash_cause REPLAY_OUTPUT [ROOT]
    local out=$1 root=${2:-} rule san frame
    rule=$(grep -m1 '^verdict:' "$out" | grep -oE 'rule [a-z-]+' || true)
    san=$(grep -m1 -E 'runtime error:' "$out" | sed -E 's/0x[0-9a-f]+/ADDR/g' || true)
    if [ -n "$san" ]; then
        san="UBSan: $san"
    else
        san=$(grep -m1 -E 'ERROR: (Address|Memory|Leak)Sanitizer' "$out" | sed -E 's/^==[0-9]+==ERROR: //; s/ on (unknown )?address.*//; s/ at pc.*//' || true)
        frame=$(grep -m1 -E '^ *#[0-9]+ 0x[0-9a-f]+ in ' "$out" | sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ in //' || true)
        [ -z "$san" ] || san="$san in ${frame:-?}"
    fi
    [ -z "$root" ] || san=${san//"$root"\//}
    if [ -z "$rule$san" ] && grep -q '^verdict: no violation' "$out"; then rule="does not reproduce (no violation)"; fi
    printf '%s%s\n' "${rule:-no rule}" "${san:+; $san}"
}
