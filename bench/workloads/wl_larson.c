/*
 * wl_larson.c - a larson-style server (Larson and Krishnan, 1998): each of
 * THREADS workers owns an array of SLOTS live blocks (8 to 1000 B) and, at
 * every step, frees a random one and allocates a replacement.  After ROUND
 * steps the worker exits and a new thread takes over its array, survivors
 * and all, as a server hands a connection's state to the next worker: most
 * frees are of blocks another (often dead) thread allocated.
 *
 *   wl_larson [THREADS] [GENERATIONS] [ROUND] [SLOTS]   (2, 50, 200000, 1000)
 */
#include "wl.h"

#include <pthread.h>

/* A cache line each: the worker writes its lane's rng at every step, and two
 * lanes sharing a line would measure where the allocator happened to place
 * this array (false sharing in the benchmark's own bookkeeping), not the
 * allocator's cost. */
typedef struct lane {
    _Alignas(64) void **slot;
    size_t slots;
    long round;
    wl_rng rng;
} lane;

static void *worker(void *arg) {
    lane *l = arg;
    for (long s = 0; s < l->round; s++) {
        size_t i = (size_t)(wl_next(&l->rng) % l->slots);
        free(l->slot[i]);
        size_t n = wl_range(&l->rng, 8, 1000);
        l->slot[i] = wl_xmalloc(n);
        wl_touch(l->slot[i], n < 64 ? n : 64, (unsigned char)s);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int threads = (int)wl_arg(argc, argv, 1, 2);
    long generations = wl_arg(argc, argv, 2, 50);
    long round = wl_arg(argc, argv, 3, 200000);
    size_t slots = (size_t)wl_arg(argc, argv, 4, 1000);
    lane *lanes = aligned_alloc(64, (size_t)threads * sizeof *lanes);   /* sizeof is a multiple of 64 */
    if (!lanes) abort();
    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    for (int t = 0; t < threads; t++) {
        lanes[t] = (lane){ calloc(slots, sizeof(void *)), slots, round, wl_seed((uint64_t)t + 7) };
        for (size_t i = 0; i < slots; i++) lanes[t].slot[i] = wl_xmalloc(wl_range(&lanes[t].rng, 8, 1000));
    }
    double t0 = wl_now();
    for (long g = 0; g < generations; g++) {
        for (int t = 0; t < threads; t++) pthread_create(&tid[t], NULL, worker, &lanes[t]);
        for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    }
    double t = wl_now() - t0;
    for (int t = 0; t < threads; t++) {
        for (size_t i = 0; i < slots; i++) free(lanes[t].slot[i]);
        free(lanes[t].slot);
    }
    free(lanes);
    free(tid);
    wl_result("larson", t, 2.0 * (double)round * (double)generations * threads, NULL);
    return 0;
}
