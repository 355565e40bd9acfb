/*
 * bench_threads.c - heaplab's global API against glibc's malloc, with threads.
 *
 *   usage: bench_threads [repeats [scale]]     defaults 5 and 1
 *   exit:  0 after printing the table, 2 bad arguments, 1 an allocation failed
 *
 * Workloads (each against both allocators, through a table of function
 * pointers, in the same process):
 *   producer-consumer  one thread allocates blocks of 16..512 bytes and hands
 *                      them through a bounded queue to a thread that frees
 *                      them: every free is a cross-thread free.  One pair,
 *                      then two pairs at once.
 *   larson             each thread keeps 1000 live blocks of 16..1024 bytes
 *                      and replaces a random one per step; after a round it
 *                      exits and a new thread takes over its blocks (the
 *                      survivors), as a server's worker threads come and go.
 *                      One thread, then two, then four.
 * ops/s counts mallocs and frees.  Each measurement is the median of
 * `repeats` runs, heaplab and glibc alternating (the order flipped every
 * repeat) so that drift on a shared machine hits both.  The ratio is
 * heaplab's ops/s over glibc's: above 1, heaplab is faster.
 *
 * Not a test: timings on a shared machine decide nothing.  Build it against
 * a release heaplab (no HL_CHECK_EVERY_OP).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <gnu/libc-version.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "heaplab.h"

typedef struct allocator {
    const char *name;
    void *(*malloc)(size_t);
    void (*free)(void *);
} allocator;

static const allocator heaplab = { "heaplab", hl_malloc, hl_free };
static const allocator glibc = { "glibc", malloc, free };

static unsigned scale = 1;

static uint64_t next(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *must(void *p, size_t n) {
    if (!p) {
        fprintf(stderr, "bench_threads: allocation of %zu bytes failed\n", n);
        exit(1);
    }
    return p;
}

/* --- producer-consumer ------------------------------------------------------------------- */
enum { RING = 1024 };   /* a power of two */

typedef struct pair {
    const allocator *a;
    size_t count;
    _Atomic size_t head, tail;   /* written by the producer / the consumer */
    void *ring[RING];
} pair;

static void *produce(void *arg) {
    pair *q = arg;
    uint64_t rng = 0x9E3779B97F4A7C15ull ^ (uintptr_t)q;
    for (size_t i = 0; i < q->count; i++) {
        size_t n = 16 + (size_t)(next(&rng) % 497);
        char *p = must(q->a->malloc(n), n);
        p[0] = (char)i;   /* the consumer's free is of memory someone wrote */
        size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
        while (h - atomic_load_explicit(&q->tail, memory_order_acquire) == RING) sched_yield();
        q->ring[h % RING] = p;
        atomic_store_explicit(&q->head, h + 1, memory_order_release);
    }
    return NULL;
}

static void *consume(void *arg) {
    pair *q = arg;
    for (size_t i = 0; i < q->count; i++) {
        size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
        while (atomic_load_explicit(&q->head, memory_order_acquire) == t) sched_yield();
        void *p = q->ring[t % RING];
        atomic_store_explicit(&q->tail, t + 1, memory_order_release);
        q->a->free(p);
    }
    return NULL;
}

/* Returns the operations done (mallocs + frees). */
static double producer_consumer(const allocator *a, unsigned pairs) {
    static pair q[4];
    pthread_t t[8];
    for (unsigned i = 0; i < pairs; i++) {
        memset(&q[i], 0, sizeof q[i]);
        q[i].a = a;
        q[i].count = 200000 * (size_t)scale;
        pthread_create(&t[2 * i], NULL, produce, &q[i]);
        pthread_create(&t[2 * i + 1], NULL, consume, &q[i]);
    }
    for (unsigned i = 0; i < 2 * pairs; i++) pthread_join(t[i], NULL);
    return 2.0 * (double)q[0].count * pairs;
}

/* --- larson ---------------------------------------------------------------------------------- */
enum { LIVE = 1000, GENERATIONS = 10 };

typedef struct lane {
    const allocator *a;
    void *live[LIVE];
    uint64_t rng;
    size_t steps;
} lane;

static size_t larson_size(uint64_t *rng) { return 16 + (size_t)(next(rng) % 1009); }

static void *generation(void *arg) {
    lane *l = arg;
    for (size_t i = 0; i < l->steps; i++) {
        uint64_t r = next(&l->rng);
        size_t k = (size_t)(r % LIVE), n = larson_size(&l->rng);
        l->a->free(l->live[k]);
        char *p = must(l->a->malloc(n), n);
        p[0] = (char)r;
        l->live[k] = p;
    }
    return NULL;   /* the survivors go to the next generation */
}

static void *larson_lane(void *arg) {
    lane *l = arg;
    for (int g = 0; g < GENERATIONS; g++) {
        pthread_t t;
        pthread_create(&t, NULL, generation, l);
        pthread_join(t, NULL);
    }
    return NULL;
}

static double larson(const allocator *a, unsigned threads) {
    static lane lanes[8];
    pthread_t t[8];
    for (unsigned i = 0; i < threads; i++) {
        lane *l = &lanes[i];
        l->a = a;
        l->rng = 0x5DEECE66Dull * (i + 1);
        l->steps = 20000 * (size_t)scale;
        for (int k = 0; k < LIVE; k++) {
            size_t n = larson_size(&l->rng);
            l->live[k] = must(a->malloc(n), n);
        }
    }
    for (unsigned i = 0; i < threads; i++) pthread_create(&t[i], NULL, larson_lane, &lanes[i]);
    for (unsigned i = 0; i < threads; i++) pthread_join(t[i], NULL);
    for (unsigned i = 0; i < threads; i++)
        for (int k = 0; k < LIVE; k++) a->free(lanes[i].live[k]);
    return 2.0 * (double)lanes[0].steps * GENERATIONS * threads;
}

/* --- measuring ------------------------------------------------------------------------------- */
typedef struct workload {
    const char *name;
    double (*run)(const allocator *a, unsigned threads);
    unsigned n;            /* pairs or threads */
    unsigned threads;      /* threads it runs at once */
} workload;

static double ops_per_second(const workload *w, const allocator *a) {
    double t0 = now();
    double ops = w->run(a, w->n);
    return ops / (now() - t0);
}

static int by_value(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(double *v, unsigned n) {
    qsort(v, n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void cpu_model(char *out, size_t len) {
    snprintf(out, len, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) {
                v += 1 + (v[1] == ' ');
                v[strcspn(v, "\n")] = '\0';
                snprintf(out, len, "%s", v);
            }
            break;
        }
    }
    fclose(f);
}

int main(int argc, char **argv) {
    unsigned repeats = 5;
    if (argc > 3 || (argc > 1 && (repeats = (unsigned)atoi(argv[1])) < 1) ||
        (argc > 2 && (scale = (unsigned)atoi(argv[2])) < 1) || repeats > 101) {
        fprintf(stderr, "usage: %s [repeats (1-101) [scale (>= 1)]]\n", argv[0]);
        return 2;
    }
    const workload workloads[] = {
        { "producer-consumer", producer_consumer, 1, 2 },
        { "producer-consumer", producer_consumer, 2, 4 },
        { "larson", larson, 1, 1 },
        { "larson", larson, 2, 2 },
        { "larson", larson, 4, 4 },
    };
    const allocator *both[2] = { &heaplab, &glibc };
    char cpu[128];
    cpu_model(cpu, sizeof cpu);

    printf("## bench_threads: heaplab's global API vs glibc malloc\n\n");
    printf("%s, nproc %ld, glibc %s; heaplab %s build; median of %u runs each, alternating; scale %u\n\n", cpu,
           sysconf(_SC_NPROCESSORS_ONLN), gnu_get_libc_version(), hl_checked_build() ? "CHECKED (not comparable)" : "release",
           repeats, scale);
    printf("| workload | threads | heaplab ops/s | glibc ops/s | heaplab/glibc |\n");
    printf("|---|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++) {
        const workload *w = &workloads[i];
        double r[2][101];
        for (int k = 0; k < 2; k++) ops_per_second(w, both[k]);   /* warm-up: heaps, arenas, page faults */
        for (unsigned rep = 0; rep < repeats; rep++)
            for (int k = 0; k < 2; k++) {
                int which = (int)(rep % 2) ^ k;
                r[which][rep] = ops_per_second(w, both[which]);
            }
        double h = median(r[0], repeats), g = median(r[1], repeats);
        char label[64];
        if (w->run == producer_consumer) snprintf(label, sizeof label, "%s, %u pair%s", w->name, w->n, w->n > 1 ? "s" : "");
        else snprintf(label, sizeof label, "%s", w->name);
        printf("| %s | %u | %.2fM | %.2fM | %.2f |\n", label, w->threads, h / 1e6, g / 1e6, h / g);
        fflush(stdout);
    }
    hl_global_stats gs;
    hl_stats_global(&gs);
    printf("\nheaplab over the whole run: %zu heaps created, %zu adopted by a later thread\n", gs.heaps_created,
           gs.heaps_adopted);
    return 0;
}
