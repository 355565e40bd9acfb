/*
 * check_cache.c - the thread cache of a global heap (invariants LIST_LINKS and
 * LIST_MEMBERSHIP, as for the free lists).
 *
 * Each list h->cache.head[i] holds the cached blocks of exactly
 * hl_cache_class_size(i) bytes (src/tcache.c).  It is walked for at most its
 * count, which is at most hl_cache_depth(i); each node, before it is read, must
 * be a 16-aligned address whose header lies in a validated region's block
 * area, and then a sound header (check word, size within the region) that
 * reads used|cached with the list's size (else LIST_LINKS or
 * LIST_MEMBERSHIP), and the list must end after exactly `count` nodes.
 *
 * "Every cached block is in exactly one list, once": the block walk counted
 * the blocks whose header reads cached and summed their fingerprints.  A
 * node listed twice makes the lists longer than that count or their
 * fingerprints differ; a cached header missing from every list does too.  As
 * with the free lists, the culprit is then searched for.
 */
#include "check_internal.h"

static const size_t cached_flags = HL_USED | HL_CACHED;

static void at_block(hl_checker *c, const hl_block *b) {
    hl__check_locate(c, hl__check_region_of(c, b, HL_HEADER), b);
}

static int bad_node(hl_checker *c, size_t i, const hl_block *prev, const hl_block *b, int id, const char *why) {
    if (prev) {
        at_block(c, prev);
    } else {
        hl__check_at_heap(c, hl__check_heap_bytes(c->h));
        c->focus = &c->h->cache.head[i];
    }
    return hl__check_fail(c, id, prev, hl_cache_class_size(i), (uintptr_t)b,
                          "thread cache list %zu (%zu-byte blocks): %s %p %s", i, hl_cache_class_size(i),
                          prev ? "the link after this block," : "its head,", (const void *)b, why);
}

static int check_node(hl_checker *c, size_t i, const hl_block *prev, const hl_block *b) {
    const hl_region *r = (uintptr_t)b % HL_ALIGN ? NULL : hl__check_region_of(c, b, HL_HEADER + HL_LINKS);
    if (!r)
        return bad_node(c, i, prev, b, HL_INV_LIST_LINKS, "is not a 16-byte aligned address inside any region's blocks");
    uintptr_t room = (uintptr_t)hl_region_epilogue(r) - (uintptr_t)b;
    if (b->check != hl_check_word(b, b->size_flags, b->slack, c->h->cookie) || hl_block_size(b) > room)
        return bad_node(c, i, prev, b, HL_INV_LIST_LINKS, "does not point at a block header (bad check word or size)");
    if (b->size_flags != (hl_cache_class_size(i) | cached_flags))
        return bad_node(c, i, prev, b, HL_INV_LIST_MEMBERSHIP, "is not a cached block of the list's size");
    return 0;
}

/* Is b on list i (within its count)? */
static bool listed(const hl_cache *k, size_t i, const hl_block *b) {
    const hl_block *n = k->head[i];
    for (size_t s = 0; n && s < k->count[i]; s++, n = n->next_free)
        if (n == b)
            return true;
    return false;
}

static int membership_mismatch(hl_checker *c, size_t listed_total) {
    const hl_cache *k = &c->h->cache;
    const hl_region *r = c->h->regions;
    for (size_t j = 0; j < c->nregions; j++, r = r->next) {
        const hl_block *epi = hl_region_epilogue(r);
        for (const hl_block *b = hl_region_first(r); b != epi; b = hl_block_next(b))
            if ((b->size_flags & HL_CACHED) && !listed(k, hl_cache_class(hl_block_size(b)), b)) {
                at_block(c, b);
                return hl__check_fail(c, HL_INV_LIST_MEMBERSHIP, b, 1, 0,
                                      "cached block of %zu bytes is on no thread cache list", hl_block_size(b));
            }
    }
    hl__check_at_heap(c, hl__check_heap_bytes(c->h));
    return hl__check_fail(c, HL_INV_LIST_MEMBERSHIP, NULL, c->cached_blocks, listed_total,
                          "heap %p: the thread cache lists hold %zu blocks, the regions %zu cached blocks "
                          "(a block listed twice, or a header left cached)",
                          (const void *)c->h, listed_total, c->cached_blocks);
}

int hl__check_cache(hl_checker *c) {
    const hl_cache *k = &c->h->cache;
    size_t total = 0;
    uint64_t print = 0;
    for (size_t i = 0; i < HL_CACHE_CLASSES; i++) {
        if (k->count[i] > hl_cache_depth(i) || (!k->enabled && (k->count[i] || k->head[i]))) {
            hl__check_at_heap(c, hl__check_heap_bytes(c->h));
            c->focus = &k->count[i];
            return hl__check_fail(c, HL_INV_LIST_LINKS, NULL, hl_cache_depth(i), k->count[i],
                                  "heap %p: thread cache list %zu counts %u blocks (at most %u, none if the heap has no cache)",
                                  (const void *)c->h, i, k->count[i], hl_cache_depth(i));
        }
        const hl_block *prev = NULL, *b = k->head[i];
        for (size_t s = 0; s < k->count[i]; s++, prev = b, b = b->next_free) {
            if (!b)
                return bad_node(c, i, prev, b, HL_INV_LIST_LINKS, "ends the list before its count");
            int id = check_node(c, i, prev, b);
            if (id)
                return id;
            total++;
            print += hl__check_print(b);
        }
        if (b)
            return bad_node(c, i, prev, b, HL_INV_LIST_LINKS, "continues the list past its count");
    }
    if (total != c->cached_blocks || print != c->cached_print)
        return membership_mismatch(c, total);
    return 0;
}
