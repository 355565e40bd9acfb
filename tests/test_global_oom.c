/*
 * test_global_oom.c - the global API when mmap says no (hl_fail_maps),
 * swept as test_oom.c sweeps a heap's source.
 *
 * The global API takes memory no heap's source accounts for: a thread's
 * record, its heap's bookkeeping, the heap's header, the registry's leaves.
 * The scenario runs on a thread of its own, so that every run asks for all of
 * them again: its first malloc (record, thread heap, heap, first region,
 * registry leaf), a large block, calloc and aligned_alloc in the region,
 * posix_memalign of a large block, a region block realloc'd into a mapping, a
 * large block grown, a large block from the cache.  (A heap's region growth
 * failing is test_oom.c's; test_fail_maps_reaches_a_heap shows that this
 * injection reaches it too.)  For k = 0, 1, 2, ...
 * it runs with mapping k and all after it failing (persistent), until a run
 * sees no failure: then the scenario has made every request it makes; then
 * the same k with only mapping k failing (transient).  The persistent runs
 * go first because the registry's leaf is made once per process: the first
 * run that gets that far is the one whose leaf fails.
 *
 * After every operation: a NULL comes with ENOMEM (posix_memalign: returns
 * it, leaving its out-pointer alone), every live block keeps its contents,
 * hl_check_all passes.  After the thread has freed everything and exited:
 * the global statistics are back at their baseline (its heap destroyed, no
 * bytes left) and no misuse was reported.
 *
 * cmocka's asserts may only run on the main thread: the scenario's thread
 * notes the first thing that went wrong, and the main thread fails with it.
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */
#include <cmocka.h>     /* named here too: tests/CMakeLists.txt links cmocka to files that include it */

#include <limits.h>
#include <pthread.h>

enum { KIB = 1024, SLOTS = 5, MAX_K = 200 };

typedef struct oom_run {
    unsigned skip, count;
    void *p[SLOTS];
    size_t n[SLOTS];
    uint32_t seed[SLOTS];
    size_t nulls;
    char failure[400];
} oom_run;

#define EXPECT(r, cond)                                                                       \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            snprintf((r)->failure, sizeof (r)->failure, "%s:%d (maps failing after %u, %u of them): %s", \
                     __FILE__, __LINE__, (r)->skip, (r)->count, #cond);                       \
            return false;                                                                     \
        }                                                                                     \
    } while (0)

/* Every live block intact, and the world checks clean. */
static bool verify(oom_run *r) {
    for (int i = 0; i < SLOTS; i++)
        if (r->p[i]) EXPECT(r, tu_first_bad(r->p[i], r->n[i], r->seed[i]) == r->n[i]);
    hl_check_report rep;
    int rc = hl_check_all(&rep);
    if (rc) {
        snprintf(r->failure, sizeof r->failure, "maps failing after %u (%u of them): the check says %s: %s",
                 r->skip, r->count, rep.invariant, rep.message);
        return false;
    }
    return true;
}

static bool got(oom_run *r, int slot, void *p, size_t n, size_t align) {
    EXPECT(r, (uintptr_t)p % align == 0);
    r->p[slot] = p;
    r->n[slot] = n;
    r->seed[slot] = r->skip * 131u + (unsigned)slot;
    tu_fill(p, n, r->seed[slot]);
    return true;
}

static bool refused(oom_run *r, int err) {
    EXPECT(r, err == ENOMEM);
    r->nulls++;
    return true;
}

static bool op_malloc(oom_run *r, int slot, size_t n) {
    errno = 0;
    void *p = hl_malloc(n);
    if (!(p ? got(r, slot, p, n, HL_ALIGNMENT) : refused(r, errno))) return false;
    return verify(r);
}

static bool op_calloc(oom_run *r, int slot, size_t count, size_t size) {
    errno = 0;
    void *p = hl_calloc(count, size);
    if (p) EXPECT(r, tu_all_zero(p, count * size));
    if (!(p ? got(r, slot, p, count * size, HL_ALIGNMENT) : refused(r, errno))) return false;
    return verify(r);
}

static bool op_memalign(oom_run *r, int slot, size_t align, size_t n) {
    void *p = r;   /* must be left alone on failure */
    int rc = hl_posix_memalign(&p, align, n);
    if (rc) EXPECT(r, p == r);
    if (!(rc ? refused(r, rc) : got(r, slot, p, n, align))) return false;
    return verify(r);
}

static bool op_aligned(oom_run *r, int slot, size_t align, size_t n) {
    errno = 0;
    void *p = hl_aligned_alloc(align, n);
    if (!(p ? got(r, slot, p, n, align) : refused(r, errno))) return false;
    return verify(r);
}

static bool op_realloc(oom_run *r, int slot, size_t n) {
    errno = 0;
    void *q = hl_realloc(r->p[slot], n);
    if (!q) {
        if (!refused(r, errno)) return false;   /* the old block stays, checked by verify */
        return verify(r);
    }
    size_t keep = r->n[slot] < n ? r->n[slot] : n;
    EXPECT(r, tu_first_bad(q, keep, r->seed[slot]) == keep);
    r->p[slot] = NULL;
    if (!got(r, slot, q, n, HL_ALIGNMENT)) return false;
    return verify(r);
}

static bool op_free(oom_run *r, int slot) {
    hl_free(r->p[slot]);
    r->p[slot] = NULL;
    return verify(r);
}

static bool scenario(oom_run *r) {
    return op_malloc(r, 0, 100) &&                /* record, thread heap, heap, region, leaf */
           op_malloc(r, 1, 200 * KIB) &&          /* a large mapping */
           op_calloc(r, 2, 10, 1000) &&
           op_aligned(r, 3, 4096, 300) &&
           op_memalign(r, 4, 64, 300 * KIB) &&    /* a large aligned mapping */
           op_realloc(r, 0, 150 * KIB) &&         /* from the region to a mapping */
           op_realloc(r, 1, 600 * KIB) &&         /* a large block grows */
           op_free(r, 4) &&
           op_malloc(r, 4, 300 * KIB) &&          /* from the large cache */
           op_free(r, 0) && op_free(r, 1) && op_free(r, 2) && op_free(r, 3) && op_free(r, 4);
}

static void *scenario_thread(void *arg) {
    oom_run *r = arg;
    hl_fail_maps(r->skip, r->count);
    bool ok = scenario(r);
    hl_fail_maps(0, 0);
    if (!ok)   /* give back what the failed run holds, so that the next runs start clean */
        for (int i = 0; i < SLOTS; i++) hl_free(r->p[i]);
    return NULL;
}

static hl_global_stats global_stats(void) {
    hl_global_stats gs;
    hl_stats_global(&gs);
    return gs;
}

/* One run on a fresh thread; the number of operations that were refused. */
static size_t run_once(unsigned skip, unsigned count) {
    hl_global_stats before = global_stats();
    static oom_run r;
    memset(&r, 0, sizeof r);
    r.skip = skip;
    r.count = count;
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, scenario_thread, &r), 0);
    assert_int_equal(pthread_join(tid, NULL), 0);
    if (r.failure[0]) fail_msg("%s", r.failure);

    hl_global_stats after = global_stats();   /* the thread's heap, empty at its exit, is gone */
    assert_int_equal(after.heaps, before.heaps);
    assert_int_equal(after.blocks_in_use, before.blocks_in_use);
    assert_int_equal(after.bytes_in_use, before.bytes_in_use);
    assert_int_equal(after.source_bytes, before.source_bytes);
    tu_assert_no_errors();
    return r.nulls;
}

static void test_global_oom_sweep(void **state) {
    (void)state;
    unsigned k = 0;
    size_t refusals = 0;
    for (; k < MAX_K; k++) {
        size_t nulls = run_once(k, UINT_MAX);
        if (!nulls) break;   /* the scenario makes fewer than k+1 requests */
        refusals += nulls;
    }
    assert_true(k > 5);   /* record, thread heap, heap, region, leaf, mappings: the scenario maps that much */
    assert_true(k < MAX_K);
    for (unsigned j = 0; j < k; j++) {
        size_t nulls = run_once(j, 1);
        assert_true(nulls >= 1 && nulls <= 2);   /* one request refused: its operation, or a retry too */
        refusals += nulls;
    }
    print_message("global OOM sweep: %u mapping requests, %zu refused operations, all checked\n", k, refusals);
}

/* The process-wide injection reaches a heap of the caller's, through its
 * source, without hl_heap_fail_source: its next region fails, and then not. */
static void test_fail_maps_reaches_a_heap(void **state) {
    (void)state;
    hl_config cfg = { .policy = HL_FIRST_FIT, .source = HL_SOURCE_MMAP, .grow_size = 64 * KIB };
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    void *a = hl_heap_malloc(h, 40 * KIB);
    assert_non_null(a);
    tu_fill(a, 40 * KIB, 7);
    hl_fail_maps(0, 1);
    errno = 0;
    assert_null(hl_heap_malloc(h, 40 * KIB));   /* needs a second region: refused */
    assert_int_equal(errno, ENOMEM);
    tu_assert_heap_ok(h);
    tu_assert_intact(a, 40 * KIB, 7);
    void *b = hl_heap_malloc(h, 40 * KIB);   /* the one failure is spent */
    assert_non_null(b);
    assert_int_equal(tu_stats(h).regions, 2);
    hl_heap_free(h, a);
    hl_heap_free(h, b);
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

int main(void) {
    tu_errors_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_global_oom_sweep),   /* first: no registry leaf exists yet */
        cmocka_unit_test(test_fail_maps_reaches_a_heap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
