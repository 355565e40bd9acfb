/*
 * block.c - writing headers and footers, splitting, coalescing.
 *
 * Every algorithm here is written in terms of the accessors in hl_internal.h.
 * A block's header is written only through hl__set_free/hl__set_used, which
 * also seal it (check word) and write the footer, so "header and footer agree"
 * and "the check word matches" hold by construction.
 *
 * In checked builds the free part of a free block holds HL_FILL_FREE and the
 * slack of a used block holds HL_FILL_CANARY.  Fills are kept incrementally:
 * a split leaves the tail's fill in place, and a merge fills only the bytes
 * that were not fill before (the freed block, the seams), so the cost of a
 * free is proportional to the block freed, not to its neighbours.
 */
#include "hl_core.h"

bool hl__header_ok(const hl_heap *h, const hl_block *b) {
    return b->check == hl_check_word(b, b->size_flags, b->slack, h->cookie);
}

static void seal(hl_heap *h, hl_block *b, size_t size_flags, uint32_t slack) {
    b->size_flags = size_flags;
    b->slack = slack;
    b->check = hl_check_word(b, size_flags, slack, h->cookie);
    *hl_block_footer(b) = size_flags;
}

void hl__set_free(hl_heap *h, hl_block *b, size_t size) { seal(h, b, size, 0); }

#if HL_CHECKED
/* The every-op check verifies what this operation filled (invariants/check.c). */
static void touched(hl_heap *h, unsigned char *lo, unsigned char *hi) {
    if (h->ntouched < HL_TOUCHED_MAX) {
        h->touched[h->ntouched][0] = lo;
        h->touched[h->ntouched][1] = hi;
    }
    if (h->ntouched <= HL_TOUCHED_MAX) h->ntouched++;
}
#endif

void hl__set_used(hl_heap *h, hl_block *b, size_t size, size_t flags, size_t requested) {
    size_t usable = size - HL_OVERHEAD;
    seal(h, b, size | HL_USED | flags, (uint32_t)(usable - requested));
#if HL_CHECKED
    size_t from = hl_canary_start(h, requested);
    if (from < usable) hl_track_fill((char *)hl_block_payload(b) + from, HL_FILL_CANARY, usable - from);
#endif
}

void hl__fill_free(hl_heap *h, hl_block *b, unsigned char *lo, unsigned char *hi) {
#if HL_CHECKED
    unsigned char *start = hl_block_fill_start(b), *end = start + hl_block_fill_len(b);
    if (lo < start) lo = start;
    if (hi > end) hi = end;
    if (lo < hi) {
        hl_track_fill(lo, HL_FILL_FREE, (size_t)(hi - lo));
        touched(h, lo, hi);
    }
#else
    (void)h; (void)b; (void)lo; (void)hi;
#endif
}

void hl__fill_new(hl_block *b) {
#if HL_CHECKED
    hl_track_fill(hl_block_fill_start(b), HL_FILL_FREE, hl_block_fill_len(b));
#else
    (void)b;
#endif
}

/* A header that no longer starts a block is wiped, so that a stale pointer to
 * it (a double free after a merge) fails the check word instead of passing. */
static void forget(hl_block *b) {
    b->size_flags = 0;
    b->check = 0;
}

void *hl__use_block(hl_heap *h, hl_block *b, size_t size, size_t n) {
    size_t have = hl_block_size(b);
    h->st.blocks_free--;
    h->st.bytes_free -= have;
    if (have - size >= HL_MIN_BLOCK) {
        /* the tail lies inside b's old fill, so it needs no new fill */
        hl_block *tail = (hl_block *)((char *)b + size);
        hl__set_free(h, tail, have - size);
        hl__list_insert(h, tail);
        h->st.blocks_free++;
        h->st.bytes_free += have - size;
        h->st.splits++;
        HL_TRACE(h, "split %p (%zu) -> %zu + %zu", (void *)b, have, size, have - size);
    } else {
        size = have;
    }
    hl__set_used(h, b, size, 0, n);
    h->st.blocks_in_use++;
    h->st.bytes_in_use += n;
    return hl_block_payload(b);
}

void hl__carve(hl_heap *h, hl_block *b, size_t size, size_t k) {
    size_t have = hl_block_size(b), take = k * size;
    hl__list_remove(h, b);
    h->st.bytes_free -= take;
    if (have > take) {
        /* the rest lies inside b's old fill, as a split's tail does */
        hl_block *rest = (hl_block *)((char *)b + take);
        hl__set_free(h, rest, have - take);
        hl__list_insert(h, rest);
    } else {
        h->st.blocks_free--;
    }
    for (size_t j = 0; j < k; j++) hl__set_used(h, (hl_block *)((char *)b + j * size), size, 0, size - HL_OVERHEAD);
    h->st.blocks_in_use += k;
    h->st.bytes_in_use += k * (size - HL_OVERHEAD);
    h->st.splits += have > take ? k : k - 1;
    HL_TRACE(h, "carve %p (%zu) -> %zu x %zu + %zu", (void *)b, have, k, size, have - take);
}

bool hl__unlink_ok(const hl_heap *h, const hl_block *b) {
    const hl_block *prev = b->prev_free, *next = b->next_free;
    if (prev ? !hl__region_of(h, prev) || prev->next_free != b
             : h->lists[hl__list_index(h, hl_block_size(b))] != b)
        return false;
    return !next || (hl__region_of(h, next) && next->prev_free == b);
}

static bool free_neighbour_ok(const hl_heap *h, const hl_region *r, const hl_block *n) {
    return (char *)n >= (char *)hl_region_first(r) && n < hl_region_epilogue(r) &&
           hl__header_ok(h, n) && hl_block_size(n) >= HL_MIN_BLOCK &&
           *hl_block_footer(n) == n->size_flags && hl__unlink_ok(h, n);
}

hl_block *hl__free_successor(hl_heap *h, hl_region *r, hl_block *b, bool *corrupt) {
    hl_block *next = hl_block_next(b);
    *corrupt = false;
    if (next == hl_region_epilogue(r)) return NULL;
    if (!hl__header_ok(h, next)) {
        *corrupt = true;
        return NULL;
    }
    if (hl_block_used(next)) return NULL;
    if (!free_neighbour_ok(h, r, next)) {
        *corrupt = true;
        return NULL;
    }
    return next;
}

static hl_block *free_predecessor(hl_heap *h, hl_region *r, hl_block *b, bool *corrupt) {
    size_t footer = hl_block_prev_footer(b);
    *corrupt = false;
    if (footer & HL_USED) return NULL;
    hl_block *prev = hl_block_prev(b);
    if ((char *)prev < (char *)hl_region_first(r) || prev->size_flags != footer ||
        !free_neighbour_ok(h, r, prev)) {
        *corrupt = true;
        return NULL;
    }
    return prev;
}

static void corrupted_neighbour(hl_heap *h, hl_block *b, const char *which) {
    hl__report(h, HL_ERR_CORRUPTED_BLOCK, "free", hl_block_payload(b), NULL,
               "free(): corrupted %s neighbour of %p: its header, footer or links were overwritten",
               which, hl_block_payload(b));
}

bool hl__release_block(hl_heap *h, hl_region *r, hl_block *b) {
    bool bad_next, bad_prev;
    hl_block *next = hl__free_successor(h, r, b, &bad_next);
    hl_block *prev = bad_next ? NULL : free_predecessor(h, r, b, &bad_prev);
    if (bad_next || bad_prev) {
        corrupted_neighbour(h, b, bad_next ? "next" : "previous");
        return false;   /* nothing touched: the caller's heap stays as it was */
    }
    size_t size = hl_block_size(b);
    h->st.blocks_in_use--;
    h->st.bytes_in_use -= hl_block_usable(b) - b->slack;
    h->st.blocks_free++;
    h->st.bytes_free += size;

    unsigned char *lo = (unsigned char *)b, *hi = (unsigned char *)b + size;
    hl_block *start = b;
    size_t total = size;
    if (next) {
        hl__list_remove(h, next);
        total += hl_block_size(next);
        forget(next);
        hi += HL_HEADER + HL_LINKS;
        h->st.blocks_free--;
        h->st.merges++;
        HL_TRACE(h, "merge %p + next %p -> %zu", (void *)b, (void *)next, total);
    }
    if (prev) {
        hl__list_remove(h, prev);
        total += hl_block_size(prev);
        start = prev;
        forget(b);
        lo -= HL_FOOTER;
        h->st.blocks_free--;
        h->st.merges++;
        HL_TRACE(h, "merge prev %p + %p -> %zu", (void *)prev, (void *)b, total);
    }
    hl__set_free(h, start, total);
    hl__fill_free(h, start, lo, hi);
    hl__list_insert(h, start);
    return true;
}
