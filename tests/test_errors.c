/*
 * test_errors.c - one test per error kind the allocator reports.
 *
 * Every test starts from a heap holding four live blocks, each filled with its
 * own pattern, makes one misuse, and asserts: the handler saw exactly that
 * kind, for the caller's pointer, this heap and this operation, with a one-line
 * message naming both; the operation did nothing (stats unchanged, the block
 * untouched); every other live block kept its contents; and hl_heap_check
 * passes afterwards, or, where the test corrupted the heap itself, names the
 * broken invariant until the bytes are put back.
 *
 * The recording handler returns; the last tests fork a child to watch the
 * default handler print one line and abort.
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */
#include <cmocka.h>     /* named here too: tests/CMakeLists.txt links cmocka to files that include it */

#include <sys/mman.h>

enum { LIVE = 4 };
static const size_t live_size[LIVE] = {100, 200, 300, 50};
static unsigned char *live[LIVE];

static int errors_setup(void **state)
{
    if (tu_setup(state) != 0)
        return -1;
    tu_fixture *f = *state;
    for (int i = 0; i < LIVE; i++) {
        live[i] = hl_heap_malloc(f->h, live_size[i]);
        if (!live[i])
            return -1;
        tu_fill(live[i], live_size[i], (uint32_t)i + 1);
    }
    return 0;
}

/* Every live block but `except` (-1: none) still holds its pattern. */
static void assert_live_intact(int except)
{
    for (int i = 0; i < LIVE; i++)
        if (i != except)
            tu_assert_intact(live[i], live_size[i], (uint32_t)i + 1);
}

/* The counters a no-op must leave alone. */
static void assert_same_heap(const hl_stats *a, const hl_stats *b)
{
    assert_int_equal(a->blocks_in_use, b->blocks_in_use);
    assert_int_equal(a->bytes_in_use, b->bytes_in_use);
    assert_int_equal(a->blocks_free, b->blocks_free);
    assert_int_equal(a->bytes_free, b->bytes_free);
    assert_int_equal(a->large_blocks, b->large_blocks);
    assert_int_equal(a->source_bytes, b->source_bytes);
    assert_int_equal(a->splits, b->splits);
    assert_int_equal(a->merges, b->merges);
}

/* free(p) must be reported as `kind` and do nothing else. */
static void expect_free_rejected(hl_heap *h, void *p, hl_error_kind kind)
{
    hl_stats before = tu_stats(h);
    tu_errors_clear();
    tu_misuse_begin();
    hl_heap_free(h, p);
    tu_misuse_end();
    tu_assert_one_error(kind, p, h, "free");
    hl_stats after = tu_stats(h);
    assert_same_heap(&before, &after);
    assert_int_equal(after.errors, before.errors + 1);
}

/* --- double free ----------------------------------------------------------------- */

static void test_double_free(void **state)
{
    tu_fixture *f = *state;
    hl_heap_free(f->h, live[1]);
    expect_free_rejected(f->h, live[1], HL_ERR_DOUBLE_FREE);
    assert_live_intact(1);
    tu_assert_heap_ok(f->h);
}

/* The second free comes after the block was merged into its free neighbour:
 * the memory is still free, so it is still a double free. */
static void test_double_free_after_merge(void **state)
{
    tu_fixture *f = *state;
    hl_heap_free(f->h, live[1]);
    hl_stats before = tu_stats(f->h);
    hl_heap_free(f->h, live[2]);          /* merges backwards into live[1]'s block */
    assert_int_equal(tu_stats(f->h).merges, before.merges + 1);
    expect_free_rejected(f->h, live[2], HL_ERR_DOUBLE_FREE);
    expect_free_rejected(f->h, live[1], HL_ERR_DOUBLE_FREE);
    tu_assert_intact(live[0], live_size[0], 1);
    tu_assert_intact(live[3], live_size[3], 4);
    tu_assert_heap_ok(f->h);
}

/* A large block is unmapped on free; the heap remembers the last 16. */
static void test_double_free_large(void **state)
{
    tu_fixture *f = *state;
    unsigned char *p = hl_heap_malloc(f->h, 200 * 1024);
    assert_non_null(p);
    assert_int_equal(tu_stats(f->h).large_blocks, 1);
    hl_heap_free(f->h, p);
    assert_int_equal(tu_stats(f->h).large_blocks, 0);
    expect_free_rejected(f->h, p, HL_ERR_DOUBLE_FREE);
    assert_live_intact(-1);
    tu_assert_heap_ok(f->h);
}

/* --- invalid pointers ---------------------------------------------------------------- */

static void test_interior_pointer(void **state)
{
    tu_fixture *f = *state;
    expect_free_rejected(f->h, live[1] + 16, HL_ERR_INVALID_POINTER);
    expect_free_rejected(f->h, live[1] + 1, HL_ERR_INVALID_POINTER);
    expect_free_rejected(f->h, live[2] + 32, HL_ERR_INVALID_POINTER);
    assert_live_intact(-1);
    tu_assert_heap_ok(f->h);
    tu_errors_clear();
    hl_heap_free(f->h, live[1]);           /* the block itself is still live */
    tu_assert_no_errors();
    tu_assert_heap_ok(f->h);
}

static void test_misaligned_pointer(void **state)
{
    tu_fixture *f = *state;
    expect_free_rejected(f->h, live[0] + 8, HL_ERR_INVALID_POINTER);
    expect_free_rejected(f->h, live[3] - 8, HL_ERR_INVALID_POINTER);
    assert_live_intact(-1);
    tu_assert_heap_ok(f->h);
}

static _Alignas(16) unsigned char global_bytes[256];

static void test_foreign_pointers(void **state)
{
    tu_fixture *f = *state;
    _Alignas(16) unsigned char local[256];
    memset(local, 0, sizeof local);
    expect_free_rejected(f->h, local + 64, HL_ERR_INVALID_POINTER);
    expect_free_rejected(f->h, global_bytes + 64, HL_ERR_INVALID_POINTER);

    unsigned char *g = malloc(64);
    assert_non_null(g);
    expect_free_rejected(f->h, g, HL_ERR_INVALID_POINTER);
    free(g);

    hl_heap *other = hl_heap_create(NULL);
    assert_non_null(other);
    unsigned char *q = hl_heap_malloc(other, 64);
    assert_non_null(q);
    tu_fill(q, 64, 99);
    expect_free_rejected(f->h, q, HL_ERR_INVALID_POINTER);
    tu_assert_intact(q, 64, 99);
    tu_assert_heap_ok(other);
    hl_heap_destroy(other);

    assert_live_intact(-1);
    tu_assert_heap_ok(f->h);
}

static void test_bad_pointer_in_realloc_and_usable_size(void **state)
{
    tu_fixture *f = *state;
    tu_errors_clear();
    tu_misuse_begin();
    size_t usable = hl_heap_usable_size(f->h, live[1] + 16);
    tu_misuse_end();
    assert_int_equal(usable, 0);
    tu_assert_one_error(HL_ERR_INVALID_POINTER, live[1] + 16, f->h, "usable_size");

    hl_stats before = tu_stats(f->h);
    tu_errors_clear();
    errno = 0;
    tu_misuse_begin();
    void *q = hl_heap_realloc(f->h, live[1] + 16, 1000);
    tu_misuse_end();
    assert_null(q);
    assert_int_equal(errno, EINVAL);
    tu_assert_one_error(HL_ERR_INVALID_POINTER, live[1] + 16, f->h, "realloc");
    hl_stats after = tu_stats(f->h);
    assert_same_heap(&before, &after);
    assert_live_intact(-1);

    /* realloc of a block already freed: the block is free, as for free */
    hl_heap_free(f->h, live[3]);
    before = tu_stats(f->h);
    tu_errors_clear();
    errno = 0;
    tu_misuse_begin();
    q = hl_heap_realloc(f->h, live[3], 10);
    tu_misuse_end();
    assert_null(q);
    assert_int_equal(errno, EINVAL);
    tu_assert_one_error(HL_ERR_DOUBLE_FREE, live[3], f->h, "realloc");
    after = tu_stats(f->h);
    assert_same_heap(&before, &after);
    assert_live_intact(3);
    tu_assert_heap_ok(f->h);
}

/* --- corrupted blocks ----------------------------------------------------------------- */

static void assert_check_names(const hl_heap *h, int invariant, const void *block)
{
    hl_check_report r;
    memset(&r, 0, sizeof r);
    int id = hl_heap_check(h, &r);
    if (id != invariant)
        print_error("check found %d (%s), expected %s: %s\n", id, hl_invariant_name(id),
                    hl_invariant_name(invariant), r.message);
    assert_int_equal(id, invariant);
    assert_int_equal(r.id, invariant);
    assert_non_null(r.invariant);
    assert_string_equal(r.invariant, hl_invariant_name(invariant));
    assert_true(strlen(r.message) > 0);
    if (block)
        assert_ptr_equal(r.block, block);
}

/* The header's check word no longer matches: free, realloc and usable_size
 * refuse the block; putting the bytes back makes the heap whole. */
static void test_corrupted_header(void **state)
{
    tu_fixture *f = *state;
    hl_block *b = hl_payload_block(live[1]);
    unsigned char saved[HL_HEADER];
    tu_peek(saved, b, sizeof saved);
    tu_flip_check(live[1], 0x5A5A5A5Au);
    assert_check_names(f->h, HL_INV_MAGIC, b);

    tu_errors_clear();
    tu_misuse_begin();
    hl_heap_free(f->h, live[1]);
    tu_misuse_end();
    tu_assert_first_error(HL_ERR_CORRUPTED_BLOCK, live[1], f->h, "free");

    tu_errors_clear();
    errno = 0;
    tu_misuse_begin();
    void *q = hl_heap_realloc(f->h, live[1], 1000);
    tu_misuse_end();
    assert_null(q);
    assert_int_equal(errno, EINVAL);
    tu_assert_first_error(HL_ERR_CORRUPTED_BLOCK, live[1], f->h, "realloc");

    tu_errors_clear();
    tu_misuse_begin();
    size_t usable = hl_heap_usable_size(f->h, live[1]);
    tu_misuse_end();
    assert_int_equal(usable, 0);
    tu_assert_first_error(HL_ERR_CORRUPTED_BLOCK, live[1], f->h, "usable_size");

    assert_live_intact(-1);
    assert_check_names(f->h, HL_INV_MAGIC, b);
    tu_poke(b, saved, sizeof saved);
    tu_assert_heap_ok(f->h);
    tu_errors_clear();
    hl_heap_free(f->h, live[1]);
    tu_assert_no_errors();
    tu_assert_heap_ok(f->h);
}

/* The block's own footer disagrees with its header. */
static void test_corrupted_footer(void **state)
{
    tu_fixture *f = *state;
    hl_block *b = hl_payload_block(live[1]);
    size_t *footer = tu_footer_of(live[1]);
    size_t saved = tu_read_word(footer);
    tu_write_word(footer, saved + 2 * HL_ALIGN);
    assert_check_names(f->h, HL_INV_FOOTER, b);

    tu_errors_clear();
    tu_misuse_begin();
    hl_heap_free(f->h, live[1]);
    tu_misuse_end();
    tu_assert_first_error(HL_ERR_CORRUPTED_BLOCK, live[1], f->h, "free");
    assert_live_intact(-1);

    tu_write_word(footer, saved);
    tu_assert_heap_ok(f->h);
    tu_errors_clear();
    hl_heap_free(f->h, live[1]);
    tu_assert_no_errors();
    tu_assert_heap_ok(f->h);
}

/* The footer before live[2] claims a small free block: freeing live[2] must
 * not coalesce with it on the footer's word. */
static void test_corrupted_footer_seen_by_neighbour(void **state)
{
    tu_fixture *f = *state;
    hl_block *b = hl_payload_block(live[1]);
    size_t *footer = tu_footer_of(live[1]);
    size_t saved = tu_read_word(footer);
    tu_write_word(footer, 2 * HL_MIN_BLOCK);  /* "free, 96 bytes" */
    assert_check_names(f->h, HL_INV_FOOTER, b);

    tu_errors_clear();
    tu_misuse_begin();
    hl_heap_free(f->h, live[2]);
    tu_misuse_end();
    tu_assert_first_error(HL_ERR_CORRUPTED_BLOCK, live[2], f->h, "free");
    assert_live_intact(-1);

    tu_write_word(footer, saved);
    tu_assert_heap_ok(f->h);
    tu_errors_clear();
    hl_heap_free(f->h, live[2]);
    tu_assert_no_errors();
    tu_assert_heap_ok(f->h);
}

/* --- broken invariants (checked builds check after every operation) ------------------- */

/* An operation that touches neither live[0..2] nor their neighbours' links. */
static void harmless_operation(hl_heap *h)
{
    hl_heap_free(h, live[3]);
}

static void assert_invariant_report(const hl_heap *h, int invariant)
{
    tu_error_log *log = tu_errors();
    assert_true(log->count >= 1);
    const tu_error_entry *e = &log->e[0];
    assert_int_equal(e->kind, HL_ERR_INVARIANT);
    assert_ptr_equal(e->heap, h);
    assert_string_equal(e->operation, "free");
    assert_true(e->has_report);
    assert_int_equal(e->report_id, invariant);
    assert_true(strlen(e->message) > 0);
    assert_null(strchr(e->message, '\n'));
}

/* A write into a free block: the free fill is broken. */
static void test_write_after_free(void **state)
{
    tu_fixture *f = *state;
    hl_heap_free(f->h, live[1]);   /* a free block between two used ones */
    unsigned char *spot = live[1] + HL_LINKS + 8;
    unsigned char saved = tu_read_byte(spot);
    tu_write_byte(spot, (unsigned char)~saved);
    tu_errors_clear();
    if (hl_checked_build()) {
        /* hl_heap_check sees it at once ... */
        assert_check_names(f->h, HL_INV_FREE_FILL, hl_payload_block(live[1]));
        /* ... and the every-op check, whose fill sweep is amortised (a window of
         * HL_SWEEP_WINDOW bytes per operation, invariants/check.c), within
         * region_bytes / HL_SWEEP_WINDOW + 1 operations that do not touch it */
        hl_stats st;
        hl_heap_stats(f->h, &st);
        size_t bound = st.region_bytes / HL_SWEEP_WINDOW + 1, ops = 1;
        harmless_operation(f->h);
        while (tu_errors()->count == 0 && ops < bound) {
            assert_ptr_equal(hl_heap_realloc(f->h, live[0], live_size[0]), live[0]);   /* in place */
            ops++;
        }
        tu_error_log *log = tu_errors();
        assert_true(log->count >= 1);
        assert_int_equal(log->e[0].kind, HL_ERR_INVARIANT);
        assert_true(log->e[0].has_report);
        assert_int_equal(log->e[0].report_id, HL_INV_FREE_FILL);
        assert_true(ops <= bound);
    } else {
        /* release builds keep no fill: the bytes are not checked */
        tu_assert_heap_ok(f->h);
        harmless_operation(f->h);
        tu_assert_no_errors();
    }
    tu_assert_intact(live[0], live_size[0], 1);
    tu_assert_intact(live[2], live_size[2], 3);
    tu_write_byte(spot, saved);
    tu_assert_heap_ok(f->h);
}

/* A write just past the requested size: the canary in the slack is broken. */
static void test_overflow_into_slack(void **state)
{
    tu_fixture *f = *state;
    assert_true(tu_block_size(live_size[0]) - HL_OVERHEAD > live_size[0]);  /* 100 leaves slack */
    unsigned char *spot = live[0] + live_size[0];
    unsigned char saved = tu_read_byte(spot);
    tu_write_byte(spot, (unsigned char)~saved);
    tu_errors_clear();
    if (hl_checked_build()) {
        assert_check_names(f->h, HL_INV_CANARY, hl_payload_block(live[0]));
        harmless_operation(f->h);
        assert_invariant_report(f->h, HL_INV_CANARY);
    } else {
        /* release builds hand the slack to the caller */
        assert_true(hl_heap_usable_size(f->h, live[0]) > live_size[0]);
        tu_assert_heap_ok(f->h);
        harmless_operation(f->h);
        tu_assert_no_errors();
    }
    tu_assert_intact(live[0], live_size[0], 1);
    tu_assert_intact(live[1], live_size[1], 2);
    tu_write_byte(spot, saved);
    tu_assert_heap_ok(f->h);
}

/* --- the default handler: one line on stderr, then abort ------------------------------ */

typedef struct abort_case {
    int interior;        /* 0: double free; 1: free(p + 1) */
    void **shared_ptr;   /* where the child leaves the pointer it passed */
} abort_case;

static void child_misuse_with_default_handler(void *arg)
{
    abort_case *c = arg;
    hl_set_error_handler(NULL, NULL);
    hl_heap *h = hl_heap_create(NULL);
    unsigned char *p = hl_heap_malloc(h, 64);
    if (!h || !p)
        _exit(3);
    *c->shared_ptr = c->interior ? p + 1 : p;
    if (!c->interior)
        hl_heap_free(h, p);
    tu_misuse_begin();
    hl_heap_free(h, *c->shared_ptr);
    _exit(4);  /* the default handler must not return */
}

static void run_default_handler(int interior, const char *words)
{
    void **shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(shared != MAP_FAILED);
    abort_case c = {interior, shared};
    tu_child child;
    tu_run_child(child_misuse_with_default_handler, &c, &child);
    assert_true(WIFSIGNALED(child.status));
    assert_int_equal(WTERMSIG(child.status), SIGABRT);
    char addr[32];
    tu_addr(*shared, addr, sizeof addr);
    if (tu_count_lines(child.err) != 1 || !strstr(child.err, words) || !strstr(child.err, addr))
        print_error("default handler printed: [%s] (want one line with \"%s\" and %s)\n",
                    child.err, words, addr);
    assert_int_equal(tu_count_lines(child.err), 1);
    assert_int_equal(child.err[child.len - 1], '\n');
    assert_non_null(strstr(child.err, "free"));
    assert_non_null(strstr(child.err, words));
    assert_non_null(strstr(child.err, addr));
    munmap(shared, 4096);
}

static void test_default_handler_aborts_on_double_free(void **state)
{
    (void)state;
    run_default_handler(0, "double free");
}

static void test_default_handler_aborts_on_invalid_pointer(void **state)
{
    (void)state;
    run_default_handler(1, "invalid pointer");
}

/* --- the kinds' names -------------------------------------------------------------------- */

static void test_error_kind_names(void **state)
{
    (void)state;
    static const struct { int kind; const char *name; } names[] = {
        {HL_ERR_DOUBLE_FREE, "double-free"},
        {HL_ERR_INVALID_POINTER, "invalid-pointer"},
        {HL_ERR_CORRUPTED_BLOCK, "corrupted-block"},
        {HL_ERR_INVARIANT, "invariant"},
        {0, "unknown"},
        {HL_ERR_INVARIANT + 1, "unknown"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_string_equal(hl_error_kind_name((hl_error_kind)names[i].kind), names[i].name);
}

#define ERR_TEST(fn) cmocka_unit_test_setup_teardown(fn, errors_setup, tu_teardown)

int main(void)
{
    const struct CMUnitTest every_heap[] = {
        ERR_TEST(test_double_free),
        ERR_TEST(test_double_free_after_merge),
        ERR_TEST(test_interior_pointer),
        ERR_TEST(test_misaligned_pointer),
        ERR_TEST(test_foreign_pointers),
        ERR_TEST(test_bad_pointer_in_realloc_and_usable_size),
        ERR_TEST(test_corrupted_header),
        ERR_TEST(test_corrupted_footer),
        ERR_TEST(test_corrupted_footer_seen_by_neighbour),
        ERR_TEST(test_write_after_free),
        ERR_TEST(test_overflow_into_slack),
    };
    const struct CMUnitTest mapping_heaps[] = {
        ERR_TEST(test_double_free_large),
    };
    const struct CMUnitTest default_handler[] = {
        cmocka_unit_test(test_default_handler_aborts_on_double_free),
        cmocka_unit_test(test_default_handler_aborts_on_invalid_pointer),
        cmocka_unit_test(test_error_kind_names),
    };
    const int sources[] = {TU_BUF64K, TU_MMAP, TU_SBRK};
    int failed = 0;
    for (int p = 0; p < TU_POLICY_COUNT; p++) {
        for (size_t s = 0; s < sizeof sources / sizeof sources[0]; s++) {
            char name[64];
            *tu_current() = (tu_case){tu_policy(p), sources[s]};
            tu_group_name("errors", *tu_current(), name, sizeof name);
            failed += cmocka_run_group_tests_name(name, every_heap, NULL, NULL);
            if (!tu_is_buffer(sources[s])) {
                tu_group_name("errors_large", *tu_current(), name, sizeof name);
                failed += cmocka_run_group_tests_name(name, mapping_heaps, NULL, NULL);
            }
        }
    }
    failed += cmocka_run_group_tests_name("default_handler", default_handler, NULL, NULL);
    return failed != 0;
}
