#!/bin/bash -eu
# .clusterfuzzlite/build.sh - heaplab's fuzz targets for OSS-Fuzz and ClusterFuzzLite.
#
# The one build script for both: ClusterFuzzLite runs it from this directory's
# Dockerfile, OSS-Fuzz's projects/heaplab copies it ($SRC/build.sh, the source
# in $SRC/heaplab).  docs/oss-fuzz.md says how; ci/ossfuzz_check.sh runs it here.
#
# Reads OSS-Fuzz's environment: CC CFLAGS CXX CXXFLAGS LIB_FUZZING_ENGINE (all
# compile and link flags: no preset, no build type, no flag of heaplab's own),
# WORK (the build directory, $WORK/heaplab-build), OUT; SANITIZER when set.
# Writes to $OUT, for every engine target fuzz/ defines (fuzz_heap, fuzz_threads,
# fuzz_corrupt, fuzz_heap_<name> for each allocator of examples/allocators):
#   <target>                    linked by $CXX $CXXFLAGS ... $LIB_FUZZING_ENGINE
#   <target>_seed_corpus.zip    corpus/<family>/ and corpus/regressions/<family>/
#                               (the inputs, not the traces/ text or READMEs)
#   <target>.dict               fuzz/<family>.dict
#   <target>.options            [libfuzzer] dict and max_len
# where <family> is the target's name, or for fuzz_heap_<name> the target whose
# input language it speaks (fuzz_heap).  Any failure stops the script non-zero.
#
# HEAPLAB_OSSFUZZ_EXCLUDE: targets not to ship, default the examples that exist
# to show a finding (docs/byoa.md): fuzz_heap_teach (a planted bug) and
# fuzz_heap_pool (exit(1) when full), fuzz_threads_teach_mt (a false thread-safety
# claim; fuzz_heap_teach_mt is fuzz_heap_teach_fixed again) and
# fuzz_threads_teach_fixed (no claim: it refuses to run); fuzzing them finds
# just that, at once.
set -euo pipefail

fail() { echo "heaplab build.sh: FAILED: $*" >&2; exit 1; }
trap 'echo "heaplab build.sh: FAILED (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

# --- where things are -----------------------------------------------------------------------------
: "${CC:?heaplab build.sh: CC is not set (OSS-Fuzz sets it)}"
: "${CXX:?heaplab build.sh: CXX is not set}"
: "${OUT:?heaplab build.sh: OUT is not set}"
: "${WORK:?heaplab build.sh: WORK is not set}"
: "${LIB_FUZZING_ENGINE:?heaplab build.sh: LIB_FUZZING_ENGINE is not set}"
CFLAGS=${CFLAGS:-} CXXFLAGS=${CXXFLAGS:-} SANITIZER=${SANITIZER:-}

# The source: the working directory (the Dockerfile's WORKDIR), $SRC/heaplab
# (OSS-Fuzz's layout), or the checkout this script is in.
is_heaplab() { [ -f "$1/fuzz/CMakeLists.txt" ] && [ -f "$1/.clusterfuzzlite/build.sh" ]; }
ROOT=""
for d in "${HEAPLAB_SRC:-}" "$PWD" "${SRC:-}/heaplab" "$(dirname "${BASH_SOURCE[0]}")/.."; do
    if [ -n "$d" ] && is_heaplab "$d"; then ROOT=$(cd "$d" && pwd); break; fi
done
[ -n "$ROOT" ] || fail "no heaplab source in \$HEAPLAB_SRC, \$PWD, \$SRC/heaplab or beside this script"
BUILD=$WORK/heaplab-build
EXCLUDE=${HEAPLAB_OSSFUZZ_EXCLUDE-fuzz_heap_teach fuzz_heap_pool fuzz_threads_teach_mt fuzz_threads_teach_fixed fuzz_heap_teach_mt}
if [ "$SANITIZER" = memory ]; then
    # Its adapter reaches glibc's malloc past MSan's interceptors
    # (examples/allocators/CMakeLists.txt): every read would be reported.
    EXCLUDE="$EXCLUDE fuzz_heap_glibc"
fi

cmake_version=$(cmake --version | sed -n 's/^cmake version \([0-9]*\.[0-9]*\).*/\1/p')
case "$cmake_version" in
    3.2[5-9]|3.[3-9][0-9]|[4-9].*) ;;
    *) fail "heaplab needs CMake >= 3.25, found '${cmake_version:-none}' (the Dockerfile installs one with pip)" ;;
esac

# --- configure and build ------------------------------------------------------------------------------
# The every-op heap check is the oracle's strongest rule (the fuzz preset's
# choice); no Valgrind client requests, nothing runs under Valgrind here.
rm -rf "$BUILD"
cmake -S "$ROOT" -B "$BUILD" \
    "-DCMAKE_C_COMPILER=$CC" "-DCMAKE_CXX_COMPILER=$CXX" \
    "-DCMAKE_C_FLAGS=$CFLAGS" "-DCMAKE_CXX_FLAGS=$CXXFLAGS" -DCMAKE_BUILD_TYPE= \
    -DHEAPLAB_DEVELOPER=OFF -DHEAPLAB_FUZZ=ON -DHEAPLAB_FUZZ_EXTERNAL=ON \
    "-DHEAPLAB_FUZZ_LINK_FLAGS=$LIB_FUZZING_ENGINE" \
    -DHL_CHECK_EVERY_OP=ON -DHEAPLAB_VALGRIND=OFF

manifest=$BUILD/ossfuzz-targets.txt
[ -s "$manifest" ] || fail "$manifest is missing or empty: fuzz/ossfuzz.cmake found no engine target"
names=() binaries=()
while read -r name binary; do
    case " $EXCLUDE " in *" $name "*) echo "heaplab build.sh: not shipping $name (HEAPLAB_OSSFUZZ_EXCLUDE)"; continue ;; esac
    names+=("$name") binaries+=("$binary")
done < "$manifest"
[ ${#names[@]} -gt 0 ] || fail "every target excluded"

cmake --build "$BUILD" -j"$(nproc)" --target "${names[@]}"

# --- $OUT ----------------------------------------------------------------------------------------------
# The target whose inputs NAME reads: the longest prefix of NAME (cut at "_")
# with a fuzz/<prefix>.dict, so fuzz_heap_teach_fixed -> fuzz_heap, and a
# target with a dictionary of its own keeps it.
family() {
    local n=$1
    while [ ! -f "$ROOT/fuzz/$n.dict" ]; do
        [ "${n%_*}" != "$n" ] || fail "$1: no fuzz/<name>.dict for it or any prefix of its name"
        n=${n%_*}
    done
    echo "$n"
}

# The longest input libFuzzer makes: ci/campaign.sh leaves -max_len to
# libFuzzer's default (4096 bytes with seeds this small); ci/fuzz_corrupt.sh
# gives fuzz_corrupt 1024.
max_len() { case "$1" in fuzz_corrupt) echo 1024 ;; *) echo 4096 ;; esac; }

seed_files() {   # the inputs of corpus/F/ and corpus/regressions/F/
    local dir
    for dir in "$ROOT/corpus/$1" "$ROOT/corpus/regressions/$1"; do
        [ -d "$dir" ] || continue
        find "$dir" -maxdepth 1 -type f ! -name '*.txt' ! -name '*.md' ! -name '.*' ! -name '*.sh'
    done | sort
}

mkdir -p "$OUT"
for i in "${!names[@]}"; do
    name=${names[$i]} binary=${binaries[$i]}
    [ -x "$binary" ] || fail "$name was not built ($binary)"
    fam=$(family "$name")
    mapfile -t seeds < <(seed_files "$fam")
    [ ${#seeds[@]} -gt 0 ] || fail "$name: no seed inputs in corpus/$fam"
    cp "$binary" "$OUT/$name"
    rm -f "$OUT/${name}_seed_corpus.zip"
    # -j: the names only; corpus and regression names do not collide (zip would say so)
    zip -q -j "$OUT/${name}_seed_corpus.zip" "${seeds[@]}"
    cp "$ROOT/fuzz/$fam.dict" "$OUT/$name.dict"
    printf '[libfuzzer]\ndict = %s.dict\nmax_len = %s\n' "$name" "$(max_len "$fam")" > "$OUT/$name.options"
    echo "heaplab build.sh: $OUT/$name (${#seeds[@]} seeds from corpus/$fam, fuzz/$fam.dict)"
done
echo "heaplab build.sh: ${#names[@]} targets in $OUT"
