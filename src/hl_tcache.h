/*
 * hl_tcache.h - the fast paths of the thread cache (src/tcache.c explains the
 * cache), inline so that hl_malloc and hl_free compile into one straight run
 * of code: no lock, no atomic operation, no system call, no call (the
 * registry lookup of a link is inline too).
 */
#ifndef HL_TCACHE_H
#define HL_TCACHE_H

#include "hl_core.h"
#include "hl_global.h"
#include "hl_registry.h"

void hl__cache_fill(hl_block *b);
void *hl__cache_corrupted(hl_heap *h, const hl_block *b, bool link);
bool hl__cache_trim_put(hl_heap *h, hl_block *b);
size_t hl__cache_refill(hl_heap *h, const hl_block *b, size_t n);

/* Pushes used block b of `size` bytes on list i (room checked, the tools
 * told): the header keeps its slack; the flag and the check word flip. */
static inline __attribute__((always_inline)) void hl__cache_push(hl_heap *h, size_t i, hl_block *b, size_t size) {
    hl_cache *c = &h->cache;
    c->bytes_delta -= size - HL_OVERHEAD - b->slack;   /* its request is no longer in use */
    b->size_flags = size | HL_USED | HL_CACHED;
    b->check ^= hl_cached_key(h->cookie);
    *hl_block_footer(b) = size | HL_USED | HL_CACHED;
    if (HL_CHECKED) hl__cache_fill(b);
    b->next_free = c->head[i];
    c->head[i] = b;
    c->count[i]++;
}

/* Takes used block b (a plain used region block of h whose header the caller
 * verified) into the cache; false if its size is not cached or its list is
 * full. */
static inline __attribute__((always_inline)) bool hl__cache_put(hl_heap *h, hl_block *b) {
    size_t size = hl_block_size(b);
    if (size > HL_CACHE_MAX_BLOCK) return false;
    size_t i = hl_cache_class(size);
    if (h->cache.count[i] >= hl_cache_depth(i)) return false;
    hl_track_free(hl_block_payload(b), hl__visible(b));
    hl__cache_push(h, i, b, size);
    h->cache.frees++;
    return true;
}

/* A cached block for n bytes (n <= HL_CACHE_MAX_BLOCK - HL_OVERHEAD), handed
 * out; NULL if its list is empty, or after reporting a corrupted cached
 * block.  The block's header is verified before it is trusted, and the link
 * it holds (in payload bytes a use after free could write) is looked up in
 * the registry before it becomes the list's head.  A request with the slack
 * the block had before keeps the check word the verification computed.
 * `zeroed`: for calloc (the caller clears it), counted as one. */
static inline __attribute__((always_inline)) void *hl__cache_take(hl_heap *h, size_t n, bool zeroed) {
    size_t size = hl__block_size_for(n);
    size_t i = hl_cache_class(size);
    hl_cache *c = &h->cache;
    hl_block *b = c->head[i];
    if (!b) return NULL;
    const size_t used = size | HL_USED;
    uint32_t old_slack = b->slack;
    uint32_t w = hl_mix_check(b, used, old_slack, h->cookie);
    if (b->size_flags != (used | HL_CACHED) || b->check != (w ^ hl_cached_key(h->cookie)) ||
        old_slack > size - HL_OVERHEAD)
        return hl__cache_corrupted(h, b, false);
    hl_block *next = b->next_free;
    /* A link into b's own segment needs no lookup: b's segment is a region
     * segment of h (b got on the list through a lookup of its own, and a
     * region is not released while it holds a cached block), so the registry
     * would say h.  Any other link is looked up: h's region segments' entry
     * is h itself (a large mapping's has bit 0 set). */
    if (next && (c->count[i] < 2 || (uintptr_t)next % HL_ALIGN ||
                 ((((uintptr_t)next ^ (uintptr_t)b) >> HL_SEGMENT_SHIFT) &&
                  hl__registry_entry(next) != (uintptr_t)h)))
        return hl__cache_corrupted(h, b, true);
    c->head[i] = next;
    c->count[i]--;
    if (zeroed) c->callocs++;   /* a constant at every call: the test is folded away */
    else c->mallocs++;
    size_t usable = size - HL_OVERHEAD;
    uint32_t slack = (uint32_t)(usable - n);
    c->bytes_delta += n;
    if (HL_CHECKED) {
        hl__set_used(h, b, size, 0, n);
    } else {
        b->size_flags = used;
        b->slack = slack;
        b->check = slack == old_slack ? w : hl_mix_check(b, used, slack, h->cookie);
        *hl_block_footer(b) = used;
    }
    void *p = hl_block_payload(b);
    hl_track_alloc(p, hl__visible(b), 0);
    return p;
}

#endif /* HL_TCACHE_H */
