/*
 * check_lists.c - the free lists (invariants LIST_LINKS and LIST_MEMBERSHIP).
 *
 * Each list h->lists[i] is walked from its head.  Before a node is read, the
 * pointer to it must be 16-aligned and its header and links must lie inside
 * the block area of a region the region pass validated; then its check word
 * must match and its size must fit its region (else the link that led here
 * does not point at a block: LIST_LINKS, blamed on the block holding the
 * link).  Each node must then be free (a used block in a list is
 * LIST_MEMBERSHIP), point back at the node before it (head: NULL) (else
 * LIST_LINKS), and sit in the list of its size, hl__list_index (else
 * LIST_MEMBERSHIP).  All walks together take at most one step per
 * HL_MIN_BLOCK bytes of region; a longer walk is reported as a cycle.
 *
 * Why this proves "every free block is in exactly one list", without marking
 * blocks as visited (the checker must not write to the heap or allocate):
 *   - no node is listed twice in one list: take the first node seen a second
 *     time.  Its prev_free was checked against the node before it both times;
 *     the two predecessors are then the same node, seen twice earlier, or
 *     both "none" at a head, which the back-link test allows only at the start
 *     of the walk.  Either way a contradiction.
 *   - no node is in two lists: both lists would have to be the one
 *     hl__list_index names for its size.
 *   - so the lists hold `listed` distinct free headers.  The walk of the
 *     regions met `free_blocks` free blocks.  If the numbers agree and so do
 *     the fingerprints (the sum of a 64-bit mix of each address, which only
 *     an astronomically unlucky set of stale headers could match), the listed
 *     set is the set of free blocks: each is listed exactly once.
 * On a mismatch the culprit is found by searching (this is the failure path:
 * quadratic time is fine): a free block missing from its list, or a listed
 * header that is no block of the walk (a stale header left inside a merge).
 */
#include "check_internal.h"

typedef struct list_walk {
    size_t steps, bound;   /* nodes visited, and the most there can be */
    size_t listed;         /* nodes that passed every test */
    uint64_t print;        /* the sum of their fingerprints */
} list_walk;

/* The region holding node pointer p if p may be read as a node, else NULL. */
static const hl_region *node_home(const hl_checker *c, const hl_block *p) {
    if ((uintptr_t)p % HL_ALIGN)
        return NULL;
    return hl__check_region_of(c, p, HL_HEADER + HL_LINKS);
}

/* A readable node whose header is a sound block of its region. */
static bool node_is_block(const hl_checker *c, const hl_region *r, const hl_block *b) {
    uintptr_t room = (uintptr_t)hl_region_epilogue(r) - (uintptr_t)b;
    return b->check == hl_check_word(b, b->size_flags, b->slack, c->h->cookie) &&
           hl_block_size(b) >= HL_MIN_BLOCK && hl_block_size(b) <= room;
}

/* Failure context for a block known to lie in a validated region. */
static void at_block(hl_checker *c, const hl_block *b) {
    hl__check_locate(c, hl__check_region_of(c, b, HL_HEADER), b);
}

/* The link to b (from prev, or list i's head) does not lead to a node. */
static int bad_link(hl_checker *c, size_t i, const hl_block *prev, const hl_block *b, const char *why) {
    if (prev) {
        at_block(c, prev);
        return hl__check_fail(c, HL_INV_LIST_LINKS, prev, 0, (uintptr_t)b,
                              "in free list %zu, next_free %p %s", i, (const void *)b, why);
    }
    hl__check_at_heap(c, hl__check_heap_bytes(c->h));
    c->focus = &c->h->lists[i];
    return hl__check_fail(c, HL_INV_LIST_LINKS, NULL, 0, (uintptr_t)b,
                          "heap %p: free list %zu: head %p %s", (const void *)c->h, i, (const void *)b, why);
}

/* b->prev_free is not prev.  Blame b, unless b's back link agrees with some
 * other block (or b heads its own list): then prev's forward link is what
 * points to the wrong place, as when a list's tail loops back to its head. */
static int bad_back_link(hl_checker *c, size_t i, const hl_block *prev, const hl_block *b) {
    const hl_block *back = b->prev_free;
    bool heads = !back && c->h->lists[hl__list_index(c->h, hl_block_size(b))] == b;
    bool agrees = back && node_home(c, back) && back->next_free == b;
    if (prev && (heads || agrees)) {
        at_block(c, prev);
        return hl__check_fail(c, HL_INV_LIST_LINKS, prev, (uintptr_t)prev, (uintptr_t)back,
                              "in free list %zu, next_free %p leads to a block whose prev_free is %p%s",
                              i, (const void *)b, (const void *)back, heads ? " (it heads a list: a cycle)" : "");
    }
    at_block(c, b);
    return hl__check_fail(c, HL_INV_LIST_LINKS, b, (uintptr_t)prev, (uintptr_t)back,
                          "in free list %zu, prev_free is %p, expected %p%s", i, (const void *)back,
                          (const void *)prev, prev ? " (the block before it in the list)" : " (it heads the list)");
}

static int check_node(hl_checker *c, size_t i, const hl_block *prev, const hl_block *b) {
    const hl_region *r = node_home(c, b);
    if (!r)
        return bad_link(c, i, prev, b, "is not a 16-byte aligned address inside any region's blocks");
    if (!node_is_block(c, r, b))
        return bad_link(c, i, prev, b, "does not point at a block header (bad check word or size)");
    if (hl_block_used(b)) {
        at_block(c, b);
        return hl__check_fail(c, HL_INV_LIST_MEMBERSHIP, b, 0, HL_USED,
                              "used block (%zu bytes) found in free list %zu", hl_block_size(b), i);
    }
    if (b->prev_free != prev)
        return bad_back_link(c, i, prev, b);
    size_t want = hl__list_index(c->h, hl_block_size(b));
    if (want != i) {
        at_block(c, b);
        return hl__check_fail(c, HL_INV_LIST_MEMBERSHIP, b, want, i,
                              "free block of %zu bytes is in free list %zu, but its size belongs in list %zu",
                              hl_block_size(b), i, want);
    }
    return 0;
}

static int walk_list(hl_checker *c, size_t i, list_walk *w) {
    const hl_block *prev = NULL;
    for (const hl_block *b = c->h->lists[i]; b; prev = b, b = b->next_free) {
        if (w->steps++ == w->bound) {
            /* prev passed check_node, b has not: only prev may be read */
            if (prev)
                at_block(c, prev);
            else
                hl__check_at_heap(c, hl__check_heap_bytes(c->h));
            return hl__check_fail(c, HL_INV_LIST_LINKS, prev, w->bound, w->steps,
                                  "the free lists hold more than %zu nodes (one per %d bytes of region): a cycle",
                                  w->bound, HL_MIN_BLOCK);
        }
        int id = check_node(c, i, prev, b);
        if (id)
            return id;
        w->listed++;
        w->print += hl__check_print(b);
    }
    return 0;
}

/* --- the failure path: who is missing, or who is extra ------------------------ */

static bool listed(const hl_checker *c, const hl_block *b, size_t bound) {
    const hl_block *n = c->h->lists[hl__list_index(c->h, hl_block_size(b))];
    for (; n && bound--; n = n->next_free)
        if (n == b)
            return true;
    return false;
}

/* The first free block of the walk that its list does not hold, or NULL. */
static const hl_block *find_unlisted(const hl_checker *c, size_t bound) {
    const hl_region *r = c->h->regions;
    for (size_t i = 0; i < c->nregions; i++, r = r->next) {
        const hl_block *epi = hl_region_epilogue(r);
        for (const hl_block *b = hl_region_first(r); b != epi; b = hl_block_next(b))
            if (!hl_block_used(b) && !listed(c, b, bound))
                return b;
    }
    return NULL;
}

/* Is b a block the region walk steps on? */
static bool walk_meets(const hl_checker *c, const hl_block *b) {
    const hl_region *r = hl__check_region_of(c, b, HL_HEADER);
    const hl_block *epi = hl_region_epilogue(r);
    for (const hl_block *x = hl_region_first(r); x < epi && x <= b; x = hl_block_next(x))
        if (x == b)
            return true;
    return false;
}

/* The first listed node that is no block of the walk, or NULL. */
static const hl_block *find_stale(const hl_checker *c, size_t bound, size_t *list) {
    for (size_t i = 0; i < c->h->nlists; i++)
        for (const hl_block *n = c->h->lists[i]; n && bound--; n = n->next_free)
            if (!walk_meets(c, n)) {
                *list = i;
                return n;
            }
    return NULL;
}

static int membership_mismatch(hl_checker *c, const list_walk *w) {
    const hl_block *b = find_unlisted(c, w->bound);
    if (b) {
        at_block(c, b);
        return hl__check_fail(c, HL_INV_LIST_MEMBERSHIP, b, 1, 0,
                              "free block of %zu bytes is not in any free list (it belongs in list %zu)",
                              hl_block_size(b), hl__list_index(c->h, hl_block_size(b)));
    }
    size_t i = 0;
    b = find_stale(c, w->bound, &i);
    if (b) {
        at_block(c, b);
        return hl__check_fail(c, HL_INV_LIST_MEMBERSHIP, b, 0, 1,
                              "is in free list %zu but is no block of its region (a stale header)", i);
    }
    /* Not reached: every listed node passed check_node (so it is a free
     * header), and if none is stale and none is missing, the listed set is the
     * set of free blocks, whose counts and fingerprints then agree (the proof
     * above).  Kept so that a mismatch is never reported as "sound"; excluded
     * from coverage for that reason (docs/coverage.md). */
    hl__check_at_heap(c, hl__check_heap_bytes(c->h));   /* GCOVR_EXCL_START */
    return hl__check_fail(c, HL_INV_LIST_MEMBERSHIP, NULL, c->free_blocks, w->listed,
                          "heap %p: the free lists hold %zu blocks, the regions %zu free blocks",
                          (const void *)c->h, w->listed, c->free_blocks);   /* GCOVR_EXCL_STOP */
}

int hl__check_lists(hl_checker *c) {
    list_walk w = { 0, c->region_bytes / HL_MIN_BLOCK, 0, 0 };
    for (size_t i = 0; i < c->h->nlists; i++) {
        int id = walk_list(c, i, &w);
        if (id)
            return id;
    }
    if (w.listed != c->free_blocks || w.print != c->free_print)
        return membership_mismatch(c, &w);
    return 0;
}
