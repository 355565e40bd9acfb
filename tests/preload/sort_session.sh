#!/usr/bin/env bash
# sort_session.sh LINES - generates LINES lines of pseudo-random text (awk,
# fixed seed) and sorts it three ways with GNU sort (plain, numeric on a
# field, unique, with two threads); prints counts and digests.
set -eu
lines=${1:-200000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/heaplab-sort.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export LC_ALL=C
awk -v n="$lines" 'BEGIN {
    x = 12345
    for (i = 0; i < n; i++) {
        x = (x * 1103515245 + 12345) % 2147483648
        printf "%08x %d word%d %s\n", x, x % 100000, i % 977, substr("abcdefghijklmnopqrstuvwxyz", x % 26 + 1, x % 17)
    }
}' >"$dir/in.txt"
echo "input: $(wc -l <"$dir/in.txt") lines, $(wc -c <"$dir/in.txt") bytes"
sort --parallel=2 -S 8M "$dir/in.txt" | sha256sum
sort --parallel=2 -k2,2n -k1,1 "$dir/in.txt" | sha256sum
sort -u -k3,3 "$dir/in.txt" | wc -l
