/*
 * test_invariants.c - the heap checker: one test per invariant, robustness
 * against hostile metadata, clean heaps, and the report.
 *
 * Each invariant test builds a heap through the public API, corrupts it in
 * exactly one way through the private layout (hl_internal.h), and asserts
 * that hl_heap_check returns that invariant's id, that the report names it
 * and points at the corrupted block.  Where the corruption forges a header,
 * the test recomputes the check word (or a region's seal) so that the
 * intended invariant, not MAGIC, is the one hit.  Every write goes through
 * an undo log: the test then puts the bytes back and asserts the heap passes
 * again, which proves the corruption was the only thing wrong.
 *
 * The fixture heap (a 64 KiB buffer, each policy):
 *
 *   [a0 used][a1 free][a2 used][a3 free][a4 used][a5 free][a6 used][a7 used][rest free]
 *
 * a0..a7 were 64-byte requests (96-byte blocks); a1, a3, a5 sit in one list.
 *
 * FREE_FILL and CANARY are checked-build features: the tests assert them when
 * hl_checked_build() is 1 and assert that the structural check passes when it
 * is 0, so this file compiles and means something in both builds.  The error
 * handler records and returns, so the every-op check of checked builds never
 * aborts the test.
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */
#include <cmocka.h>     /* named here too: tests/CMakeLists.txt links cmocka to files that include it */

#include <inttypes.h>
#include <sys/mman.h>

/* --- reading metadata ----------------------------------------------------------
 *
 * Headers, footers, free blocks and slack are off limits to a program: memcheck
 * and ASan builds mark them so (src/hl_track.h).  This test reads and writes
 * them on purpose, so every such access goes through tu_peek and tu_poke,
 * which memcheck does not report and ASan does not instrument.  (The heap
 * header is not marked; it is read directly.)
 */

static size_t rd_size(const void *at) { return tu_read_word(at); }
static uint32_t rd_u32(const void *at) { uint32_t v; tu_peek(&v, at, sizeof v); return v; }
static uint64_t rd_u64(const void *at) { uint64_t v; tu_peek(&v, at, sizeof v); return v; }
static void *rd_ptr(const void *at) { void *v; tu_peek(&v, at, sizeof v); return v; }

static size_t sflags(const hl_block *b) { return rd_size(&b->size_flags); }
static size_t bsize(const hl_block *b) { return sflags(b) & ~HL_FLAGS; }
static uint32_t bslack(const hl_block *b) { return rd_u32(&b->slack); }
static uint32_t bcheck(const hl_block *b) { return rd_u32(&b->check); }
static size_t busable(const hl_block *b) { return bsize(b) - HL_OVERHEAD; }
static size_t *bfooter(const hl_block *b) { return (size_t *)((char *)b + bsize(b) - HL_FOOTER); }
static hl_block *bnext(const hl_block *b) { return (hl_block *)((char *)b + bsize(b)); }
static hl_block *next_free(const hl_block *b) { return rd_ptr(&b->next_free); }
static hl_block *epilogue(const hl_region *r) { return (hl_block *)((char *)r + rd_size(&r->size) - HL_EPILOGUE); }

/* --- the undo log ------------------------------------------------------------- */

enum { UNDO_MAX = 24, UNDO_BYTES = 16 };
typedef struct undo_entry { void *at; size_t len; unsigned char old[UNDO_BYTES]; } undo_entry;
static struct { int n; undo_entry e[UNDO_MAX]; } undo;

static void poke(void *at, const void *value, size_t len)
{
    assert_true(undo.n < UNDO_MAX);
    assert_true(len <= UNDO_BYTES);
    undo_entry *e = &undo.e[undo.n++];
    e->at = at;
    e->len = len;
    tu_peek(e->old, at, len);
    tu_poke(at, value, len);
}

static void poke_size(size_t *at, size_t v) { poke(at, &v, sizeof v); }
static void poke_u32(uint32_t *at, uint32_t v) { poke(at, &v, sizeof v); }
static void poke_u64(uint64_t *at, uint64_t v) { poke(at, &v, sizeof v); }
static void poke_ptr(void *at, const void *v) { poke(at, &v, sizeof v); }
static void poke_byte(void *at, unsigned char v) { poke(at, &v, 1); }

static void undo_all(void)
{
    while (undo.n > 0) {
        undo_entry *e = &undo.e[--undo.n];
        tu_poke(e->at, e->old, e->len);
    }
}

/* --- layout helpers ------------------------------------------------------------- */

static hl_block *blk(const void *payload) { return hl_payload_block(payload); }

/* Rewrites b's header as the allocator would: size|flags, slack, check word
 * and footer, so only the invariant being tested breaks. */
static void forge(const hl_heap *h, hl_block *b, size_t size_flags, uint32_t slack, int footer)
{
    poke_size(&b->size_flags, size_flags);
    poke_u32(&b->slack, slack);
    poke_u32(&b->check, hl_check_word(b, size_flags, slack, h->cookie));
    if (footer)
        poke_size((size_t *)((char *)b + (size_flags & ~HL_FLAGS) - HL_FOOTER), size_flags);
}

/* The seals as the allocator computes them (hl_region_seal, hl_large_seal). */
static void reseal_region(const hl_heap *h, hl_region *r)
{
    poke_u64(&r->seal, hl_seal(h->cookie, r, (uintptr_t)rd_ptr(&r->next), rd_size(&r->size),
                               (uintptr_t)rd_ptr(&r->base), rd_size(&r->base_size)));
}

static void reseal_large(const hl_heap *h, hl_large *l)
{
    poke_u64(&l->seal, hl_seal(h->cookie, l, (uintptr_t)rd_ptr(&l->next), (uintptr_t)rd_ptr(&l->prev),
                               (uintptr_t)rd_ptr(&l->base), rd_size(&l->map_size)));
}

static size_t list_of(const hl_heap *h, const hl_block *b) { return hl__list_index(h, bsize(b)); }

/* The n-th node (0: the head) of list i, or NULL. */
static hl_block *nth_node(const hl_heap *h, size_t i, int n)
{
    hl_block *b = h->lists[i];
    while (b && n-- > 0)
        b = next_free(b);
    return b;
}

static hl_block *last_node(const hl_heap *h, size_t i)
{
    hl_block *b = h->lists[i];
    while (b && next_free(b))
        b = next_free(b);
    return b;
}

/* --- expectations ------------------------------------------------------------------ */

/* hl_heap_check must report invariant `id`, named `name`, at `block`. */
static hl_check_report expect(const hl_heap *h, int id, const char *name, const void *block)
{
    hl_check_report r;
    memset(&r, 0x5A, sizeof r);
    int got = hl_heap_check(h, &r);
    if (got != id || r.block != block) {
        print_error("expected invariant %s at %p, got %d (%s) at %p\n", name, block, got,
                    hl_invariant_name(got), r.block);
        hl_check_report_print(&r, stderr);
    }
    assert_int_equal(got, id);
    assert_int_equal(r.id, id);
    assert_string_equal(r.invariant, name);
    assert_ptr_equal(r.block, block);
    assert_true(strlen(r.message) > 0 && strlen(r.message) < sizeof r.message);
    assert_null(strchr(r.message, '\n'));
    assert_true(r.dump_len <= sizeof r.dump);
    return r;
}

/* The corruption was the only thing wrong: put it back, and the heap passes. */
static void restore_and_pass(const hl_heap *h)
{
    undo_all();
    tu_assert_heap_ok(h);
    tu_assert_no_errors();
}

/* The report's offset, region and message agree about the block. */
static void expect_located(const hl_check_report *r, const void *region)
{
    char addr[32];
    assert_ptr_equal(r->region, region);
    assert_int_equal(r->offset, (size_t)((const char *)r->block - (const char *)region));
    assert_non_null(strstr(r->message, tu_addr(r->block, addr, sizeof addr)));
}

/* --- the fixture ------------------------------------------------------------------- */

enum { NBLOCKS = 8, REQ = 64 };
typedef struct inv_fixture { hl_heap *h; hl_config cfg; unsigned char *a[NBLOCKS]; } inv_fixture;

static int inv_setup(void **state)
{
    inv_fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    tu_errors_install();
    undo.n = 0;
    f->cfg = tu_config(tu_current()->policy, tu_current()->source);
    f->h = hl_heap_create(&f->cfg);
    if (!f->h)
        return -1;
    for (int i = 0; i < NBLOCKS; i++) {
        f->a[i] = hl_heap_malloc(f->h, REQ);
        if (!f->a[i])
            return -1;
        tu_fill(f->a[i], REQ, (uint32_t)i);
    }
    for (int i = 1; i <= 5; i += 2)
        hl_heap_free(f->h, f->a[i]);   /* a[i] stays as the address of a free block */
    return tu_errors()->count == 0 && hl_heap_check(f->h, NULL) == 0 ? 0 : -1;
}

static int inv_teardown(void **state)
{
    inv_fixture *f = *state;
    undo_all();
    if (f && f->h)
        hl_heap_destroy(f->h);
    free(f);
    return 0;
}

static hl_region *only_region(const hl_heap *h) { return h->regions; }

/* --- 1..5: the block walk ----------------------------------------------------------- */

static void test_magic(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[2]);
    poke_u32(&b->check, bcheck(b) ^ 0x100);
    hl_check_report r = expect(f->h, HL_INV_MAGIC, "magic", b);
    expect_located(&r, only_region(f->h));
    assert_ptr_equal(r.prev_block, blk(f->a[1]));
    assert_null(r.next_block);   /* the size of a header that fails its check is not trusted */
    assert_int_equal(r.found, bcheck(b));
    assert_int_equal(r.expected, bcheck(b) ^ 0x100);
    restore_and_pass(f->h);
}

static void test_footer(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[2]);
    size_t *footer = bfooter(b);
    poke_size(footer, rd_size(footer) ^ 0x10);
    hl_check_report r = expect(f->h, HL_INV_FOOTER, "footer", b);
    expect_located(&r, only_region(f->h));
    assert_int_equal(r.expected, sflags(b));
    assert_int_equal(r.found, sflags(b) ^ 0x10);
    assert_ptr_equal(r.prev_block, blk(f->a[1]));
    assert_ptr_equal(r.next_block, blk(f->a[3]));
    assert_non_null(strstr(r.message, "footer"));
    /* the dump holds the footer, copied from the heap */
    const unsigned char *d = r.dump_addr;
    assert_true(d <= (const unsigned char *)footer && (const unsigned char *)(footer + 1) <= d + r.dump_len);
    size_t copied;
    memcpy(&copied, r.dump + ((const unsigned char *)footer - d), sizeof copied);
    assert_int_equal(copied, rd_size(footer));
    restore_and_pass(f->h);
}

static void test_size_unknown_flag(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[2]);
    forge(f->h, b, sflags(b) | HL_LARGE, bslack(b), 1);   /* a region block never says "large" */
    hl_check_report r = expect(f->h, HL_INV_SIZE, "size", b);
    assert_int_equal(r.found, HL_USED | HL_LARGE);
    restore_and_pass(f->h);
}

static void test_size_misaligned(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[2]);
    forge(f->h, b, (bsize(b) + 8) | HL_USED, bslack(b), 0);   /* 104: not a multiple of 16 */
    expect(f->h, HL_INV_SIZE, "size", b);
    restore_and_pass(f->h);
}

static void test_size_below_minimum(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[2]);
    forge(f->h, b, 32 | HL_USED, 0, 0);
    hl_check_report r = expect(f->h, HL_INV_SIZE, "size", b);
    assert_int_equal(r.expected, HL_MIN_BLOCK);
    assert_int_equal(r.found, 32);
    restore_and_pass(f->h);
}

static void test_size_slack_of_free_block(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[3]);
    forge(f->h, b, sflags(b), 8, 1);
    expect(f->h, HL_INV_SIZE, "size", b);
    restore_and_pass(f->h);
}

static void test_huge_size_in_header(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[2]);
    size_t huge = (SIZE_MAX & ~HL_FLAGS) | HL_USED;
    /* sealed: the walk must not step past the region */
    forge(f->h, b, huge, bslack(b), 0);
    hl_check_report r = expect(f->h, HL_INV_SIZE, "size", b);
    assert_int_equal(r.found, SIZE_MAX & ~HL_FLAGS);
    undo_all();
    /* not sealed: the check word catches it first */
    poke_size(&b->size_flags, huge);
    expect(f->h, HL_INV_MAGIC, "magic", b);
    restore_and_pass(f->h);
}

static void test_tiling(void **state)
{
    inv_fixture *f = *state;
    hl_region *reg = only_region(f->h);
    hl_block *epi = epilogue(reg);
    poke_size(&epi->size_flags, 0);   /* an epilogue that reads "free" */
    hl_check_report r = expect(f->h, HL_INV_TILING, "tiling", epi);
    expect_located(&r, reg);
    assert_int_equal(r.expected, HL_USED);
    undo_all();
    poke_u32(&epi->check, bcheck(epi) + 1);
    expect(f->h, HL_INV_TILING, "tiling", epi);
    restore_and_pass(f->h);
}

static void test_coalesced(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[2]);
    forge(f->h, b, bsize(b), 0, 1);   /* a2 "free", right after free a1 */
    hl_check_report r = expect(f->h, HL_INV_COALESCED, "coalesced", b);
    assert_ptr_equal(r.prev_block, blk(f->a[1]));
    assert_ptr_equal(r.next_block, blk(f->a[3]));
    restore_and_pass(f->h);
}

/* --- 6, 7: the free lists ---------------------------------------------------------------- */

static void test_list_back_link(void **state)
{
    inv_fixture *f = *state;
    size_t i = list_of(f->h, blk(f->a[1]));
    hl_block *x = nth_node(f->h, i, 1);
    assert_non_null(x);
    poke_ptr(&x->prev_free, NULL);
    hl_check_report r = expect(f->h, HL_INV_LIST_LINKS, "list-links", x);
    assert_int_equal(r.expected, (uintptr_t)nth_node(f->h, i, 0));
    assert_int_equal(r.found, 0);
    undo_all();
    poke_ptr(&x->prev_free, x);
    expect(f->h, HL_INV_LIST_LINKS, "list-links", x);
    undo_all();
    poke_ptr(&x->prev_free, (void *)(uintptr_t)0x1000);   /* a back link into nowhere: x is blamed */
    r = expect(f->h, HL_INV_LIST_LINKS, "list-links", x);
    assert_int_equal(r.found, 0x1000);
    restore_and_pass(f->h);
}

static void test_list_head_back_link(void **state)
{
    inv_fixture *f = *state;
    size_t i = list_of(f->h, blk(f->a[1]));
    hl_block *head = nth_node(f->h, i, 0), *second = nth_node(f->h, i, 1);
    poke_ptr(&head->prev_free, second);
    expect(f->h, HL_INV_LIST_LINKS, "list-links", head);
    restore_and_pass(f->h);
}

static void test_list_cycle_to_head(void **state)
{
    inv_fixture *f = *state;
    size_t i = list_of(f->h, blk(f->a[1]));
    hl_block *head = nth_node(f->h, i, 0), *tail = last_node(f->h, i);
    poke_ptr(&tail->next_free, head);
    hl_check_report r = expect(f->h, HL_INV_LIST_LINKS, "list-links", tail);
    assert_non_null(strstr(r.message, "cycle"));
    restore_and_pass(f->h);
}

static void test_list_cycle_consistent_ring(void **state)
{
    inv_fixture *f = *state;
    size_t i = list_of(f->h, blk(f->a[1]));
    hl_block *head = nth_node(f->h, i, 0), *tail = last_node(f->h, i);
    poke_ptr(&tail->next_free, head);   /* every link agrees: a ring */
    poke_ptr(&head->prev_free, tail);
    expect(f->h, HL_INV_LIST_LINKS, "list-links", head);
    restore_and_pass(f->h);
}

static void test_list_cycle_to_middle(void **state)
{
    inv_fixture *f = *state;
    size_t i = list_of(f->h, blk(f->a[1]));
    hl_block *second = nth_node(f->h, i, 1), *tail = last_node(f->h, i);
    assert_true(second != tail);
    poke_ptr(&tail->next_free, second);
    expect(f->h, HL_INV_LIST_LINKS, "list-links", tail);
    restore_and_pass(f->h);
}

static void test_list_self_loop(void **state)
{
    inv_fixture *f = *state;
    size_t i = list_of(f->h, blk(f->a[1]));
    hl_block *head = nth_node(f->h, i, 0);
    poke_ptr(&head->next_free, head);
    expect(f->h, HL_INV_LIST_LINKS, "list-links", head);
    restore_and_pass(f->h);
}

/* next_free aimed outside every region: the checker must not follow it. */
static void test_list_wild_pointers(void **state)
{
    inv_fixture *f = *state;
    size_t i = list_of(f->h, blk(f->a[1]));
    hl_block *x = nth_node(f->h, i, 0);
    int on_stack = 0;
    const void *wild[] = {
        &on_stack,                                      /* a stack address */
        (void *)(uintptr_t)0x10,                        /* near NULL */
        (void *)(uintptr_t)0xffff800000001000ull,       /* kernel space */
        (char *)blk(f->a[0]) + 8,                       /* inside a region, misaligned */
        f->a[2],                                        /* inside a region, not a header */
        (char *)epilogue(only_region(f->h)) - 16, /* too close to the epilogue for a node */
        (char *)only_region(f->h),                      /* the region header */
    };
    for (size_t k = 0; k < sizeof wild / sizeof wild[0]; k++) {
        poke_ptr(&x->next_free, wild[k]);
        hl_check_report r = expect(f->h, HL_INV_LIST_LINKS, "list-links", x);
        assert_int_equal(r.found, (uintptr_t)wild[k]);
        undo_all();
    }
    restore_and_pass(f->h);
}

static void test_list_wild_head(void **state)
{
    inv_fixture *f = *state;
    size_t i = list_of(f->h, blk(f->a[1]));
    poke_ptr(&f->h->lists[i], (void *)(uintptr_t)0x10);
    hl_check_report r = expect(f->h, HL_INV_LIST_LINKS, "list-links", NULL);
    assert_int_equal(r.found, 0x10);
    restore_and_pass(f->h);
}

/* A free block dropped from its list, its neighbours relinked. */
static void test_membership_unlisted(void **state)
{
    inv_fixture *f = *state;
    size_t i = list_of(f->h, blk(f->a[1]));
    hl_block *p = nth_node(f->h, i, 0), *y = nth_node(f->h, i, 1), *n = nth_node(f->h, i, 2);
    assert_non_null(n);
    poke_ptr(&p->next_free, n);
    poke_ptr(&n->prev_free, p);
    hl_check_report r = expect(f->h, HL_INV_LIST_MEMBERSHIP, "list-membership", y);
    assert_non_null(strstr(r.message, "not in any free list"));
    restore_and_pass(f->h);
}

/* A used block linked in at the head of its size's list. */
static void test_membership_used_block_listed(void **state)
{
    inv_fixture *f = *state;
    hl_block *u = blk(f->a[2]);
    size_t i = list_of(f->h, u);
    hl_block *head = f->h->lists[i];
    poke_ptr(&u->next_free, head);
    poke_ptr(&u->prev_free, NULL);
    if (head)
        poke_ptr(&head->prev_free, u);
    poke_ptr(&f->h->lists[i], u);
    expect(f->h, HL_INV_LIST_MEMBERSHIP, "list-membership", u);
    restore_and_pass(f->h);
}

/* A stale header: the link looks right, but the block is not one of the walk. */
static void test_membership_stale_header(void **state)
{
    inv_fixture *f = *state;
    /* a free header forged inside the big free block at the end, listed in
     * place of nothing: counts then disagree, and the stale one is named */
    hl_block *rest = blk(f->a[NBLOCKS - 1]);
    rest = bnext(rest);
    assert_false(sflags(rest) & HL_USED);
    hl_block *ghost = (hl_block *)((char *)rest + 256);
    forge(f->h, ghost, 96, 0, 1);
    size_t i = list_of(f->h, ghost);
    hl_block *head = f->h->lists[i];
    poke_ptr(&ghost->next_free, head);
    poke_ptr(&ghost->prev_free, NULL);
    poke_ptr(&head->prev_free, ghost);
    poke_ptr(&f->h->lists[i], ghost);
    /* checked builds see the forged bytes in rest's fill first */
    if (hl_checked_build())
        expect(f->h, HL_INV_FREE_FILL, "free-fill", rest);
    else
        expect(f->h, HL_INV_LIST_MEMBERSHIP, "list-membership", ghost);
    restore_and_pass(f->h);
}

/* --- 8: bitmaps, and lists in the wrong class (segregated fit) --------------------------- */

static void test_membership_wrong_list(void **state)
{
    inv_fixture *f = *state;
    hl_heap *h = f->h;
    size_t i = list_of(h, blk(f->a[1]));
    hl_block *p = nth_node(h, i, 0), *y = nth_node(h, i, 1), *n = nth_node(h, i, 2);
    size_t j = i + 1;
    assert_null(h->lists[j]);
    poke_ptr(&p->next_free, n);        /* out of list i ... */
    poke_ptr(&n->prev_free, p);
    poke_ptr(&y->next_free, NULL);     /* ... into empty list j */
    poke_ptr(&y->prev_free, NULL);
    poke_ptr(&h->lists[j], y);
    hl_check_report r = expect(h, HL_INV_LIST_MEMBERSHIP, "list-membership", y);
    assert_int_equal(r.expected, i);
    assert_int_equal(r.found, j);
    restore_and_pass(h);
}

static void test_bitmap_bit_of_empty_list(void **state)
{
    inv_fixture *f = *state;
    hl_heap *h = f->h;
    size_t i = list_of(h, blk(f->a[1])) + 1;   /* an empty list */
    assert_null(h->lists[i]);
    poke_u32(&h->sl_bitmap[i / HL_SL_COUNT], h->sl_bitmap[i / HL_SL_COUNT] | 1u << (i % HL_SL_COUNT));
    hl_check_report r = expect(h, HL_INV_BITMAP, "bitmap", NULL);
    assert_int_equal(r.found, h->sl_bitmap[i / HL_SL_COUNT]);
    restore_and_pass(h);
}

static void test_bitmap_bit_of_listed_block(void **state)
{
    inv_fixture *f = *state;
    hl_heap *h = f->h;
    size_t i = list_of(h, blk(f->a[1]));
    poke_u32(&h->sl_bitmap[i / HL_SL_COUNT], h->sl_bitmap[i / HL_SL_COUNT] & ~(1u << (i % HL_SL_COUNT)));
    expect(h, HL_INV_BITMAP, "bitmap", h->lists[i]);
    restore_and_pass(h);
}

static void test_bitmap_first_level(void **state)
{
    inv_fixture *f = *state;
    hl_heap *h = f->h;
    unsigned fl = (unsigned)(list_of(h, blk(f->a[1])) / HL_SL_COUNT);
    poke_u64(&h->fl_bitmap, h->fl_bitmap ^ (1ull << fl));            /* a level with lists, cleared */
    expect(h, HL_INV_BITMAP, "bitmap", NULL);
    undo_all();
    poke_u64(&h->fl_bitmap, h->fl_bitmap | 1ull << (HL_FL_COUNT + 1)); /* beyond the levels */
    expect(h, HL_INV_BITMAP, "bitmap", NULL);
    undo_all();
    poke_u32(&h->sl_bitmap[fl], h->sl_bitmap[fl] | 1u << 20);        /* beyond the second level */
    expect(h, HL_INV_BITMAP, "bitmap", NULL);
    restore_and_pass(h);
}

/* --- 9: stats ------------------------------------------------------------------------------ */

static void test_stats(void **state)
{
    inv_fixture *f = *state;
    hl_heap *h = f->h;
    size_t in_use = h->st.blocks_in_use;
    assert_int_equal(in_use, NBLOCKS - 3);
    poke_size(&h->st.blocks_in_use, in_use + 1);
    hl_check_report r = expect(h, HL_INV_STATS, "stats", NULL);
    assert_null(r.region);   /* the counters live in the heap header, no region */
    assert_int_equal(r.expected, in_use);
    assert_int_equal(r.found, in_use + 1);
    assert_non_null(strstr(r.message, "blocks_in_use"));
    undo_all();
    poke_size(&h->st.bytes_free, h->st.bytes_free - 16);
    r = expect(h, HL_INV_STATS, "stats", NULL);
    assert_non_null(strstr(r.message, "bytes_free"));
    undo_all();
    poke_size(&h->st.region_bytes, h->st.region_bytes + 4096);
    r = expect(h, HL_INV_STATS, "stats", NULL);
    assert_non_null(strstr(r.message, "region_bytes"));
    restore_and_pass(h);
}

/* --- 10: contents (checked builds) ------------------------------------------------------------ */

static void test_free_fill(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[3]);
    unsigned char *fill = hl_block_fill_start(b);
    poke_byte(fill + 7, 0x00);   /* a write after free */
    if (hl_checked_build()) {
        hl_check_report r = expect(f->h, HL_INV_FREE_FILL, "free-fill", b);
        assert_int_equal(r.expected, HL_FILL_FREE);
        assert_int_equal(r.found, 0);
        /* the dump shows the written byte */
        const unsigned char *d = r.dump_addr;
        assert_true(d <= fill + 7 && fill + 7 < d + r.dump_len);
        assert_int_equal(r.dump[fill + 7 - d], 0);
    } else {
        assert_int_equal(hl_heap_check(f->h, NULL), 0);
    }
    restore_and_pass(f->h);
}

static void test_canary(void **state)
{
    inv_fixture *f = *state;
    unsigned char *p = hl_heap_malloc(f->h, 20);
    assert_non_null(p);
    hl_block *b = blk(p);
    assert_true(bslack(b) > 0);
    poke_byte(p + 20, 'x');   /* one byte past the request, inside the slack */
    if (hl_checked_build()) {
        hl_check_report r = expect(f->h, HL_INV_CANARY, "canary", b);
        assert_int_equal(r.expected, HL_FILL_CANARY);
        assert_int_equal(r.found, 'x');
    } else {
        assert_int_equal(hl_heap_check(f->h, NULL), 0);
    }
    restore_and_pass(f->h);
    hl_heap_free(f->h, p);
    tu_assert_heap_ok(f->h);
}

/* --- regions and the heap header -------------------------------------------------------------- */

static void test_heap_magic(void **state)
{
    inv_fixture *f = *state;
    poke_u64(&f->h->magic, f->h->magic ^ 1);
    hl_check_report r = expect(f->h, HL_INV_REGION, "region", NULL);
    assert_null(r.region);
    assert_non_null(strstr(r.message, "heap header is bad"));
    restore_and_pass(f->h);
}

static void test_region_magic(void **state)
{
    inv_fixture *f = *state;
    hl_region *reg = only_region(f->h);
    poke_u64(&reg->magic, rd_u64(&reg->magic) ^ 0x8000);
    hl_check_report r = expect(f->h, HL_INV_REGION, "region", NULL);
    assert_ptr_equal(r.region, reg);
    assert_int_equal(r.found, rd_u64(&reg->magic));
    /* the dump shows the region header, and nothing outside it */
    assert_ptr_equal(r.dump_addr, reg);
    assert_int_equal(r.dump_len, sizeof *reg);
    restore_and_pass(f->h);
}

static void test_region_runs_past_buffer(void **state)
{
    inv_fixture *f = *state;
    hl_region *reg = only_region(f->h);
    poke_size(&reg->size, rd_size(&reg->size) + 4096);
    poke_size(&reg->base_size, rd_size(&reg->base_size) + 4096);
    reseal_region(f->h, reg);
    hl_check_report r = expect(f->h, HL_INV_REGION, "region", NULL);
    assert_ptr_equal(r.region, reg);
    assert_non_null(strstr(r.message, "buffer"));
    undo_all();
    poke_size(&reg->size, rd_size(&reg->size) + 4096);   /* past what its source gave */
    reseal_region(f->h, reg);
    expect(f->h, HL_INV_REGION, "region", NULL);
    undo_all();
    poke_size(&reg->size, rd_size(&reg->size) + 4096);   /* unsealed */
    r = expect(f->h, HL_INV_REGION, "region", NULL);
    restore_and_pass(f->h);
}

static void test_region_wild_list(void **state)
{
    inv_fixture *f = *state;
    const void *wild[] = {
        (void *)(uintptr_t)0x1000,                  /* below mmap_min_addr: never mapped */
        (void *)(uintptr_t)0xffff800000001000ull,   /* kernel space */
        (void *)(uintptr_t)0x1008,                  /* misaligned */
        (void *)&undo,                              /* mapped, but outside the heap's buffer */
    };
    for (size_t k = 0; k < sizeof wild / sizeof wild[0]; k++) {
        poke_ptr(&f->h->regions, wild[k]);
        hl_check_report r = expect(f->h, HL_INV_REGION, "region", NULL);
        assert_ptr_equal(r.region, wild[k]);
        assert_int_equal(r.dump_len, 0);
        undo_all();
    }
    restore_and_pass(f->h);
}

static void test_buffer_heap_maps_nothing(void **state)
{
    inv_fixture *f = *state;
    poke_ptr(&f->h->large, f->a[0]);   /* a buffer heap never has large mappings */
    hl_check_report r = expect(f->h, HL_INV_LARGE, "large", NULL);
    assert_int_equal(r.found, (uintptr_t)f->a[0]);
    restore_and_pass(f->h);
}

static void test_region_cycle(void **state)
{
    inv_fixture *f = *state;
    hl_region *reg = only_region(f->h);
    poke_ptr(&reg->next, reg);
    reseal_region(f->h, reg);
    hl_check_report r = expect(f->h, HL_INV_REGION, "region", NULL);
    assert_non_null(strstr(r.message, "cycle"));
    restore_and_pass(f->h);
}

static void test_null_and_destroyed_heap(void **state)
{
    (void)state;
    hl_check_report r;
    assert_int_equal(hl_heap_check(NULL, &r), HL_INV_REGION);
    assert_string_equal(r.invariant, "region");
    assert_int_equal(hl_heap_check(NULL, NULL), HL_INV_REGION);

    tu_errors_install();
    const int sources[] = {TU_BUF64K, TU_MMAP};
    for (size_t s = 0; s < sizeof sources / sizeof sources[0]; s++) {
        hl_config cfg = tu_config(HL_FIRST_FIT, sources[s]);
        hl_heap *h = hl_heap_create(&cfg);
        assert_non_null(h);
        assert_int_equal(hl_heap_check(h, NULL), 0);
        hl_heap_destroy(h);
        /* buffer: the header's magic was cleared; mmap: it was unmapped */
        assert_int_equal(hl_heap_check(h, &r), HL_INV_REGION);
    }
    tu_assert_no_errors();
}

/* --- regions from mmap: several of them ---------------------------------------------------------- */

static int mmap_setup(void **state)
{
    inv_fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    tu_errors_install();
    undo.n = 0;
    f->cfg = tu_config(HL_SEGREGATED_FIT, TU_MMAP);
    f->cfg.grow_size = 64 * 1024;
    f->h = hl_heap_create(&f->cfg);
    if (!f->h)
        return -1;
    f->a[0] = hl_heap_malloc(f->h, 40000);     /* two regions */
    f->a[1] = hl_heap_malloc(f->h, 40000);
    f->a[2] = hl_heap_malloc(f->h, 200000);    /* three large mappings */
    f->a[3] = hl_heap_malloc(f->h, 300000);
    f->a[4] = hl_heap_aligned_alloc(f->h, 4096, 150000);
    for (int i = 0; i < 5; i++)
        if (!f->a[i])
            return -1;
    return f->h->st.regions == 2 && f->h->st.large_blocks == 3 && tu_errors()->count == 0 ? 0 : -1;
}

static void test_region_list_cycles(void **state)
{
    inv_fixture *f = *state;
    hl_region *first = f->h->regions, *second = rd_ptr(&first->next);
    poke_ptr(&first->next, first);           /* the list comes back to its start */
    reseal_region(f->h, first);
    hl_check_report r = expect(f->h, HL_INV_REGION, "region", NULL);
    assert_non_null(strstr(r.message, "cycle"));
    undo_all();
    poke_ptr(&second->next, first);          /* ... or from its second region */
    reseal_region(f->h, second);
    expect(f->h, HL_INV_REGION, "region", NULL);
    undo_all();
    poke_ptr(&second->next, (void *)(uintptr_t)0x1000);   /* into unmapped memory */
    reseal_region(f->h, second);
    r = expect(f->h, HL_INV_REGION, "region", NULL);
    assert_non_null(strstr(r.message, "not mapped"));
    restore_and_pass(f->h);
}

/* Mapped but unreadable (a guard page): the heads of the region and large
 * lists are unsealed, so the checker must not trust "mapped" alone. */
static void test_list_heads_into_guard_page(void **state)
{
    inv_fixture *f = *state;
    void *guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(guard != MAP_FAILED);
    poke_ptr(&f->h->regions, guard);
    hl_check_report r = expect(f->h, HL_INV_REGION, "region", NULL);
    assert_ptr_equal(r.region, guard);
    assert_non_null(strstr(r.message, "not readable"));
    undo_all();
    poke_ptr(&f->h->large, guard);
    r = expect(f->h, HL_INV_LARGE, "large", NULL);
    assert_non_null(strstr(r.message, "not readable"));
    restore_and_pass(f->h);
    munmap(guard, 4096);
}

static void test_region_seal(void **state)
{
    inv_fixture *f = *state;
    hl_region *second = rd_ptr(&f->h->regions->next);
    poke_ptr(&second->next, f->h->regions);   /* a link rewritten without its seal */
    hl_check_report r = expect(f->h, HL_INV_REGION, "region", NULL);
    assert_ptr_equal(r.region, second);
    assert_non_null(strstr(r.message, "seal"));
    restore_and_pass(f->h);
}

static void test_large_magic(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[2]);
    hl_large *l = hl_block_large_header(b);
    poke_u64(&l->magic, rd_u64(&l->magic) ^ 4);
    hl_check_report r = expect(f->h, HL_INV_LARGE, "large", b);
    expect_located(&r, l);
    restore_and_pass(f->h);
}

static void test_large_links(void **state)
{
    inv_fixture *f = *state;
    hl_large *head = f->h->large, *second = rd_ptr(&head->next);
    assert_non_null(second);
    poke_ptr(&second->prev, NULL);   /* broken back link, sealed */
    reseal_large(f->h, second);
    hl_check_report r = expect(f->h, HL_INV_LARGE, "large", hl_large_block(second));
    assert_int_equal(r.expected, (uintptr_t)head);
    assert_int_equal(r.found, 0);
    undo_all();
    poke_ptr(&second->next, head);   /* a cycle, sealed: head's prev is NULL */
    reseal_large(f->h, second);
    expect(f->h, HL_INV_LARGE, "large", hl_large_block(head));
    undo_all();
    poke_ptr(&f->h->large, (void *)(uintptr_t)0x1000);   /* the head pointer into nowhere */
    r = expect(f->h, HL_INV_LARGE, "large", NULL);
    assert_non_null(strstr(r.message, "not mapped"));
    undo_all();
    poke_size(&second->map_size, rd_size(&second->map_size) + 4096);   /* unsealed */
    r = expect(f->h, HL_INV_LARGE, "large", hl_large_block(second));
    assert_non_null(strstr(r.message, "seal"));
    restore_and_pass(f->h);
}

static void test_large_block(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[3]);
    poke_size(bfooter(b), 0);
    expect(f->h, HL_INV_FOOTER, "footer", b);
    undo_all();
    poke_u32(&b->check, bcheck(b) ^ 1);
    expect(f->h, HL_INV_MAGIC, "magic", b);
    undo_all();
    forge(f->h, b, bsize(b) | HL_USED, bslack(b), 1);   /* "large" flag dropped */
    expect(f->h, HL_INV_LARGE, "large", b);
    undo_all();
    forge(f->h, b, (bsize(b) - 16) | HL_USED | HL_LARGE, bslack(b), 1);   /* shorter than its mapping */
    expect(f->h, HL_INV_LARGE, "large", b);
    undo_all();
    unsigned char *p = f->a[3];
    assert_true(bslack(b) > 0);   /* 300000 bytes do not fill whole pages */
    poke_byte(p + busable(b) - bslack(b), 0);   /* the first slack byte */
    if (hl_checked_build())
        expect(f->h, HL_INV_CANARY, "canary", b);
    else
        assert_int_equal(hl_heap_check(f->h, NULL), 0);
    restore_and_pass(f->h);
}

static void test_large_stats(void **state)
{
    inv_fixture *f = *state;
    poke_size(&f->h->st.large_bytes, f->h->st.large_bytes - 4096);
    hl_check_report r = expect(f->h, HL_INV_STATS, "stats", NULL);
    assert_non_null(strstr(r.message, "large_bytes"));
    restore_and_pass(f->h);
}

/* --- clean heaps ---------------------------------------------------------------------------------- */

static void assert_clean(const hl_heap *h)
{
    hl_check_report r;
    memset(&r, 0x5A, sizeof r);
    int id = hl_heap_check(h, &r);
    if (id != 0)
        hl_check_report_print(&r, stderr);
    assert_int_equal(id, 0);
    assert_int_equal(r.id, 0);
    assert_string_equal(r.invariant, "ok");
    assert_null(r.block);
}

/* A seeded mix of every operation; the heap passes after each one. */
static void test_clean_workload(void **state)
{
    tu_fixture *f = *state;
    enum { SLOTS = 64, STEPS = 600 };
    unsigned char *slot[SLOTS] = {0};
    uint64_t rng = 0x1234 + (uint64_t)f->c.policy * 7 + (uint64_t)f->c.source;
    size_t big = tu_is_buffer(f->c.source) ? 3000 : 200000;
    for (int step = 0; step < STEPS; step++) {
        size_t k = tu_rand_range(&rng, 0, SLOTS - 1);
        size_t n = tu_rand(&rng) % 16 == 0 ? tu_rand_range(&rng, 1, big) : tu_rand_range(&rng, 0, 300);
        switch (slot[k] ? tu_rand(&rng) % 3 : 3 + tu_rand(&rng) % 3) {
        case 0: case 1: hl_heap_free(f->h, slot[k]); slot[k] = NULL; break;
        case 2: { unsigned char *q = hl_heap_realloc(f->h, slot[k], n); if (q) slot[k] = q; break; }
        case 3: slot[k] = hl_heap_malloc(f->h, n); break;
        case 4: slot[k] = hl_heap_calloc(f->h, 1, n); break;
        default: slot[k] = hl_heap_aligned_alloc(f->h, (size_t)64 << tu_rand(&rng) % 4, n); break;
        }
        assert_clean(f->h);
    }
    for (int k = 0; k < SLOTS; k++)
        hl_heap_free(f->h, slot[k]);
    assert_clean(f->h);
    hl_heap_reset(f->h);
    assert_clean(f->h);
    tu_assert_no_errors();
}

/* --- the report as text, names, the every-op check ------------------------------------------------- */

static void test_report_print(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[2]);
    poke_size(bfooter(b), sflags(b) + 0x10);   /* "footer 0x71 does not match 0x61" */
    hl_check_report r = expect(f->h, HL_INV_FOOTER, "footer", b);
    tu_text t;
    tu_text_open(&t);
    hl_check_report_print(&r, t.f);
    const char *text = tu_text_get(&t);
    char addr[32], line[256];
    assert_non_null(strstr(text, "footer"));
    assert_non_null(strstr(text, r.message));
    assert_non_null(strstr(text, tu_addr(b, addr, sizeof addr)));
    /* hexdump: 16 bytes a line, the address on the left, the block marked */
    const char *hex = strstr(text, " bytes at ");
    assert_non_null(hex);
    assert_int_equal(tu_count_lines(hex) - 1, (r.dump_len + 15) / 16);
    tu_line_with(text, "<- block", line, sizeof line);
    assert_true(strlen(line) > 0);
    snprintf(addr, sizeof addr, "%#014" PRIxPTR, (uintptr_t)b);
    assert_non_null(strstr(line, addr));
    snprintf(addr, sizeof addr, "%#014" PRIxPTR, (uintptr_t)r.dump_addr);
    tu_line_with(strchr(hex, '\n') + 1, addr, line, sizeof line);   /* the first line of the dump */
    assert_true(strlen(line) > 0 && strchr(line, '|'));
    tu_text_close(&t);

    undo_all();
    assert_int_equal(hl_heap_check(f->h, &r), 0);
    tu_text_open(&t);
    hl_check_report_print(&r, t.f);
    assert_non_null(strstr(tu_text_get(&t), "every invariant holds"));
    tu_text_close(&t);
    restore_and_pass(f->h);
}

static void test_invariant_names(void **state)
{
    (void)state;
    static const char *const names[HL_INV_COUNT] = {
        "ok", "magic", "footer", "size", "tiling", "coalesced", "list-links", "list-membership",
        "bitmap", "stats", "free-fill", "canary", "region", "large",
    };
    for (int id = 0; id < HL_INV_COUNT; id++)
        assert_string_equal(hl_invariant_name(id), names[id]);
    assert_string_equal(hl_invariant_name(-1), "unknown");
    assert_string_equal(hl_invariant_name(HL_INV_COUNT), "unknown");
}

/* In checked builds a violation reaches the error handler from the next
 * operation, with the checker's report attached. */
static void test_every_op_check(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[6]);
    poke_size(bfooter(b), 0);
    void *p = hl_heap_malloc(f->h, 32);
    assert_non_null(p);
    tu_error_log *log = tu_errors();
    if (hl_checked_build()) {
        assert_int_equal(log->count, 1);
        assert_int_equal(log->e[0].kind, HL_ERR_INVARIANT);
        assert_true(log->e[0].has_report);
        assert_int_equal(log->e[0].report_id, HL_INV_FOOTER);
        assert_string_equal(log->e[0].operation, "malloc");
        assert_non_null(strstr(log->e[0].message, "malloc(): heap invariant footer violated"));
    } else {
        assert_int_equal(log->count, 0);
    }
    tu_errors_clear();
    restore_and_pass(f->h);
    hl_heap_free(f->h, p);
    tu_assert_heap_ok(f->h);
}

static void test_null_report(void **state)
{
    inv_fixture *f = *state;
    assert_int_equal(hl_heap_check(f->h, NULL), 0);
    poke_u32(&blk(f->a[0])->check, 0);
    assert_int_equal(hl_heap_check(f->h, NULL), HL_INV_MAGIC);
    restore_and_pass(f->h);
}

/* --- more ways to break each structure -------------------------------------------------------------- */

static void test_size_slack_exceeds_usable(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[2]);
    forge(f->h, b, sflags(b), (uint32_t)busable(b) + 16, 1);
    hl_check_report r = expect(f->h, HL_INV_SIZE, "size", b);
    assert_int_equal(r.expected, busable(b));
    assert_non_null(strstr(r.message, "exceeds the"));
    restore_and_pass(f->h);
}

/* The epilogue's slack is bound into its check word as 0: any other slack,
 * even with the check word left as it was, breaks the tiling. */
static void test_epilogue_slack(void **state)
{
    inv_fixture *f = *state;
    hl_block *epi = epilogue(only_region(f->h));
    poke_u32(&epi->slack, 1);
    hl_check_report r = expect(f->h, HL_INV_TILING, "tiling", epi);
    assert_non_null(strstr(r.message, "(slack 1)"));
    restore_and_pass(f->h);
}

static void test_region_header_fields(void **state)
{
    inv_fixture *f = *state;
    hl_region *reg = only_region(f->h);
    poke_size(&reg->prologue, 0);                            /* the footer before the first block reads "free" */
    hl_check_report r0 = expect(f->h, HL_INV_REGION, "region", NULL);
    assert_non_null(strstr(r0.message, "prologue 0"));
    undo_all();
    poke_ptr(&reg->heap, (void *)(uintptr_t)0x12340);      /* claims another heap */
    hl_check_report r = expect(f->h, HL_INV_REGION, "region", NULL);
    assert_ptr_equal(r.region, reg);
    assert_non_null(strstr(r.message, "belongs to heap 0x12340"));
    undo_all();
    const size_t bad_sizes[] = {
        rd_size(&reg->size) + 8,       /* not a multiple of 16 */
        16,                            /* no room for a block */
        (size_t)1 << 41,               /* beyond any region */
    };
    for (size_t k = 0; k < sizeof bad_sizes / sizeof bad_sizes[0]; k++) {
        poke_size(&reg->size, bad_sizes[k]);
        r = expect(f->h, HL_INV_REGION, "region", NULL);
        assert_int_equal(r.found, bad_sizes[k]);
        assert_non_null(strstr(r.message, "is not a multiple of 16 between"));
        undo_all();
    }
    poke_size(&reg->base_size, SIZE_MAX);                    /* base + base_size wraps */
    r = expect(f->h, HL_INV_REGION, "region", NULL);
    assert_non_null(strstr(r.message, "run outside the"));
    undo_all();
    poke_size(&f->h->cfg.buffer_size, SIZE_MAX);             /* a buffer that wraps: the region is outside it */
    r = expect(f->h, HL_INV_REGION, "region", NULL);
    assert_non_null(strstr(r.message, "lies outside the heap's buffer"));
    undo_all();
    poke_u32((uint32_t *)&f->h->cfg.source, 9);              /* no such source */
    r = expect(f->h, HL_INV_REGION, "region", NULL);
    assert_non_null(strstr(r.message, "source 9"));
    restore_and_pass(f->h);
}

/* Fields of the heap header the checker bounds before it trusts them. */
static void test_heap_header_fields(void **state)
{
    inv_fixture *f = *state;
    hl_heap *h = f->h;
    poke_size(&h->heap_bytes, 16);
    hl_check_report r = expect(h, HL_INV_REGION, "region", NULL);
    assert_non_null(strstr(r.message, "16 bytes for a"));
    undo_all();
    poke_size(&h->seg_align, 4096);
    r = expect(h, HL_INV_REGION, "region", NULL);
    assert_non_null(strstr(r.message, "segment 4096"));
    undo_all();
    poke_u32(&h->canary_skip, 100);
    r = expect(h, HL_INV_REGION, "region", NULL);
    assert_non_null(strstr(r.message, "canary skip 100"));
    undo_all();
    /* a pointer that cannot be a heap at all */
    const hl_heap *odd = (const hl_heap *)((const char *)h + 4);
    memset(&r, 0x5A, sizeof r);
    assert_int_equal(hl_heap_check(odd, &r), HL_INV_REGION);
    assert_non_null(strstr(r.message, "is misaligned"));
    restore_and_pass(h);
}

/* A stale header inside a used block's payload, linked at the head of its
 * list: every link checks out, and no fill is disturbed (so checked builds
 * see it too); only the count of listed blocks against the walk's free ones
 * shows it, and the search names it. */
static void test_membership_stale_header_in_used_block(void **state)
{
    inv_fixture *f = *state;
    hl_heap *h = f->h;
    unsigned char *p = hl_heap_malloc(h, 400);
    assert_non_null(p);
    hl_block *ghost = (hl_block *)(p + 64);
    forge(h, ghost, 96, 0, 1);
    size_t i = list_of(h, ghost);
    hl_block *head = h->lists[i];
    poke_ptr(&ghost->next_free, head);
    poke_ptr(&ghost->prev_free, NULL);
    if (head)
        poke_ptr(&head->prev_free, ghost);
    poke_ptr(&h->lists[i], ghost);
    if (h->nlists > 1)
        poke_u32(&h->sl_bitmap[i / HL_SL_COUNT], h->sl_bitmap[i / HL_SL_COUNT] | 1u << (i % HL_SL_COUNT));
    hl_check_report r = expect(h, HL_INV_LIST_MEMBERSHIP, "list-membership", ghost);
    assert_non_null(strstr(r.message, "no block of its region (a stale header)"));
    assert_int_equal(r.expected, 0);
    assert_int_equal(r.found, 1);
    restore_and_pass(h);
    hl_heap_free(h, p);
}

static void test_region_runs_into_unmapped_memory(void **state)
{
    inv_fixture *f = *state;
    hl_region *first = f->h->regions;
    size_t huge = (size_t)1 << 36;   /* 64 GiB from a 64 KiB mapping: some of it is unmapped */
    poke_size(&first->size, huge);
    poke_size(&first->base_size, huge);
    reseal_region(f->h, first);
    hl_check_report r = expect(f->h, HL_INV_REGION, "region", NULL);
    assert_ptr_equal(r.region, first);
    assert_non_null(strstr(r.message, "run into unmapped memory"));
    restore_and_pass(f->h);
}

static void test_large_header_fields(void **state)
{
    inv_fixture *f = *state;
    hl_block *b = blk(f->a[3]);
    hl_large *l = hl_block_large_header(b);
    poke_ptr(&l->heap, (void *)(uintptr_t)0x12340);
    hl_check_report r = expect(f->h, HL_INV_LARGE, "large", b);
    assert_non_null(strstr(r.message, "belongs to heap 0x12340"));
    undo_all();
    poke_ptr(&l->base, (char *)rd_ptr(&l->base) + 1024 * 1024);   /* the header before its mapping */
    r = expect(f->h, HL_INV_LARGE, "large", b);
    assert_non_null(strstr(r.message, "do not fit its mapping"));
    undo_all();
    poke_size(&l->map_size, SIZE_MAX);                            /* base + map_size wraps */
    r = expect(f->h, HL_INV_LARGE, "large", b);
    assert_non_null(strstr(r.message, "do not fit its mapping"));
    undo_all();
    poke_size(&l->map_size, (size_t)1 << 36);                     /* sealed, but not mapped */
    reseal_large(f->h, l);
    r = expect(f->h, HL_INV_LARGE, "large", b);
    assert_non_null(strstr(r.message, "are not all mapped"));
    undo_all();
    forge(f->h, b, sflags(b), (uint32_t)busable(b) + 16, 1);      /* more slack than bytes */
    r = expect(f->h, HL_INV_LARGE, "large", b);
    assert_non_null(strstr(r.message, "slack"));
    undo_all();
    poke_ptr(&f->h->large, (char *)f->h->large + 8);              /* a head that is no header */
    r = expect(f->h, HL_INV_LARGE, "large", NULL);
    assert_non_null(strstr(r.message, "is misaligned"));
    restore_and_pass(f->h);
}

#define INV_TEST(fn) cmocka_unit_test_setup_teardown(fn, inv_setup, inv_teardown)
#define MMAP_TEST(fn) cmocka_unit_test_setup_teardown(fn, mmap_setup, inv_teardown)

int main(void)
{
    const struct CMUnitTest once[] = {
        cmocka_unit_test(test_invariant_names),
        cmocka_unit_test(test_null_and_destroyed_heap),
    };
    /* every policy, on a 64 KiB buffer */
    const struct CMUnitTest per_policy[] = {
        INV_TEST(test_magic),
        INV_TEST(test_footer),
        INV_TEST(test_size_unknown_flag),
        INV_TEST(test_size_misaligned),
        INV_TEST(test_size_below_minimum),
        INV_TEST(test_size_slack_of_free_block),
        INV_TEST(test_huge_size_in_header),
        INV_TEST(test_tiling),
        INV_TEST(test_coalesced),
        INV_TEST(test_list_back_link),
        INV_TEST(test_list_head_back_link),
        INV_TEST(test_list_cycle_to_head),
        INV_TEST(test_list_cycle_consistent_ring),
        INV_TEST(test_list_cycle_to_middle),
        INV_TEST(test_list_self_loop),
        INV_TEST(test_list_wild_pointers),
        INV_TEST(test_list_wild_head),
        INV_TEST(test_membership_unlisted),
        INV_TEST(test_membership_used_block_listed),
        INV_TEST(test_membership_stale_header),
        INV_TEST(test_stats),
        INV_TEST(test_free_fill),
        INV_TEST(test_canary),
        INV_TEST(test_heap_magic),
        INV_TEST(test_region_magic),
        INV_TEST(test_region_runs_past_buffer),
        INV_TEST(test_region_wild_list),
        INV_TEST(test_buffer_heap_maps_nothing),
        INV_TEST(test_region_cycle),
        INV_TEST(test_report_print),
        INV_TEST(test_every_op_check),
        INV_TEST(test_null_report),
        INV_TEST(test_size_slack_exceeds_usable),
        INV_TEST(test_epilogue_slack),
        INV_TEST(test_region_header_fields),
        INV_TEST(test_heap_header_fields),
        INV_TEST(test_membership_stale_header_in_used_block),
    };
    /* segregated fit only: bitmaps and size classes */
    const struct CMUnitTest segregated[] = {
        INV_TEST(test_membership_wrong_list),
        INV_TEST(test_bitmap_bit_of_empty_list),
        INV_TEST(test_bitmap_bit_of_listed_block),
        INV_TEST(test_bitmap_first_level),
    };
    /* an mmap heap with two regions and three large mappings */
    const struct CMUnitTest mapped[] = {
        MMAP_TEST(test_region_list_cycles),
        MMAP_TEST(test_list_heads_into_guard_page),
        MMAP_TEST(test_region_seal),
        MMAP_TEST(test_large_magic),
        MMAP_TEST(test_large_links),
        MMAP_TEST(test_large_block),
        MMAP_TEST(test_large_stats),
        MMAP_TEST(test_region_runs_into_unmapped_memory),
        MMAP_TEST(test_large_header_fields),
    };
    const struct CMUnitTest workload[] = {
        cmocka_unit_test_setup_teardown(test_clean_workload, tu_setup, tu_teardown),
    };
    char name[64];
    int failed = cmocka_run_group_tests_name("invariants", once, NULL, NULL);
    for (int p = 0; p < TU_POLICY_COUNT; p++) {
        *tu_current() = (tu_case){tu_policy(p), TU_BUF64K};
        failed += cmocka_run_group_tests_name(tu_group_name("invariants", *tu_current(), name, sizeof name),
                                              per_policy, NULL, NULL);
    }
    *tu_current() = (tu_case){HL_SEGREGATED_FIT, TU_BUF64K};
    failed += cmocka_run_group_tests_name(tu_group_name("invariants-tlsf", *tu_current(), name, sizeof name),
                                          segregated, NULL, NULL);
    failed += cmocka_run_group_tests_name("invariants-mmap", mapped, NULL, NULL);
    for (int p = 0; p < TU_POLICY_COUNT; p++) {
        for (int s = 0; s < TU_SOURCE_COUNT; s++) {
            *tu_current() = (tu_case){tu_policy(p), s};
            failed += cmocka_run_group_tests_name(tu_group_name("invariants-clean", *tu_current(), name, sizeof name),
                                                  workload, NULL, NULL);
        }
    }
    return failed != 0;
}
