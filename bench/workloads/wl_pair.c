/*
 * wl_pair.c - the cost of one malloc+free of a small block on one core, the
 * allocator's fast path and nothing else: malloc(32), one write, free, in a
 * loop, after a warm-up.  Reports the median of five timed runs.
 *
 *   wl_pair [PAIRS]      (default 20000000 per run)
 */
#include "wl.h"

static double run(long pairs) {
    double t0 = wl_now();
    for (long i = 0; i < pairs; i++) {
        char *p = wl_xmalloc(32);
        *(volatile char *)p = (char)i;
        free(p);
    }
    return wl_now() - t0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    long pairs = wl_arg(argc, argv, 1, 20000000);
    run(pairs / 10);
    double t[5], sum = 0;
    for (int i = 0; i < 5; i++) sum += t[i] = run(pairs);
    qsort(t, 5, sizeof *t, cmp_double);
    char extra[64];
    snprintf(extra, sizeof extra, "ns_per_pair=%.2f", t[2] * 1e9 / (double)pairs);
    printf("malloc+free of a small block: %.2f ns per pair (median of 5 runs of %ld)\n", t[2] * 1e9 / (double)pairs, pairs);
    wl_result("pair", sum, 10.0 * (double)pairs, extra);
    return 0;
}
