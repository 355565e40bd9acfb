/*
 * test_corruption.c - what the allocator itself does when the metadata it is
 * about to use has been overwritten (by a user's overrun or a write after
 * free): it reports HL_ERR_CORRUPTED_BLOCK (or names the pointer it cannot
 * resolve), returns NULL or does nothing, and never follows the bad link.
 *
 * The checker's view of the same corruptions is test_invariants.c; here the
 * question is what malloc, free and realloc do when they meet one.  Each case
 * corrupts one thing through the private layout (hl_internal.h), makes one
 * call, asserts the report (kind, pointer, heap, operation, message), that
 * the caller's live blocks kept their contents, and, once the bytes are put
 * back, that the heap passes the checker and the same call succeeds.  Checked
 * builds add their every-op check's invariant report after the first one,
 * which tu_assert_first_error allows.
 *
 * The fixture (a 64 KiB buffer, every policy):
 *
 *   [a used][x free][c used][d used][rest free]      a..d: 64-byte requests
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */
#include <cmocka.h>     /* named here too: tests/CMakeLists.txt links cmocka to files that include it */

enum { REQ = 64 };
typedef struct corrupt_fixture {
    hl_heap *h;
    hl_config cfg;
    unsigned char *a, *x, *c, *d;
} corrupt_fixture;

static int corrupt_setup(void **state)
{
    corrupt_fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    tu_errors_install();
    f->cfg = tu_config(tu_current()->policy, tu_current()->source);
    f->h = hl_heap_create(&f->cfg);
    if (!f->h)
        return -1;
    unsigned char **slot[] = {&f->a, &f->x, &f->c, &f->d};
    for (int i = 0; i < 4; i++) {
        *slot[i] = hl_heap_malloc(f->h, REQ);
        if (!*slot[i])
            return -1;
        tu_fill(*slot[i], REQ, (uint32_t)i + 1);
    }
    hl_heap_free(f->h, f->x);   /* f->x stays as the address of a free block */
    return tu_errors()->count == 0 && hl_heap_check(f->h, NULL) == 0 ? 0 : -1;
}

static int corrupt_teardown(void **state)
{
    corrupt_fixture *f = *state;
    if (f && f->h)
        hl_heap_destroy(f->h);
    free(f);
    return 0;
}

static void assert_live_intact(const corrupt_fixture *f)
{
    tu_assert_intact(f->a, REQ, 1);
    tu_assert_intact(f->c, REQ, 3);
    tu_assert_intact(f->d, REQ, 4);
}

/* The first report carries this fragment of text too. */
static void assert_first_says(const char *words)
{
    const char *msg = tu_errors()->e[0].message;
    if (!strstr(msg, words))
        print_error("report [%s] does not say \"%s\"\n", msg, words);
    assert_non_null(strstr(msg, words));
}

/* --- a corrupted neighbour: free and realloc refuse to merge with it ------------------- */

typedef enum neighbour_damage {
    BAD_CHECK_WORD,    /* x's check word */
    BAD_FOOTER,        /* x's footer: another size */
    BAD_NEXT_LINK,     /* x->next_free outside the heap */
    BAD_PREV_LINK,     /* x->prev_free outside the heap */
    BAD_BACK_LINK,     /* x->next_free at a block that does not point back at x */
    BAD_PREV_FORWARD,  /* x->prev_free at a block (x itself) that does not point on at x */
    FAR_FOOTER,        /* x's footer: a free block reaching back before the region */
    SMALL_SIZE,        /* x's header sealed, but smaller than any block */
} neighbour_damage;
typedef enum neighbour_call { FREE_BEFORE, FREE_AFTER, REALLOC_BEFORE } neighbour_call;

typedef struct neighbour_case {
    const char *name;
    neighbour_damage damage;     /* what is overwritten in free block x */
    neighbour_call call;         /* free(a) meets x as its next, free(c) as its previous */
    const char *words;           /* what the report must say */
} neighbour_case;

static const neighbour_case neighbour_cases[] = {
    {"free: next neighbour's check word", BAD_CHECK_WORD, FREE_BEFORE, "free(): corrupted next neighbour of"},
    {"free: next neighbour's footer", BAD_FOOTER, FREE_BEFORE, "free(): corrupted next neighbour of"},
    {"free: next neighbour's links", BAD_NEXT_LINK, FREE_BEFORE, "free(): corrupted next neighbour of"},
    {"free: next neighbour's prev link", BAD_PREV_LINK, FREE_BEFORE, "free(): corrupted next neighbour of"},
    {"free: next neighbour's successor", BAD_BACK_LINK, FREE_BEFORE, "free(): corrupted next neighbour of"},
    {"free: next neighbour's predecessor", BAD_PREV_FORWARD, FREE_BEFORE, "free(): corrupted next neighbour of"},
    {"free: previous neighbour's links", BAD_NEXT_LINK, FREE_AFTER, "free(): corrupted previous neighbour of"},
    {"free: previous neighbour reaching out of the region", FAR_FOOTER, FREE_AFTER, "free(): corrupted previous neighbour of"},
    {"free: next neighbour too small", SMALL_SIZE, FREE_BEFORE, "free(): corrupted next neighbour of"},
    {"realloc: next neighbour's links", BAD_NEXT_LINK, REALLOC_BEFORE, "realloc(): corrupted next neighbour of"},
};

static size_t saved_check_word;   /* SMALL_SIZE rewrites two words */

/* Overwrites x as the case says; returns what to write back, at *where. */
static size_t damage_x(const corrupt_fixture *f, neighbour_damage d, void **where)
{
    hl_block *x = hl_payload_block(f->x);
    if (d == BAD_CHECK_WORD) {
        *where = &x->check;
        size_t saved = tu_read_word(&x->check);   /* check and slack, restored together */
        tu_flip_check(f->x, 0x40);
        return saved;
    }
    if (d == BAD_FOOTER || d == FAR_FOOTER) {
        size_t *footer = tu_footer_of(f->x);
        *where = footer;
        size_t saved = tu_read_word(footer);
        tu_write_word(footer, d == BAD_FOOTER ? saved + 16 : (size_t)1 << 20);
        return saved;
    }
    if (d == SMALL_SIZE) {   /* size_flags and check (with slack) are the first two words */
        *where = &x->size_flags;
        size_t saved = tu_read_word(&x->size_flags);
        saved_check_word = tu_read_word(&x->check);   /* restored after the size, by the caller */
        uint32_t check = hl_check_word(x, 32, 0, f->h->cookie);
        tu_write_word(&x->size_flags, 32);
        tu_poke(&x->check, &check, sizeof check);
        return saved;
    }
    /* the links are the first payload bytes of a free block: a write after free */
    bool prev = d == BAD_PREV_LINK || d == BAD_PREV_FORWARD;
    *where = prev ? (void *)&x->prev_free : (void *)&x->next_free;
    size_t saved = tu_read_word(*where);
    size_t link = d == BAD_NEXT_LINK || d == BAD_PREV_LINK ? 0x1000
                  : d == BAD_BACK_LINK ? (size_t)(uintptr_t)hl_payload_block(f->c)   /* c is used: its "prev_free" is c's data */
                  : (size_t)(uintptr_t)x;                                            /* x->next_free is not x */
    tu_write_word(*where, link);
    return saved;
}

static void test_corrupted_neighbour(void **state)
{
    corrupt_fixture *f = *state;
    for (size_t k = 0; k < sizeof neighbour_cases / sizeof neighbour_cases[0]; k++) {
        const neighbour_case *nc = &neighbour_cases[k];
        void *where;
        size_t saved = damage_x(f, nc->damage, &where);
        unsigned char *victim = nc->call == FREE_AFTER ? f->c : f->a;
        hl_stats before = tu_stats(f->h);

        tu_errors_clear();
        tu_misuse_begin();
        if (nc->call == REALLOC_BEFORE) {
            errno = 0;
            assert_null(hl_heap_realloc(f->h, victim, 100));   /* 100 needs x's bytes */
            assert_int_equal(errno, EINVAL);
        } else {
            hl_heap_free(f->h, victim);
        }
        tu_misuse_end();
        tu_assert_first_error(HL_ERR_CORRUPTED_BLOCK, victim, f->h,
                              nc->call == REALLOC_BEFORE ? "realloc" : "free");
        assert_first_says(nc->words);
        hl_stats after = tu_stats(f->h);
        assert_int_equal(after.blocks_in_use, before.blocks_in_use);   /* the victim is still live */
        assert_int_equal(after.blocks_free, before.blocks_free);
        assert_int_equal(after.merges, before.merges);
        assert_live_intact(f);

        tu_write_word(where, saved);
        if (nc->damage == SMALL_SIZE)
            tu_write_word(&hl_payload_block(f->x)->check, saved_check_word);
        tu_assert_heap_ok(f->h);
    }
    /* with x sound again, both calls merge with it */
    tu_errors_clear();
    hl_stats before = tu_stats(f->h);
    unsigned char *a = hl_heap_realloc(f->h, f->a, 100);
    assert_ptr_equal(a, f->a);   /* grown in place into x */
    tu_assert_intact(a, REQ, 1);
    hl_heap_free(f->h, f->c);   /* merges with the tail realloc gave back */
    assert_int_equal(tu_stats(f->h).merges, before.merges + 2);
    tu_assert_no_errors();
    tu_assert_heap_ok(f->h);
}

/* --- a corrupted free list seen by malloc ------------------------------------------------ */

/* x heads the list a 64-byte request searches first in every policy: malloc
 * meets what is there before anything else, reports it and fails. */
typedef enum list_damage { HEAD_BAD_CHECK, HEAD_IS_USED, HEAD_MISALIGNED, HEAD_FOREIGN } list_damage;

static void test_malloc_meets_corrupted_free_list(void **state)
{
    corrupt_fixture *f = *state;
    static _Alignas(16) unsigned char foreign[128];
    hl_heap *h = f->h;
    hl_block *x = hl_payload_block(f->x);
    size_t i = hl__list_index(h, tu_block_size(REQ));
    assert_ptr_equal(h->lists[i], x);
    const struct { list_damage damage; hl_block *node; } cases[] = {
        {HEAD_BAD_CHECK, x},
        {HEAD_IS_USED, hl_payload_block(f->a)},
        {HEAD_MISALIGNED, (hl_block *)((char *)x + 8)},
        {HEAD_FOREIGN, (hl_block *)foreign},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        hl_stats before = tu_stats(h);
        if (cases[k].damage == HEAD_BAD_CHECK)
            tu_flip_check(f->x, 0x80);
        else
            h->lists[i] = cases[k].node;
        tu_errors_clear();
        errno = 0;
        assert_null(hl_heap_malloc(h, REQ));
        assert_int_equal(errno, ENOMEM);
        tu_assert_first_error(HL_ERR_CORRUPTED_BLOCK, hl_block_payload(cases[k].node), h, "malloc");
        assert_first_says("malloc(): corrupted free list at");
        assert_int_equal(tu_stats(h).failures, before.failures + 1);
        assert_live_intact(f);
        if (cases[k].damage == HEAD_BAD_CHECK)
            tu_flip_check(f->x, 0x80);
        else
            h->lists[i] = x;
        tu_assert_heap_ok(h);
    }
    tu_errors_clear();
    assert_ptr_equal(hl_heap_malloc(h, REQ), f->x);   /* the block it refused, sound again */
    tu_assert_no_errors();
}

/* A free list that loops (first and best fit walk one list): a search that
 * finds nothing ends after as many steps as there are free blocks. */
static void test_malloc_on_a_looping_list_terminates(void **state)
{
    corrupt_fixture *f = *state;
    hl_block *x = hl_payload_block(f->x);
    size_t saved = tu_read_word(&x->next_free);
    tu_write_word(&x->next_free, (size_t)(uintptr_t)x);   /* x -> x -> x ... */
    tu_errors_clear();
    errno = 0;
    assert_null(hl_heap_malloc(f->h, 30000));   /* only the unreachable rest could hold it */
    assert_int_equal(errno, ENOMEM);
    if (hl_checked_build()) {
        assert_true(tu_errors()->count >= 1);
        assert_int_equal(tu_errors()->e[0].kind, HL_ERR_INVARIANT);
        assert_int_equal(tu_errors()->e[0].report_id, HL_INV_LIST_LINKS);
    }
    assert_live_intact(f);
    tu_write_word(&x->next_free, saved);
    tu_assert_heap_ok(f->h);
    tu_errors_clear();
    void *p = hl_heap_malloc(f->h, 30000);
    assert_non_null(p);
    tu_assert_no_errors();
}

/* --- segregated fit: bitmaps that lie --------------------------------------------------- */

static void test_bitmap_names_an_empty_list(void **state)
{
    corrupt_fixture *f = *state;
    hl_heap *h = f->h;
    unsigned fl, sl;
    hl__tlsf_mapping(tu_block_size(80), &fl, &sl);   /* the class just above x's */
    size_t i = (size_t)fl * HL_SL_COUNT + sl;
    assert_null(h->lists[i]);
    uint32_t saved = h->sl_bitmap[fl];
    h->sl_bitmap[fl] |= 1u << sl;
    tu_errors_clear();
    errno = 0;
    assert_null(hl_heap_malloc(h, 80));
    assert_int_equal(errno, ENOMEM);
    tu_error_log *log = tu_errors();
    assert_true(log->count >= 1);
    assert_int_equal(log->e[0].kind, HL_ERR_CORRUPTED_BLOCK);
    assert_null(log->e[0].ptr);
    assert_ptr_equal(log->e[0].heap, h);
    assert_string_equal(log->e[0].operation, "malloc");
    assert_first_says("segregated-fit bitmap says list");
    assert_first_says("but it is empty");
    if (hl_checked_build()) {
        assert_int_equal(log->count, 2);
        assert_int_equal(log->e[1].report_id, HL_INV_BITMAP);
    }
    h->sl_bitmap[fl] = saved;
    tu_assert_heap_ok(h);
}

static void test_bitmap_names_an_empty_level(void **state)
{
    corrupt_fixture *f = *state;
    hl_heap *h = f->h;
    unsigned fl, sl;
    hl__tlsf_mapping(tu_block_size(300) + 15, &fl, &sl);   /* where a 300-byte search starts */
    assert_int_equal(h->sl_bitmap[fl], 0);
    assert_int_equal(h->sl_bitmap[fl + 1], 0);
    uint64_t saved = h->fl_bitmap;
    h->fl_bitmap |= 1ull << (fl + 1);   /* a level with no list marked */
    tu_errors_clear();
    errno = 0;
    assert_null(hl_heap_malloc(h, 300));
    assert_int_equal(errno, ENOMEM);
    tu_error_log *log = tu_errors();
    assert_true(log->count >= 1);
    assert_int_equal(log->e[0].kind, HL_ERR_CORRUPTED_BLOCK);
    assert_string_equal(log->e[0].operation, "malloc");
    char words[64];
    snprintf(words, sizeof words, "bitmaps are corrupted (first level %u)", fl + 1);
    assert_first_says(words);

    /* a bit beyond the last first level, above the request's */
    h->fl_bitmap = saved | 1ull << 40;
    tu_errors_clear();
    assert_null(hl_heap_malloc(h, 100000));
    assert_true(tu_errors()->count >= 1);
    assert_int_equal(tu_errors()->e[0].kind, HL_ERR_CORRUPTED_BLOCK);
    assert_first_says("bitmaps are corrupted (first level 40)");
    assert_int_equal(tu_stats(h).largest_free, 0);   /* the highest level is no level */

    /* the same lie at the top level: largest_free asks the highest level */
    h->fl_bitmap = saved | 1ull << (HL_FL_COUNT - 1);
    assert_int_equal(h->sl_bitmap[HL_FL_COUNT - 1], 0);
    assert_int_equal(tu_stats(h).largest_free, 0);   /* not a wild read; the checker says why */
    hl_check_report r;
    assert_int_equal(hl_heap_check(h, &r), HL_INV_BITMAP);
    h->fl_bitmap = saved;
    tu_assert_heap_ok(h);
    assert_true(tu_stats(h).largest_free > 30000);
}

/* A request whose rounded-up class is empty but whose own class holds a block
 * big enough (the rest of the buffer): segregated fit finds it there, and
 * reports it there when its header is bad. */
static void test_own_class_search(void **state)
{
    corrupt_fixture *f = *state;
    hl_heap *h = f->h;
    tu_walk *w = tu_walk_new(h);
    const hl_walk_info *rest = &w->e[w->count - 1];
    assert_int_equal(rest->kind, HL_WALK_BLOCK);
    assert_false(rest->used);
    unsigned char *payload = (unsigned char *)rest->payload;
    size_t n = rest->usable - 16;
    free(w);
    unsigned own_fl, own_sl, up_fl, up_sl;
    hl__tlsf_mapping(tu_block_size(n), &own_fl, &own_sl);
    hl__tlsf_mapping(tu_block_size(n) + ((size_t)1 << (63 - __builtin_clzll(tu_block_size(n)) - HL_SL_LOG2)) - 1,
                     &up_fl, &up_sl);
    assert_true(up_fl * HL_SL_COUNT + up_sl > own_fl * HL_SL_COUNT + own_sl);   /* the search skips its own class */
    tu_flip_check(payload, 0x2);
    tu_errors_clear();
    assert_null(hl_heap_malloc(h, n));
    tu_assert_first_error(HL_ERR_CORRUPTED_BLOCK, payload, h, "malloc");
    assert_first_says("malloc(): corrupted free list at");
    tu_flip_check(payload, 0x2);
    tu_assert_heap_ok(h);
    tu_errors_clear();
    assert_ptr_equal(hl_heap_malloc(h, n), payload);
    tu_assert_no_errors();
    tu_assert_heap_ok(h);
}

/* --- the heap header's policy overwritten -------------------------------------------------- */

static void test_unknown_policy_fails_cleanly(void **state)
{
    corrupt_fixture *f = *state;
    hl_heap *h = f->h;
    hl_policy saved = h->cfg.policy;
    h->cfg.policy = (hl_policy)7;
    tu_errors_clear();
    errno = 0;
    assert_null(hl_heap_malloc(h, 32));   /* no policy finds a block; a buffer cannot grow */
    assert_int_equal(errno, ENOMEM);
    if (hl_checked_build()) {
        assert_int_equal(tu_errors()->count, 1);
        assert_int_equal(tu_errors()->e[0].report_id, HL_INV_REGION);
    }
    hl_check_report r;
    assert_int_equal(hl_heap_check(h, &r), HL_INV_REGION);
    assert_non_null(strstr(r.message, "the heap header is bad"));
    h->cfg.policy = saved;
    tu_assert_heap_ok(h);
    assert_live_intact(f);
}

/* --- pointers the allocator cannot resolve ---------------------------------------------------- */

/* free() of the address of the region's first block header. */
static void test_pointer_at_region_header(void **state)
{
    corrupt_fixture *f = *state;
    unsigned char *p = f->a - HL_HEADER;
    assert_ptr_equal(hl_payload_block(f->a), hl_region_first(f->h->regions));
    hl_stats before = tu_stats(f->h);
    tu_errors_clear();
    tu_misuse_begin();
    hl_heap_free(f->h, p);
    tu_misuse_end();
    tu_assert_one_error(HL_ERR_INVALID_POINTER, p, f->h, "free");
    assert_first_says("points at a region header");
    assert_int_equal(tu_stats(f->h).blocks_in_use, before.blocks_in_use);
    assert_live_intact(f);
    tu_assert_heap_ok(f->h);
}

/* An interior pointer whose region has a broken header before it: the
 * diagnosis cannot walk as far as the pointer, and says so. */
static void test_corrupted_before_pointer(void **state)
{
    corrupt_fixture *f = *state;
    unsigned char *p = f->c + 16;
    hl_block *a = hl_payload_block(f->a);
    size_t saved[2] = {tu_read_word(&a->size_flags), tu_read_word(&a->check)};
    /* a's header: a bad check word; or sealed, but too small; or sealed, but running past the region */
    const size_t sizes[] = {0, 32 | HL_USED, ((size_t)1 << 30) | HL_USED};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        if (k == 0) {
            tu_flip_check(f->a, 0x10);
        } else {
            uint32_t slack = 0;
            uint32_t check = hl_check_word(a, sizes[k], slack, f->h->cookie);
            tu_write_word(&a->size_flags, sizes[k]);
            tu_poke(&a->check, &check, sizeof check);
            tu_poke(&a->slack, &slack, sizeof slack);
        }
        tu_errors_clear();
        tu_misuse_begin();
        hl_heap_free(f->h, p);
        tu_misuse_end();
        tu_assert_first_error(HL_ERR_CORRUPTED_BLOCK, p, f->h, "free");
        assert_first_says("the heap is corrupted before this block");
        tu_write_word(&a->size_flags, saved[0]);
        tu_write_word(&a->check, saved[1]);
        tu_assert_heap_ok(f->h);
    }
    assert_live_intact(f);
}

/* A block freed, then passed to realloc and usable_size: a double free, named
 * for the operation that met it. */
static void test_stale_pointer_in_realloc_and_usable_size(void **state)
{
    corrupt_fixture *f = *state;
    tu_errors_clear();
    tu_misuse_begin();
    errno = 0;
    assert_null(hl_heap_realloc(f->h, f->x, 10));
    assert_int_equal(errno, EINVAL);
    tu_assert_one_error(HL_ERR_DOUBLE_FREE, f->x, f->h, "realloc");
    tu_errors_clear();
    assert_int_equal(hl_heap_usable_size(f->h, f->x), 0);
    tu_assert_one_error(HL_ERR_DOUBLE_FREE, f->x, f->h, "usable_size");
    tu_misuse_end();
    assert_live_intact(f);
    tu_assert_heap_ok(f->h);
}

/* --- large blocks: their header and their list ---------------------------------------------- */

static void test_corrupted_large_block(void **state)
{
    tu_fixture *f = *state;
    unsigned char *p = hl_heap_malloc(f->h, 200 * 1024);
    assert_non_null(p);
    tu_fill(p, 100, 9);
    hl_block *b = hl_payload_block(p);
    size_t *footer = tu_footer_of(p);
    void *const spots[] = {&b->check, footer};
    for (size_t k = 0; k < 2; k++) {
        size_t saved = tu_read_word(spots[k]);
        tu_write_word(spots[k], saved ^ 0x1000);
        tu_errors_clear();
        tu_misuse_begin();
        hl_heap_free(f->h, p);
        tu_misuse_end();
        tu_assert_first_error(HL_ERR_CORRUPTED_BLOCK, p, f->h, "free");
        assert_first_says("the header of its mapping was overwritten");
        assert_int_equal(tu_stats(f->h).large_blocks, 1);   /* not unmapped */
        tu_write_word(spots[k], saved);
        tu_assert_heap_ok(f->h);
    }
    tu_assert_intact(p, 100, 9);

    /* a foreign pointer, with the large list unreadable: still "not ours" */
    static _Alignas(16) unsigned char foreign[64];
    hl_large *l = hl_block_large_header(b);
    size_t magic = tu_read_word(&l->magic);
    tu_write_word(&l->magic, magic ^ 1);
    tu_errors_clear();
    hl_heap_free(f->h, foreign);
    tu_assert_first_error(HL_ERR_INVALID_POINTER, foreign, f->h, "free");
    assert_first_says("not allocated by this heap");
    tu_write_word(&l->magic, magic);
    tu_assert_heap_ok(f->h);

    /* inside the mapping, but not its payload */
    tu_errors_clear();
    hl_heap_free(f->h, p + 4096);
    tu_assert_one_error(HL_ERR_INVALID_POINTER, p + 4096, f->h, "free");
    assert_first_says("points inside a large block, not at its start");

    /* shrunk below the threshold, it moves into a region and its mapping goes */
    tu_errors_clear();
    unsigned char *q = hl_heap_realloc(f->h, p, 100);
    assert_non_null(q);
    assert_true(q != p);
    tu_assert_intact(q, 100, 9);
    hl_stats st = tu_stats(f->h);
    assert_int_equal(st.large_blocks, 0);
    assert_int_equal(st.regions, 1);
    hl_heap_free(f->h, q);
    tu_assert_no_errors();
    tu_assert_heap_ok(f->h);
}

#define CORRUPT_TEST(fn) cmocka_unit_test_setup_teardown(fn, corrupt_setup, corrupt_teardown)

int main(void)
{
    const struct CMUnitTest every_policy[] = {
        CORRUPT_TEST(test_corrupted_neighbour),
        CORRUPT_TEST(test_malloc_meets_corrupted_free_list),
        CORRUPT_TEST(test_unknown_policy_fails_cleanly),
        CORRUPT_TEST(test_pointer_at_region_header),
        CORRUPT_TEST(test_corrupted_before_pointer),
        CORRUPT_TEST(test_stale_pointer_in_realloc_and_usable_size),
    };
    const struct CMUnitTest one_list[] = {
        CORRUPT_TEST(test_malloc_on_a_looping_list_terminates),
    };
    const struct CMUnitTest segregated[] = {
        CORRUPT_TEST(test_bitmap_names_an_empty_list),
        CORRUPT_TEST(test_bitmap_names_an_empty_level),
        CORRUPT_TEST(test_own_class_search),
    };
    const struct CMUnitTest mapped[] = {
        cmocka_unit_test_setup_teardown(test_corrupted_large_block, tu_setup, tu_teardown),
    };
    char name[64];
    int failed = 0;
    for (int p = 0; p < TU_POLICY_COUNT; p++) {
        *tu_current() = (tu_case){tu_policy(p), TU_BUF64K};
        failed += cmocka_run_group_tests_name(tu_group_name("corruption", *tu_current(), name, sizeof name),
                                              every_policy, NULL, NULL);
        if (tu_policy(p) != HL_SEGREGATED_FIT)
            failed += cmocka_run_group_tests_name(tu_group_name("corruption-list", *tu_current(), name, sizeof name),
                                                  one_list, NULL, NULL);
        *tu_current() = (tu_case){tu_policy(p), TU_MMAP};
        failed += cmocka_run_group_tests_name(tu_group_name("corruption-large", *tu_current(), name, sizeof name),
                                              mapped, NULL, NULL);
    }
    *tu_current() = (tu_case){HL_SEGREGATED_FIT, TU_BUF64K};
    failed += cmocka_run_group_tests_name(tu_group_name("corruption-tlsf", *tu_current(), name, sizeof name),
                                          segregated, NULL, NULL);
    return failed != 0;
}
