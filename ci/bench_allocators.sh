#!/usr/bin/env bash
# bench_allocators.sh - heaplab (release libheaplab.so) against glibc,
# jemalloc, tcmalloc and mimalloc on the workloads of bench/workloads/, each
# allocator put under the same unmodified binary with LD_PRELOAD.
#
#   ci/bench_allocators.sh [-r REPEATS] [-q] [-w WORKLOAD[,WORKLOAD...]] [-a ALLOC[,ALLOC...]]
#
#   -r N   repeats per workload and allocator (default 3; the median is shown)
#   -q     quick: every workload at a fraction of its size (a smoke run)
#   -w     only these workloads (names as in the table, e.g. larson,large)
#   -a     only these allocators (heaplab, glibc, jemalloc, tcmalloc, mimalloc)
#   HEAPLAB_PRELOAD_LIB=path  use this libheaplab.so instead of building one
#   HEAPLAB_BENCH_OUT=dir     where results and the workloads' build go (build/bench)
#
# Within one run the allocators alternate: for each workload, repeat 1 runs
# every allocator once, then repeat 2 in a rotated order, and so on, so a
# slow minute on a shared machine is spread over all of them.  Each run goes
# through bench/workloads/wl_run, which reports wall time, CPU time (user +
# system) and peak RSS (getrusage of the child).
#
# Output: a markdown table on stdout (also build/bench/allocators.md), the raw
# runs (build/bench/allocators.tsv), a chart (build/bench/allocators.png:
# time and peak RSS relative to glibc), and the single-core microbenchmark:
# "release malloc+free of a small block: N ns per pair".
set -euo pipefail

# shellcheck source=ci/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$HEAPLAB_ROOT"
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}

repeats=3
quick=0
only_workloads=""
only_allocs=""
while getopts "r:qw:a:h" opt; do
    case $opt in
    r) repeats=$OPTARG ;;
    q) quick=1 ;;
    w) only_workloads=",$OPTARG," ;;
    a) only_allocs=",$OPTARG," ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
    esac
done

out=${HEAPLAB_BENCH_OUT:-build/bench}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# --- allocators ---------------------------------------------------------------------
section "packages"
need_packages cmake make gcc libc6-dev gnuplot-nox libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0
section_end

# The shared object a Debian package installs, found with dpkg -L.
package_so() {
    local pkg=$1 pattern=$2 so
    so=$(dpkg -L "$pkg" | grep -E "/${pattern}\$" | head -n 1)
    if [ -z "$so" ] || [ ! -e "$so" ]; then
        log "bench: no $pattern in package $pkg"
        return 1
    fi
    echo "$so"
}

section "build"
if [ -n "${HEAPLAB_PRELOAD_LIB:-}" ]; then
    heaplab_so=$HEAPLAB_PRELOAD_LIB
else
    if [ -f CMakePresets.json ] && grep -q '"name": "release"' CMakePresets.json; then
        run cmake --preset release >/dev/null
    else
        run cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
    fi
    run cmake --build build/release --target heaplab_preload
    heaplab_so=$PWD/build/release/preload/libheaplab.so
fi
run cmake -S bench/workloads -B "$out/workloads" -DCMAKE_BUILD_TYPE=Release >/dev/null
run cmake --build "$out/workloads"
wl=$out/workloads
section_end

declare -A lib
lib[heaplab]=$heaplab_so
lib[glibc]=-
lib[jemalloc]=$(package_so libjemalloc2 'libjemalloc\.so\.2')
lib[tcmalloc]=$(package_so libtcmalloc-minimal4 'libtcmalloc_minimal\.so\.4')
lib[mimalloc]=$(package_so libmimalloc2.0 'libmimalloc\.so\.2')
allocs=()
for a in heaplab glibc jemalloc tcmalloc mimalloc; do
    if [ -z "$only_allocs" ] || [[ $only_allocs == *",$a,"* ]]; then allocs+=("$a"); fi
done
for a in "${allocs[@]}"; do
    if [ "${lib[$a]}" != - ] && [ ! -e "${lib[$a]}" ]; then
        log "bench: $a: ${lib[$a]} does not exist"
        exit 1
    fi
done

# --- workloads: name, arguments, quick arguments ------------------------------------
workloads=(
    "small-batch|wl_small_batch|wl_small_batch 200000"
    "random-ws|wl_random_ws|wl_random_ws 2 500000"
    "larson|wl_larson|wl_larson 2 10 100000"
    "prodcons-1|wl_prodcons 1|wl_prodcons 1 1000000"
    "prodcons-2|wl_prodcons 2|wl_prodcons 2 1000000"
    "realloc-grow|wl_realloc|wl_realloc 300000"
    "large|wl_large|wl_large 60"
    "fragment|wl_fragment|wl_fragment 3 16"
    "thread-churn|wl_churn|wl_churn 8"
)

# The value of key=... in a line.
field() { sed -n "s/.*[ ]$1=\\([^ ]*\\).*/\\1/p" <<<"$2" | head -n 1; }

tsv=$out/allocators.tsv
printf 'workload\tallocator\trepeat\twall_s\tcpu_s\tmaxrss_kb\tstatus\tmops\tpeak_live_kb\n' >"$tsv"

section "runs ($repeats repeats, allocators alternating)"
log "bench: load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
names=()
for entry in "${workloads[@]}"; do
    IFS='|' read -r name cmd quick_cmd <<<"$entry"
    if [ -n "$only_workloads" ] && [[ $only_workloads != *",$name,"* ]]; then continue; fi
    names+=("$name")
    [ "$quick" = 1 ] && cmd=$quick_cmd
    read -r -a argv <<<"$cmd"
    for ((r = 0; r < repeats; r++)); do
        n=${#allocs[@]}
        for ((i = 0; i < n; i++)); do
            a=${allocs[$(((i + r) % n))]}
            text=$("$wl/wl_run" "${lib[$a]}" "$wl/${argv[0]}" "${argv[@]:1}") || {
                log "bench: $name on $a failed:"
                log "$text"
                exit 1
            }
            result=$(grep '^result ' <<<"$text" || true)
            measure=$(grep '^measure ' <<<"$text")
            printf '%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$a" "$r" \
                "$(field wall "$measure")" "$(field cpu "$measure")" "$(field maxrss_kb "$measure")" \
                "$(field status "$measure")" "$(field mops "$result")" "$(field peak_live_kb "$result")" >>"$tsv"
            printf '  %-13s %-9s repeat %d: %s s wall, %s s CPU, %s KiB\n' "$name" "$a" "$r" \
                "$(field wall "$measure")" "$(field cpu "$measure")" "$(field maxrss_kb "$measure")" >&2
        done
    done
done
section_end

# --- medians and the table --------------------------------------------------------------
# The median of column $3 over the rows of workload $1 and allocator $2.
median() {
    awk -F'\t' -v w="$1" -v a="$2" -v c="$3" 'NR > 1 && $1 == w && $2 == a { print $c }' "$tsv" |
        sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (y > 0) printf "%.2f", x / y; else print "-" }'; }

md=$out/allocators.md
dat=$out/allocators.dat
{
    echo "## Allocators on heaplab's workloads"
    echo
    echo "Machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r), $(ldd --version | head -n 1 | sed 's/^ldd //')."
    echo "Median of $repeats runs per cell, allocators alternating; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Time is the process's wall time; CPU is user + system; RSS is the peak resident set."
    echo
} >"$md"
printf 'workload' >"$dat"
for a in "${allocs[@]}"; do printf '\t%s' "$a" >>"$dat"; done
printf '\n' >>"$dat"
rss_dat=$out/allocators-rss.dat
cp "$dat" "$rss_dat"

for name in "${names[@]}"; do
    declare -A wall=() cpu=() rss=() mops=() live=()
    fastest=""
    for a in "${allocs[@]}"; do
        wall[$a]=$(median "$name" "$a" 4)
        cpu[$a]=$(median "$name" "$a" 5)
        rss[$a]=$(median "$name" "$a" 6)
        mops[$a]=$(median "$name" "$a" 8)
        live[$a]=$(median "$name" "$a" 9)
        if [ -z "$fastest" ] || awk -v x="${wall[$a]}" -v y="$fastest" 'BEGIN { exit !(x < y) }'; then fastest=${wall[$a]}; fi
    done
    base_wall=${wall[glibc]:-}
    base_rss=${rss[glibc]:-}
    {
        echo "### $name"
        echo
        if [ -n "${live[${allocs[0]}]}" ] && [ "${live[${allocs[0]}]}" != nan ]; then
            echo "| allocator | time s | CPU s | Mops/s | peak RSS MiB | time / glibc | time / fastest | RSS / glibc | RSS / peak live |"
            echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        else
            echo "| allocator | time s | CPU s | Mops/s | peak RSS MiB | time / glibc | time / fastest | RSS / glibc |"
            echo "|---|---:|---:|---:|---:|---:|---:|---:|"
        fi
        for a in "${allocs[@]}"; do
            row="| $a | ${wall[$a]} | ${cpu[$a]} | $(awk -v m="${mops[$a]}" 'BEGIN { printf "%.3g", m }') | $(awk -v k="${rss[$a]}" 'BEGIN { printf "%.1f", k / 1024 }')"
            row+=" | $(ratio "${wall[$a]}" "${base_wall:-0}") | $(ratio "${wall[$a]}" "$fastest") | $(ratio "${rss[$a]}" "${base_rss:-0}")"
            if [ -n "${live[$a]}" ] && [ "${live[$a]}" != nan ]; then row+=" | $(ratio "${rss[$a]}" "${live[$a]}")"; fi
            echo "$row |"
        done
        echo
    } >>"$md"
    printf '%s' "$name" >>"$dat"
    printf '%s' "$name" >>"$rss_dat"
    for a in "${allocs[@]}"; do
        printf '\t%s' "$(ratio "${wall[$a]}" "${base_wall:-0}")" >>"$dat"
        printf '\t%s' "$(ratio "${rss[$a]}" "${base_rss:-0}")" >>"$rss_dat"
    done
    printf '\n' >>"$dat"
    printf '\n' >>"$rss_dat"
    unset wall cpu rss mops live
done

# --- the single-core microbenchmark ----------------------------------------------------------
section "malloc+free of a small block, one core"
pin=()
if command -v taskset >/dev/null 2>&1; then pin=(taskset -c 0); fi
for a in "${allocs[@]}"; do
    args=()
    [ "$quick" = 1 ] && args=(2000000)
    line=$("${pin[@]}" "$wl/wl_run" "${lib[$a]}" "$wl/wl_pair" "${args[@]}" | grep '^result ')
    ns=$(field ns_per_pair "$line")
    if [ "$a" = heaplab ]; then
        echo "release malloc+free of a small block: $ns ns per pair"
    fi
    printf '| %s | %s |\n' "$a" "$ns" >>"$out/pair.md.tmp"
done
section_end
{
    echo "### malloc(32) + free, one core (median of 5 runs)"
    echo
    echo "| allocator | ns per pair |"
    echo "|---|---:|"
    cat "$out/pair.md.tmp"
    echo
} >>"$md"
rm -f "$out/pair.md.tmp"

# --- the chart ---------------------------------------------------------------------------------
section "chart"
ncols=$((${#allocs[@]} + 1))
run gnuplot <<EOF
set terminal pngcairo size 1400,900 font "sans,11" noenhanced
set output "$out/allocators.png"
set datafile separator "\t"
set multiplot layout 2,1 title "heaplab vs other allocators (LD_PRELOAD; relative to glibc = 1; lower is better)\n$(nproc) cores, $(uname -r)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top vertical
set grid ytics
set logscale y 2
set yrange [0.0625:16]
set ytics ("1/16" 0.0625, "1/8" 0.125, "1/4" 0.25, "1/2" 0.5, "1" 1, "2" 2, "4" 4, "8" 8, "16" 16)
set xtics rotate by -20
set ylabel "wall time / glibc"
plot for [i=2:$ncols] "$dat" using i:xtic(1) title columnheader(i)
set ylabel "peak RSS / glibc"
plot for [i=2:$ncols] "$rss_dat" using i:xtic(1) title columnheader(i)
unset multiplot
EOF
section_end

cat "$md"
log "bench: table $md, runs $tsv, chart $out/allocators.png"
