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

/* A heap of used CYCLE_CHUNK blocks filling cycle_buf, their payloads holding
 * one chain of forged 48-byte free headers; *nodes counts them. */
/* A fresh heap of `policy` on cycle_buf, with the recording handler. */
static hl_heap *buffer_heap(hl_policy policy)
{
    hl_config cfg = {0};
    cfg.policy = policy;
    cfg.source = HL_SOURCE_BUFFER;
    cfg.buffer = cycle_buf;
    cfg.buffer_size = sizeof cycle_buf;
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    tu_errors_install();
    assert_int_equal(hl_heap_check(h, NULL), 0);
    return h;
}

static hl_heap *forged_chain_heap(hl_policy policy, hl_block **first, size_t *nodes)
{
    hl_heap *h = buffer_heap(policy);
    hl_block *prev = NULL;
    *first = NULL;
    *nodes = 0;
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
                *first = b;
            prev = b;
            (*nodes)++;
        }
    }
    tu_errors_clear();   /* the last malloc's out-of-memory is not under test */
    assert_non_null(*first);
    assert_int_equal(hl_heap_check(h, NULL), 0);   /* forged in payloads: nothing listed yet */
    return h;
}

static hl_block *chain_nth(hl_block *first, size_t n)
{
    while (n--)
        first = first->next_free;
    return first;
}

/* What the checker says when the lists hold more than `bound` nodes. */
typedef struct { char text[128]; } bound_text;
static bound_text bound_message(size_t bound)
{
    bound_text t;
    snprintf(t.text, sizeof t.text, "the free lists hold more than %zu nodes (one per %d bytes of region): a cycle",
             bound, HL_MIN_BLOCK);
    return t;
}

static void test_list_bound_counts_overlapping_nodes(void **state)
{
    (void)state;
    hl_block *first;
    size_t nodes;
    hl_heap *h = forged_chain_heap(HL_FIRST_FIT, &first, &nodes);
    size_t li = hl__list_index(h, HL_MIN_BLOCK);
    hl_block *saved_head = h->lists[li];   /* read after the mallocs split it */
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
    assert_ptr_equal(rep.block, chain_nth(first, rep.expected - 1));
    assert_non_null(strstr(rep.message, bound_message(rep.expected).text));

    h->lists[li] = saved_head;
    assert_int_equal(hl_heap_check(h, NULL), 0);
    hl_heap_destroy(h);
    hl_set_error_handler(NULL, NULL);
}

/* The bound reached exactly at the head of a later list: no node before it in
 * its list, so the report names the heap, not a block. */
static void test_list_bound_reached_at_a_head(void **state)
{
    (void)state;
    hl_block *first;
    size_t nodes;
    hl_heap *h = forged_chain_heap(HL_SEGREGATED_FIT, &first, &nodes);
    size_t li = hl__list_index(h, HL_MIN_BLOCK);
    assert_true(h->nlists > li + 1);

    /* the bound, as the checker computes it, from a first run */
    hl_block *saved[HL_TLSF_LISTS];
    assert_true(h->nlists <= HL_TLSF_LISTS);
    for (size_t i = 0; i < h->nlists; i++) {
        saved[i] = h->lists[i];
        h->lists[i] = NULL;
    }
    h->lists[li] = first;
    hl_check_report rep;
    assert_int_equal(hl_heap_check(h, &rep), HL_INV_LIST_LINKS);
    size_t bound = rep.expected;
    assert_true(bound + 2 < nodes);

    /* list li: exactly bound nodes; a later list: one more, as its head */
    hl_block *head = chain_nth(first, bound + 1);   /* before the cut below */
    chain_nth(first, bound - 1)->next_free = NULL;
    size_t size = HL_MIN_BLOCK;
    while (hl__list_index(h, size) <= li)
        size += HL_ALIGN;
    size_t lj = hl__list_index(h, size);
    assert_true(lj < h->nlists);
    head->size_flags = size;
    head->check = hl_check_word(head, size, 0, h->cookie);
    head->prev_free = head->next_free = NULL;
    h->lists[lj] = head;

    memset(&rep, 0, sizeof rep);
    assert_int_equal(hl_heap_check(h, &rep), HL_INV_LIST_LINKS);
    assert_null(rep.block);
    assert_int_equal(rep.expected, bound);
    assert_int_equal(rep.found, bound + 1);
    assert_string_equal(rep.message, bound_message(bound).text);   /* no block to name first */

    for (size_t i = 0; i < h->nlists; i++)
        h->lists[i] = saved[i];
    assert_int_equal(hl_heap_check(h, NULL), 0);
    hl_heap_destroy(h);
    hl_set_error_handler(NULL, NULL);
}

/* A list head whose header carries a sound check word for an impossible
 * size: smaller than any block, or running past its region's end.  The check
 * word alone does not make a block; both are "no block header". */
static void test_list_node_with_impossible_size(void **state)
{
    (void)state;
    hl_heap *h = buffer_heap(HL_FIRST_FIT);
    unsigned char *p = hl_heap_malloc(h, 1024);
    assert_non_null(p);
    hl_block *x = (hl_block *)(p + 64);   /* in a payload: the program's own bytes */
    const size_t sizes[] = { HL_ALIGN, (size_t)1 << 30 };
    for (size_t k = 0; k < 2; k++) {
        x->size_flags = sizes[k];
        x->slack = 0;
        x->check = hl_check_word(x, sizes[k], 0, h->cookie);
        x->next_free = x->prev_free = NULL;
        hl_block *saved = h->lists[0];
        h->lists[0] = x;
        hl_check_report rep;
        assert_int_equal(hl_heap_check(h, &rep), HL_INV_LIST_LINKS);
        assert_string_equal(rep.invariant, "list-links");
        assert_null(rep.block);   /* a head: the heap is named, not a block */
        assert_int_equal(rep.found, (uintptr_t)x);
        assert_non_null(strstr(rep.message, "does not point at a block header (bad check word or size)"));
        h->lists[0] = saved;
        assert_int_equal(hl_heap_check(h, NULL), 0);
    }
    hl_heap_free(h, p);
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    hl_set_error_handler(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interior_of_cached_large),
        cmocka_unit_test(test_list_bound_counts_overlapping_nodes),
        cmocka_unit_test(test_list_bound_reached_at_a_head),
        cmocka_unit_test(test_list_node_with_impossible_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
