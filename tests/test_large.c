/*
 * test_large.c - the large cache, realloc of large blocks by resizing their
 * mappings, and the region index (docs/large.md).
 *
 * Every test runs on an mmap heap with the recording error handler and ends
 * with hl_heap_check passing (checked builds also check after every op).
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */
#include <cmocka.h>     /* named here too: tests/CMakeLists.txt links cmocka to files that include it */

enum { MIB = 1 << 20 };

static hl_heap *mmap_heap(size_t max_bytes, size_t grow_size) {
    hl_config cfg = { .policy = HL_SEGREGATED_FIT, .source = HL_SOURCE_MMAP, .max_bytes = max_bytes,
                      .grow_size = grow_size };
    tu_errors_install();
    tu_errors_clear();
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    return h;
}

static void done(hl_heap *h) {
    tu_assert_heap_ok(h);
    tu_assert_no_errors();
    hl_heap_destroy(h);
}

/* A freed mapping serves the next request that fits: same address, nothing
 * new from the system, its stats moved from cached back to large. */
static void test_cache_reuse(void **state) {
    (void)state;
    hl_heap *h = mmap_heap(0, 0);
    void *p = hl_heap_malloc(h, 3 * MIB);
    assert_non_null(p);
    tu_fill(p, 3 * MIB, 1);
    hl_stats live = tu_stats(h);
    hl_heap_free(h, p);
    hl_stats freed = tu_stats(h);
    assert_int_equal(freed.large_blocks, 0);
    assert_int_equal(freed.large_cached, 1);
    assert_int_equal(freed.large_cached_bytes, live.large_bytes);
    assert_int_equal(freed.source_bytes, live.source_bytes);   /* kept mapped */
    tu_assert_heap_ok(h);

    void *q = hl_heap_malloc(h, 3 * MIB - 1000);   /* within 1/8: the whole mapping */
    assert_ptr_equal(q, p);
    hl_stats again = tu_stats(h);
    assert_int_equal(again.large_cached, 0);
    assert_int_equal(again.large_blocks, 1);
    assert_int_equal(again.source_bytes, live.source_bytes);
    tu_fill(q, 3 * MIB - 1000, 2);
    tu_assert_intact(q, 3 * MIB - 1000, 2);
    hl_heap_free(h, q);

    /* much smaller: the front is split off, the tail stays cached */
    void *r = hl_heap_malloc(h, 1 * MIB);
    assert_ptr_equal(r, p);
    hl_stats split = tu_stats(h);
    assert_int_equal(split.large_cached, 1);
    assert_true(split.large_bytes < 1 * MIB + 2 * 4096 * 4);
    assert_int_equal(split.large_bytes + split.large_cached_bytes, live.large_bytes);
    tu_assert_heap_ok(h);
    hl_heap_free(h, r);
    done(h);
}

/* Freeing more than the cache may hold leaves at most HL_LCACHE_MAX_COUNT
 * mappings cached, and the cache never outgrows its byte bound. */
static void test_cache_bound(void **state) {
    (void)state;
    hl_heap *h = mmap_heap(0, 0);
    enum { N = 40 };
    void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = hl_heap_malloc(h, (size_t)(i + 1) * 256 * 1024);
        assert_non_null(p[i]);
    }
    for (int i = 0; i < N; i++) {
        hl_heap_free(h, p[i]);
        hl_stats st = tu_stats(h);
        assert_true(st.large_cached <= HL_LCACHE_MAX_COUNT);
        size_t bound = st.large_bytes / 4 > (size_t)2 * MIB ? st.large_bytes / 4 : (size_t)2 * MIB;
        /* the byte bound, past which only the newest (this one) may stay */
        assert_true(st.large_cached_bytes <= bound + (size_t)(i + 1) * 256 * 1024 + 8192);
    }
    hl_stats st = tu_stats(h);
    assert_true(st.large_cached > 0);
    assert_int_equal(st.source_bytes, st.region_bytes + st.large_bytes + st.large_cached_bytes);
    done(h);
}

/* A cached mapping nobody reuses is unmapped after HL_LCACHE_AGE large
 * operations. */
static void test_cache_age_out(void **state) {
    (void)state;
    hl_heap *h = mmap_heap(0, 0);
    void *a = hl_heap_malloc(h, 1 * MIB);
    assert_non_null(a);
    hl_heap_free(h, a);   /* A: cached, and never fits what follows */
    assert_int_equal(tu_stats(h).large_cached, 1);
    size_t a_bytes = tu_stats(h).large_cached_bytes;
    for (int i = 0; i < HL_LCACHE_AGE; i++) {
        void *b = hl_heap_malloc(h, 4 * MIB);   /* B: larger than A; cached B serves it after the first */
        assert_non_null(b);
        hl_heap_free(h, b);
    }
    hl_stats st = tu_stats(h);
    assert_int_equal(st.large_cached, 1);   /* B alone: A aged out */
    assert_true(st.large_cached_bytes >= 4 * MIB && st.large_cached_bytes != a_bytes);
    done(h);
}

/* A second free of a block whose mapping sits in the cache is a double
 * free; a pointer inside a cached mapping is an invalid pointer; neither
 * changes the heap. */
static void test_cache_double_free(void **state) {
    (void)state;
    hl_heap *h = mmap_heap(0, 0);
    char *p = hl_heap_malloc(h, 2 * MIB);
    assert_non_null(p);
    hl_heap_free(h, p);
    hl_stats before = tu_stats(h);
    tu_misuse_begin();
    hl_heap_free(h, p);
    tu_misuse_end();
    tu_assert_one_error(HL_ERR_DOUBLE_FREE, p, h, "free");
    assert_non_null(strstr(tu_errors()->e[0].message, "cached"));
    tu_errors_clear();
    hl_stats after = tu_stats(h);
    assert_int_equal(after.large_cached, before.large_cached);
    assert_int_equal(after.source_bytes, before.source_bytes);

    tu_misuse_begin();
    void *q = hl_heap_realloc(h, p + 8192, 100);
    tu_misuse_end();
    assert_null(q);
    tu_assert_one_error(HL_ERR_INVALID_POINTER, p + 8192, h, "realloc");
    tu_errors_clear();
    done(h);
}

/* The checker walks the cache: a forged cached header, a broken check word
 * and a forged count are reported, and pass again once put back. */
static void test_checker_sees_cache(void **state) {
    (void)state;
    hl_heap *h = mmap_heap(0, 0);
    void *p = hl_heap_malloc(h, 2 * MIB);
    assert_non_null(p);
    hl_heap_free(h, p);
    hl_large *l = h->lcache;
    assert_non_null(l);
    hl_check_report rep;

    size_t size = tu_read_word(&l->map_size);
    tu_write_word(&l->map_size, size + 4096);   /* forged: the seal no longer matches */
    assert_int_equal(hl_heap_check(h, &rep), HL_INV_LARGE);
    assert_non_null(strstr(rep.message, "cached mapping"));
    tu_write_word(&l->map_size, size);
    assert_int_equal(hl_heap_check(h, NULL), 0);

    size_t magic = tu_read_word(&l->magic);
    tu_write_word(&l->magic, (HL_LARGE_MAGIC ^ (uint64_t)(uintptr_t)l));   /* passing for a live one */
    assert_int_equal(hl_heap_check(h, &rep), HL_INV_LARGE);
    tu_write_word(&l->magic, magic);

    tu_flip_check(hl_block_payload(hl_large_block(l)), 0x10);
    assert_int_equal(hl_heap_check(h, &rep), HL_INV_MAGIC);
    tu_flip_check(hl_block_payload(hl_large_block(l)), 0x10);

    h->st.large_cached_bytes += 4096;
    assert_int_equal(hl_heap_check(h, &rep), HL_INV_STATS);
    h->st.large_cached_bytes -= 4096;
    done(h);
}

/* realloc of a large block resizes its mapping: contents kept, the mapping's
 * bytes follow the request both ways, no new block. */
static void test_realloc_resizes_mapping(void **state) {
    (void)state;
    hl_heap *h = mmap_heap(0, 0);
    char *p = hl_heap_malloc(h, 1 * MIB);
    assert_non_null(p);
    tu_fill(p, 1 * MIB, 7);
    char *q = hl_heap_realloc(h, p, 16 * MIB);
    assert_non_null(q);
    tu_assert_intact(q, 1 * MIB, 7);
    hl_stats grown = tu_stats(h);
    assert_int_equal(grown.large_blocks, 1);
    assert_true(grown.large_bytes >= 16 * MIB && grown.large_bytes < 16 * MIB + 8192);
    assert_true(hl_heap_usable_size(h, q) >= 16 * MIB);
    memset(q + 1 * MIB, 0x5a, 15 * MIB);
    tu_assert_heap_ok(h);

    char *r = hl_heap_realloc(h, q, 200 * 1024);   /* still large: the tail is unmapped */
    assert_ptr_equal(r, q);
    tu_assert_intact(r, 200 * 1024, 7);
    hl_stats shrunk = tu_stats(h);
    assert_true(shrunk.large_bytes < 200 * 1024 + 8192);
    assert_int_equal(shrunk.source_bytes, shrunk.region_bytes + shrunk.large_bytes + shrunk.large_cached_bytes);
    hl_heap_free(h, r);
    done(h);
}

/* A cap counts cached bytes; the cache gives them back before the cap
 * refuses a request. */
static void test_cache_yields_to_cap(void **state) {
    (void)state;
    hl_heap *h = mmap_heap(6 * MIB, 0);
    void *p = hl_heap_malloc(h, 4 * MIB);
    assert_non_null(p);
    hl_heap_free(h, p);
    assert_int_equal(tu_stats(h).large_cached, 1);
    void *q = hl_heap_malloc(h, 5 * MIB);   /* 4 cached + 5 > 6: the cached one goes */
    assert_non_null(q);
    hl_stats st = tu_stats(h);
    assert_true(st.source_bytes <= 6 * MIB);
    assert_int_equal(st.large_blocks, 1);
    hl_heap_free(h, q);
    done(h);
}

/* Many regions: every block is found through the region index, in any
 * order, and a pointer between or beyond them is refused unread. */
static void test_many_regions(void **state) {
    (void)state;
    enum { N = 300 };
    hl_heap *h = mmap_heap(0, 4096);
    static void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = hl_heap_malloc(h, 3000);   /* one small region each */
        assert_non_null(p[i]);
        tu_fill(p[i], 3000, (uint32_t)i);
    }
    assert_true(tu_stats(h).regions >= N / 2);
    assert_int_equal(h->rindex_count, tu_stats(h).regions);
    for (size_t i = 1; i < h->rindex_count; i++) assert_true(h->rindex[i - 1] < h->rindex[i]);
    tu_assert_heap_ok(h);

    static _Alignas(16) char elsewhere[64];   /* outside every region, aligned as a payload */
    tu_misuse_begin();
    hl_heap_free(h, elsewhere + 16);
    tu_misuse_end();
    assert_int_equal(tu_errors()->count, 1);
    assert_int_equal(tu_errors()->e[0].kind, HL_ERR_INVALID_POINTER);
    tu_errors_clear();

    for (int k = 0; k < N; k++) {
        int i = (k * 7919) % N;   /* a scattered order */
        tu_assert_intact(p[i], 3000, (uint32_t)i);
        assert_true(hl_heap_usable_size(h, p[i]) >= 3000);
        hl_heap_free(h, p[i]);
    }
    assert_int_equal(tu_stats(h).blocks_in_use, 0);
    hl_heap_reset(h);
    assert_int_equal(h->rindex_count, 0);
    done(h);
}

/* The global API: a large block freed twice, the mapping cached in between. */
static void test_global_large_double_free(void **state) {
    (void)state;
    tu_errors_install();
    tu_errors_clear();
    void *p = hl_malloc(6 * MIB);
    assert_non_null(p);
    hl_free(p);
    tu_misuse_begin();
    hl_free(p);
    tu_misuse_end();
    assert_int_equal(tu_errors()->count, 1);
    assert_int_equal(tu_errors()->e[0].kind, HL_ERR_DOUBLE_FREE);
    tu_errors_clear();
    void *q = hl_malloc(6 * MIB);   /* reuses the cached mapping */
    assert_ptr_equal(q, p);
    hl_free(q);
    assert_int_equal(hl_check_all(NULL), 0);
    tu_assert_no_errors();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_reuse),
        cmocka_unit_test(test_cache_bound),
        cmocka_unit_test(test_cache_age_out),
        cmocka_unit_test(test_cache_double_free),
        cmocka_unit_test(test_checker_sees_cache),
        cmocka_unit_test(test_realloc_resizes_mapping),
        cmocka_unit_test(test_cache_yields_to_cap),
        cmocka_unit_test(test_many_regions),
        cmocka_unit_test(test_global_large_double_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
