/*
 * wl_random_ws.c - random sizes from 8 B to 4 KiB with a working set, the
 * shape of rpmalloc's alloc-test: each thread keeps SLOTS live blocks and, at
 * every step, frees a random one and allocates a new one in its place, with
 * sizes from a heavy-headed (Pareto-like) law; every block is touched.
 *
 *   wl_random_ws [THREADS] [STEPS_PER_THREAD] [SLOTS]   (2, 5000000, 8192)
 */
#include "wl.h"

#include <pthread.h>

typedef struct job {
    pthread_t tid;
    int id;
    long steps;
    size_t slots;
} job;

static void *worker(void *arg) {
    job *j = arg;
    wl_rng r = wl_seed((uint64_t)j->id + 1);
    void **slot = calloc(j->slots, sizeof *slot);
    for (long s = 0; s < j->steps; s++) {
        size_t i = (size_t)(wl_next(&r) % j->slots);
        free(slot[i]);
        size_t n = wl_pareto(&r, 8, 4096);
        slot[i] = wl_xmalloc(n);
        wl_touch(slot[i], n, (unsigned char)s);
    }
    for (size_t i = 0; i < j->slots; i++) free(slot[i]);
    free(slot);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = (int)wl_arg(argc, argv, 1, 2);
    long steps = wl_arg(argc, argv, 2, 5000000);
    size_t slots = (size_t)wl_arg(argc, argv, 3, 8192);
    job *jobs = calloc((size_t)threads, sizeof *jobs);
    double t0 = wl_now();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job){ .id = i, .steps = steps, .slots = slots };
        pthread_create(&jobs[i].tid, NULL, worker, &jobs[i]);
    }
    for (int i = 0; i < threads; i++) pthread_join(jobs[i].tid, NULL);
    double t = wl_now() - t0;
    free(jobs);
    wl_result("random-ws", t, 2.0 * (double)steps * threads, NULL);
    return 0;
}
