/*
 * wl_prodcons.c - producer-consumer, the shape of xmalloc-test: in each pair
 * one thread only allocates and the other only frees, so every free is of a
 * block another thread allocated, and the allocating thread never sees its
 * memory come back by itself.  Blocks (16 to 512 B, Pareto-like) travel in
 * batches of 64 through a bounded queue, so the queue's lock costs little
 * next to the allocator.
 *
 *   wl_prodcons [PAIRS] [BLOCKS_PER_PAIR]   (1, 10000000)
 */
#include "wl.h"

#include <pthread.h>

enum { BATCH = 64, DEPTH = 64 };

typedef struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    void **batch[DEPTH];
    int head, count;
    long blocks;
    int id;
} queue;

static void put(queue *q, void **b) {
    pthread_mutex_lock(&q->lock);
    while (q->count == DEPTH) pthread_cond_wait(&q->not_full, &q->lock);
    q->batch[(q->head + q->count++) % DEPTH] = b;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

static void **take(queue *q) {
    pthread_mutex_lock(&q->lock);
    while (q->count == 0) pthread_cond_wait(&q->not_empty, &q->lock);
    void **b = q->batch[q->head];
    q->head = (q->head + 1) % DEPTH;
    q->count--;
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return b;
}

static void *producer(void *arg) {
    queue *q = arg;
    wl_rng r = wl_seed((uint64_t)q->id + 3);
    for (long done = 0; done < q->blocks; done += BATCH) {
        void **b = wl_xmalloc(BATCH * sizeof *b);
        for (int i = 0; i < BATCH; i++) {
            size_t n = wl_pareto(&r, 16, 512);
            b[i] = wl_xmalloc(n);
            *(volatile char *)b[i] = (char)i;
        }
        put(q, b);
    }
    put(q, NULL);
    return NULL;
}

static void *consumer(void *arg) {
    queue *q = arg;
    void **b;
    while ((b = take(q)) != NULL) {
        for (int i = 0; i < BATCH; i++) {
            if (*(volatile char *)b[i] != (char)i) abort();
            free(b[i]);
        }
        free(b);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int pairs = (int)wl_arg(argc, argv, 1, 1);
    long blocks = wl_arg(argc, argv, 2, 10000000);
    queue *q = calloc((size_t)pairs, sizeof *q);
    pthread_t *tid = calloc(2 * (size_t)pairs, sizeof *tid);
    double t0 = wl_now();
    for (int p = 0; p < pairs; p++) {
        pthread_mutex_init(&q[p].lock, NULL);
        pthread_cond_init(&q[p].not_empty, NULL);
        pthread_cond_init(&q[p].not_full, NULL);
        q[p].blocks = blocks;
        q[p].id = p;
        pthread_create(&tid[2 * p], NULL, producer, &q[p]);
        pthread_create(&tid[2 * p + 1], NULL, consumer, &q[p]);
    }
    for (int i = 0; i < 2 * pairs; i++) pthread_join(tid[i], NULL);
    double t = wl_now() - t0;
    free(q);
    free(tid);
    char name[32];
    snprintf(name, sizeof name, "prodcons-%d", pairs);
    wl_result(name, t, 2.0 * (double)blocks * pairs, NULL);
    return 0;
}
