/*
 * test_hostile.c - every misuse and absurd argument, as a table.
 *
 * Each row names one hostile call and its expected outcome: a NULL result with
 * an errno, a report of a given kind to the error handler, or acceptance.
 * Every row runs on every policy, on an mmap heap capped at CAP bytes that
 * holds LIVE blocks with known contents plus a victim block the row may
 * misuse, and the runner checks, the same way for every row:
 *   - the outcome the row expects, and nothing else reported;
 *   - every other live block keeps its contents (the victim too, unless the
 *     row freed it), and the block counts did not move;
 *   - hl_heap_check passes; for the rows that corrupt the heap themselves, it
 *     names the expected invariant until the row's bytes are put back, then
 *     passes.
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */
#include <cmocka.h>     /* named here too: tests/CMakeLists.txt links cmocka to files that include it */

#define CAP ((size_t)1024 * 1024)
enum { LIVE = 4, VICTIM_SIZE = 120 };
static const size_t live_size[LIVE] = {40, 700, 3000, 90};

typedef struct hostile_row hostile_row;
typedef struct hostile {
    const hostile_row *row;
    hl_heap *h;
    unsigned char *live[LIVE];
    unsigned char *victim;
    int victim_freed;     /* the row freed the victim legitimately first */
    void *result;         /* what the hostile call returned, if a pointer */
    int err;              /* errno right after it */
    const void *bad;      /* the pointer the hostile call passed */
    void *undo_at;        /* corruption rows: bytes to put back ... */
    unsigned char undo[16];
    size_t undo_len;
} hostile;

struct hostile_row {
    const char *name;
    void (*act)(hostile *x);
    int null_errno;       /* nonzero: the call returns NULL with this errno */
    hl_error_kind kind;   /* nonzero: the handler gets this kind, for x->bad */
    const char *op;       /* ... from this operation */
    int invariant;        /* nonzero: the row corrupts the heap, the check names this */
};

/* --- the actions -------------------------------------------------------------------- */

static void free_bad(hostile *x, const void *p)
{
    x->bad = p;
    tu_misuse_begin();
    hl_heap_free(x->h, (void *)p);
    tu_misuse_end();
}

static void call_done(hostile *x, void *result)
{
    x->err = errno;
    x->result = result;
}

static void act_free_interior(hostile *x) { free_bad(x, x->victim + 16); }
static void act_free_interior_plus_one(hostile *x) { free_bad(x, x->victim + 1); }
static void act_free_misaligned(hostile *x) { free_bad(x, x->victim + 8); }

static void act_double_free(hostile *x)
{
    hl_heap_free(x->h, x->victim);
    x->victim_freed = 1;
    free_bad(x, x->victim);
}

static void act_free_stack(hostile *x)
{
    _Alignas(16) unsigned char local[128];
    memset(local, 0x11, sizeof local);
    free_bad(x, local + 32);
    /* compared while the frame lives; the runner checks the rest */
    assert_int_equal(tu_errors()->count, 1);
    assert_ptr_equal(tu_errors()->e[0].ptr, local + 32);
    x->bad = NULL;
}

static _Alignas(16) unsigned char global_bytes[128];
static void act_free_global(hostile *x) { free_bad(x, global_bytes + 32); }

static void act_free_glibc(hostile *x)
{
    void *g = malloc(64);
    assert_non_null(g);
    free_bad(x, g);
    free(g);
}

static void act_free_other_heap(hostile *x)
{
    hl_heap *other = hl_heap_create(NULL);
    assert_non_null(other);
    void *q = hl_heap_malloc(other, 64);
    assert_non_null(q);
    free_bad(x, q);
    hl_heap_destroy(other);
}

static void act_realloc_freed(hostile *x)
{
    hl_heap_free(x->h, x->victim);
    x->victim_freed = 1;
    x->bad = x->victim;
    errno = 0;
    tu_misuse_begin();
    call_done(x, hl_heap_realloc(x->h, x->victim, 200));
    tu_misuse_end();
}

static void act_realloc_interior(hostile *x)
{
    x->bad = x->victim + 16;
    errno = 0;
    tu_misuse_begin();
    call_done(x, hl_heap_realloc(x->h, x->victim + 16, 200));
    tu_misuse_end();
}

static void act_usable_size_interior(hostile *x)
{
    x->bad = x->victim + 32;
    tu_misuse_begin();
    size_t n = hl_heap_usable_size(x->h, x->victim + 32);
    tu_misuse_end();
    assert_int_equal(n, 0);
}

static void act_calloc_overflow(hostile *x)
{
    errno = 0;
    call_done(x, hl_heap_calloc(x->h, ((size_t)1 << 62) + 1, 4));
}

static void act_malloc_size_max(hostile *x)
{
    errno = 0;
    call_done(x, hl_heap_malloc(x->h, SIZE_MAX));
}

static void act_malloc_ptrdiff_max_plus_one(hostile *x)
{
    errno = 0;
    call_done(x, hl_heap_malloc(x->h, (size_t)PTRDIFF_MAX + 1));
}

static void act_realloc_size_max(hostile *x)
{
    errno = 0;
    call_done(x, hl_heap_realloc(x->h, x->victim, SIZE_MAX));
}

/* Under the cap by less than the heap's own overhead plus what is in use. */
static void act_malloc_just_under_cap(hostile *x)
{
    errno = 0;
    call_done(x, hl_heap_malloc(x->h, CAP - 64));
}

static void act_realloc_just_under_cap(hostile *x)
{
    errno = 0;
    call_done(x, hl_heap_realloc(x->h, x->victim, CAP - 64));
}

static void act_aligned_alloc_0(hostile *x)
{
    errno = 0;
    call_done(x, hl_heap_aligned_alloc(x->h, 0, 64));
}

static void act_aligned_alloc_3(hostile *x)
{
    errno = 0;
    call_done(x, hl_heap_aligned_alloc(x->h, 3, 64));
}

static void act_aligned_alloc_2_40(hostile *x)
{
    errno = 0;
    call_done(x, hl_heap_aligned_alloc(x->h, (size_t)1 << 40, 64));
}

static hl_policy row_policy(void) { return tu_current()->policy; }

static void create_on(hostile *x, void *buf, size_t size)
{
    hl_config cfg = tu_config(row_policy(), TU_MMAP);
    cfg.source = HL_SOURCE_BUFFER;
    cfg.buffer = buf;
    cfg.buffer_size = size;
    errno = 0;
    call_done(x, hl_heap_create(&cfg));
}

static void act_buffer_too_small(hostile *x)
{
    static _Alignas(16) unsigned char buf[HL_BUFFER_MIN];
    create_on(x, buf, HL_BUFFER_MIN - 1);
}

static void act_buffer_null(hostile *x) { create_on(x, NULL, 64 * 1024); }

/* Accepted: the heap aligns inward and every block stays inside. */
static void act_buffer_unaligned(hostile *x)
{
    static _Alignas(16) unsigned char buf[16 * 1024];
    create_on(x, buf + 5, sizeof buf - 5);
    hl_heap *h = x->result;
    assert_non_null(h);
    size_t n = 0;
    void *blocks[64];
    while (n < 64 && (blocks[n] = hl_heap_malloc(h, 200)) != NULL) {
        unsigned char *p = blocks[n++];
        assert_int_equal((uintptr_t)p % HL_ALIGNMENT, 0);
        assert_true(p >= buf + 5 && p + 200 <= buf + sizeof buf);
    }
    assert_true(n >= 32);  /* 16 KiB holds at least 32 blocks of 200 */
    tu_assert_heap_ok(h);
    for (size_t i = 0; i < n; i++)
        hl_heap_free(h, blocks[i]);
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
}

static void corrupt(hostile *x, void *at, size_t len)
{
    x->undo_at = at;
    x->undo_len = len;
    tu_peek(x->undo, at, len);
}

static void act_corrupted_header(hostile *x)
{
    corrupt(x, hl_payload_block(x->victim), HL_HEADER);
    tu_flip_check(x->victim, 0x00FF00FFu);
    free_bad(x, x->victim);
}

static void act_corrupted_footer(hostile *x)
{
    size_t *footer = tu_footer_of(x->victim);
    corrupt(x, footer, sizeof *footer);
    tu_write_word(footer, tu_read_word(footer) ^ ((size_t)HL_ALIGN << 4));
    free_bad(x, x->victim);
}

#define ROW_FREE(name, act, kind) {name, act, 0, kind, "free", 0}
#define ROW_NULL(name, act, err) {name, act, err, 0, NULL, 0}
static const hostile_row rows[] = {
    ROW_FREE("free interior pointer p+16", act_free_interior, HL_ERR_INVALID_POINTER),
    ROW_FREE("free interior pointer p+1", act_free_interior_plus_one, HL_ERR_INVALID_POINTER),
    ROW_FREE("free misaligned pointer p+8", act_free_misaligned, HL_ERR_INVALID_POINTER),
    ROW_FREE("double free", act_double_free, HL_ERR_DOUBLE_FREE),
    ROW_FREE("free stack pointer", act_free_stack, HL_ERR_INVALID_POINTER),
    ROW_FREE("free global pointer", act_free_global, HL_ERR_INVALID_POINTER),
    ROW_FREE("free glibc malloc pointer", act_free_glibc, HL_ERR_INVALID_POINTER),
    ROW_FREE("free pointer from another heap", act_free_other_heap, HL_ERR_INVALID_POINTER),
    {"realloc of a freed block", act_realloc_freed, EINVAL, HL_ERR_DOUBLE_FREE, "realloc", 0},
    {"realloc of an interior pointer", act_realloc_interior, EINVAL, HL_ERR_INVALID_POINTER, "realloc", 0},
    {"usable_size of an interior pointer", act_usable_size_interior, 0, HL_ERR_INVALID_POINTER, "usable_size", 0},
    ROW_NULL("calloc overflow", act_calloc_overflow, ENOMEM),
    ROW_NULL("malloc SIZE_MAX", act_malloc_size_max, ENOMEM),
    ROW_NULL("malloc PTRDIFF_MAX+1", act_malloc_ptrdiff_max_plus_one, ENOMEM),
    ROW_NULL("realloc SIZE_MAX", act_realloc_size_max, ENOMEM),
    ROW_NULL("malloc just under the cap", act_malloc_just_under_cap, ENOMEM),
    ROW_NULL("realloc just under the cap", act_realloc_just_under_cap, ENOMEM),
    ROW_NULL("aligned_alloc alignment 0", act_aligned_alloc_0, EINVAL),
    ROW_NULL("aligned_alloc alignment 3", act_aligned_alloc_3, EINVAL),
    ROW_NULL("aligned_alloc alignment 2^40", act_aligned_alloc_2_40, ENOMEM),
    ROW_NULL("heap on a buffer too small", act_buffer_too_small, EINVAL),
    ROW_NULL("heap on a NULL buffer", act_buffer_null, EINVAL),
    {"heap on an unaligned buffer (accepted)", act_buffer_unaligned, 0, 0, NULL, 0},
    {"corrupted header", act_corrupted_header, 0, HL_ERR_CORRUPTED_BLOCK, "free", HL_INV_MAGIC},
    {"corrupted footer", act_corrupted_footer, 0, HL_ERR_CORRUPTED_BLOCK, "free", HL_INV_FOOTER},
};
enum { ROWS = sizeof rows / sizeof rows[0] };

/* --- the runner ------------------------------------------------------------------------- */

static int row_setup(void **state)
{
    const hostile_row *row = *state;
    hostile *x = calloc(1, sizeof *x);
    *state = x;   /* whatever was made, the teardown releases */
    if (!x)
        return -1;
    hl_config cfg = tu_config(row_policy(), TU_MMAP);
    cfg.max_bytes = CAP;
    cfg.grow_size = 64 * 1024;
    tu_errors_install();
    x->row = row;
    x->h = hl_heap_create(&cfg);
    if (!x->h)
        return -1;
    for (int i = 0; i < LIVE; i++) {
        x->live[i] = hl_heap_malloc(x->h, live_size[i]);
        if (!x->live[i])
            return -1;
        tu_fill(x->live[i], live_size[i], (uint32_t)i + 1);
        if (i == 1) {  /* the victim sits between live blocks */
            x->victim = hl_heap_malloc(x->h, VICTIM_SIZE);
            if (!x->victim)
                return -1;
            tu_fill(x->victim, VICTIM_SIZE, 77);
        }
    }
    return 0;
}

static int row_teardown(void **state)
{
    hostile *x = *state;
    if (!x)
        return 0;
    if (x->h)
        hl_heap_destroy(x->h);
    free(x);
    return 0;
}

static void assert_outcome(const hostile_row *row, hostile *x)
{
    if (row->null_errno) {
        assert_null(x->result);
        assert_int_equal(x->err, row->null_errno);
    }
    if (row->kind == 0) {
        tu_assert_no_errors();
        if (!row->null_errno && row->act != act_usable_size_interior)
            assert_non_null(x->result);
    } else if (row->invariant) {
        tu_assert_first_error(row->kind, x->bad, x->h, row->op);
    } else if (x->bad) {
        tu_assert_one_error(row->kind, x->bad, x->h, row->op);
    } else {
        /* a stack pointer, compared inside its frame: kind, heap and op here */
        assert_int_equal(tu_errors()->count, 1);
        assert_int_equal(tu_errors()->e[0].kind, row->kind);
        assert_ptr_equal(tu_errors()->e[0].heap, x->h);
        assert_string_equal(tu_errors()->e[0].operation, row->op);
    }
}

static void assert_check_names(const hl_heap *h, int invariant)
{
    hl_check_report r;
    memset(&r, 0, sizeof r);
    int id = hl_heap_check(h, &r);
    if (id != invariant)
        print_error("check found %s, expected %s: %s\n", hl_invariant_name(id),
                    hl_invariant_name(invariant), r.message);
    assert_int_equal(id, invariant);
    assert_true(strlen(r.message) > 0);
}

static void run_row(void **state)
{
    hostile *x = *state;
    const hostile_row *row = x->row;
    hl_stats before = tu_stats(x->h);

    row->act(x);
    assert_outcome(row, x);

    for (int i = 0; i < LIVE; i++)
        tu_assert_intact(x->live[i], live_size[i], (uint32_t)i + 1);
    if (!x->victim_freed)
        tu_assert_intact(x->victim, VICTIM_SIZE, 77);
    hl_stats after = tu_stats(x->h);
    assert_int_equal(after.blocks_in_use, before.blocks_in_use - (size_t)x->victim_freed);
    assert_int_equal(after.large_blocks, before.large_blocks);
    assert_true(after.source_bytes <= CAP);

    if (row->invariant) {
        assert_check_names(x->h, row->invariant);
        tu_poke(x->undo_at, x->undo, x->undo_len);
    }
    tu_assert_heap_ok(x->h);
    if (!x->victim_freed) {  /* the victim is still an ordinary live block */
        tu_errors_clear();
        hl_heap_free(x->h, x->victim);
        tu_assert_no_errors();
        tu_assert_heap_ok(x->h);
    }
}

int main(void)
{
    struct CMUnitTest tests[ROWS];
    for (size_t i = 0; i < ROWS; i++) {
        memset(&tests[i], 0, sizeof tests[i]);
        tests[i].name = rows[i].name;
        tests[i].test_func = run_row;
        tests[i].setup_func = row_setup;
        tests[i].teardown_func = row_teardown;
        tests[i].initial_state = (void *)&rows[i];
    }
    int failed = 0;
    for (int p = 0; p < TU_POLICY_COUNT; p++) {
        char name[64];
        *tu_current() = (tu_case){tu_policy(p), TU_MMAP};
        failed += cmocka_run_group_tests_name(tu_group_name("hostile", *tu_current(), name, sizeof name),
                                              tests, NULL, NULL);
    }
    return failed != 0;
}
