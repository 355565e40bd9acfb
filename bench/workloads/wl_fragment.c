/*
 * wl_fragment.c - fragmentation: how much memory an allocator holds for the
 * bytes a program has live.  Each round fills memory with small blocks
 * (16 to 512 B), frees a random 90% of them, leaving survivors scattered
 * through every page, then allocates medium blocks (1 to 4 KiB) for the
 * bytes just freed: they fit the holes only where enough neighbours died.
 * The medium generation is thinned the same way before the next round, and
 * old survivors retire slowly, so live bytes stay near a plateau.
 *
 * Prints the peak of live (requested) bytes; the runner divides peak RSS by
 * it.  Every byte of every block is written, so RSS counts what is held.
 *
 *   wl_fragment [ROUNDS] [LIVE_MIB]   (8, 40)
 */
#include "wl.h"

typedef struct pool {
    void **p;
    size_t *n;
    size_t count, cap;
} pool;

static size_t live, peak;

static void push(pool *pl, void *p, size_t n) {
    if (pl->count == pl->cap) {
        pl->cap = pl->cap ? pl->cap * 2 : 1024;
        pl->p = realloc(pl->p, pl->cap * sizeof *pl->p);
        pl->n = realloc(pl->n, pl->cap * sizeof *pl->n);
        if (!pl->p || !pl->n) exit(1);
    }
    pl->p[pl->count] = p;
    pl->n[pl->count++] = n;
}

static void add(pool *pl, size_t n, wl_rng *r) {
    void *p = wl_xmalloc(n);
    memset(p, (int)(wl_next(r) & 0xff), n);
    push(pl, p, n);
    live += n;
    if (live > peak) peak = live;
}

/* Moves every block of from into to. */
static void move_all(pool *to, pool *from) {
    for (size_t i = 0; i < from->count; i++) push(to, from->p[i], from->n[i]);
    from->count = 0;
}

/* Frees each block with probability pct/100; returns the bytes freed. */
static size_t thin(pool *pl, unsigned pct, wl_rng *r) {
    size_t freed = 0, keep = 0;
    for (size_t i = 0; i < pl->count; i++) {
        if (wl_next(r) % 100 < pct) {
            free(pl->p[i]);
            freed += pl->n[i];
        } else {
            pl->p[keep] = pl->p[i];
            pl->n[keep++] = pl->n[i];
        }
    }
    pl->count = keep;
    live -= freed;
    return freed;
}

int main(int argc, char **argv) {
    long rounds = wl_arg(argc, argv, 1, 8);
    size_t target = (size_t)wl_arg(argc, argv, 2, 40) << 20;
    wl_rng r = wl_seed(3);
    pool small = { 0 }, medium = { 0 }, old = { 0 };
    double ops = 0, t0 = wl_now();
    for (long k = 0; k < rounds; k++) {
        while (live < target) {
            add(&small, wl_pareto(&r, 16, 512), &r);
            ops++;
        }
        size_t before = small.count;
        size_t freed = thin(&small, 90, &r);
        ops += (double)(before - small.count);
        for (size_t got = 0; got < freed;) {
            size_t n = wl_range(&r, 1024, 4096);
            add(&medium, n, &r);
            got += n;
            ops++;
        }
        before = medium.count;
        thin(&medium, 90, &r);
        ops += (double)(before - medium.count);
        /* survivors of both generations join the old pool; a third of it retires */
        move_all(&old, &small);
        move_all(&old, &medium);
        before = old.count;
        thin(&old, 33, &r);
        ops += (double)(before - old.count);
    }
    double t = wl_now() - t0;
    thin(&old, 100, &r);
    free(small.p);
    free(small.n);
    free(medium.p);
    free(medium.n);
    free(old.p);
    free(old.n);
    char extra[64];
    snprintf(extra, sizeof extra, "peak_live_kb=%zu", peak >> 10);
    wl_result("fragment", t, ops, extra);
    return 0;
}
