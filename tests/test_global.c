/*
 * test_global.c - the thread-safe global API (hl_malloc and friends).
 *
 * What it shows:
 *   - a block freed by another thread is reused by its owner once the owner's
 *     next operation has drained its remote-free stack, without the heap
 *     growing (the property the seeds' design lacked);
 *   - realloc of another thread's block keeps its contents;
 *   - a large block freed by another thread is unmapped at once;
 *   - a thread that exits with live blocks leaves its heap abandoned, and the
 *     next new thread adopts it; a thread that exits with nothing live
 *     leaves no heap;
 *   - fork() while other threads allocate leaves a child that can allocate;
 *   - pointers heaplab never returned are reported without being touched,
 *     double frees are reported (by the owner, at the latest when it drains);
 *   - posix_memalign and aligned_alloc honour alignments and refuse bad ones;
 *   - hl_check_all passes after all of it.
 *
 * cmocka's assertions may only fail on the thread running the test, so other
 * threads are "workers" that run one step at a time on request
 * (worker_call) and leave their results in memory for the test to assert.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* MAP_FIXED_NOREPLACE, MAP_ANONYMOUS under -std=c11 */
#endif

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <limits.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "heaplab.h"
#include "hl_internal.h"  /* HL_SEGMENT: where a large block's segment ends */
#include "hl_global.h"    /* hl__registry_owner: a pointer's heap */
#include "tu_gcov.h"      /* forked children keep their coverage counters */

/* A deliberate double free is reported by heaplab and, under Valgrind, by
 * memcheck too (heaplab tells it, as glibc's would be): the tests that do it
 * on purpose turn memcheck's reporting off around it, on the thread that
 * frees or drains (the switch is per thread). */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define MISUSE_BEGIN() VALGRIND_DISABLE_ERROR_REPORTING
#define MISUSE_END() VALGRIND_ENABLE_ERROR_REPORTING
#endif
#endif
#ifndef MISUSE_BEGIN
#define MISUSE_BEGIN() ((void)0)
#define MISUSE_END() ((void)0)
#endif

/* --- workers: threads that run one step at a time --------------------------------- */
typedef struct worker {
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    void (*fn)(void *);
    void *arg;
    int pending;
    int quit;
} worker;

static void *worker_main(void *arg) {
    worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->pending && !w->quit) pthread_cond_wait(&w->cv, &w->mu);
        if (!w->pending) break;
        pthread_mutex_unlock(&w->mu);
        w->fn(w->arg);
        pthread_mutex_lock(&w->mu);
        w->pending = 0;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* 0, or pthread_create's error (for forked children, which cannot assert). */
static int worker_spawn(worker *w) {
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    return pthread_create(&w->tid, NULL, worker_main, w);
}

static void worker_start(worker *w) { assert_int_equal(worker_spawn(w), 0); }

/* Runs fn(arg) on w's thread and waits for it to finish. */
static void worker_call(worker *w, void (*fn)(void *), void *arg) {
    pthread_mutex_lock(&w->mu);
    w->fn = fn;
    w->arg = arg;
    w->pending = 1;
    pthread_cond_broadcast(&w->cv);
    while (w->pending) pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

/* Ends w's thread and waits until it has exited (its heap destroyed or
 * abandoned); 0 or pthread_join's error. */
static int worker_end(worker *w) {
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    int rc = pthread_join(w->tid, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    return rc;
}

static void worker_stop(worker *w) { assert_int_equal(worker_end(w), 0); }

/* Runs fn(arg) once on a fresh thread that then exits. */
static void on_new_thread(void (*fn)(void *), void *arg) {
    worker w;
    worker_start(&w);
    worker_call(&w, fn, arg);
    worker_stop(&w);
}

/* --- the error recorder ------------------------------------------------------------- */
static struct {
    pthread_mutex_t mu;
    int count[HL_ERR_INVARIANT + 1];
    const void *last_ptr;
    hl_error_kind last_kind;
    char last_op[32];
    char last_msg[320];
} rec = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void record(const hl_error *e, void *ctx) {
    (void)ctx;
    pthread_mutex_lock(&rec.mu);
    if (e->kind >= 1 && e->kind <= HL_ERR_INVARIANT) rec.count[e->kind]++;
    rec.last_ptr = e->ptr;
    rec.last_kind = e->kind;
    snprintf(rec.last_op, sizeof rec.last_op, "%s", e->operation ? e->operation : "");
    snprintf(rec.last_msg, sizeof rec.last_msg, "%s", e->message ? e->message : "");
    pthread_mutex_unlock(&rec.mu);
}

static void rec_reset(void) {
    pthread_mutex_lock(&rec.mu);
    memset(rec.count, 0, sizeof rec.count);
    rec.last_ptr = NULL;
    rec.last_kind = 0;
    rec.last_op[0] = '\0';
    rec.last_msg[0] = '\0';
    pthread_mutex_unlock(&rec.mu);
}

static int rec_count(hl_error_kind k) {
    pthread_mutex_lock(&rec.mu);
    int n = rec.count[k];
    pthread_mutex_unlock(&rec.mu);
    return n;
}

static int rec_total(void) {
    int n = 0;
    for (int k = 1; k <= HL_ERR_INVARIANT; k++) n += rec_count((hl_error_kind)k);
    return n;
}

/* Nothing reported since the test began; else the last report, to say why. */
#define assert_no_reports()                                                              \
    do {                                                                                 \
        if (rec_total()) fail_msg("%d unexpected report(s), the last: %s", rec_total(), rec.last_msg); \
    } while (0)

/* cmocka turns SIGSEGV and friends into a failed test and carries on; a
 * forked child must die of them instead, so its parent sees the signal. */
static void child_default_signals(void) {
    const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
}

/* --- blocks with contents ----------------------------------------------------------- */
static void fill(void *p, size_t n, unsigned seed) {
    unsigned char *c = p;
    for (size_t i = 0; i < n; i++) c[i] = (unsigned char)(seed * 31u + i * 7u);
}

static int intact(const void *p, size_t n, unsigned seed) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i] != (unsigned char)(seed * 31u + i * 7u)) return 0;
    return 1;
}

enum { BATCH_MAX = 256 };
typedef struct batch {
    size_t n, size;
    void *p[BATCH_MAX];
} batch;

static void alloc_batch(void *arg) {
    batch *b = arg;
    for (size_t i = 0; i < b->n; i++) {
        b->p[i] = hl_malloc(b->size);
        if (b->p[i]) fill(b->p[i], b->size, (unsigned)i);
    }
}

/* The misses of a batch carve blocks of its size into the cache (src/tcache.c,
 * hl__cache_refill); a test that counts where later blocks land gives them back first. */
static void flush_cache(void *arg) {
    (void)arg;
    hl_thread_cache_flush();
}

static void free_batch(void *arg) {
    batch *b = arg;
    for (size_t i = 0; i < b->n; i++) hl_free(b->p[i]);
}

static size_t count_intact(const batch *b) {
    size_t ok = 0;
    for (size_t i = 0; i < b->n; i++) ok += b->p[i] && intact(b->p[i], b->size, (unsigned)i);
    return ok;
}

static hl_global_stats stats(void) {
    hl_global_stats s;
    hl_stats_global(&s);
    return s;
}

/* One operation of the calling thread's own: drains its remote-free stack.
 * 64 bytes, the size the reuse test's blocks have. */
static void touch(void *arg) {
    void **out = arg;
    *out = hl_malloc(64);
}

/* Takes a heap (adopting an abandoned one if there is one) and leaves it empty. */
static void take_heap(void *arg) {
    (void)arg;
    hl_free(hl_malloc(1));
}

static void free_one(void *arg) { hl_free(arg); }

/* free_one and touch for a free that is (or a drain that meets) a double free. */
static void misuse_free_one(void *arg) {
    MISUSE_BEGIN();
    hl_free(arg);
    MISUSE_END();
}

static void misuse_touch(void *arg) {
    MISUSE_BEGIN();
    touch(arg);
    MISUSE_END();
}

static int group_setup(void **state) {
    (void)state;
    hl_set_error_handler(record, NULL);
    return 0;
}

static int each_setup(void **state) {
    (void)state;
    rec_reset();
    /* every test starts from a world without abandoned heaps, so the heap a
     * new thread gets is fresh and its addresses predictable */
    return stats().heaps_abandoned == 0 ? 0 : -1;
}

/* --- a region wider than a segment ---------------------------------------------------- */
/* A global heap finds a block's region from the registry and the segment's
 * base, which holds only while each region is one segment (src/region.c).
 * A small request aligned to a whole segment needs a region of two: that
 * heap stops taking the shortcut, and still finds the block's region (a
 * lookup at the second segment's base would read the middle of the region
 * as a header and refuse the free). */
typedef struct wide_run {
    void *p;
    size_t blocks_after;
    uint32_t wide_before, wide_after;
    int check, intact;
} wide_run;

static void wide_region(void *arg) {
    wide_run *w = arg;
    void *first = hl_malloc(1);   /* this thread's heap, its first region */
    if (!first) return;
    w->wide_before = hl__registry_owner(first, &(bool){ false })->wide_regions;
    hl_free(first);
    w->p = hl_aligned_alloc(HL_SEGMENT, 64);
    if (!w->p) return;
    memset(w->p, 0x5A, 64);
    hl_heap *h = hl__registry_owner(w->p, &(bool){ false });
    w->wide_after = h->wide_regions;
    w->intact = ((unsigned char *)w->p)[63] == 0x5A;
    hl_free(w->p);              /* into the cache */
    hl_thread_cache_flush();    /* to the free lists: the release looks p's region up */
    w->check = hl_check_all(NULL);
    w->blocks_after = h->st.blocks_in_use;
}

static void test_region_wider_than_a_segment(void **state) {
    (void)state;
    static wide_run w;
    on_new_thread(wide_region, &w);
    assert_non_null(w.p);
    assert_int_equal((uintptr_t)w.p % HL_SEGMENT, 0);
    assert_int_equal(w.wide_before, 0);
    assert_int_equal(w.wide_after, 1);
    assert_int_equal(w.blocks_after, 0);   /* p went back to the free lists */
    assert_int_equal(w.check, 0);
    assert_true(w.intact);
    for (int k = 1; k <= HL_ERR_INVARIANT; k++) assert_int_equal(rec_count((hl_error_kind)k), 0);   /* the frees were not refused */
    assert_int_equal(hl_check_all(NULL), 0);
}

/* --- memory freed by another thread is reused ----------------------------------------- */
typedef struct reuse {
    batch old, fresh;
    hl_global_stats after_remote, after_drain, after_again;
    void *first;
} reuse;

/* The first block came from touch(); the rest are allocated here. */
static void alloc_again(void *arg) {
    reuse *r = arg;
    r->fresh.n = r->old.n;
    r->fresh.size = r->old.size;
    r->fresh.p[0] = r->first;
    for (size_t i = 1; i < r->fresh.n; i++) r->fresh.p[i] = hl_malloc(r->fresh.size);
}

static int member(void *const *set, size_t n, const void *p) {
    for (size_t i = 0; i < n; i++)
        if (set[i] == p) return 1;
    return 0;
}

static void test_remote_free_is_reused(void **state) {
    (void)state;
    static reuse r;
    memset(&r, 0, sizeof r);
    r.old.n = 200;
    r.old.size = 64;
    worker a;
    worker_start(&a);
    hl_global_stats before = stats();
    worker_call(&a, alloc_batch, &r.old);
    worker_call(&a, flush_cache, NULL);
    assert_int_equal(count_intact(&r.old), r.old.n);
    hl_global_stats allocated = stats();

    on_new_thread(free_batch, &r.old);   /* B frees every block A owns */
    r.after_remote = stats();
    assert_int_equal(r.after_remote.remote_frees - before.remote_frees, r.old.n);
    assert_int_equal(r.after_remote.remote_drained, before.remote_drained);   /* A has not run yet */
    assert_int_equal(r.after_remote.blocks_in_use, allocated.blocks_in_use);  /* still A's until drained */
    assert_int_equal(r.after_remote.heaps_created, allocated.heaps_created); /* B, freeing only, made no heap */

    void *first = NULL;
    worker_call(&a, touch, &first);   /* A's next operation drains */
    r.first = first;
    r.after_drain = stats();
    assert_non_null(first);
    assert_int_equal(r.after_drain.remote_drained - before.remote_drained, r.old.n);
    assert_int_equal(r.after_drain.remote_frees, r.after_drain.remote_drained);
    assert_int_equal(r.after_drain.blocks_in_use, allocated.blocks_in_use - r.old.n + 1);

    /* A allocates as many blocks again: the drain put blocks B freed in A's
     * cache, and each of those comes back (the rest went to the free lists,
     * where a miss's refill may carve past them); the heap does not grow */
    size_t cached = r.after_drain.cached_blocks - allocated.cached_blocks;
    assert_true(cached > 0 && cached < r.old.n);
    worker_call(&a, alloc_again, &r);
    r.after_again = stats();
    size_t reused = 0;
    for (size_t i = 0; i < r.fresh.n; i++) reused += member(r.old.p, r.old.n, r.fresh.p[i]);
    assert_true(reused >= cached + 1);   /* the cached ones and `first` */
    assert_int_equal(r.after_again.source_bytes, allocated.source_bytes);
    assert_int_equal(r.after_again.source_bytes, r.after_drain.source_bytes);

    worker_call(&a, free_batch, &r.fresh);
    worker_stop(&a);
    hl_global_stats end = stats();
    assert_int_equal(end.heaps, before.heaps);   /* A exited empty: its heap is gone */
    assert_no_reports();
}

/* calloc on memory another thread freed (and the owner wrote free fill into,
 * in checked builds) still returns zeros. */
typedef struct zeroed {
    batch b;
    int all_zero;
} zeroed;

static void calloc_batch(void *arg) {
    zeroed *z = arg;
    z->all_zero = 1;
    for (size_t i = 0; i < z->b.n; i++) {
        unsigned char *c = hl_calloc(z->b.size / 8, 8);
        z->b.p[i] = c;
        for (size_t k = 0; c && k < z->b.size; k++) z->all_zero &= c[k] == 0;
    }
}

static void test_calloc_after_remote_free_is_zeroed(void **state) {
    (void)state;
    static zeroed z;
    memset(&z, 0, sizeof z);
    z.b.n = 64;
    z.b.size = 256;
    worker a;
    worker_start(&a);
    worker_call(&a, alloc_batch, &z.b);      /* blocks full of a pattern */
    on_new_thread(free_batch, &z.b);
    worker_call(&a, calloc_batch, &z);       /* drains, then recycles them */
    assert_int_equal(z.all_zero, 1);
    for (size_t i = 0; i < z.b.n; i++) assert_non_null(z.b.p[i]);
    worker_call(&a, free_batch, &z.b);
    worker_stop(&a);
    assert_no_reports();
}

/* --- realloc of another thread's block ------------------------------------------------ */
typedef struct moved {
    size_t n;
    size_t size[6], to[6];
    void *p[6], *q[6];
    int kept[6];
} moved;

static void alloc_sized(void *arg) {
    moved *m = arg;
    for (size_t i = 0; i < m->n; i++) {
        m->p[i] = hl_malloc(m->size[i]);
        if (m->p[i]) fill(m->p[i], m->size[i], (unsigned)i + 100);
    }
}

static void realloc_sized(void *arg) {
    moved *m = arg;
    for (size_t i = 0; i < m->n; i++) {
        m->q[i] = hl_realloc(m->p[i], m->to[i]);
        size_t keep = m->size[i] < m->to[i] ? m->size[i] : m->to[i];
        m->kept[i] = m->q[i] && intact(m->q[i], keep, (unsigned)i + 100);
        if (m->q[i]) memset(m->q[i], 0x5A, m->to[i]);   /* the new block is all ours */
    }
}

static void free_moved(void *arg) {
    moved *m = arg;
    for (size_t i = 0; i < m->n; i++) hl_free(m->q[i]);
}

static void test_realloc_of_another_threads_block(void **state) {
    (void)state;
    static moved m = {
        .n = 6,
        .size = { 24, 100, 1000, 4000, 200 * 1024, 300 * 1024 },
        .to = { 5000, 10, 1000, 300 * 1024, 64, 600 * 1024 },
    };
    worker a, b;
    worker_start(&a);
    worker_start(&b);
    worker_call(&a, alloc_sized, &m);
    for (size_t i = 0; i < m.n; i++) assert_non_null(m.p[i]);
    worker_call(&b, realloc_sized, &m);   /* B resizes A's blocks */
    for (size_t i = 0; i < m.n; i++) {
        assert_non_null(m.q[i]);
        assert_true(m.kept[i]);
        assert_true(hl_malloc_usable_size(m.q[i]) >= m.to[i]);
    }
    worker_call(&a, free_moved, &m);      /* and A frees what B made */
    worker_stop(&b);
    worker_stop(&a);
    assert_no_reports();
    assert_int_equal(hl_check_all(NULL), 0);
}

/* --- large blocks freed by another thread ------------------------------------------- */
static void test_large_remote_free_feeds_owner_cache(void **state) {
    (void)state;
    static batch big;
    memset(&big, 0, sizeof big);
    big.n = 3;
    big.size = 256 * 1024;   /* at least the 128 KiB mmap threshold: each in a mapping of its own */
    worker a;
    worker_start(&a);
    hl_global_stats before = stats();
    worker_call(&a, alloc_batch, &big);
    assert_int_equal(count_intact(&big), big.n);
    hl_global_stats mapped = stats();
    assert_true(mapped.source_bytes >= before.source_bytes + big.n * big.size);

    on_new_thread(free_batch, &big);   /* B frees them; A does nothing */
    hl_global_stats freed = stats();
    assert_true(freed.source_bytes <= mapped.source_bytes);
    assert_int_equal(freed.blocks_in_use, mapped.blocks_in_use - big.n);
    assert_int_equal(freed.remote_frees, mapped.remote_frees);   /* not queued: freed at once */

    /* into A's large cache (docs/large.md): A's next blocks of that size reuse
     * those mappings and take nothing new from the system */
    worker_call(&a, alloc_batch, &big);
    assert_int_equal(count_intact(&big), big.n);
    hl_global_stats reused = stats();
    assert_int_equal(reused.source_bytes, freed.source_bytes);
    worker_call(&a, free_batch, &big);
    worker_stop(&a);
    assert_no_reports();
}

/* --- thread exit: abandonment, adoption, and heaps that simply go ------------------- */
typedef struct adopt {
    batch b;
    size_t found_intact;
    void *own;
} adopt;

static void check_and_free(void *arg) {
    adopt *d = arg;
    d->own = hl_malloc(32);   /* the first operation: this thread takes a heap */
    d->found_intact = count_intact(&d->b);
    free_batch(&d->b);
    hl_free(d->own);
}

static void test_exit_with_live_blocks_abandons_then_adopts(void **state) {
    (void)state;
    static adopt d;
    memset(&d, 0, sizeof d);
    d.b.n = 10;
    d.b.size = 100;
    hl_global_stats before = stats();
    on_new_thread(alloc_batch, &d.b);   /* allocates and exits with 10 live blocks */
    hl_global_stats left = stats();
    assert_int_equal(left.heaps_abandoned, 1);
    assert_int_equal(left.heaps, before.heaps + 1);
    assert_int_equal(left.blocks_in_use, before.blocks_in_use + d.b.n);

    /* this thread frees one of them while the heap waits: at once, under
     * its lock, since no owner will ever drain a stack for it */
    void *stray = d.b.p[0];
    d.b.p[0] = NULL;
    assert_true(intact(stray, d.b.size, 0));
    hl_free(stray);
    hl_global_stats one_freed = stats();
    assert_int_equal(one_freed.blocks_in_use, left.blocks_in_use - 1);
    assert_int_equal(one_freed.remote_frees, left.remote_frees);

    on_new_thread(check_and_free, &d);  /* the next new thread adopts the heap */
    hl_global_stats after = stats();
    assert_int_equal(d.found_intact, d.b.n - 1);
    assert_int_equal(after.heaps_adopted, before.heaps_adopted + 1);
    assert_int_equal(after.heaps_created, before.heaps_created + 1);   /* adopted, not created */
    assert_int_equal(after.heaps_abandoned, 0);
    assert_int_equal(after.heaps, before.heaps);   /* emptied by its adopter, which exited */
    assert_int_equal(after.blocks_in_use, before.blocks_in_use);
    assert_no_reports();
}

static void churn_and_free_all(void *arg) {
    (void)arg;
    void *p[64];
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 64; i++) p[i] = hl_malloc((size_t)(i * 37 + 1) % 3000);
        p[7] = hl_realloc(p[7], 200 * 1024);   /* a large block too */
        for (int i = 0; i < 64; i++) hl_free(p[i]);
    }
}

static void test_exit_with_nothing_live_leaves_no_heap(void **state) {
    (void)state;
    hl_global_stats before = stats();
    on_new_thread(churn_and_free_all, NULL);
    hl_global_stats after = stats();
    assert_int_equal(after.heaps_created, before.heaps_created + 1);
    assert_int_equal(after.heaps, before.heaps);
    assert_int_equal(after.heaps_abandoned, 0);
    assert_int_equal(after.source_bytes, before.source_bytes);   /* every segment given back */
    assert_no_reports();
}

/* --- allocating after the thread's exit handler ---------------------------------------
 * A TLS destructor that runs after heaplab's (its key is younger, and glibc
 * runs destructors in key order) still gets memory: the thread has no heap
 * any more, so it is served from an abandoned heap, under its lock. */
typedef struct late {
    bool fail_first;   /* refuse the first malloc's memory (the mmap of a heap to serve it) */
    bool refused;      /* and it came back NULL with ENOMEM */
    void *small, *zeroed, *aligned, *big, *grown;
} late;
static pthread_key_t late_key;

static void late_destructor(void *arg) {
    late *l = arg;
    if (l->fail_first) {
        hl_fail_maps(0, UINT_MAX);
        errno = 0;
        void *p = hl_malloc(100);
        l->refused = p == NULL && errno == ENOMEM;
        hl_fail_maps(0, 0);
    }
    if ((l->small = hl_malloc(100))) fill(l->small, 100, 71);
    l->zeroed = hl_calloc(10, 30);
    if ((l->aligned = hl_aligned_alloc(256, 1000))) fill(l->aligned, 1000, 72);
    if ((l->big = hl_malloc(200 * 1024))) fill(l->big, 200 * 1024, 73);
    void *tmp = hl_malloc(40);
    if (!tmp) return;
    fill(tmp, 40, 74);
    l->grown = hl_realloc(tmp, 5000);
    hl_free(hl_malloc(64));   /* and a block that comes and goes */
}

static void *late_main(void *arg) {
    hl_free(hl_malloc(10));   /* a record of its own: heaplab's exit handler runs, first */
    pthread_setspecific(late_key, arg);
    return NULL;
}

static void run_late_thread(late *l) {
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, late_main, l), 0);
    assert_int_equal(pthread_join(tid, NULL), 0);
    assert_non_null(l->small);
    assert_non_null(l->zeroed);
    assert_non_null(l->aligned);
    assert_non_null(l->big);
    assert_non_null(l->grown);
}

static void check_late(const late *l) {
    assert_true(intact(l->small, 100, 71));
    for (size_t i = 0; i < 300; i++) assert_int_equal(((unsigned char *)l->zeroed)[i], 0);
    assert_int_equal((uintptr_t)l->aligned % 256, 0);
    assert_true(intact(l->aligned, 1000, 72));
    assert_true(intact(l->big, 200 * 1024, 73));
    assert_true(intact(l->grown, 40, 74));
}

static void free_late(const late *l) {
    hl_free(l->small);   /* into a heap no thread owns: under its lock */
    hl_free(l->zeroed);
    hl_free(l->aligned);
    hl_free(l->big);
    hl_free(l->grown);
}

/* The first thread's destructor finds no abandoned heap (one is made, and
 * abandoned at once; its first try is refused memory, and says so); the
 * second's finds that one and allocates there too. */
static void test_malloc_in_a_later_tls_destructor(void **state) {
    (void)state;
    static late l1, l2;
    memset(&l1, 0, sizeof l1);
    memset(&l2, 0, sizeof l2);
    l1.fail_first = true;
    while (stats().heaps_abandoned) on_new_thread(take_heap, NULL);
    assert_int_equal(pthread_key_create(&late_key, late_destructor), 0);
    hl_global_stats before = stats();
    run_late_thread(&l1);
    assert_true(l1.refused);
    hl_global_stats mid = stats();
    assert_int_equal(mid.heaps_abandoned, 1);   /* where they live: no thread owns it */
    assert_int_equal(mid.blocks_in_use, before.blocks_in_use + 5);
    run_late_thread(&l2);
    assert_int_equal(pthread_key_delete(late_key), 0);
    hl_global_stats after = stats();
    /* the second thread adopted that heap for its own malloc, abandoned it
     * again at its exit (l1's blocks live), and its destructor found it there */
    assert_int_equal(after.heaps_abandoned, 1);
    assert_int_equal(after.heaps_created, mid.heaps_created);
    assert_int_equal(after.heaps_adopted, mid.heaps_adopted + 1);
    assert_int_equal(after.blocks_in_use, before.blocks_in_use + 10);
    check_late(&l1);
    check_late(&l2);
    assert_int_equal(hl_check_all(NULL), 0);

    free_late(&l1);
    free_late(&l2);
    assert_int_equal(stats().blocks_in_use, before.blocks_in_use);
    assert_int_equal(hl_check_all(NULL), 0);
    while (stats().heaps_abandoned) on_new_thread(take_heap, NULL);
    assert_no_reports();
}

/* --- fork ------------------------------------------------------------------------------ */
static _Atomic int busy_paused;   /* while a fork child runs: leave it the CPUs */

typedef struct busy {
    pthread_t tid;
    _Atomic int stop;
    _Atomic long rounds;
    void *live[4];
    unsigned seed;
} busy;

static void *busy_main(void *arg) {
    busy *b = arg;
    for (int i = 0; i < 4; i++) {
        b->live[i] = hl_malloc(48 + (size_t)i * 1000);
        fill(b->live[i], 48 + (size_t)i * 1000, b->seed + (unsigned)i);
    }
    while (!atomic_load(&b->stop)) {
        void *p = hl_malloc(b->seed % 500 + 1);
        p = hl_realloc(p, 2000);
        void *q = hl_calloc(3, 100);
        hl_free(p);
        hl_free(q);
        atomic_fetch_add(&b->rounds, 1);
        /* heap locks are not fair: without a pause, fork's prepare handler
         * can wait long for a lock this loop keeps retaking (checked builds) */
        sched_yield();
        while (atomic_load(&busy_paused) && !atomic_load(&b->stop)) {
            struct timespec ms = { 0, 1000000 };
            nanosleep(&ms, NULL);
        }
    }
    return NULL;
}

static void child_thread_work(void *arg) {
    int *ok = arg;
    void *p[32];
    *ok = 1;
    for (int i = 0; i < 32; i++) {
        p[i] = hl_malloc((size_t)i * 50 + 1);
        if (!p[i]) *ok = 0;
        else fill(p[i], (size_t)i * 50 + 1, (unsigned)i);
    }
    for (int i = 0; i < 32; i++) {
        if (p[i] && !intact(p[i], (size_t)i * 50 + 1, (unsigned)i)) *ok = 0;
        hl_free(p[i]);
    }
}

/* The child's whole life: exit status 0 when everything worked, else the step that failed. */
static int child_after_fork(busy *b, size_t nbusy) {
    child_default_signals();
    alarm(20);   /* a lock left held across fork would hang here: die instead */
    char *p = hl_malloc(100);
    if (!p) return 1;
    fill(p, 100, 9);
    p = hl_realloc(p, 100000);
    if (!p || !intact(p, 100, 9)) return 2;
    char *big = hl_malloc(1 << 20);
    if (!big) return 3;
    hl_free(big);
    hl_free(p);
    for (size_t i = 0; i < nbusy; i++) {   /* the parent's threads are gone; their blocks are not */
        if (!intact(b[i].live[0], 48, b[i].seed)) return 4;
        hl_free(b[i].live[0]);
    }
    for (int t = 0; t < 2; t++) {          /* new threads (adopting the heaps the fork orphaned) */
        int ok = 0;
        worker w;
        if (worker_spawn(&w)) return 5;
        worker_call(&w, child_thread_work, &ok);
        if (worker_end(&w) || !ok) return 6;
    }
    if (hl_check_all(NULL) != 0) return 7;
    if (rec_total() != 0) return 8;
    return 0;
}

static void test_fork_while_threads_allocate(void **state) {
    (void)state;
    enum { NBUSY = 3, FORKS = 4 };
    static busy b[NBUSY];
    memset(b, 0, sizeof b);
    for (int i = 0; i < NBUSY; i++) {
        b[i].seed = (unsigned)i * 11u + 3u;
        assert_int_equal(pthread_create(&b[i].tid, NULL, busy_main, &b[i]), 0);
    }
    for (int i = 0; i < NBUSY; i++)
        while (atomic_load(&b[i].rounds) < 20) sched_yield();   /* all of them hold heaps and are busy */

    for (int f = 0; f < FORKS; f++) {
        pid_t pid = tu_fork();
        assert_true(pid >= 0);
        if (pid == 0) tu_child_exit(child_after_fork(b, NBUSY));
        atomic_store(&busy_paused, 1);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        atomic_store(&busy_paused, 0);
        if (WIFSIGNALED(status)) fail_msg("fork child %d killed by signal %d", f, WTERMSIG(status));
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    for (int i = 0; i < NBUSY; i++) {
        atomic_store(&b[i].stop, 1);
        pthread_join(b[i].tid, NULL);
    }
    for (int i = 0; i < NBUSY; i++)   /* the parent still works too */
        for (int k = 0; k < 4; k++) {
            assert_true(intact(b[i].live[k], 48 + (size_t)k * 1000, b[i].seed + (unsigned)k));
            hl_free(b[i].live[k]);
        }
    /* the busy threads exited with live blocks (abandoned); adopt and empty them */
    while (stats().heaps_abandoned) on_new_thread(take_heap, NULL);
    assert_int_equal(hl_check_all(NULL), 0);
    assert_no_reports();
}

/* --- pointers heaplab never returned ---------------------------------------------- */
static void expect_invalid(const void *p, const char *op) {
    assert_int_equal(rec_count(HL_ERR_INVALID_POINTER), 1);
    assert_int_equal(rec_total(), 1);
    assert_ptr_equal(rec.last_ptr, p);
    assert_string_equal(rec.last_op, op);
    rec_reset();
}

/* p is reported as foreign by free, realloc (NULL, EINVAL) and usable_size (0). */
static void expect_invalid_everywhere(void *p) {
    hl_free(p);
    expect_invalid(p, "free");
    errno = 0;
    assert_null(hl_realloc(p, 10));
    assert_int_equal(errno, EINVAL);
    expect_invalid(p, "realloc");
    assert_int_equal(hl_malloc_usable_size(p), 0);
    expect_invalid(p, "usable_size");
}

/* A page no one may touch: any read or write of it kills the test. */
static void *no_access_page_at(void *where) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | (where ? MAP_FIXED_NOREPLACE : 0);
    void *p = mmap(where, page, PROT_NONE, flags, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void test_foreign_pointers_are_reported_untouched(void **state) {
    (void)state;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    /* a stack address: reported, and the bytes around it unchanged */
    _Alignas(16) unsigned char stack[64];
    fill(stack, sizeof stack, 1);
    hl_free(stack + 32);
    expect_invalid(stack + 32, "free");
    assert_true(intact(stack, sizeof stack, 1));

    /* glibc's block: reported, untouched, and glibc can still free it */
    unsigned char *g = malloc(64);
    assert_non_null(g);
    fill(g, 64, 2);
    expect_invalid_everywhere(g);
    assert_true(intact(g, 64, 2));
    free(g);   /* glibc checks its chunk header here: it would abort had heaplab written to it */

    /* past the 47-bit user address space (a kernel or non-canonical
     * address): reported from the address alone, nothing read */
    expect_invalid_everywhere((void *)(((uintptr_t)1 << 47) + 64));

    /* a page unmapped a moment ago, and a page that faults on any access */
    void *gone = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(gone != MAP_FAILED);
    assert_int_equal(munmap(gone, page), 0);
    hl_free(gone);
    expect_invalid(gone, "free");
    char *guard = no_access_page_at(NULL);
    assert_non_null(guard);
    expect_invalid_everywhere(guard + 64);
    munmap(guard, page);

    /* a guard page inside a segment the registry gives to a large block,
     * past the end of its mapping: the registry names an owner, but the
     * pointer is not its block, and nothing at it may be read */
    char *big = hl_malloc(200 * 1024);
    assert_non_null(big);
    char *seg = (char *)((uintptr_t)big & ~(uintptr_t)(HL_SEGMENT - 1));
    char *hole = no_access_page_at(seg + HL_SEGMENT / 2);
    assert_ptr_equal(hole, seg + HL_SEGMENT / 2);   /* the tail of the segment is unmapped */
    hl_free(hole + 16);
    expect_invalid(hole + 16, "free");
    on_new_thread(free_one, hole + 32);   /* the same from a thread that owns no heap */
    expect_invalid(hole + 32, "free");
    munmap(hole, page);
    hl_free(big);

    /* pointers into a heaplab block but not at its start */
    char *p = hl_malloc(256);
    assert_non_null(p);
    hl_free(p + 8);
    expect_invalid(p + 8, "free");
    hl_free(p + 64);
    expect_invalid(p + 64, "free");
    hl_free(p);
    assert_no_reports();
    assert_int_equal(hl_check_all(NULL), 0);
}

/* --- double frees ----------------------------------------------------------------------- */
static void test_double_free_by_owner(void **state) {
    (void)state;
    void *p = hl_malloc(40);
    assert_non_null(p);
    hl_free(p);
    assert_no_reports();
    misuse_free_one(p);
    assert_int_equal(rec_count(HL_ERR_DOUBLE_FREE), 1);
    assert_ptr_equal(rec.last_ptr, p);
}

/* A large block's first free unmaps it and drops its segment from the
 * registry; heaplab remembers the last large blocks freed, so the second
 * free is still reported as a double free, and the unmapped memory is not
 * touched. */
static void test_double_free_of_large_block(void **state) {
    (void)state;
    static batch big;
    memset(&big, 0, sizeof big);
    big.n = 1;
    big.size = 300 * 1024;
    worker a;
    worker_start(&a);
    worker_call(&a, alloc_batch, &big);
    void *p = big.p[0];
    assert_non_null(p);
    on_new_thread(free_one, p);
    assert_no_reports();
    on_new_thread(misuse_free_one, p);
    assert_int_equal(rec_total(), 1);
    assert_int_equal(rec_count(HL_ERR_DOUBLE_FREE), 1);
    assert_ptr_equal(rec.last_ptr, p);
    worker_stop(&a);
}

static void test_double_free_after_drain(void **state) {
    (void)state;
    static batch one;
    memset(&one, 0, sizeof one);
    one.n = 1;
    one.size = 72;
    void *q;
    worker a;
    worker_start(&a);
    worker_call(&a, alloc_batch, &one);
    void *p = one.p[0];
    on_new_thread(free_one, p);       /* B frees it: queued for A */
    worker_call(&a, touch, &q);       /* A drains: free now */
    worker_call(&a, free_one, q);
    assert_no_reports();
    on_new_thread(misuse_free_one, p);   /* B frees it again: reported at once */
    assert_int_equal(rec_count(HL_ERR_DOUBLE_FREE), 1);
    assert_int_equal(rec_total(), 1);
    assert_ptr_equal(rec.last_ptr, p);
    worker_stop(&a);
    assert_int_equal(hl_check_all(NULL), 0);
}

static void test_double_free_remote_then_owner(void **state) {
    (void)state;
    static batch one;
    memset(&one, 0, sizeof one);
    one.n = 1;
    one.size = 72;
    worker a;
    worker_start(&a);
    worker_call(&a, alloc_batch, &one);
    void *p = one.p[0];
    on_new_thread(free_one, p);       /* B's free waits on A's stack */
    assert_no_reports();
    worker_call(&a, misuse_free_one, p);   /* A frees it too: drains first, then sees it free */
    assert_int_equal(rec_count(HL_ERR_DOUBLE_FREE), 1);
    assert_int_equal(rec_total(), 1);
    assert_ptr_equal(rec.last_ptr, p);
    worker_stop(&a);
    assert_int_equal(hl_check_all(NULL), 0);
}

/* Two remote frees of one block before its owner drains: the block still
 * reads "used" when both look at it, and a second push would tie the stack
 * into a loop.  Run in a child so that whatever it does to the heap stays
 * there; the child exits 0 when the double free has been reported exactly
 * once by the owner's next operation (by the second free itself, or at the
 * drain) and the world checks clean. */
static void pushes_twice(void *arg) {
    void **blocks = arg;
    hl_free(blocks[0]);
    misuse_free_one(blocks[0]);
}

static void owner_setup(void *arg) {
    void **blocks = arg;
    void *a = hl_malloc(64), *b = hl_malloc(64), *c = hl_malloc(64);
    blocks[0] = hl_malloc(64);   /* the victim */
    blocks[1] = hl_malloc(64);
    hl_free(b);   /* a free block of the victim's size class, so its free-list link is not NULL */
    blocks[2] = a;
    blocks[3] = c;
}

static void owner_finish(void *arg) {
    void **blocks = arg;
    for (int i = 1; i < 4; i++) hl_free(blocks[i]);
}

static int child_remote_double_free(void) {
    child_default_signals();
    alarm(20);
    static void *blocks[4];
    static worker a, b;   /* static: on a failed check the child returns with them running */
    void *q = NULL;
    if (worker_spawn(&a) || worker_spawn(&b)) return 10;
    worker_call(&a, owner_setup, blocks);
    worker_call(&b, pushes_twice, blocks);
    worker_call(&a, misuse_touch, &q);     /* the owner's next operation drains */
    if (rec_count(HL_ERR_DOUBLE_FREE) != 1) return 1;
    if (rec_total() != 1) return 2;
    worker_call(&a, free_one, q);
    worker_call(&a, owner_finish, blocks);
    if (worker_end(&a) || worker_end(&b)) return 11;
    if (hl_check_all(NULL) != 0) return 3;
    return 0;
}

static void test_double_free_by_two_remote_frees(void **state) {
    (void)state;
    pid_t pid = tu_fork();
    assert_true(pid >= 0);
    if (pid == 0) tu_child_exit(child_remote_double_free());
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) fail_msg("the owner's drain crashed (signal %d) on a block pushed twice", WTERMSIG(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* --- alignment -------------------------------------------------------------------------- */
typedef struct aligned_set {
    size_t n;
    void *p[64];
} aligned_set;

static void free_aligned_set(void *arg) {
    aligned_set *s = arg;
    for (size_t i = 0; i < s->n; i++) hl_free(s->p[i]);
}

static void test_aligned_allocation(void **state) {
    (void)state;
    static aligned_set s;
    memset(&s, 0, sizeof s);
    const size_t sizes[] = { 1, 100, 5000, 300 * 1024 };
    for (size_t align = sizeof(void *); align <= ((size_t)1 << 20); align <<= 1) {
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            void *p = NULL;
            assert_int_equal(hl_posix_memalign(&p, align, sizes[k]), 0);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % align, 0);
            assert_true(hl_malloc_usable_size(p) >= sizes[k]);
            fill(p, sizes[k], 3);
            assert_true(s.n < 64);
            s.p[s.n++] = p;
            void *q = hl_aligned_alloc(align, sizes[k]);
            assert_non_null(q);
            assert_int_equal((uintptr_t)q % align, 0);
            fill(q, sizes[k], 4);
            assert_true(intact(p, sizes[k], 3));
            hl_free(q);
        }
        if (align == 4096) align = (size_t)1 << 15;   /* then 64 KiB and 1 MiB */
    }
    for (size_t a = 1; a < sizeof(void *); a <<= 1) {   /* aligned_alloc takes any power of two */
        void *q = hl_aligned_alloc(a, 10);
        assert_non_null(q);
        hl_free(q);
    }
    on_new_thread(free_aligned_set, &s);   /* another thread frees them: the owner takes them back */

    const size_t bad[] = { 0, 1, 2, 4, 24, 48, 4097 };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        void *untouched = &s;
        assert_int_equal(hl_posix_memalign(&untouched, bad[k], 64), EINVAL);
        assert_ptr_equal(untouched, &s);
    }
    const size_t not_pow2[] = { 0, 3, 24, 48, 4097 };
    for (size_t k = 0; k < sizeof not_pow2 / sizeof not_pow2[0]; k++) {
        errno = 0;
        assert_null(hl_aligned_alloc(not_pow2[k], 64));
        assert_int_equal(errno, EINVAL);
    }
    void *huge = &s;
    assert_int_equal(hl_posix_memalign(&huge, 64, SIZE_MAX / 2), ENOMEM);
    assert_ptr_equal(huge, &s);
    errno = 0;
    assert_null(hl_calloc(SIZE_MAX / 2, 4));
    assert_int_equal(errno, ENOMEM);
    assert_no_reports();
}

/* --- the world checks clean -------------------------------------------------------------- */
static void test_check_all_clean_at_the_end(void **state) {
    (void)state;
    take_heap(NULL);   /* this thread's next operation drains what others freed for it */
    hl_check_report r;
    memset(&r, 0xFF, sizeof r);
    int rc = hl_check_all(&r);
    if (rc) fail_msg("hl_check_all: %s", r.message);
    assert_int_equal(r.id, 0);
    hl_global_stats s = stats();
    assert_int_equal(s.heaps_abandoned, 0);
    assert_int_equal(s.remote_frees, s.remote_drained);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_remote_free_is_reused, each_setup),
        cmocka_unit_test_setup(test_region_wider_than_a_segment, each_setup),
        cmocka_unit_test_setup(test_calloc_after_remote_free_is_zeroed, each_setup),
        cmocka_unit_test_setup(test_realloc_of_another_threads_block, each_setup),
        cmocka_unit_test_setup(test_large_remote_free_feeds_owner_cache, each_setup),
        cmocka_unit_test_setup(test_exit_with_live_blocks_abandons_then_adopts, each_setup),
        cmocka_unit_test_setup(test_exit_with_nothing_live_leaves_no_heap, each_setup),
        cmocka_unit_test_setup(test_malloc_in_a_later_tls_destructor, each_setup),
        cmocka_unit_test_setup(test_fork_while_threads_allocate, each_setup),
        cmocka_unit_test_setup(test_foreign_pointers_are_reported_untouched, each_setup),
        cmocka_unit_test_setup(test_double_free_by_owner, each_setup),
        cmocka_unit_test_setup(test_double_free_of_large_block, each_setup),
        cmocka_unit_test_setup(test_double_free_after_drain, each_setup),
        cmocka_unit_test_setup(test_double_free_remote_then_owner, each_setup),
        cmocka_unit_test_setup(test_double_free_by_two_remote_frees, each_setup),
        cmocka_unit_test_setup(test_aligned_allocation, each_setup),
        cmocka_unit_test_setup(test_check_all_clean_at_the_end, each_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
