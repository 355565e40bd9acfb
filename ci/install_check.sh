#!/usr/bin/env bash
# install_check.sh [BUILD_DIR] - does an installed heaplab work for a user?
#
# Installs BUILD_DIR (default build/release, already built) into a temporary
# prefix, then builds examples/consumer/ against that prefix twice and runs
# each program:
#   1. CMake: find_package(heaplab) and the target heaplab::heaplab;
#   2. pkg-config: cc main.c $(pkg-config --cflags --libs heaplab).
# CC and CFLAGS choose the consumer's compiler and flags (ctest passes the
# build's own, so a sanitizer build's consumer links the sanitizer runtime).
# The `install` ctest runs this script.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build_dir=$(cd "${1:-$HEAPLAB_ROOT/build/release}" && pwd)
cc=${CC:-cc}
read -r -a cflags <<<"${CFLAGS:-}"

work=$(mktemp -d "${TMPDIR:-/tmp}/heaplab-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

section "install $build_dir into $prefix"
run cmake --install "$build_dir" --prefix "$prefix"
pc_file=$(find "$prefix" -name heaplab.pc -path '*/pkgconfig/*' | head -n 1)
config_file=$(find "$prefix" -name heaplabConfig.cmake | head -n 1)
for f in "$prefix/include/heaplab.h" "$pc_file" "$config_file"; do
    if [ ! -f "$f" ]; then
        log "install_check: missing after install: ${f:-heaplab.pc or heaplabConfig.cmake}"
        exit 1
    fi
done
section_end

section "consumer via find_package(heaplab)"
run cmake -S "$HEAPLAB_ROOT/examples/consumer" -B "$work/cmake-build" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="${CFLAGS:-}"
found_dir=$(sed -n 's/^heaplab_DIR:PATH=//p' "$work/cmake-build/CMakeCache.txt")
case "$found_dir" in
    "$prefix"/*) ;;
    *) log "install_check: find_package found heaplab in '$found_dir', not under $prefix"; exit 1 ;;
esac
run cmake --build "$work/cmake-build"
run "$work/cmake-build/consumer"
section_end

section "consumer via pkg-config"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc_file")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
log "pkg-config: heaplab $(pkg-config --modversion heaplab):" \
    "$(pkg-config --cflags --libs heaplab)"
read -r -a pc_flags <<<"$(pkg-config --cflags --libs heaplab)"
# pkg-config's output after the source: -l must follow main.c for the linker.
run "$cc" ${cflags[@]+"${cflags[@]}"} "$HEAPLAB_ROOT/examples/consumer/main.c" \
    "${pc_flags[@]}" -o "$work/consumer-pc"
run "$work/consumer-pc"
section_end
