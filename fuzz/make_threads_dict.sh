#!/usr/bin/env bash
# make_threads_dict.sh FZT_TRACE > fuzz/fuzz_threads.dict
# The dictionary of fuzz_threads: the encoding of some headers (5 bytes) and of
# common operations with their thread byte, each under a comment with its text.
set -euo pipefail
T=${1:?usage: make_threads_dict.sh path/to/fzt-trace}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
hexesc() { od -An -v -tx1 | tr -s ' \n' ' ' | sed 's/ *$//; s/^ //; s/ /\\x/g; s/^/\\x/'; }
name() { echo "$1" | tr -c 'a-zA-Z0-9\n' '_' | tr -s '_' | sed 's/_$//'; }
echo "# fuzz_threads.dict - libFuzzer/AFL++ dictionary for fuzz_threads (fuzz/README.md, section fuzz_threads)."
echo "# Each entry is the encoding (fzt-trace encode) of the text in the comment above it:"
echo "# headers (5 bytes), and operations with their thread byte."
echo "# Regenerate: fuzz/make_threads_dict.sh path/to/fzt-trace > fuzz/fuzz_threads.dict"
for hdr in "threads 2 mode=deterministic sync=16" "threads 4 mode=deterministic sync=16" \
           "threads 8 mode=deterministic sync=16" "threads 2 mode=free-running sync=4" \
           "threads 4 mode=free-running sync=16" "threads 8 mode=free-running sync=64"; do
  printf '%s\n' "$hdr" > "$tmp/h.txt"
  "$T" encode "$tmp/h.txt" -o "$tmp/h.bin"
  echo "# $hdr"
  echo "hdr_$(name "$hdr")=\"$(hexesc < "$tmp/h.bin")\""
done
while IFS= read -r line; do
  printf 'threads 8\n%s\n' "$line" > "$tmp/o.txt"
  "$T" encode "$tmp/o.txt" -o "$tmp/o.bin"
  echo "# $line"
  echo "op_$(name "$line")=\"$(tail -c +6 "$tmp/o.bin" | hexesc)\""   # without the header
done <<'EOF'
t0 malloc s1 100
t1 free s1
t1 realloc s1 1000
t2 realloc s1 thr
t0 calloc s2 16 16
t1 malloc s3 thr
t2 free s3
t0 aligned_alloc s4 4096 100
t1 exit
t2 exit
t0 double_free s1 via=free
t1 double_free s1 via=free
t2 interior_free s1 +16 via=free
t1 foreign_free libc via=free
t0 check
t3 sweep
t3 fill s1
t3 usable_size s1
t0 malloc s3 SIZE_MAX
EOF
