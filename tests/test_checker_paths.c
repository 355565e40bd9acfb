/*
 * test_checker_paths.c - misuse paths of pointer resolution that the other
 * files leave untaken: pointers into a large mapping the heap has freed and
 * keeps cached for reuse; and checker failures reached by forging metadata.
 *
 * Each test asserts the exact error kind, operation and reason the resolver
 * reports, and that the heap stays consistent afterwards.
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */
#include <cmocka.h>     /* named here too: tests/CMakeLists.txt links cmocka to files that include it */

enum { LARGE = 200 * 1024 };

static hl_heap *mmap_heap(void)
{
    hl_config cfg = {0};
    cfg.source = HL_SOURCE_MMAP;
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    tu_errors_install();
    return h;
}

/* An interior pointer into a freed, cached large mapping is not a double
 * free: the caller never got that address, so it is an invalid pointer. */
static void test_interior_of_cached_large(void **state)
{
    (void)state;
    hl_heap *h = mmap_heap();
    unsigned char *p = hl_heap_malloc(h, LARGE);
    assert_non_null(p);
    hl_heap_free(h, p);
    tu_assert_no_errors();
    assert_int_equal(tu_stats(h).large_cached, 1);   /* the cache is what this path needs */
    tu_misuse_begin();
    hl_heap_free(h, p + 4096);
    tu_misuse_end();
    tu_assert_one_error(HL_ERR_INVALID_POINTER, p + 4096, h, "free");
    assert_non_null(strstr(tu_errors()->e[0].message, "freed large mapping"));
    tu_errors_clear();
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    hl_set_error_handler(NULL, NULL);
}

/* --- the free lists' cycle bound ---------------------------------------------
 *
 * A true cycle is caught by its back links, so the bound on nodes (one per
 * HL_MIN_BLOCK bytes of region) is hit only by more nodes than the regions
 * could hold: forged 48-byte free headers, 32 bytes apart so they overlap,
 * each with a sound check word and back link.  They are written into the
 * payloads of used blocks, memory the program owns.
 */
enum { CYCLE_BUF = 256 * 1024, CYCLE_CHUNK = 8192, CYCLE_STRIDE = 32 };
static _Alignas(16) unsigned char cycle_buf[CYCLE_BUF];

static void test_list_bound_counts_overlapping_nodes(void **state)
{
    (void)state;
    hl_config cfg = {0};
    cfg.policy = HL_FIRST_FIT;
    cfg.source = HL_SOURCE_BUFFER;
    cfg.buffer = cycle_buf;
    cfg.buffer_size = sizeof cycle_buf;
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    tu_errors_install();

    size_t li = hl__list_index(h, HL_MIN_BLOCK);
    assert_int_equal(hl_heap_check(h, NULL), 0);
    hl_block *first = NULL, *prev = NULL;
    size_t nodes = 0;
    unsigned char *p;
    while ((p = hl_heap_malloc(h, CYCLE_CHUNK)) != NULL) {
        for (size_t off = 0; off + HL_HEADER + HL_LINKS <= CYCLE_CHUNK; off += CYCLE_STRIDE) {
            hl_block *b = (hl_block *)(p + off);
            b->size_flags = HL_MIN_BLOCK;
            b->slack = 0;
            b->check = hl_check_word(b, HL_MIN_BLOCK, 0, h->cookie);
            b->prev_free = prev;
            b->next_free = NULL;
            if (prev)
                prev->next_free = b;
            else
                first = b;
            prev = b;
            nodes++;
        }
    }
    tu_errors_clear();   /* the last malloc's out-of-memory is not under test */
    assert_int_equal(hl_heap_check(h, NULL), 0);
    hl_block *saved_head = h->lists[li];   /* read after the mallocs split it */
    assert_non_null(first);
    h->lists[li] = first;

    hl_check_report rep;
    memset(&rep, 0, sizeof rep);
    assert_int_equal(hl_heap_check(h, &rep), HL_INV_LIST_LINKS);
    assert_int_equal(rep.id, HL_INV_LIST_LINKS);
    assert_string_equal(rep.invariant, "list-links");
    /* the bound was reached before the forged nodes ran out */
    assert_true(rep.expected > 0 && rep.expected < nodes);
    assert_int_equal(rep.found, rep.expected + 1);
    /* blamed: the last node that passed, the bound-th of the list */
    hl_block *nth = first;
    for (size_t k = 1; k < rep.expected; k++)
        nth = nth->next_free;
    assert_ptr_equal(rep.block, nth);
    char want[128];
    snprintf(want, sizeof want, "the free lists hold more than %zu nodes (one per %d bytes of region): a cycle",
             (size_t)rep.expected, HL_MIN_BLOCK);
    assert_non_null(strstr(rep.message, want));

    h->lists[li] = saved_head;
    assert_int_equal(hl_heap_check(h, NULL), 0);
    hl_heap_destroy(h);
    hl_set_error_handler(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interior_of_cached_large),
        cmocka_unit_test(test_list_bound_counts_overlapping_nodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
