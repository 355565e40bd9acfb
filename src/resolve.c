/*
 * resolve.c - from a caller's pointer to the block it names, or to a clear
 * report of why it names none.
 *
 * The fast path reads the header before p only when p lies inside one of the
 * heap's regions (so the read is inside memory the heap owns) and accepts it
 * when the check word matches: no side table of live pointers is needed.
 * When the check word does not match, the slow path walks p's region from its
 * first block to tell the cases apart:
 *   p inside a used block, not at its start      -> invalid pointer (interior)
 *   p inside a free block                        -> double free (stale pointer)
 *   p at a block whose header fails the check    -> corrupted block
 *   the walk itself meets a broken header first  -> corrupted block
 * Pointers outside every region are looked up among the large mappings and
 * never dereferenced.
 */
#include "hl_core.h"

static hl_block *misuse(hl_heap *h, hl_error_kind kind, const char *op, const void *p, const char *why) {
    hl__report(h, kind, op, p, NULL, "%s(): %s %p: %s", op,
               kind == HL_ERR_DOUBLE_FREE ? "double free of" :
               kind == HL_ERR_CORRUPTED_BLOCK ? "corrupted block at" : "invalid pointer", p, why);
    return NULL;
}

/* The slow path: what does p point into? */
static hl_block *diagnose(hl_heap *h, hl_region *r, const void *p, const char *op) {
    const char *c = p;
    size_t limit = r->size / HL_MIN_BLOCK + 1;
    hl_block *epi = hl_region_epilogue(r);
    for (hl_block *b = hl_region_first(r); b < epi && limit--; b = hl_block_next(b)) {
        if (!hl__header_ok(h, b) || hl_block_size(b) < HL_MIN_BLOCK ||
            (char *)b + hl_block_size(b) > (char *)epi) {
            if ((char *)hl_block_payload(b) == c)
                return misuse(h, HL_ERR_CORRUPTED_BLOCK, op, p, "its header was overwritten (bad check word)");
            return misuse(h, HL_ERR_CORRUPTED_BLOCK, op, p, "the heap is corrupted before this block");
        }
        if (c >= (char *)b && c < (char *)b + hl_block_size(b)) {
            if (!hl_block_used(b))
                return misuse(h, HL_ERR_DOUBLE_FREE, op, p, "the memory is already free");
            return misuse(h, HL_ERR_INVALID_POINTER, op, p, "points inside a block, not at its start");
        }
    }
    return misuse(h, HL_ERR_CORRUPTED_BLOCK, op, p, "the blocks of its region do not tile it");
}

static hl_block *resolve_large(hl_heap *h, const void *p, const char *op) {
    bool inside;
    hl_block *b = hl__large_find(h, p, &inside);
    if (b) {
        if (!hl__header_ok(h, b) || *hl_block_footer(b) != b->size_flags)
            return misuse(h, HL_ERR_CORRUPTED_BLOCK, op, p, "the header of its mapping was overwritten");
        return b;
    }
    if (inside) return misuse(h, HL_ERR_INVALID_POINTER, op, p, "points inside a large block, not at its start");
    int cached = hl__lcache_find(h, p);
    if (cached == 2)
        return misuse(h, HL_ERR_DOUBLE_FREE, op, p, "this large block was already freed (its mapping is cached for reuse)");
    if (cached && !hl__large_recently_freed(h, p))
        return misuse(h, HL_ERR_INVALID_POINTER, op, p, "points inside a freed large mapping (cached for reuse)");
    if (hl__large_recently_freed(h, p))
        return misuse(h, HL_ERR_DOUBLE_FREE, op, p, "this large block was already freed");
    return misuse(h, HL_ERR_INVALID_POINTER, op, p, "not allocated by this heap");
}

hl_block *hl__resolve(hl_heap *h, const void *p, const char *op) {
    if ((uintptr_t)p % HL_ALIGN)
        return misuse(h, HL_ERR_INVALID_POINTER, op, p, "misaligned (heaplab returns 16-byte aligned pointers)");
    hl_region *r = hl__region_of(h, p);
    if (!r) return resolve_large(h, p, op);
    hl_block *b = hl_payload_block(p);
    if ((char *)b < (char *)hl_region_first(r)) return misuse(h, HL_ERR_INVALID_POINTER, op, p, "points at a region header");
    if (!hl__header_ok(h, b) || hl_block_large(b)) return diagnose(h, r, p, op);
    if (!hl_block_used(b)) return misuse(h, HL_ERR_DOUBLE_FREE, op, p, "the block is already free");
    if (*hl_block_footer(b) != b->size_flags)
        return misuse(h, HL_ERR_CORRUPTED_BLOCK, op, p, "its footer does not match its header");
    return b;
}
