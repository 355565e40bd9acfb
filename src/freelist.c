/*
 * freelist.c - the free lists and the three fit policies.
 *
 * First fit and best fit keep one doubly linked list, newest first.  First fit
 * takes the first block that fits; best fit the smallest (an exact fit ends
 * the search).  Both are O(free blocks).
 *
 * Segregated fit is two-level segregated fit in the manner of TLSF (Masmano et
 * al., 2004): a first level per power of two, HL_SL_COUNT linear subdivisions
 * per level, and a bitmap for each level, so that both insertion and search are
 * O(1).  Below HL_SMALL_BLOCK the classes are HL_ALIGN bytes apart.  A search
 * rounds the request up to the next class boundary, so that any block of the
 * class it lands on fits, in O(1).  Only when that finds nothing does it scan
 * the request's own class, where a block larger than the request may wait:
 * so segregated fit, like the others, fails only when no free block fits.
 */
#include "hl_core.h"

static unsigned fls_size(size_t x) { return 63u - (unsigned)__builtin_clzll((unsigned long long)x); }

void hl__tlsf_mapping(size_t size, unsigned *fl, unsigned *sl) {
    if (size < HL_SMALL_BLOCK) {
        *fl = 0;
        *sl = (unsigned)(size / HL_ALIGN);
        return;
    }
    unsigned t = fls_size(size);
    *sl = (unsigned)(size >> (t - HL_SL_LOG2)) ^ (1u << HL_SL_LOG2);
    *fl = t - (HL_FL_SHIFT - 1);
}

size_t hl__list_index(const hl_heap *h, size_t block_size) {
    if (h->nlists == 1) return 0;
    unsigned fl, sl;
    hl__tlsf_mapping(block_size, &fl, &sl);
    return (size_t)fl * HL_SL_COUNT + sl;
}

void hl__list_insert(hl_heap *h, hl_block *b) {
    size_t i = hl__list_index(h, hl_block_size(b));
    hl_block *head = h->lists[i];
    b->prev_free = NULL;
    b->next_free = head;
    if (head) head->prev_free = b;
    h->lists[i] = b;
    if (h->nlists > 1) {
        h->sl_bitmap[i / HL_SL_COUNT] |= 1u << (i % HL_SL_COUNT);
        h->fl_bitmap |= 1ull << (i / HL_SL_COUNT);
    }
}

void hl__list_remove(hl_heap *h, hl_block *b) {
    size_t i = hl__list_index(h, hl_block_size(b));
    if (b->prev_free) b->prev_free->next_free = b->next_free;
    else h->lists[i] = b->next_free;
    if (b->next_free) b->next_free->prev_free = b->prev_free;
    b->next_free = b->prev_free = NULL;
    if (h->nlists > 1 && !h->lists[i]) {
        unsigned fl = (unsigned)(i / HL_SL_COUNT);
        h->sl_bitmap[fl] &= ~(1u << (i % HL_SL_COUNT));
        if (!h->sl_bitmap[fl]) h->fl_bitmap &= ~(1ull << fl);
    }
}

/* Every block a list walk reaches is validated before it is read further:
 * a user's overrun into a free block's links must not send us into the weeds. */
static bool listed_ok(const hl_heap *h, const hl_block *b) {
    return hl__region_of(h, b) && ((uintptr_t)b % HL_ALIGN) == 0 && hl__header_ok(h, b) && !hl_block_used(b);
}

/* Named by its payload, as every other report names a block. */
static hl_block *corrupt_list(hl_heap *h, const hl_block *b) {
    const void *p = hl_block_payload(b);
    hl__report(h, HL_ERR_CORRUPTED_BLOCK, "malloc", p, NULL,
               "malloc(): corrupted free list at %p: a listed block lies outside the heap, is in use or has a bad header", p);
    return NULL;
}

static hl_block *first_fit(hl_heap *h, size_t size) {
    size_t limit = h->st.blocks_free + 1;
    for (hl_block *b = h->lists[0]; b && limit--; b = b->next_free) {
        if (!listed_ok(h, b)) return corrupt_list(h, b);
        if (hl_block_size(b) >= size) return b;
    }
    return NULL;
}

static hl_block *best_fit(hl_heap *h, size_t size) {
    hl_block *best = NULL;
    size_t limit = h->st.blocks_free + 1;
    for (hl_block *b = h->lists[0]; b && limit--; b = b->next_free) {
        if (!listed_ok(h, b)) return corrupt_list(h, b);
        size_t s = hl_block_size(b);
        if (s >= size && (!best || s < hl_block_size(best))) {
            best = b;
            if (s == size) break;
        }
    }
    return best;
}

/* The request's own class may hold a block big enough that the rounded-up
 * search skipped.  Scanning it is the last resort before the heap grows or
 * fails, so that segregated fit, too, returns NULL only when no free block can
 * hold the request. */
static hl_block *own_class(hl_heap *h, size_t size) {
    size_t limit = h->st.blocks_free + 1;
    for (hl_block *b = h->lists[hl__list_index(h, size)]; b && limit--; b = b->next_free) {
        if (!listed_ok(h, b)) return corrupt_list(h, b);
        if (hl_block_size(b) >= size) return b;
    }
    return NULL;
}

static hl_block *corrupt_bitmap(hl_heap *h, unsigned fl) {
    hl__report(h, HL_ERR_CORRUPTED_BLOCK, "malloc", NULL, NULL,
               "malloc(): the segregated-fit bitmaps are corrupted (first level %u)", fl);
    return NULL;
}

static hl_block *segregated_fit(hl_heap *h, size_t request) {
    size_t size = request;
    if (size >= HL_SMALL_BLOCK) size += ((size_t)1 << (fls_size(size) - HL_SL_LOG2)) - 1;
    unsigned fl, sl;
    hl__tlsf_mapping(size, &fl, &sl);
    /* Requests reach at most 2^40 + 2^30 bytes (a region's size plus the
     * largest alignment), first level HL_FL_COUNT - 1, so this guard of the
     * bitmap index is never taken; excluded from coverage (docs/coverage.md). */
    if (fl >= HL_FL_COUNT) return own_class(h, request);   /* GCOVR_EXCL_BR_LINE */
    uint32_t sl_map = h->sl_bitmap[fl] & (~0u << sl);
    if (!sl_map) {
        _Static_assert(HL_FL_COUNT < 64, "fl + 1 is a valid shift of fl_bitmap");
        uint64_t fl_map = h->fl_bitmap & (~0ull << (fl + 1));
        if (!fl_map) return own_class(h, request);
        fl = (unsigned)__builtin_ctzll(fl_map);
        if (fl >= HL_FL_COUNT || !(sl_map = h->sl_bitmap[fl])) return corrupt_bitmap(h, fl);
    }
    sl = (unsigned)__builtin_ctz(sl_map);
    hl_block *b = h->lists[(size_t)fl * HL_SL_COUNT + sl];
    if (!b) {
        hl__report(h, HL_ERR_CORRUPTED_BLOCK, "malloc", NULL, NULL,
                   "malloc(): the segregated-fit bitmap says list fl %u sl %u holds a block, but it is empty", fl, sl);
        return NULL;
    }
    if (!listed_ok(h, b)) return corrupt_list(h, b);
    return b;
}

hl_block *hl__policy_find(hl_heap *h, size_t size) {
    switch (h->cfg.policy) {
    case HL_FIRST_FIT: return first_fit(h, size);
    case HL_BEST_FIT: return best_fit(h, size);
    case HL_SEGREGATED_FIT: return segregated_fit(h, size);
    }
    return NULL;
}

size_t hl__largest_free(const hl_heap *h) {
    size_t best = 0, limit = h->st.blocks_free + 1;
    size_t i = h->nlists;
    if (h->nlists > 1) {
        /* the highest non-empty class holds the largest block */
        if (!h->fl_bitmap) return 0;
        unsigned fl = 63u - (unsigned)__builtin_clzll(h->fl_bitmap);
        if (fl >= HL_FL_COUNT || !h->sl_bitmap[fl]) return 0;   /* corrupted: the checker says so */
        unsigned sl = 31u - (unsigned)__builtin_clz(h->sl_bitmap[fl]);
        i = (size_t)fl * HL_SL_COUNT + sl + 1;
    }
    for (hl_block *b = h->lists[i - 1]; b && limit--; b = b->next_free) {
        if (!listed_ok(h, b)) break;
        if (hl_block_size(b) > best) best = hl_block_size(b);
    }
    return best ? best - HL_OVERHEAD : 0;
}
