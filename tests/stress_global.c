/*
 * stress_global.c - the global API under threads, cross-thread frees and
 * thread churn, with every block's contents checked and the memory bounded.
 *
 *   usage: stress_global [threads [ops [waves [seed]]]]
 *          defaults 4 threads, 200000 operations per thread, 4 waves, seed 1
 *   exit:  0 every check passed, 1 a check failed (the message says which),
 *          2 bad arguments
 *
 * The workload: `threads` lanes, each running `waves` threads one after the
 * other (ops/waves operations each), so threads exit while others keep
 * running and their heaps are abandoned and adopted all the time.  All
 * threads share an array of atomic slots: an operation swaps a block into or
 * out of a random slot, so most blocks are freed or resized by a thread other
 * than the one that allocated them.  Each block carries a tag (its size and a
 * seed naming its thread) and a pattern derived from the seed; the pattern is
 * verified before every free and after every realloc.  Sizes are 8 B to
 * 4 KiB, with a few blocks of 128 KiB and more (own mappings).
 *
 * Meanwhile the main thread samples hl_stats_global (peak source bytes) and
 * now and then runs hl_check_all while the others work.
 *
 * At the end of a run: every block is freed, no block is left in use (so no
 * remote free was stranded), hl_check_all passes, and once the abandoned
 * heaps are adopted and emptied no heap and no byte of memory is left.
 *
 * Memory bound: the workload runs once, then again with twice the
 * operations.  Memory freed by other threads is reused, so the second run's
 * peak (ru_maxrss, and the sampled peak of source_bytes) stays within 15% +
 * 8 MiB of the first; without reuse it would double.
 *
 * Under ThreadSanitizer and in checked builds (HL_CHECK_EVERY_OP), pass
 * smaller counts, e.g. `stress_global 4 20000`.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "heaplab.h"

enum {
    NSLOTS = 4096,
    MIN_SIZE = 8,          /* room for the tag */
    SAMPLE_ABOVE = 65536,  /* bigger blocks get a sampled pattern */
};

typedef struct config {
    unsigned threads, waves;
    unsigned long ops;     /* per lane (thread position), over all its waves */
    uint64_t seed;
} config;

/* The first 8 bytes of every block. */
typedef struct tag {
    uint32_t size;
    uint32_t seed;         /* the allocating thread in the top byte */
} tag;

static _Atomic(uintptr_t) slots[NSLOTS];
static _Atomic unsigned long n_alloc, n_free, n_realloc, n_cross;
static _Atomic unsigned lanes_done;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "stress_global: FAIL: %s\n", line);
    fflush(stderr);
    _exit(1);   /* other threads are running: no atexit handlers */
}

static void on_report(const hl_error *e, void *ctx) {
    (void)ctx;
    fail("heaplab reported %s: %s", hl_error_kind_name(e->kind), e->message);
}

/* --- random numbers ----------------------------------------------------------------------- */
static uint64_t next(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static size_t random_size(uint64_t *rng) {
    uint64_t r = next(rng);
    unsigned pick = (unsigned)(r % 1000);
    r >>= 10;
    if (pick < 2) return 128 * 1024 + (size_t)(r % (512 * 1024));   /* own mapping */
    if (pick < 600) return MIN_SIZE + (size_t)(r % 249);             /* 8..256 */
    return 257 + (size_t)(r % 3840);                                 /* ..4096 */
}

/* --- contents ------------------------------------------------------------------------------- */
static uint64_t word_at(uint32_t seed, size_t k) {
    uint64_t x = ((uint64_t)seed << 32 | (uint32_t)k) * 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29);
}

/* Which 8-byte words of a block of `size` bytes carry the pattern: all of
 * them, or for big blocks the first and last 4 KiB and one word in 509
 * (enough to catch a block handed out twice without writing 600 KiB). */
static int sampled(size_t size, size_t k) {
    size_t words = size / 8;
    return size <= SAMPLE_ABOVE || k < 512 || k + 512 >= words || k % 509 == 0;
}

static void fill(unsigned char *p, size_t size, uint32_t seed) {
    tag t = { (uint32_t)size, seed };
    memcpy(p, &t, sizeof t);
    for (size_t k = 1; k < size / 8; k++)
        if (sampled(size, k)) {
            uint64_t w = word_at(seed, k);
            memcpy(p + 8 * k, &w, 8);
        }
    for (size_t i = size & ~(size_t)7; i < size; i++) p[i] = (unsigned char)(seed + i);
}

/* Checks the pattern a block of `size` bytes was filled with, up to `limit` bytes. */
static void verify(const unsigned char *p, size_t size, size_t limit, uint32_t seed, const char *when) {
    for (size_t k = 1; k < size / 8 && 8 * k + 8 <= limit; k++)
        if (sampled(size, k)) {
            uint64_t w;
            memcpy(&w, p + 8 * k, 8);
            if (w != word_at(seed, k))
                fail("%s: block %p (size %zu, seed %#x): word %zu is %#llx, expected %#llx", when, (void *)p, size,
                     seed, k, (unsigned long long)w, (unsigned long long)word_at(seed, k));
        }
    for (size_t i = size & ~(size_t)7; i < size && i < limit; i++)
        if (p[i] != (unsigned char)(seed + i))
            fail("%s: block %p (size %zu): byte %zu changed", when, (void *)p, size, i);
}

/* The tag of a live block, which must still read as one of ours. */
static tag tag_of(const void *p) {
    tag t;
    memcpy(&t, p, sizeof t);
    if (t.size < MIN_SIZE || t.size > 1024 * 1024 || t.seed >> 24 == 0)
        fail("block %p: its tag (size %u, seed %#x) was overwritten", p, t.size, t.seed);
    return t;
}

/* --- operations ------------------------------------------------------------------------------ */
typedef struct worker {
    uint64_t rng;
    uint32_t id;           /* top byte of every seed this thread writes (1..255; reused
                              beyond 255 threads, which only blurs the cross-thread count) */
    uint32_t count;
    unsigned long ops;
} worker;

static uint32_t new_seed(worker *w) { return w->id << 24 | (++w->count & 0xFFFFFF); }

static unsigned char *new_block(worker *w) {
    size_t size = random_size(&w->rng);
    unsigned how = (unsigned)(next(&w->rng) % 100);
    unsigned char *p;
    if (how < 70) {
        p = hl_malloc(size);
    } else if (how < 85) {
        p = hl_calloc(1, size);
        for (size_t i = 0; p && i < size; i += sampled(size, i / 8) ? 1 : 4096)
            if (p[i]) fail("calloc(%zu) = %p: byte %zu is not zero", size, (void *)p, i);
    } else {
        size_t align = (size_t)16 << (next(&w->rng) % 9);   /* 16 .. 4096 */
        p = hl_aligned_alloc(align, size);
        if (p && (uintptr_t)p % align) fail("aligned_alloc(%zu) = %p: misaligned", align, (void *)p);
    }
    if (!p) fail("allocation of %zu bytes failed: %s", size, strerror(errno));
    fill(p, size, new_seed(w));
    atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
    return p;
}

static void release(const worker *w, unsigned char *p) {
    tag t = tag_of(p);
    verify(p, t.size, t.size, t.seed, "before free");
    if (w && t.seed >> 24 != w->id) atomic_fetch_add_explicit(&n_cross, 1, memory_order_relaxed);
    hl_free(p);
    atomic_fetch_add_explicit(&n_free, 1, memory_order_relaxed);
}

static unsigned char *resize(worker *w, unsigned char *p) {
    tag t = tag_of(p);
    size_t to = random_size(&w->rng);
    verify(p, t.size, t.size, t.seed, "before realloc");
    unsigned char *q = hl_realloc(p, to);
    if (!q) fail("realloc(%p, %zu) failed: %s", (void *)p, to, strerror(errno));
    verify(q, t.size, to, t.seed, "after realloc (the prefix)");
    fill(q, to, new_seed(w));
    atomic_fetch_add_explicit(&n_realloc, 1, memory_order_relaxed);
    return q;
}

/* Puts p in slot s; whatever p displaced is freed. */
static void put(worker *w, size_t s, unsigned char *p) {
    uintptr_t old = atomic_exchange(&slots[s], (uintptr_t)p);
    if (old) release(w, (unsigned char *)old);
}

static void *work(void *arg) {
    worker *w = arg;
    for (unsigned long i = 0; i < w->ops; i++) {
        /* on few cores a thread would run thousands of operations per time
         * slice and mostly meet its own blocks: yield to interleave finely */
        if (i % 32 == 31) sched_yield();
        uint64_t r = next(&w->rng);
        size_t s = (size_t)(r % NSLOTS);
        unsigned op = (unsigned)((r >> 32) % 100);
        if (op < 45) {
            put(w, s, new_block(w));
        } else if (op < 85) {
            uintptr_t old = atomic_exchange(&slots[s], 0);
            if (old) release(w, (unsigned char *)old);
        } else {
            uintptr_t old = atomic_exchange(&slots[s], 0);
            if (old) put(w, s, resize(w, (unsigned char *)old));
        }
    }
    return NULL;   /* live blocks stay in the slots: this heap may be abandoned */
}

/* --- lanes: one thread after another ----------------------------------------------------- */
typedef struct lane {
    pthread_t tid;
    unsigned index;
    const config *cfg;
    unsigned long ops;
} lane;

static void *run_lane(void *arg) {
    lane *l = arg;
    for (unsigned wave = 0; wave < l->cfg->waves; wave++) {
        worker w = {
            .rng = l->cfg->seed * 0x9E3779B97F4A7C15ull ^ ((uint64_t)l->index << 32 | wave) ^ 0x5DEECE66Dull,
            .id = (uint32_t)((l->index * l->cfg->waves + wave) % 255 + 1),
            .ops = l->ops / l->cfg->waves,
        };
        next(&w.rng);
        pthread_t t;
        if (pthread_create(&t, NULL, work, &w)) fail("pthread_create failed");
        pthread_join(t, NULL);
    }
    atomic_fetch_add(&lanes_done, 1);
    return NULL;
}

/* A thread that takes a heap (adopting an abandoned one) and leaves it empty. */
static void *take_heap(void *arg) {
    (void)arg;
    hl_free(hl_malloc(MIN_SIZE));
    return NULL;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long max_rss_kib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

typedef struct result {
    double seconds;
    size_t peak_source;
    long max_rss_kib;
    unsigned checks;
} result;

static void check_world(const char *when) {
    hl_check_report r;
    int rc = hl_check_all(&r);
    if (rc) fail("hl_check_all %s: %s", when, r.message);
}

/* Runs the workload once and leaves the process with no heaplab memory. */
static result run(const config *cfg, unsigned long ops) {
    result res = { 0 };
    lane lanes[64];
    atomic_store(&n_alloc, 0);
    atomic_store(&n_free, 0);
    atomic_store(&n_realloc, 0);
    atomic_store(&n_cross, 0);
    atomic_store(&lanes_done, 0);
    hl_global_stats start;
    hl_stats_global(&start);

    double t0 = now();
    for (unsigned i = 0; i < cfg->threads; i++) {
        lanes[i] = (lane){ .index = i, .cfg = cfg, .ops = ops };
        if (pthread_create(&lanes[i].tid, NULL, run_lane, &lanes[i])) fail("pthread_create failed");
    }
    /* sample while the lanes work; stop the world now and then */
    for (unsigned tick = 0; atomic_load(&lanes_done) < cfg->threads; tick++) {
        struct timespec pause = { 0, 5 * 1000 * 1000 };
        nanosleep(&pause, NULL);
        hl_global_stats gs;
        hl_stats_global(&gs);
        if (gs.source_bytes > res.peak_source) res.peak_source = gs.source_bytes;
        if (tick % 4 == 3) {
            check_world("while the threads run");
            res.checks++;
        }
    }
    for (unsigned i = 0; i < cfg->threads; i++) pthread_join(lanes[i].tid, NULL);
    res.seconds = now() - t0;

    for (size_t s = 0; s < NSLOTS; s++) {   /* the main thread frees what is left */
        uintptr_t p = atomic_exchange(&slots[s], 0);
        if (p) release(NULL, (unsigned char *)p);
    }
    if (atomic_load(&n_alloc) != atomic_load(&n_free))
        fail("%lu blocks allocated, %lu freed", atomic_load(&n_alloc), atomic_load(&n_free));
    hl_global_stats end;
    hl_stats_global(&end);
    size_t stranded = end.blocks_in_use;
    check_world("after the run");

    /* adopt and empty every abandoned heap: then nothing may be left */
    for (unsigned n = 0; n < 1000; n++) {
        hl_global_stats gs;
        hl_stats_global(&gs);
        if (!gs.heaps_abandoned) break;
        pthread_t t;
        if (pthread_create(&t, NULL, take_heap, NULL)) fail("pthread_create failed");
        pthread_join(t, NULL);
    }
    hl_stats_global(&end);
    if (stranded)
        fail("%zu block(s) still in use after every block was freed; adopting the abandoned heaps left %zu: "
             "a remote free was pushed onto the stack of a heap whose owner had already exited",
             stranded, end.blocks_in_use);
    if (end.heaps || end.source_bytes)
        fail("after the sweep: %zu heaps (%zu abandoned), %zu source bytes left", end.heaps, end.heaps_abandoned,
             end.source_bytes);
    res.max_rss_kib = max_rss_kib();

    unsigned long total = atomic_load(&n_alloc) + atomic_load(&n_free) + atomic_load(&n_realloc);
    printf("  %u x %lu ops in %.2f s (%.0f ops/s): %lu allocs, %lu reallocs, %lu frees, %.0f%% of them by "
           "another thread\n",
           cfg->threads, ops, res.seconds, (double)total / res.seconds, atomic_load(&n_alloc),
           atomic_load(&n_realloc), atomic_load(&n_free),
           100.0 * (double)atomic_load(&n_cross) / (double)(atomic_load(&n_free) ? atomic_load(&n_free) : 1));
    printf("  heaps created %zu, adopted %zu; %u checks of the world while running; peak source %.1f MiB, "
           "max RSS %.1f MiB\n",
           end.heaps_created - start.heaps_created, end.heaps_adopted - start.heaps_adopted, res.checks,
           (double)res.peak_source / 1048576.0, (double)res.max_rss_kib / 1024.0);
    return res;
}

static int parse(const char *s, unsigned long lo, unsigned long hi, unsigned long *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

int main(int argc, char **argv) {
    config cfg = { .threads = 4, .waves = 4, .ops = 200000, .seed = 1 };
    unsigned long v;
    if (argc > 5) goto usage;
    if (argc > 1) {
        if (!parse(argv[1], 1, 64, &v)) goto usage;
        cfg.threads = (unsigned)v;
    }
    if (argc > 2) {
        if (!parse(argv[2], 1, 1000000000, &v)) goto usage;
        cfg.ops = v;
    }
    if (argc > 3) {
        if (!parse(argv[3], 1, 10000, &v)) goto usage;
        cfg.waves = (unsigned)v;
    }
    if (argc > 4) {
        if (!parse(argv[4], 0, ULONG_MAX, &v)) goto usage;
        cfg.seed = v;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    hl_set_error_handler(on_report, NULL);
    printf("stress_global: %u threads x %lu ops, %u waves, seed %llu, %s build\n", cfg.threads, cfg.ops, cfg.waves,
           (unsigned long long)cfg.seed, hl_checked_build() ? "checked" : "release");

    printf("run 1:\n");
    result one = run(&cfg, cfg.ops);
    printf("run 2 (twice the operations):\n");
    result two = run(&cfg, 2 * cfg.ops);

    double rss_limit = (double)one.max_rss_kib * 1.15 + 8 * 1024;
    double src_limit = (double)one.peak_source * 1.15 + 8.0 * 1048576.0;
    printf("memory: max RSS %.1f -> %.1f MiB (limit %.1f), peak source %.1f -> %.1f MiB (limit %.1f)\n",
           (double)one.max_rss_kib / 1024.0, (double)two.max_rss_kib / 1024.0, rss_limit / 1024.0,
           (double)one.peak_source / 1048576.0, (double)two.peak_source / 1048576.0, src_limit / 1048576.0);
    if ((double)two.max_rss_kib > rss_limit) fail("max RSS grew with the run: memory freed by other threads not reused");
    if ((double)two.peak_source > src_limit) fail("peak source bytes grew with the run: memory not reused");
    printf("stress_global: PASS\n");
    return 0;

usage:
    fprintf(stderr, "usage: %s [threads (1-64) [ops per thread [waves [seed]]]]\n", argv[0]);
    return 2;
}
