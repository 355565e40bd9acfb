#!/usr/bin/env bash
# run_compare.sh - runs a program twice, with the system's malloc and with
# LD_PRELOAD=LIB, and fails unless both runs print the same stdout and stderr
# and exit with the same status.
#
#   run_compare.sh LIB COMMAND [ARG...]
#
# Before that it checks that LIB really loads into a process (ld.so only
# warns when a preload fails, and the program then runs on glibc's malloc).
# Prints both wall times, so the checked flavour's cost shows in the log.
set -u

if [ $# -lt 2 ]; then
    echo "usage: run_compare.sh LIB COMMAND [ARG...]" >&2
    exit 2
fi
lib=$1
shift

work=$(mktemp -d "${TMPDIR:-/tmp}/heaplab-preload.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT

if ! LD_PRELOAD="$lib" cat /proc/self/maps >"$work/maps" 2>"$work/maps.err"; then
    echo "FAIL: cat under LD_PRELOAD=$lib did not run" >&2
    cat "$work/maps.err" >&2
    exit 1
fi
if ! grep -qF "$(basename "$lib")" "$work/maps" || [ -s "$work/maps.err" ]; then
    echo "FAIL: $lib is not mapped into a preloaded process" >&2
    cat "$work/maps.err" >&2
    exit 1
fi

# One run: stdout, stderr and status into $work/$1.*, wall time in ms.
run() {
    local tag=$1 start end
    shift
    start=$(date +%s%N)
    "$@" >"$work/$tag.out" 2>"$work/$tag.err"
    echo $? >"$work/$tag.rc"
    end=$(date +%s%N)
    echo $(((end - start) / 1000000)) >"$work/$tag.ms"
}

run ref "$@"
run hl env LD_PRELOAD="$lib" "$@"
echo "command: $*"
echo "without preload: $(cat "$work/ref.ms") ms, status $(cat "$work/ref.rc")"
echo "with $(basename "$lib"): $(cat "$work/hl.ms") ms, status $(cat "$work/hl.rc")"

status=0
for part in rc out err; do
    if ! cmp -s "$work/ref.$part" "$work/hl.$part"; then
        echo "FAIL: the runs differ in $part:" >&2
        diff "$work/ref.$part" "$work/hl.$part" | head -40 >&2
        status=1
    fi
done
if [ "$(cat "$work/ref.rc")" != 0 ]; then
    echo "FAIL: the reference run itself failed (status $(cat "$work/ref.rc")):" >&2
    head -20 "$work/ref.err" >&2
    status=1
fi
if [ "$status" = 0 ]; then
    echo "same output ($(wc -c <"$work/ref.out") bytes of stdout): $(head -c 300 "$work/ref.out" | tail -n 3)"
fi
exit "$status"
