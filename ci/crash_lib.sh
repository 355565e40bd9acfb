# shellcheck shell=bash
# crash_lib.sh - what ci/campaign.sh and ci/campaign_report.sh say about one crash: source it.
#
#   crash_files ENGINE DIR         every crash file of the campaign in DIR, one a line
#   crash_verdict REPLAY_OUTPUT    the verdict line of an hl-trace replay's output

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

# The replay's "verdict:" line without the op number (so equal findings group);
# when the replay itself died, the sanitizer's error and the first heaplab frame.
crash_verdict() {   # crash_verdict REPLAY_OUTPUT
    local out=$1 verdict
    verdict=$(grep -m1 '^verdict:' "$out" | sed -E 's/^verdict: op #[0-9]+ /verdict: /' || true)
    if [ -z "$verdict" ]; then
        verdict="replay crashed: $(grep -m1 -E 'ERROR:|runtime error' "$out" | sed -E 's/^==[0-9]+==//; s/ on address.*//; s/ at pc.*//' || true)"
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
        san=$(grep -m1 -E 'ERROR: (Address|Memory|Leak)Sanitizer' "$out" | sed -E 's/^==[0-9]+==ERROR: //; s/ on address.*//; s/ at pc.*//' || true)
        frame=$(grep -m1 -E '^ *#[0-9]+ 0x[0-9a-f]+ in ' "$out" | sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ in //' || true)
        [ -z "$san" ] || san="$san in ${frame:-?}"
    fi
    [ -z "$root" ] || san=${san//"$root"\//}
    if [ -z "$rule$san" ] && grep -q '^verdict: no violation' "$out"; then rule="does not reproduce (no violation)"; fi
    printf '%s%s\n' "${rule:-no rule}" "${san:+; $san}"
}
