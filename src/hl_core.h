/*
 * hl_core.h - functions shared between the allocator's own files (src/ only;
 * the checker sees the heap through hl_internal.h).
 *
 * Conventions: hl__ marks an internal function used across files.  A function
 * that returns a block pointer validated its header; one that takes a block
 * trusts that its caller did.
 */
#ifndef HL_CORE_H
#define HL_CORE_H

#include "hl_internal.h"
#include "hl_track.h"

#include <errno.h>

/* Largest request and alignment heaplab will try to serve. */
#define HL_MAX_REQUEST ((size_t)PTRDIFF_MAX)
#define HL_MAX_ALIGN ((size_t)1 << 30)

static inline size_t hl__round_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }
size_t hl__page_size(void);

/* Block size for a request of n bytes, or 0 if no region block can hold it. */
static inline size_t hl__block_size_for(size_t n) {
    if (n > HL_MAX_REGION) return 0;
    size_t s = hl__round_up(n + HL_OVERHEAD, HL_ALIGN);
    return s < HL_MIN_BLOCK ? HL_MIN_BLOCK : s;
}

/* What a caller may use of a used block: the request in checked builds (the
 * rest holds canaries), the whole usable size otherwise. */
static inline size_t hl__visible(const hl_block *b) {
    return HL_CHECKED ? hl_block_usable(b) - b->slack : hl_block_usable(b);
}

/* --- blocks (block.c) --------------------------------------------------------- */
bool hl__header_ok(const hl_heap *h, const hl_block *b);
void hl__set_free(hl_heap *h, hl_block *b, size_t size);
void hl__set_used(hl_heap *h, hl_block *b, size_t size, size_t flags, size_t requested);
/* Fills the whole of a new region's free block (checked builds): one memset,
 * which the every-op check leaves to its rolling window. */
void hl__fill_new(hl_block *b);
/* Fills [lo, hi) of free block b's fill area (checked builds); the every-op
 * check verifies those bytes after the operation. */
void hl__fill_free(hl_heap *h, hl_block *b, unsigned char *lo, unsigned char *hi);
/* Turns free block b (already unlisted) into a used block for n bytes of
 * `size` total, splitting off and listing the tail when it can stand alone. */
void *hl__use_block(hl_heap *h, hl_block *b, size_t size, size_t n);
/* Carves k used blocks of `size` bytes, each a request of its whole usable
 * size, off the front of listed free block b (k * size fits, leaving nothing
 * or a block): what k hl__use_block calls would do, with one list removal
 * and one insertion for all k. */
void hl__carve(hl_heap *h, hl_block *b, size_t size, size_t k);
/* Frees used region block b of region r: coalesces, fills, lists.  False
 * (after a report, with nothing changed) when a neighbour is corrupted. */
bool hl__release_block(hl_heap *h, hl_region *r, hl_block *b);
/* The free block after b, validated, or NULL if b's successor is used. */
hl_block *hl__free_successor(hl_heap *h, hl_region *r, hl_block *b, bool *corrupt);
/* Safe unlink: checks both links before touching them. */
bool hl__unlink_ok(const hl_heap *h, const hl_block *b);

/* --- regions (region.c) ---------------------------------------------------------- */
hl_region *hl__region_of(const hl_heap *h, const void *p);
/* Adds a region whose one free block (returned, listed) holds block_size
 * bytes, or NULL.  Callers use that block directly: a policy's rounding
 * (segregated fit searches the next class up) could miss a region grown
 * just big enough. */
hl_block *hl__grow(hl_heap *h, size_t block_size);
void hl__region_init(hl_heap *h, void *mem, size_t size, void *base, size_t base_size);
void hl__release_regions(hl_heap *h);

/* --- the region index (region_index.c): mmap and sbrk heaps ------------------------- */
/* Room for one more region in the index; false if it cannot grow. */
bool hl__rindex_reserve(hl_heap *h);
void hl__rindex_insert(hl_heap *h, hl_region *r);
/* The region with the highest address not above p (p may lie past its end). */
hl_region *hl__rindex_find(const hl_heap *h, const void *p);
void hl__rindex_release(hl_heap *h);

/* May a mapping grow by `more` bytes where it lies (mremap)?  The same cap
 * and injected failures as hl__source_acquire (source.c). */
bool hl__source_may_grow(hl_heap *h, size_t more);

/* --- large mappings (large.c, large_cache.c): resize and cache ------------------- */
/* realloc of a large block to n bytes (still large) by resizing its mapping:
 * in place, or moved with mremap.  The payload, or NULL (nothing changed):
 * then the caller copies, unless *refused (the source refused the growth:
 * the realloc fails). */
void *hl__large_resize(hl_heap *h, hl_block *b, size_t n, bool *refused);

/* --- the large cache (large_cache.c) ------------------------------------------------- */
/* Keeps the freed mapping [base, base+size) for reuse, or unmaps it. */
void hl__lcache_put(hl_heap *h, void *base, size_t size);
/* A cached mapping of *got >= need bytes (need rounded to pages), taken
 * out of the cache, header at its base; or NULL, with *got SIZE_MAX when the
 * source refused the fresh mapping a cached one was to move into. */
void *hl__lcache_take(hl_heap *h, size_t need, size_t *got);
/* Unmaps every cached mapping; true if there was one. */
bool hl__lcache_flush(hl_heap *h);
void hl__lcache_release_all(hl_heap *h);
/* 2: p is a cached mapping's old payload; 1: p lies inside one; 0: neither. */
int hl__lcache_find(const hl_heap *h, const void *p);

/* --- large mappings (large.c) ------------------------------------------------------ */
void *hl__large_alloc(hl_heap *h, size_t n, size_t align);
void hl__large_free(hl_heap *h, hl_block *b);
/* The large block whose payload is p; *inside set when p lies in a mapping
 * without being its payload. */
hl_block *hl__large_find(const hl_heap *h, const void *p, bool *inside);
bool hl__large_recently_freed(const hl_heap *h, const void *p);
void hl__release_large(hl_heap *h);
static inline bool hl__wants_large(const hl_heap *h, size_t n) {
    return h->cfg.source != HL_SOURCE_BUFFER && n >= h->cfg.mmap_threshold;
}

/* --- the allocation paths (alloc.c) --------------------------------------------- */
void *hl__alloc(hl_heap *h, size_t n, size_t align);
/* False when b's neighbours were found corrupted (reported; nothing freed). */
bool hl__free(hl_heap *h, hl_block *b);

/* --- the thread cache (tcache.c; global heaps, owner thread only) ------------ */
/* The fast paths, hl__cache_put and hl__cache_take, are in hl_tcache.h. */
/* Every cached block back to the free lists (under the heap's lock); how many. */
size_t hl__cache_flush(hl_heap *h);
size_t hl__cache_blocks(const hl_heap *h);
size_t hl__cache_usable_bytes(const hl_heap *h);

/* --- pointers from callers (resolve.c) ------------------------------------------- */
/* The used block whose payload is p, or NULL after reporting the misuse. */
hl_block *hl__resolve(hl_heap *h, const void *p, const char *op);

/* Reads HEAPLAB_TRACE once, unless hl_set_trace already chose (trace.c). */
void hl__trace_init(void);

/* --- the every-op check ----------------------------------------------------------- */
#if HL_CHECKED
#define HL_AFTER(h, op) hl__check_after((h), (op))
#else
#define HL_AFTER(h, op) ((void)0)
#endif

static inline bool hl__heap_ok(const hl_heap *h) {
    return h && h->magic == (HL_HEAP_MAGIC ^ (uint64_t)(uintptr_t)h);
}

#endif /* HL_CORE_H */
