/*
 * region.c - regions: runs of memory from the source, tiled by blocks.
 *
 *   [hl_region ... prologue][block][block]...[block][epilogue]
 *
 * The prologue (the region header's last word) and the epilogue (a header of
 * size 0) both read "used", so coalescing never needs a bounds test.  A region
 * header is sealed (hl_region_seal) so that a walk of the region list can
 * trust a link before following it.
 */
#include "hl_core.h"
#include "hl_global.h"
#include "hl_registry.h"

static bool region_holds(const hl_region *r, const void *p) {
    return (const char *)p >= (const char *)hl_region_first(r) && (const char *)p < (const char *)hl_region_epilogue(r);
}

static bool region_ok(const hl_heap *h, const hl_region *r) {
    return r->magic == (HL_REGION_MAGIC ^ (uint64_t)(uintptr_t)r) && r->seal == hl_region_seal(h->cookie, r);
}

/* The region that must hold p if any does, by the registry: a global heap
 * whose regions are each one segment starts each at its segment's base, and
 * the registry (out of reach of block overruns) says whose the segment is.
 * NULL when that does not apply (explicit heaps, a heap with a wider region)
 * or the segment is not one of h's regions. */
static hl_region *segment_region(const hl_heap *h, const void *p) {
    if (!h->seg_align || h->wide_regions || hl__registry_entry(p) != (uintptr_t)h) return NULL;
    return (hl_region *)((uintptr_t)p & ~(uintptr_t)(HL_SEGMENT - 1));
}

/* Most lookups land in the region the last one found, so that one is tried
 * first; the cache lives in the heap header, out of reach of block overruns,
 * and is cleared whenever a region goes away.  Then, in a global heap, the
 * segment's base (an O(1) registry lookup, where links between free blocks
 * of many regions would miss the hot region); else the sorted index
 * (region_index.c), or for a buffer heap its one region; any way only
 * through sealed headers. */
hl_region *hl__region_of(const hl_heap *h, const void *p) {
    hl_region *hot = h->hot;
    if (hot && region_holds(hot, p)) return hot;
    hl_region *r = segment_region(h, p);
    if (!r) r = h->rindex ? hl__rindex_find(h, p) : h->regions;
    if (!r || !region_ok(h, r))
        return NULL;   /* a corrupted region header is the checker's to report */
    if (!region_holds(r, p)) return NULL;
    ((hl_heap *)h)->hot = r;
    return r;
}

bool hl__addr_in_regions(const hl_heap *h, const void *p, size_t len) {
    hl_region *r = hl__region_of(h, p);
    return r && len <= (size_t)((const char *)hl_region_epilogue(r) + HL_EPILOGUE - (const char *)p);
}

static void link_region(hl_heap *h, hl_region *r) {
    r->next = h->regions;
    r->seal = hl_region_seal(h->cookie, r);
    h->regions = r;
}

void hl__region_init(hl_heap *h, void *mem, size_t size, void *base, size_t base_size) {
    hl_region *r = mem;
    r->magic = HL_REGION_MAGIC ^ (uint64_t)(uintptr_t)r;
    r->heap = h;
    r->size = size;
    r->base = base;
    r->base_size = base_size;
    r->prologue = HL_USED;
    link_region(h, r);
    if (h->cfg.source != HL_SOURCE_BUFFER) hl__rindex_insert(h, r);   /* try_region reserved the room */

    hl_block *epi = hl_region_epilogue(r);
    epi->size_flags = HL_USED;
    epi->slack = 0;
    epi->check = hl_check_word(epi, HL_USED, 0, h->cookie);

    hl_block *b = hl_region_first(r);
    size_t bsize = (size_t)((char *)epi - (char *)b);
    hl__set_free(h, b, bsize);
    hl__fill_new(b);
    hl__list_insert(h, b);

    hl_track_noaccess(r, size);
    h->st.regions++;
    h->st.region_bytes += base_size;
    h->st.source_bytes += base_size;
    h->st.blocks_free++;
    h->st.bytes_free += bsize;
}

static size_t region_overhead(void) { return sizeof(hl_region) + HL_EPILOGUE; }

static hl_block *try_region(hl_heap *h, size_t bytes) {
    size_t got = 0;
    if (h->seg_align) bytes = hl__round_up(bytes, h->seg_align);
    if (!hl__rindex_reserve(h)) return NULL;
    void *mem = hl__source_acquire(h, bytes, &got);
    if (!mem) return NULL;
    if (h->seg_align && !hl__registry_add(mem, got, h, false)) {
        hl__source_release(h, mem, got);
        return NULL;
    }
    size_t size = got & ~(size_t)(HL_ALIGN - 1);
    if (size > HL_MAX_REGION) size = HL_MAX_REGION;
    if (h->seg_align && got > HL_SEGMENT) h->wide_regions = 1;
    hl__region_init(h, mem, size, mem, got);
    HL_TRACE(h, "region %p (%zu bytes) from the source", mem, got);
    return hl_region_first((hl_region *)mem);
}

/* One request to the source: a full growth step, or just enough when the cap
 * leaves no room for a step.  One request, so that a refusal (an exhausted
 * source, an injected failure) is the operation's failure, not a retry's. */
hl_block *hl__grow(hl_heap *h, size_t block_size) {
    size_t page = hl__page_size();
    if (block_size > HL_MAX_REGION - region_overhead() - page) return NULL;
    size_t just = hl__round_up(block_size + region_overhead(), page);
    size_t step = h->cfg.grow_size > just ? h->cfg.grow_size : just;
    size_t cap = h->cfg.max_bytes;
    if (cap && (step > cap || h->st.source_bytes > cap - step)) step = just;
    return try_region(h, step);
}

void hl__release_regions(hl_heap *h) {
    hl_region *r = h->regions;
    h->regions = NULL;
    h->hot = NULL;
    while (r) {
        hl_region *next = r->next;
        if (h->seg_align) hl__registry_remove(r->base, r->base_size);
        if (h->cfg.source != HL_SOURCE_BUFFER) hl__source_release(h, r->base, r->base_size);
        r = next;
    }
    hl__rindex_release(h);
}
