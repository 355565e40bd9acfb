#!/usr/bin/env bash
# make_dict.sh HL_TRACE > fuzz/fuzz_heap.dict
# Writes the dictionary: the encoding of common operations and of every
# policy/source header, each under a comment giving its text.
set -euo pipefail
T=${1:?usage: make_dict.sh path/to/hl-trace}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
hexesc() { od -An -v -tx1 | tr -s ' \n' ' ' | sed 's/ *$//; s/^ //; s/ /\\x/g; s/^/\\x/'; }
name() { echo "$1" | tr -c 'a-zA-Z0-9\n' '_' | tr -s '_'; }
echo "# fuzz_heap.dict - libFuzzer/AFL++ dictionary for fuzz_heap (see fuzz/README.md)."
echo "# Each entry is the encoding of one operation or header (hl-trace encode), under"
echo "# a comment with its text.  Regenerate: fuzz/make_dict.sh path/to/hl-trace > fuzz/fuzz_heap.dict"
while IFS= read -r line; do
  printf 'config\n%s\n' "$line" > "$tmp/one.txt"
  "$T" encode "$tmp/one.txt" -o "$tmp/one.bin"
  echo "# $line"
  echo "op_$(name "$line")=\"$(tail -c +6 "$tmp/one.bin" | hexesc)\""   # without the 5 header bytes
done <<'EOF'
malloc s0 0
malloc s1 thr
malloc s1 thr-1
malloc s2 cap
malloc s3 SIZE_MAX
malloc s3 PTRDIFF_MAX+1
calloc s4 SIZE_MAX 2
calloc s4 4611686018427387905 4
realloc s0 0
realloc s1 thr+1
aligned_alloc s5 4096 1
aligned_alloc s5 3 16
free s0
free s1
double_free s0 via=free
interior_free s1 +16 via=free
misaligned_free s1 via=realloc
foreign_free libc via=free
reset
check
fail_source 0 1
EOF
for p in segregated first best; do
  for s in "source=mmap" "source=buffer buffer=65536" "source=sbrk"; do
    printf 'config policy=%s %s\n' "$p" "$s" > "$tmp/one.txt"
    "$T" encode "$tmp/one.txt" -o "$tmp/one.bin"
    echo "# config policy=$p $s"
    echo "hdr_$(name "${p}_${s%% *}")=\"$(hexesc < "$tmp/one.bin")\""
  done
done
