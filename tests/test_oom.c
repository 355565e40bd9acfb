/*
 * test_oom.c - out-of-memory fault injection, swept as SQLite sweeps its
 * malloc failures.
 *
 * One scenario touches every path that takes memory from a source: the first
 * region, region growth (a request bigger than the growth step included),
 * calloc, aligned_alloc inside a region, large mappings (malloc, aligned,
 * realloc of a large block, realloc from a region block to a large one) and
 * a realloc that has to move.  For k = 0, 1, 2, ... it runs once with the
 * failure persistent (hl_heap_fail_source(h, k, UINT_MAX)) and once transient
 * (hl_heap_fail_source(h, k, 1)), until the persistent run sees no failure at
 * all: then the scenario has made every request it makes.  Every
 * operation of every run is checked: a NULL comes with ENOMEM and changes
 * nothing (stats, the old block of a realloc); every live block keeps its
 * contents; hl_heap_check passes.  Each run ends by freeing everything (no
 * large mapping left), resetting (source_bytes back to its baseline), using
 * the heap again with injection off, and destroying it.
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */
#include <cmocka.h>     /* named here too: tests/CMakeLists.txt links cmocka to files that include it */

#include <limits.h>

enum { SLOTS = 8, MAX_K = 400 };

typedef struct oom_run {
    hl_heap *h;
    tu_shadow s;
    void *slot[SLOTS];
    size_t nulls;        /* operations that returned NULL */
    size_t failures;     /* what stats.failures must say */
} oom_run;

/* --- checked operations ---------------------------------------------------------- */

static void after_op(oom_run *r)
{
    tu_shadow_verify(&r->s);
    hl_stats st = tu_stats(r->h);
    assert_int_equal(st.blocks_in_use, r->s.count);
    assert_int_equal(st.bytes_in_use, r->s.bytes);
    assert_int_equal(st.failures, r->failures);
    assert_int_equal(st.source_bytes, st.region_bytes + st.large_bytes + st.large_cached_bytes);
    tu_assert_heap_ok(r->h);
}

/* A NULL must be ENOMEM and leave the heap as it was. */
static void failed_op(oom_run *r, const hl_stats *before)
{
    assert_int_equal(errno, ENOMEM);
    hl_stats st = tu_stats(r->h);
    assert_int_equal(st.regions, before->regions);
    assert_int_equal(st.source_bytes, before->source_bytes);
    assert_int_equal(st.large_blocks, before->large_blocks);
    assert_int_equal(st.blocks_free, before->blocks_free);
    assert_int_equal(st.bytes_free, before->bytes_free);
    r->nulls++;
    r->failures++;
}

static size_t shadow_index(const oom_run *r, const void *p)
{
    for (size_t i = 0; i < r->s.count; i++)
        if (r->s.b[i].p == p)
            return i;
    fail_msg("%p is not in the shadow table", p);
    return 0;
}

static void new_block(oom_run *r, int slot, void *p, size_t n, size_t align)
{
    assert_int_equal((uintptr_t)p % align, 0);
    tu_shadow_assert_disjoint(r->h, &r->s, p);
    tu_shadow_add(&r->s, p, n);
    r->slot[slot] = p;
}

static void op_malloc(oom_run *r, int slot, size_t n)
{
    hl_stats before = tu_stats(r->h);
    errno = 0;
    void *p = hl_heap_malloc(r->h, n);
    if (p)
        new_block(r, slot, p, n, HL_ALIGNMENT);
    else
        failed_op(r, &before);
    after_op(r);
}

static void op_calloc(oom_run *r, int slot, size_t count, size_t size)
{
    hl_stats before = tu_stats(r->h);
    errno = 0;
    void *p = hl_heap_calloc(r->h, count, size);
    if (p) {
        assert_true(tu_all_zero(p, count * size));
        new_block(r, slot, p, count * size, HL_ALIGNMENT);
    } else {
        failed_op(r, &before);
    }
    after_op(r);
}

static void op_aligned(oom_run *r, int slot, size_t align, size_t n)
{
    hl_stats before = tu_stats(r->h);
    errno = 0;
    void *p = hl_heap_aligned_alloc(r->h, align, n);
    if (p)
        new_block(r, slot, p, n, align);
    else
        failed_op(r, &before);
    after_op(r);
}

/* realloc of the slot's block (malloc if the slot is empty). */
static void op_realloc(oom_run *r, int slot, size_t n)
{
    void *old = r->slot[slot];
    tu_live was = {0};
    if (old)
        was = r->s.b[shadow_index(r, old)];
    hl_stats before = tu_stats(r->h);
    errno = 0;
    unsigned char *p = hl_heap_realloc(r->h, old, n);
    if (!p) {
        failed_op(r, &before);  /* the old block is still in the shadow: checked below */
        after_op(r);
        return;
    }
    if (old) {
        tu_shadow_remove(&r->s, shadow_index(r, old));
        tu_assert_intact(p, was.n < n ? was.n : n, was.seed);
    }
    new_block(r, slot, p, n, HL_ALIGNMENT);
    after_op(r);
}

static void op_free(oom_run *r, int slot)
{
    void *p = r->slot[slot];
    if (!p)
        return;
    tu_shadow_remove(&r->s, shadow_index(r, p));
    hl_heap_free(r->h, p);
    r->slot[slot] = NULL;
    after_op(r);
}

/* --- the scenario -------------------------------------------------------------------- */

static hl_config oom_config(void)
{
    hl_config cfg = tu_config(tu_current()->policy, tu_current()->source);
    cfg.grow_size = 32 * 1024;   /* small regions: the scenario grows several times */
    return cfg;
}

static void scenario(oom_run *r)
{
    op_malloc(r, 0, 1000);                      /* the first region */
    op_malloc(r, 1, 20000);
    op_malloc(r, 2, 30000);                     /* growth */
    op_calloc(r, 3, 50, 1000);                  /* growth bigger than the step */
    op_aligned(r, 4, 4096, 5000);               /* aligned, inside a region */
    op_malloc(r, 5, 200 * 1024);                /* a large mapping */
    op_realloc(r, 0, 25000);                    /* its neighbour is used: it moves */
    op_realloc(r, 5, 400 * 1024);               /* a large block grows: its mapping grows (mremap) */
    op_aligned(r, 6, 65536, 150 * 1024);        /* a large aligned mapping */
    op_realloc(r, 1, 300 * 1024);               /* from a region to a mapping */
    op_free(r, 2);
    op_malloc(r, 7, 30000);                     /* reuses the freed room */
    op_realloc(r, 3, 100);                      /* shrinks in place */
    for (int i = 0; i < SLOTS; i++)
        op_free(r, i);
}

/* One run: fail the source requests after the first `skip`, `count` of them. */
static size_t run_once(unsigned skip, unsigned count)
{
    static oom_run r;
    memset(&r, 0, sizeof r);
    tu_shadow_init(&r.s, skip * 7 + 1);
    hl_config cfg = oom_config();
    r.h = hl_heap_create(&cfg);
    assert_non_null(r.h);
    size_t baseline = tu_stats(r.h).source_bytes;
    hl_heap_fail_source(r.h, skip, count);

    scenario(&r);

    hl_stats st = tu_stats(r.h);
    assert_int_equal(st.blocks_in_use, 0);
    assert_int_equal(st.large_blocks, 0);
    assert_int_equal(st.large_bytes, 0);
    assert_int_equal(st.source_bytes, st.region_bytes + st.large_cached_bytes);   /* freed mappings cached */
    assert_int_equal(st.blocks_free, st.regions);   /* each region one free block again */
    hl_heap_reset(r.h);
    assert_int_equal(tu_stats(r.h).source_bytes, baseline);
    tu_assert_heap_ok(r.h);

    /* the program goes on */
    hl_heap_fail_source(r.h, 0, 0);
    void *p = hl_heap_malloc(r.h, 1000);
    assert_non_null(p);
    hl_heap_free(r.h, p);
    tu_assert_heap_ok(r.h);
    hl_heap_destroy(r.h);
    tu_assert_no_errors();
    return r.nulls;
}

static void test_sweep_transient_and_persistent(void **state)
{
    (void)state;
    tu_errors_install();
    unsigned k = 0;
    for (;; k++) {
        assert_true(k < MAX_K);
        /* persistent: every request from the k+1-th on fails; once that run
         * sees no NULL, the scenario makes at most k requests and the sweep
         * is complete */
        if (run_once(k, UINT_MAX) == 0)
            break;
        /* transient: the k+1-th request alone fails, and exactly one
         * operation returns NULL for it */
        size_t nulls = run_once(k, 1);
        if (nulls != 1)
            print_error("fail_source(h, %u, 1): %zu operations returned NULL\n", k, nulls);
        assert_int_equal(nulls, 1);
    }
    /* the scenario asked its source many times: every region and mapping */
    if (k < 6)
        print_error("the sweep ended at k = %u: too few source requests\n", k);
    assert_true(k >= 6);
    /* past the last request, a transient failure changes nothing either */
    assert_int_equal(run_once(k, 1), 0);
}

/* Failing from the very first request: every allocation fails cleanly. */
static void test_source_exhausted_from_the_start(void **state)
{
    (void)state;
    tu_errors_install();
    hl_config cfg = oom_config();
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    hl_heap_fail_source(h, 0, UINT_MAX);
    const size_t sizes[] = {0, 1, 1000, 40000, 200 * 1024};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        errno = 0;
        assert_null(hl_heap_malloc(h, sizes[i]));
        assert_int_equal(errno, ENOMEM);
        errno = 0;
        assert_null(hl_heap_calloc(h, 1, sizes[i]));
        assert_int_equal(errno, ENOMEM);
        errno = 0;
        assert_null(hl_heap_aligned_alloc(h, 256, sizes[i]));
        assert_int_equal(errno, ENOMEM);
    }
    hl_stats st = tu_stats(h);
    assert_int_equal(st.regions, 0);
    assert_int_equal(st.source_bytes, 0);
    assert_int_equal(st.failures, 15);
    tu_assert_heap_ok(h);
    hl_heap_fail_source(h, 0, 0);
    void *p = hl_heap_malloc(h, 1000);
    assert_non_null(p);
    hl_heap_free(h, p);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_transient_and_persistent),
        cmocka_unit_test(test_source_exhausted_from_the_start),
    };
    const int sources[] = {TU_MMAP, TU_SBRK};
    int failed = 0;
    for (int p = 0; p < TU_POLICY_COUNT; p++) {
        for (size_t s = 0; s < sizeof sources / sizeof sources[0]; s++) {
            char name[64];
            *tu_current() = (tu_case){tu_policy(p), sources[s]};
            failed += cmocka_run_group_tests_name(tu_group_name("oom", *tu_current(), name, sizeof name),
                                                  tests, NULL, NULL);
        }
    }
    return failed != 0;
}
