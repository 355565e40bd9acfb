/*
 * wl.h - what every workload shares: a clock, a random generator, size
 * distributions, and the result line.
 *
 * The workloads call plain malloc/free, so that any allocator can be put
 * under them with LD_PRELOAD; they are compiled with -fno-builtin so that the
 * compiler neither removes a malloc/free pair nor turns malloc+memset into
 * calloc.  Each prints one line the runner (ci/bench_allocators.sh) parses:
 *
 *   result <workload> seconds=<s> ops=<n> mops=<ops per microsecond> [key=value ...]
 *
 * An "op" is one malloc, calloc, realloc or free.  Wall time, CPU time and
 * peak RSS are measured from outside (bench/workloads/wl_run.c).
 */
#ifndef WL_H
#define WL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double wl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* xorshift64*: fast, and the same sequence for every allocator. */
typedef struct wl_rng {
    uint64_t s;
} wl_rng;

static inline wl_rng wl_seed(uint64_t seed) {
    wl_rng r = { seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull };
    if (!r.s) r.s = 1;
    return r;
}

static inline uint64_t wl_next(wl_rng *r) {
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dull;
}

/* Uniform in [lo, hi]. */
static inline size_t wl_range(wl_rng *r, size_t lo, size_t hi) { return lo + (size_t)(wl_next(r) % (hi - lo + 1)); }

/* A size in [lo, hi] from a truncated Pareto law of index 1/2:
 * P(size > s) = sqrt(lo / s), so the median is 4 lo, one request in five is
 * above 25 lo and the odd one reaches hi, as in programs that allocate
 * strings, nodes and now and then a buffer.  Draws above hi are drawn again. */
static inline size_t wl_pareto(wl_rng *r, size_t lo, size_t hi) {
    for (;;) {
        double u = (double)((wl_next(r) >> 11) + 1) * 0x1p-53;   /* (0, 1] */
        double s = (double)lo / (u * u);
        if (s <= (double)hi) return (size_t)s;
    }
}

/* Writes one byte per cache line, so that blocks are really touched (and
 * their pages faulted in) without a memset dominating the time. */
static inline void wl_touch(void *p, size_t n, unsigned char v) {
    unsigned char *c = p;
    for (size_t i = 0; i < n; i += 64) c[i] = v;
    if (n) c[n - 1] = v;
}

static inline void *wl_xmalloc(size_t n) {
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "malloc(%zu) failed\n", n);
        exit(1);
    }
    return p;
}

static inline void wl_result(const char *name, double seconds, double ops, const char *extra) {
    printf("result %s seconds=%.4f ops=%.0f mops=%.6g%s%s\n", name, seconds, ops, ops / seconds / 1e6,
           extra && *extra ? " " : "", extra ? extra : "");
    fflush(stdout);
}

/* An argument as a count, with a default. */
static inline long wl_arg(int argc, char **argv, int i, long dflt) {
    return argc > i ? strtol(argv[i], NULL, 0) : dflt;
}

#endif /* WL_H */
