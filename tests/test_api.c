/*
 * test_api.c - the public allocation API on every policy x every source.
 *
 * Each case of the matrix (segregated, first and best fit on a 64 KiB static
 * array, a 1 MiB static array, mmap and sbrk) runs every test below on a
 * fresh heap: the C-standard edge cases of malloc, calloc, realloc,
 * aligned_alloc, free and usable_size; a seeded random workload checked
 * against a shadow table after every operation; growth, caps, large blocks
 * and reset.  A few tests of heap creation itself run once.
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */
#include <cmocka.h>     /* named here too: tests/CMakeLists.txt links cmocka to files that include it */

#include <limits.h>

static size_t api_initial_free;  /* bytes_free of the fresh heap of the current test */

static int api_setup(void **state)
{
    if (tu_setup(state) != 0)
        return -1;
    tu_fixture *f = *state;
    api_initial_free = tu_stats(f->h).bytes_free;
    return 0;
}

/* No test here misuses the heap: any report is a failure. */
static int api_teardown(void **state)
{
    int rc = 0;
    if (tu_errors()->count != 0) {
        print_error("unexpected report: %s\n", tu_errors()->e[0].message);
        rc = -1;
    }
    tu_teardown(state);
    return rc;
}

static void assert_aligned(const void *p, size_t align)
{
    assert_int_equal((uintptr_t)p % align, 0);
}

/* For buffer heaps: the block lies inside the caller's buffer. */
static void assert_in_source(const tu_fixture *f, const void *p, size_t n)
{
    if (!tu_is_buffer(f->c.source))
        return;
    const unsigned char *b = f->cfg.buffer, *c = p;
    assert_true(c >= b && c + n <= b + f->cfg.buffer_size);
}

/* --- creation (runs once) ---------------------------------------------------- */

static void test_create_null_config_is_defaults(void **state)
{
    (void)state;
    tu_errors_install();
    hl_heap *h = hl_heap_create(NULL);
    assert_non_null(h);
    hl_stats st = tu_stats(h);
    assert_int_equal(st.blocks_in_use, 0);
    assert_int_equal(st.mallocs + st.frees + st.failures + st.errors, 0);

    void *small = hl_heap_malloc(h, 1000);
    assert_non_null(small);
    st = tu_stats(h);
    assert_int_equal(st.regions, 1);
    assert_int_equal(st.region_bytes, HL_GROW_SIZE_DEFAULT);
    assert_int_equal(st.large_blocks, 0);

    /* the default threshold: 128 KiB and up get a mapping of their own */
    void *below = hl_heap_malloc(h, HL_MMAP_THRESHOLD_DEFAULT - 1);
    assert_non_null(below);
    assert_int_equal(tu_stats(h).large_blocks, 0);
    void *at = hl_heap_malloc(h, HL_MMAP_THRESHOLD_DEFAULT);
    assert_non_null(at);
    st = tu_stats(h);
    assert_int_equal(st.large_blocks, 1);
    assert_int_equal(st.source_bytes, st.region_bytes + st.large_bytes);
    tu_assert_heap_ok(h);
    hl_heap_free(h, small);
    hl_heap_free(h, below);
    hl_heap_free(h, at);
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

static void test_config_errors(void **state)
{
    (void)state;
    static _Alignas(16) unsigned char buf[HL_BUFFER_MIN];
    hl_config bad[6];
    memset(bad, 0, sizeof bad);
    bad[0].policy = (hl_policy)7;
    bad[1].source = (hl_source)9;
    bad[2].source = HL_SOURCE_BUFFER;                      /* buffer NULL */
    bad[2].buffer_size = sizeof buf;
    bad[3].source = HL_SOURCE_BUFFER;                      /* too small */
    bad[3].buffer = buf;
    bad[3].buffer_size = HL_BUFFER_MIN - 1;
    bad[4].source = HL_SOURCE_BUFFER;                      /* empty */
    bad[4].buffer = buf;
    bad[5].policy = (hl_policy)-1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = hl_config_error(&bad[i]);
        assert_non_null(why);
        assert_true(strlen(why) > 0);
        errno = 0;
        assert_null(hl_heap_create(&bad[i]));
        assert_int_equal(errno, EINVAL);
    }

    /* the defaults, sbrk, and a buffer of exactly HL_BUFFER_MIN for each policy */
    hl_config good[2 + TU_POLICY_COUNT];
    memset(good, 0, sizeof good);
    good[1].policy = HL_BEST_FIT;
    good[1].source = HL_SOURCE_SBRK;
    for (int p = 0; p < TU_POLICY_COUNT; p++) {
        good[2 + p].policy = tu_policy(p);
        good[2 + p].source = HL_SOURCE_BUFFER;
        good[2 + p].buffer = buf;
        good[2 + p].buffer_size = HL_BUFFER_MIN;
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *why = hl_config_error(&good[i]);
        if (why)
            print_error("config %zu refused: %s\n", i, why);
        assert_null(why);
        hl_heap *h = hl_heap_create(&good[i]);
        assert_non_null(h);
        assert_non_null(hl_heap_malloc(h, 16));
        hl_heap_destroy(h);
    }
    assert_null(hl_config_error(NULL));
}

/* An unaligned buffer is accepted; the heap aligns inward and stays inside. */
static void test_unaligned_buffer_accepted(void **state)
{
    (void)state;
    static _Alignas(16) unsigned char buf[64 * 1024];
    tu_errors_install();
    for (int p = 0; p < TU_POLICY_COUNT; p++) {
        hl_config cfg = tu_config(tu_policy(p), TU_MMAP);
        cfg.source = HL_SOURCE_BUFFER;
        cfg.buffer = buf + 3;
        cfg.buffer_size = sizeof buf - 3;
        assert_null(hl_config_error(&cfg));
        hl_heap *h = hl_heap_create(&cfg);
        assert_non_null(h);
        void *last = NULL;
        size_t n = 0;
        for (void *q; (q = hl_heap_malloc(h, 700)) != NULL; last = q, n++) {
            assert_aligned(q, HL_ALIGNMENT);
            assert_true((unsigned char *)q >= buf + 3);
            assert_true((unsigned char *)q + 700 <= buf + sizeof buf);
        }
        assert_non_null(last);
        assert_true(n >= 64);  /* 64 KiB holds at least this many 700-byte blocks */
        tu_walk *w = tu_walk_new(h);
        for (size_t i = 0; i < w->count; i++) {
            const unsigned char *s = w->e[i].start;
            assert_true(s >= buf + 3 && s + w->e[i].size <= buf + sizeof buf);
        }
        free(w);
        tu_assert_heap_ok(h);
        hl_heap_destroy(h);
    }
    tu_assert_no_errors();
}

/* --- edge cases of each operation ------------------------------------------------ */

static void test_malloc_zero_is_unique(void **state)
{
    tu_fixture *f = *state;
    tu_shadow s;
    tu_shadow_init(&s, 1);
    void *a = hl_heap_malloc(f->h, 0);
    void *b = hl_heap_malloc(f->h, 0);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_aligned(a, HL_ALIGNMENT);
    assert_aligned(b, HL_ALIGNMENT);
    tu_shadow_add(&s, a, 0);
    tu_shadow_assert_disjoint(f->h, &s, b);
    if (hl_checked_build())
        assert_int_equal(hl_heap_usable_size(f->h, a), 0);
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.blocks_in_use, 2);
    assert_int_equal(st.bytes_in_use, 0);
    assert_int_equal(st.mallocs, 2);
    hl_heap_free(f->h, a);
    hl_heap_free(f->h, b);
    st = tu_stats(f->h);
    assert_int_equal(st.blocks_in_use, 0);
    assert_int_equal(st.frees, 2);
    tu_assert_heap_ok(f->h);
}

static void test_free_null_does_nothing(void **state)
{
    tu_fixture *f = *state;
    void *p = hl_heap_malloc(f->h, 40);
    assert_non_null(p);
    tu_fill(p, 40, 7);
    hl_stats before = tu_stats(f->h);
    hl_heap_free(f->h, NULL);
    hl_stats after = tu_stats(f->h);
    assert_int_equal(after.blocks_in_use, before.blocks_in_use);
    assert_int_equal(after.bytes_in_use, before.bytes_in_use);
    assert_int_equal(after.blocks_free, before.blocks_free);
    assert_int_equal(after.bytes_free, before.bytes_free);
    tu_assert_intact(p, 40, 7);
    tu_assert_heap_ok(f->h);
    hl_heap_free(f->h, p);
}

static void test_realloc_null_is_malloc(void **state)
{
    tu_fixture *f = *state;
    void *p = hl_heap_realloc(f->h, NULL, 100);
    assert_non_null(p);
    assert_aligned(p, HL_ALIGNMENT);
    assert_true(hl_heap_usable_size(f->h, p) >= 100);
    tu_fill(p, 100, 3);
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.blocks_in_use, 1);
    assert_int_equal(st.bytes_in_use, 100);
    tu_assert_heap_ok(f->h);
    hl_heap_free(f->h, p);
    assert_int_equal(tu_stats(f->h).blocks_in_use, 0);
}

/* heaplab's realloc(p, 0) frees p and returns a minimal block, not NULL. */
static void test_realloc_zero_frees_and_returns_minimal(void **state)
{
    tu_fixture *f = *state;
    void *p = hl_heap_malloc(f->h, 100);
    assert_non_null(p);
    tu_fill(p, 100, 5);
    void *q = hl_heap_realloc(f->h, p, 0);
    assert_non_null(q);
    assert_aligned(q, HL_ALIGNMENT);
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.blocks_in_use, 1);  /* p is gone, q is live */
    assert_int_equal(st.bytes_in_use, 0);
    tu_assert_heap_ok(f->h);
    hl_heap_free(f->h, q);
    st = tu_stats(f->h);
    assert_int_equal(st.blocks_in_use, 0);
    tu_assert_heap_ok(f->h);
}

static void test_realloc_keeps_prefix(void **state)
{
    tu_fixture *f = *state;
    unsigned char *p = hl_heap_malloc(f->h, 200);
    assert_non_null(p);
    tu_fill(p, 200, 11);
    unsigned char *q = hl_heap_realloc(f->h, p, 5000);
    assert_non_null(q);
    tu_assert_intact(q, 200, 11);
    tu_fill(q, 5000, 12);
    unsigned char *r = hl_heap_realloc(f->h, q, 3000);
    assert_ptr_equal(r, q);  /* shrinking stays in place */
    tu_assert_intact(r, 3000, 12);
    unsigned char *s = hl_heap_realloc(f->h, r, 20000);
    assert_non_null(s);
    tu_assert_intact(s, 3000, 12);
    tu_fill(s, 20000, 13);
    tu_assert_heap_ok(f->h);

    /* past the threshold: a large mapping on mmap and sbrk, too big for 64 KiB */
    errno = 0;
    unsigned char *t = hl_heap_realloc(f->h, s, 300 * 1024);
    if (f->c.source == TU_BUF64K) {
        assert_null(t);
        assert_int_equal(errno, ENOMEM);
        tu_assert_intact(s, 20000, 13);
        t = s;
    } else {
        assert_non_null(t);
        tu_assert_intact(t, 20000, 13);
        assert_in_source(f, t, 300 * 1024);
    }
    unsigned char *u = hl_heap_realloc(f->h, t, 100);
    assert_non_null(u);
    tu_assert_intact(u, 100, 13);
    assert_int_equal(tu_stats(f->h).blocks_in_use, 1);
    assert_int_equal(tu_stats(f->h).bytes_in_use, 100);
    tu_assert_heap_ok(f->h);
    hl_heap_free(f->h, u);
}

static void test_realloc_shrinks_in_place(void **state)
{
    tu_fixture *f = *state;
    unsigned char *p = hl_heap_malloc(f->h, 1000);
    unsigned char *guard = hl_heap_malloc(f->h, 16);
    assert_non_null(p);
    assert_non_null(guard);
    tu_fill(p, 1000, 21);
    tu_fill(guard, 16, 22);
    assert_ptr_equal(hl_heap_realloc(f->h, p, 990), p);
    tu_assert_intact(p, 990, 21);
    assert_ptr_equal(hl_heap_realloc(f->h, p, 100), p);
    tu_assert_intact(p, 100, 21);
    tu_assert_intact(guard, 16, 22);
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.bytes_in_use, 116);
    assert_int_equal(st.blocks_in_use, 2);
    tu_assert_heap_ok(f->h);
    hl_heap_free(f->h, p);
    hl_heap_free(f->h, guard);
}

static void test_realloc_grows_into_free_successor(void **state)
{
    tu_fixture *f = *state;
    unsigned char *a = hl_heap_malloc(f->h, 100);
    unsigned char *b = hl_heap_malloc(f->h, 100);
    unsigned char *c = hl_heap_malloc(f->h, 100);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    /* the premise: blocks carved from a fresh heap in order are neighbours */
    assert_ptr_equal(b, a + tu_block_size(100));
    tu_fill(a, 100, 31);
    tu_fill(c, 100, 33);
    hl_heap_free(f->h, b);
    hl_stats before = tu_stats(f->h);
    unsigned char *g = hl_heap_realloc(f->h, a, 200);
    assert_ptr_equal(g, a);
    tu_assert_intact(a, 100, 31);
    tu_assert_intact(c, 100, 33);
    hl_stats after = tu_stats(f->h);
    assert_true(after.splits + after.merges > before.splits + before.merges);
    assert_int_equal(after.bytes_in_use, 300);
    assert_int_equal(after.blocks_in_use, 2);
    tu_assert_heap_ok(f->h);
    hl_heap_free(f->h, a);
    hl_heap_free(f->h, c);
}

static void test_calloc_zeroes_reused_memory(void **state)
{
    tu_fixture *f = *state;
    unsigned char *p = hl_heap_malloc(f->h, 4000);
    assert_non_null(p);
    memset(p, 0xAB, 4000);
    hl_heap_free(f->h, p);
    unsigned char *q = hl_heap_calloc(f->h, 10, 400);
    assert_non_null(q);
    assert_true(tu_all_zero(q, 4000));
    void *z1 = hl_heap_calloc(f->h, 0, 10);
    void *z2 = hl_heap_calloc(f->h, 10, 0);
    assert_non_null(z1);
    assert_non_null(z2);
    assert_ptr_not_equal(z1, z2);
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.callocs, 3);
    assert_int_equal(st.bytes_in_use, 4000);
    tu_assert_heap_ok(f->h);
    hl_heap_free(f->h, q);
    hl_heap_free(f->h, z1);
    hl_heap_free(f->h, z2);
}

static void test_calloc_overflow_is_enomem(void **state)
{
    tu_fixture *f = *state;
    const size_t counts[][2] = {
        {SIZE_MAX / 2 + 1, 2},
        {((size_t)1 << 62) + 1, 4},   /* wraps to 4 */
        {SIZE_MAX, SIZE_MAX},
        {(size_t)1 << 32, (size_t)1 << 32},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        errno = 0;
        assert_null(hl_heap_calloc(f->h, counts[i][0], counts[i][1]));
        assert_int_equal(errno, ENOMEM);
    }
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.failures, 4);
    assert_int_equal(st.blocks_in_use, 0);
    tu_assert_heap_ok(f->h);
}

static void test_huge_sizes_are_enomem(void **state)
{
    tu_fixture *f = *state;
    unsigned char *live = hl_heap_malloc(f->h, 64);
    assert_non_null(live);
    tu_fill(live, 64, 41);
    const size_t sizes[] = {SIZE_MAX, SIZE_MAX - 15, (size_t)PTRDIFF_MAX + 1, (size_t)PTRDIFF_MAX};
    size_t n = sizeof sizes / sizeof sizes[0];
    for (size_t i = 0; i < n; i++) {
        errno = 0;
        assert_null(hl_heap_malloc(f->h, sizes[i]));
        assert_int_equal(errno, ENOMEM);
        errno = 0;
        assert_null(hl_heap_aligned_alloc(f->h, 64, sizes[i]));
        assert_int_equal(errno, ENOMEM);
        errno = 0;
        assert_null(hl_heap_realloc(f->h, live, sizes[i]));
        assert_int_equal(errno, ENOMEM);
        tu_assert_intact(live, 64, 41);
    }
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.failures, 3 * n);
    assert_int_equal(st.blocks_in_use, 1);
    assert_int_equal(st.bytes_in_use, 64);
    tu_assert_heap_ok(f->h);
    hl_heap_free(f->h, live);
}

static void test_aligned_alloc_alignments(void **state)
{
    tu_fixture *f = *state;
    const size_t sizes[] = {1, 17, 100, 1000};
    size_t count = 0;
    for (size_t align = 1; align <= 4096; align *= 2) {
        tu_shadow s;
        tu_shadow_init(&s, (uint32_t)align);
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            void *p = hl_heap_aligned_alloc(f->h, align, sizes[i]);
            assert_non_null(p);
            count++;
            assert_aligned(p, align < HL_ALIGNMENT ? HL_ALIGNMENT : align);
            assert_true(hl_heap_usable_size(f->h, p) >= sizes[i]);
            assert_in_source(f, p, sizes[i]);
            tu_shadow_assert_disjoint(f->h, &s, p);
            tu_shadow_add(&s, p, sizes[i]);
            tu_shadow_verify(&s);
            tu_assert_heap_ok(f->h);
        }
        assert_int_equal(tu_stats(f->h).bytes_in_use, s.bytes);
        tu_shadow_free_all(f->h, &s);
        tu_assert_heap_ok(f->h);
    }
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.aligned_allocs, count);
    assert_int_equal(st.blocks_in_use, 0);
}

static void test_aligned_alloc_bad_alignment(void **state)
{
    tu_fixture *f = *state;
    const size_t einval[] = {0, 3, 24, 48, 4097};
    const size_t enomem[] = {(size_t)1 << 40, (size_t)1 << 63};
    for (size_t i = 0; i < sizeof einval / sizeof einval[0]; i++) {
        errno = 0;
        assert_null(hl_heap_aligned_alloc(f->h, einval[i], 64));
        assert_int_equal(errno, EINVAL);
    }
    for (size_t i = 0; i < sizeof enomem / sizeof enomem[0]; i++) {
        errno = 0;
        assert_null(hl_heap_aligned_alloc(f->h, enomem[i], 64));
        assert_int_equal(errno, ENOMEM);
    }
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.failures, 7);
    assert_int_equal(st.blocks_in_use, 0);
    tu_assert_heap_ok(f->h);
}

static void test_usable_size_rules(void **state)
{
    tu_fixture *f = *state;
    assert_int_equal(hl_heap_usable_size(f->h, NULL), 0);
    for (size_t n = 0; n <= 300; n += 7) {
        unsigned char *p = hl_heap_malloc(f->h, n);
        assert_non_null(p);
        size_t u = hl_heap_usable_size(f->h, p);
        if (hl_checked_build())
            assert_int_equal(u, n);
        else
            assert_true(u >= n);
        tu_fill(p, u, (uint32_t)n);  /* every usable byte is the caller's */
        tu_assert_heap_ok(f->h);
        tu_assert_intact(p, u, (uint32_t)n);
        hl_heap_free(f->h, p);
    }
    tu_assert_heap_ok(f->h);
}

/* --- a seeded workload checked against a shadow table ------------------------- */

enum { WORKLOAD_OPS = 2000, WORKLOAD_OPS_VALGRIND = 300, WORKLOAD_LIVE = 48 };

static size_t workload_size(uint64_t *rng, int source)
{
    unsigned r = (unsigned)tu_rand_range(rng, 0, 99);
    if (r < 70)
        return tu_rand_range(rng, 0, 128);
    if (r < 95)
        return tu_rand_range(rng, 129, 2048);
    if (r < 99 || source == TU_BUF64K)
        return tu_rand_range(rng, 2049, source == TU_BUF64K ? 6000 : 40000);
    return tu_rand_range(rng, HL_MMAP_THRESHOLD_DEFAULT - 64, 300 * 1024);
}

/* A NULL is only acceptable where memory can really run out: a buffer. */
static void workload_null(const tu_fixture *f, size_t *failures)
{
    assert_true(tu_is_buffer(f->c.source));
    assert_int_equal(errno, ENOMEM);
    (*failures)++;
}

static void workload_new_block(tu_fixture *f, tu_shadow *s, void *p, size_t n, size_t align)
{
    assert_aligned(p, align);
    assert_in_source(f, p, n);
    assert_true(hl_heap_usable_size(f->h, p) >= n);
    tu_shadow_assert_disjoint(f->h, s, p);
}

static void workload_step(tu_fixture *f, tu_shadow *s, uint64_t *rng, size_t *failures)
{
    unsigned op = (unsigned)tu_rand_range(rng, 0, 99);
    if (s->count >= WORKLOAD_LIVE || (op >= 70 && s->count > 0)) {
        size_t i = tu_rand_range(rng, 0, s->count - 1);
        hl_heap_free(f->h, s->b[i].p);
        tu_shadow_remove(s, i);
        return;
    }
    size_t n = workload_size(rng, f->c.source);
    errno = 0;
    if (op < 40) {
        void *p = hl_heap_malloc(f->h, n);
        if (!p) {
            workload_null(f, failures);
            return;
        }
        workload_new_block(f, s, p, n, HL_ALIGNMENT);
        tu_shadow_add(s, p, n);
    } else if (op < 50) {
        size_t count = tu_rand_range(rng, 1, 8);
        unsigned char *p = hl_heap_calloc(f->h, count, n / count);
        if (!p) {
            workload_null(f, failures);
            return;
        }
        workload_new_block(f, s, p, count * (n / count), HL_ALIGNMENT);
        assert_true(tu_all_zero(p, count * (n / count)));
        tu_shadow_add(s, p, count * (n / count));
    } else if (op < 57) {
        size_t align = (size_t)1 << tu_rand_range(rng, 0, 12);
        void *p = hl_heap_aligned_alloc(f->h, align, n);
        if (!p) {
            workload_null(f, failures);
            return;
        }
        workload_new_block(f, s, p, n, align < HL_ALIGNMENT ? HL_ALIGNMENT : align);
        tu_shadow_add(s, p, n);
    } else if (s->count > 0) {
        size_t i = tu_rand_range(rng, 0, s->count - 1);
        tu_live old = s->b[i];
        unsigned char *p = hl_heap_realloc(f->h, old.p, n);
        if (!p) {
            workload_null(f, failures);  /* the shadow still holds the old block */
            return;
        }
        tu_shadow_remove(s, i);
        tu_assert_intact(p, old.n < n ? old.n : n, old.seed);
        workload_new_block(f, s, p, n, HL_ALIGNMENT);
        tu_shadow_add(s, p, n);
    }
}

static void test_seeded_workload(void **state)
{
    tu_fixture *f = *state;
    static tu_shadow s;
    uint64_t rng = 0x5EED0000u + (uint64_t)f->c.policy * 16 + (uint64_t)f->c.source;
    size_t failures = 0;
    tu_shadow_init(&s, 100);
    int ops = tu_under_valgrind() ? WORKLOAD_OPS_VALGRIND : WORKLOAD_OPS;
    for (int op = 0; op < ops; op++) {
        workload_step(f, &s, &rng, &failures);
        tu_shadow_verify(&s);
        hl_stats st = tu_stats(f->h);
        assert_int_equal(st.blocks_in_use, s.count);
        assert_int_equal(st.bytes_in_use, s.bytes);
        assert_int_equal(st.failures, failures);
        tu_assert_heap_ok(f->h);
    }
    tu_shadow_free_all(f->h, &s);
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.blocks_in_use, 0);
    assert_int_equal(st.large_blocks, 0);
    assert_int_equal(st.blocks_free, st.regions);  /* every region one free block again */
    tu_assert_heap_ok(f->h);
}

/* --- growth, caps, large blocks, reset --------------------------------------------- */

static void test_growth_across_regions(void **state)
{
    tu_fixture *f = *state;
    static tu_shadow s;
    tu_shadow_init(&s, 200);
    if (tu_is_buffer(f->c.source)) {
        /* a buffer heap never grows: it runs out, with ENOMEM */
        void *p;
        errno = 0;
        while ((p = hl_heap_malloc(f->h, 20 * 1024)) != NULL) {
            assert_in_source(f, p, 20 * 1024);
            tu_shadow_add(&s, p, 20 * 1024);
        }
        assert_int_equal(errno, ENOMEM);
        assert_true(s.count * 20 * 1024 <= f->cfg.buffer_size);
        assert_true(s.count >= (f->cfg.buffer_size / (20 * 1024)) - 1);
        assert_int_equal(tu_stats(f->h).regions, 1);
    } else {
        for (int i = 0; i < 40; i++) {
            void *p = hl_heap_malloc(f->h, 20 * 1024);
            assert_non_null(p);
            tu_shadow_assert_disjoint(f->h, &s, p);
            tu_shadow_add(&s, p, 20 * 1024);
        }
        hl_stats st = tu_stats(f->h);
        assert_true(st.regions >= 3);
        assert_true(st.region_bytes >= 40 * 20 * 1024);
        assert_int_equal(st.large_blocks, 0);
        tu_walk *w = tu_walk_new(f->h);
        assert_int_equal(tu_walk_count(w, HL_WALK_REGION, -1), st.regions);
        for (size_t i = 0; i < s.count; i++)
            assert_true(tu_walk_in_region(w, s.b[i].p));
        free(w);
    }
    tu_shadow_verify(&s);
    tu_assert_heap_ok(f->h);
    tu_shadow_free_all(f->h, &s);
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.blocks_free, st.regions);
    tu_assert_heap_ok(f->h);
}

static void test_cap_limits_source_bytes(void **state)
{
    tu_fixture *f = *state;
    static tu_shadow s;
    tu_shadow_init(&s, 300);
    if (tu_is_buffer(f->c.source)) {
        /* a buffer is its own cap: fill it, free it, and it is whole again */
        size_t n = f->cfg.buffer_size / 100;
        void *p;
        errno = 0;
        while ((p = hl_heap_malloc(f->h, n)) != NULL)
            tu_shadow_add(&s, p, n);
        assert_int_equal(errno, ENOMEM);
        assert_true(s.count > 0);
        tu_shadow_verify(&s);
        tu_assert_heap_ok(f->h);
        tu_shadow_free_all(f->h, &s);
        hl_stats st = tu_stats(f->h);
        assert_int_equal(st.blocks_free, 1);
        assert_int_equal(st.bytes_free, api_initial_free);
        return;
    }
    const size_t cap = 512 * 1024;
    hl_config cfg = f->cfg;
    cfg.max_bytes = cap;
    cfg.grow_size = 64 * 1024;
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    void *p;
    errno = 0;
    while ((p = hl_heap_malloc(h, 15 * 1024)) != NULL) {
        tu_shadow_add(&s, p, 15 * 1024);
        assert_true(tu_stats(h).source_bytes <= cap);
    }
    assert_int_equal(errno, ENOMEM);
    assert_true(s.count >= (cap * 3 / 4) / (16 * 1024));  /* most of the cap was usable */
    hl_stats st = tu_stats(h);
    assert_true(st.source_bytes <= cap);
    assert_int_equal(st.failures, 1);
    errno = 0;
    assert_null(hl_heap_malloc(h, 200 * 1024));  /* a large mapping is capped too */
    assert_int_equal(errno, ENOMEM);
    tu_shadow_verify(&s);
    tu_assert_heap_ok(h);
    hl_heap_free(h, s.b[0].p);
    tu_shadow_remove(&s, 0);
    p = hl_heap_malloc(h, 15 * 1024);  /* the freed room is usable again */
    assert_non_null(p);
    tu_shadow_add(&s, p, 15 * 1024);
    tu_shadow_verify(&s);
    tu_assert_heap_ok(h);
    tu_shadow_free_all(h, &s);
    hl_heap_destroy(h);
}

static void test_large_blocks_get_own_mapping(void **state)
{
    tu_fixture *f = *state;
    const size_t big = 200 * 1024;
    if (tu_is_buffer(f->c.source)) {
        /* a buffer heap never maps: the block comes from the buffer or not at all */
        errno = 0;
        unsigned char *p = hl_heap_malloc(f->h, big);
        if (f->c.source == TU_BUF64K) {
            assert_null(p);
            assert_int_equal(errno, ENOMEM);
            return;
        }
        assert_non_null(p);
        assert_in_source(f, p, big);
        assert_int_equal(tu_stats(f->h).large_blocks, 0);
        hl_heap_free(f->h, p);
        tu_assert_heap_ok(f->h);
        return;
    }
    unsigned char *below = hl_heap_malloc(f->h, HL_MMAP_THRESHOLD_DEFAULT - 1);
    assert_non_null(below);
    assert_int_equal(tu_stats(f->h).large_blocks, 0);
    unsigned char *p = hl_heap_malloc(f->h, HL_MMAP_THRESHOLD_DEFAULT);
    unsigned char *q = hl_heap_aligned_alloc(f->h, 4096, big);
    assert_non_null(p);
    assert_non_null(q);
    assert_aligned(q, 4096);
    tu_fill(p, HL_MMAP_THRESHOLD_DEFAULT, 51);
    tu_fill(q, big, 52);
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.large_blocks, 2);
    assert_true(st.large_bytes >= HL_MMAP_THRESHOLD_DEFAULT + big);
    assert_int_equal(st.source_bytes, st.region_bytes + st.large_bytes);
    tu_walk *w = tu_walk_new(f->h);
    const hl_walk_info *wp = tu_walk_payload(w, p);
    assert_non_null(wp);
    assert_int_equal(wp->kind, HL_WALK_LARGE);
    assert_true(wp->usable >= HL_MMAP_THRESHOLD_DEFAULT);
    assert_false(tu_walk_in_region(w, p));
    assert_false(tu_walk_in_region(w, q));
    assert_true(tu_walk_in_region(w, below));
    assert_int_equal(tu_walk_count(w, HL_WALK_LARGE, -1), 2);
    free(w);
    tu_assert_heap_ok(f->h);
    hl_heap_free(f->h, p);
    st = tu_stats(f->h);
    assert_int_equal(st.large_blocks, 1);
    tu_assert_intact(q, big, 52);
    hl_heap_free(f->h, q);
    st = tu_stats(f->h);
    assert_int_equal(st.large_blocks, 0);
    assert_int_equal(st.large_bytes, 0);
    hl_heap_free(f->h, below);
    tu_assert_heap_ok(f->h);
}

static void test_threshold_never_and_buffer_ignore_it(void **state)
{
    tu_fixture *f = *state;
    hl_config cfg = f->cfg;
    size_t n = tu_is_buffer(f->c.source) ? 8000 : 300 * 1024;
    cfg.mmap_threshold = tu_is_buffer(f->c.source) ? 4096 : HL_MMAP_THRESHOLD_NEVER;
    hl_heap_destroy(f->h);  /* a buffer holds one heap at a time */
    f->h = hl_heap_create(&cfg);
    assert_non_null(f->h);
    unsigned char *p = hl_heap_malloc(f->h, n);
    assert_non_null(p);
    assert_in_source(f, p, n);
    tu_fill(p, n, 61);
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.large_blocks, 0);
    assert_int_equal(st.large_bytes, 0);
    tu_walk *w = tu_walk_new(f->h);
    const hl_walk_info *wp = tu_walk_payload(w, p);
    assert_non_null(wp);
    assert_int_equal(wp->kind, HL_WALK_BLOCK);
    assert_true(tu_walk_in_region(w, p));
    free(w);
    tu_assert_heap_ok(f->h);
    tu_assert_intact(p, n, 61);
    hl_heap_free(f->h, p);
}

static void test_reset_makes_heap_new(void **state)
{
    tu_fixture *f = *state;
    void *ptrs[8];
    for (int i = 0; i < 8; i++) {
        ptrs[i] = hl_heap_malloc(f->h, 100 + 300 * (size_t)i);
        assert_non_null(ptrs[i]);
    }
    if (!tu_is_buffer(f->c.source))
        assert_non_null(hl_heap_malloc(f->h, 200 * 1024));
    hl_heap_free(f->h, ptrs[3]);
    hl_heap_reset(f->h);
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.blocks_in_use, 0);
    assert_int_equal(st.bytes_in_use, 0);
    assert_int_equal(st.mallocs + st.callocs + st.reallocs + st.aligned_allocs + st.frees, 0);
    assert_int_equal(st.failures + st.errors + st.splits + st.merges, 0);
    assert_int_equal(st.large_blocks, 0);
    assert_int_equal(st.large_bytes, 0);
    if (tu_is_buffer(f->c.source)) {
        assert_int_equal(st.regions, 1);
        assert_int_equal(st.blocks_free, 1);
        assert_int_equal(st.bytes_free, api_initial_free);
    } else {
        assert_int_equal(st.regions, 0);
        assert_int_equal(st.source_bytes, 0);
    }
    tu_assert_heap_ok(f->h);
    unsigned char *p = hl_heap_malloc(f->h, 500);
    assert_non_null(p);
    tu_fill(p, 500, 71);
    assert_int_equal(tu_stats(f->h).mallocs, 1);
    tu_assert_heap_ok(f->h);
    tu_assert_intact(p, 500, 71);
    hl_heap_free(f->h, p);
}

#define MATRIX_TEST(fn) cmocka_unit_test_setup_teardown(fn, api_setup, api_teardown)

int main(void)
{
    const struct CMUnitTest once[] = {
        cmocka_unit_test(test_create_null_config_is_defaults),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_unaligned_buffer_accepted),
    };
    const struct CMUnitTest matrix[] = {
        MATRIX_TEST(test_malloc_zero_is_unique),
        MATRIX_TEST(test_free_null_does_nothing),
        MATRIX_TEST(test_realloc_null_is_malloc),
        MATRIX_TEST(test_realloc_zero_frees_and_returns_minimal),
        MATRIX_TEST(test_realloc_keeps_prefix),
        MATRIX_TEST(test_realloc_shrinks_in_place),
        MATRIX_TEST(test_realloc_grows_into_free_successor),
        MATRIX_TEST(test_calloc_zeroes_reused_memory),
        MATRIX_TEST(test_calloc_overflow_is_enomem),
        MATRIX_TEST(test_huge_sizes_are_enomem),
        MATRIX_TEST(test_aligned_alloc_alignments),
        MATRIX_TEST(test_aligned_alloc_bad_alignment),
        MATRIX_TEST(test_usable_size_rules),
        MATRIX_TEST(test_seeded_workload),
        MATRIX_TEST(test_growth_across_regions),
        MATRIX_TEST(test_cap_limits_source_bytes),
        MATRIX_TEST(test_large_blocks_get_own_mapping),
        MATRIX_TEST(test_threshold_never_and_buffer_ignore_it),
        MATRIX_TEST(test_reset_makes_heap_new),
    };
    int failed = cmocka_run_group_tests_name("api", once, NULL, NULL);
    for (int p = 0; p < TU_POLICY_COUNT; p++) {
        for (int s = 0; s < TU_SOURCE_COUNT; s++) {
            char name[64];
            *tu_current() = (tu_case){tu_policy(p), s};
            failed += cmocka_run_group_tests_name(tu_group_name("api", *tu_current(), name, sizeof name),
                                                  matrix, NULL, NULL);
        }
    }
    return failed != 0;
}
