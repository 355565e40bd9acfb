/*
 * wl_churn.c - thread churn, the shape of mstress: ROUNDS times, THREADS
 * short-lived threads start together; each frees a share of the survivors
 * that earlier (now dead) threads left in a shared pool, allocates BLOCKS
 * blocks (8 B to 2 KiB, Pareto-like, a few of 64 KiB), frees three quarters
 * of them itself and leaves the rest in the pool, then exits.  An allocator
 * with per-thread heaps must hand a dead thread's memory to the next one and
 * take remote frees into heaps whose owner is gone.
 *
 *   wl_churn [ROUNDS] [THREADS] [BLOCKS]   (40, 8, 20000)
 */
#include "wl.h"

#include <pthread.h>

enum { POOL = 1 << 16 };

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static void *pool[POOL];
static size_t pooled;
static long blocks_per_thread;

typedef struct job {
    pthread_t tid;
    uint64_t seed;
    double ops;
} job;

/* Takes up to n survivors out of the pool. */
static size_t take(void **out, size_t n) {
    pthread_mutex_lock(&pool_lock);
    size_t k = n < pooled ? n : pooled;
    pooled -= k;
    memcpy(out, pool + pooled, k * sizeof *out);
    pthread_mutex_unlock(&pool_lock);
    return k;
}

/* Puts survivors in; those that do not fit are freed here. */
static size_t give(void **in, size_t n) {
    pthread_mutex_lock(&pool_lock);
    size_t k = POOL - pooled < n ? POOL - pooled : n;
    memcpy(pool + pooled, in, k * sizeof *in);
    pooled += k;
    pthread_mutex_unlock(&pool_lock);
    for (size_t i = k; i < n; i++) free(in[i]);
    return n - k;
}

static void *worker(void *arg) {
    job *j = arg;
    wl_rng r = wl_seed(j->seed);
    size_t n = (size_t)blocks_per_thread;
    void **mine = wl_xmalloc(n * sizeof *mine);
    size_t got = take(mine, n / 4);
    for (size_t i = 0; i < got; i++) free(mine[i]);
    for (size_t i = 0; i < n; i++) {
        size_t size = wl_next(&r) % 512 == 0 ? 65536 : wl_pareto(&r, 8, 2048);
        mine[i] = wl_xmalloc(size);
        wl_touch(mine[i], size < 256 ? size : 256, (unsigned char)i);
    }
    /* survivors: a random quarter, scattered through what was allocated */
    size_t keep = n / 4;
    for (size_t i = 0; i < keep; i++) {
        size_t k = i + (size_t)(wl_next(&r) % (n - i));
        void *tmp = mine[i];
        mine[i] = mine[k];
        mine[k] = tmp;
    }
    for (size_t i = keep; i < n; i++) free(mine[i]);
    size_t extra = give(mine, keep);
    free(mine);
    j->ops = (double)got + 2.0 * (double)n - (double)keep + (double)extra;
    return NULL;
}

int main(int argc, char **argv) {
    long rounds = wl_arg(argc, argv, 1, 40);
    int threads = (int)wl_arg(argc, argv, 2, 8);
    blocks_per_thread = wl_arg(argc, argv, 3, 20000);
    job *jobs = calloc((size_t)threads, sizeof *jobs);
    double ops = 0, t0 = wl_now();
    for (long k = 0; k < rounds; k++) {
        for (int i = 0; i < threads; i++) {
            jobs[i].seed = (uint64_t)(k * threads + i + 1);
            pthread_create(&jobs[i].tid, NULL, worker, &jobs[i]);
        }
        for (int i = 0; i < threads; i++) {
            pthread_join(jobs[i].tid, NULL);
            ops += jobs[i].ops;
        }
    }
    double t = wl_now() - t0;
    for (size_t i = 0; i < pooled; i++) free(pool[i]);
    free(jobs);
    wl_result("thread-churn", t, ops, NULL);
    return 0;
}
