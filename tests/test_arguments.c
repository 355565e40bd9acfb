/*
 * test_arguments.c - what every public function does with an argument it
 * cannot use: no heap (NULL, or a buffer heap already destroyed), a buffer
 * that wraps around the address space, a growth step no region could have, a
 * request no region can hold.  The answer is always the documented one (NULL
 * with errno, 0, -1, a line of text, nothing at all), never a crash and never
 * a report to the error handler, which is for misuse of a live heap.
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */
#include <cmocka.h>     /* named here too: tests/CMakeLists.txt links cmocka to files that include it */

static int never_called(const hl_walk_info *info, void *ctx)
{
    (void)info;
    ++*(int *)ctx;
    return 0;
}

/* Every entry point, given h, which is no live heap. */
static void assert_refused_everywhere(hl_heap *h)
{
    static _Alignas(16) unsigned char some_block[64];
    char label[40];
    snprintf(label, sizeof label, "%p", (void *)h);

    errno = 0;
    assert_null(hl_heap_malloc(h, 16));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(hl_heap_calloc(h, 2, 8));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(hl_heap_aligned_alloc(h, 64, 16));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(hl_heap_realloc(h, NULL, 16));
    assert_int_equal(errno, EINVAL);
    hl_heap_free(h, some_block);                 /* nothing to free it from: nothing happens */
    assert_int_equal(hl_heap_usable_size(h, some_block), 0);

    hl_stats st;
    memset(&st, 0xA5, sizeof st);
    hl_heap_stats(h, &st);
    assert_true(tu_all_zero(&st, sizeof st));

    int calls = 0;
    assert_int_equal(hl_heap_walk(h, never_called, &calls), -1);
    assert_int_equal(calls, 0);

    tu_text t;
    tu_text_open(&t);
    hl_heap_dump(h, t.f);
    const char *text = tu_text_get(&t);
    assert_int_equal(tu_count_lines(text), 1);
    assert_non_null(strstr(text, "is not a live heap"));
    assert_non_null(strstr(text, label));
    tu_text_close(&t);

    hl_check_report r;
    assert_int_equal(hl_heap_check(h, &r), HL_INV_REGION);
    hl_heap_fail_source(h, 0, 1);
    hl_heap_reset(h);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

static void test_null_heap(void **state)
{
    (void)state;
    tu_errors_install();
    assert_refused_everywhere(NULL);
}

/* A destroyed buffer heap: its header is still there, with its magic cleared. */
static void test_destroyed_buffer_heap(void **state)
{
    (void)state;
    tu_errors_install();
    hl_config cfg = tu_config(HL_FIRST_FIT, TU_BUF64K);
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    assert_non_null(hl_heap_malloc(h, 100));
    hl_heap_destroy(h);
    assert_refused_everywhere(h);
}

static void test_buffer_that_wraps(void **state)
{
    (void)state;
    assert_null(hl_config_error(NULL));   /* NULL is "all defaults", which is valid */
    hl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.source = HL_SOURCE_BUFFER;
    cfg.buffer = (void *)(UINTPTR_MAX - 4095);
    cfg.buffer_size = 2 * HL_BUFFER_MIN;
    const char *why = hl_config_error(&cfg);
    assert_non_null(why);
    assert_non_null(strstr(why, "wraps around the address space"));
    errno = 0;
    assert_null(hl_heap_create(&cfg));
    assert_int_equal(errno, EINVAL);
}

/* grow_size SIZE_MAX is clamped to the largest region, not rounded up past
 * SIZE_MAX to 0; under a cap, growth then takes just what the request needs. */
static void test_huge_grow_size_is_clamped(void **state)
{
    (void)state;
    tu_errors_install();
    hl_config cfg = tu_config(HL_SEGREGATED_FIT, TU_MMAP);
    cfg.grow_size = SIZE_MAX;
    cfg.max_bytes = 1024 * 1024;
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    void *p = hl_heap_malloc(h, 100);
    assert_non_null(p);
    hl_stats st = tu_stats(h);
    assert_int_equal(st.regions, 1);
    assert_int_equal(st.region_bytes, (size_t)sysconf(_SC_PAGESIZE));
    hl_heap_free(h, p);
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

/* Sizes no region can hold (regions stop at 2^40 bytes), with no large
 * mappings to fall back on: NULL with ENOMEM, and nothing asked of the source. */
static void test_requests_no_region_can_hold(void **state)
{
    (void)state;
    tu_errors_install();
    hl_config cfg = tu_config(HL_FIRST_FIT, TU_MMAP);
    cfg.mmap_threshold = HL_MMAP_THRESHOLD_NEVER;
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    const size_t sizes[] = {
        ((size_t)1 << 40) - 64,        /* a block of 2^40 - 32: no room for the region's own header */
        ((size_t)1 << 40) + 1,         /* more than any region */
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        errno = 0;
        assert_null(hl_heap_malloc(h, sizes[i]));
        assert_int_equal(errno, ENOMEM);
    }
    hl_stats st = tu_stats(h);
    assert_int_equal(st.failures, 2);
    assert_int_equal(st.source_bytes, 0);
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_heap),
        cmocka_unit_test(test_destroyed_buffer_heap),
        cmocka_unit_test(test_buffer_that_wraps),
        cmocka_unit_test(test_huge_grow_size_is_clamped),
        cmocka_unit_test(test_requests_no_region_can_hold),
    };
    return cmocka_run_group_tests_name("arguments", tests, NULL, NULL) != 0;
}
