/*
 * region_index.c - the regions of an mmap or sbrk heap, sorted by address, so
 * that finding the region of a pointer is a binary search: O(log regions)
 * rather than a walk of the region list.
 *
 * The index is an array in a mapping of its own (never inside a region, out
 * of reach of block overruns), grown by doubling before a region is added,
 * so adding never fails half-way.  A search reads only the index and the
 * sealed header of the one region it lands on: a pointer outside every
 * region touches no memory the heap does not own.  A buffer heap has one
 * region and no index.
 */
#include "hl_core.h"

enum { FIRST_CAP = 64 };

static size_t bytes_for(size_t cap) { return hl__round_up(cap * sizeof(hl_region *), hl__page_size()); }

bool hl__rindex_reserve(hl_heap *h) {
    if (h->rindex && h->rindex_count < h->rindex_cap) return true;
    size_t cap = h->rindex_cap ? 2 * h->rindex_cap : FIRST_CAP;
    hl_region **fresh = hl__map(bytes_for(cap));
    if (!fresh) return false;
    if (h->rindex) {
        memcpy(fresh, h->rindex, h->rindex_count * sizeof *fresh);
        hl__unmap(h->rindex, bytes_for(h->rindex_cap));
    }
    h->rindex = fresh;
    h->rindex_cap = bytes_for(cap) / sizeof *fresh;
    return true;
}

/* The number of entries below p's address. */
static size_t lower_bound(const hl_heap *h, const void *p) {
    size_t lo = 0, hi = h->rindex_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((const char *)h->rindex[mid] <= (const char *)p) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

void hl__rindex_insert(hl_heap *h, hl_region *r) {
    size_t at = lower_bound(h, r);
    memmove(&h->rindex[at + 1], &h->rindex[at], (h->rindex_count - at) * sizeof *h->rindex);
    h->rindex[at] = r;
    h->rindex_count++;
}

hl_region *hl__rindex_find(const hl_heap *h, const void *p) {
    size_t below = lower_bound(h, p);
    return below ? h->rindex[below - 1] : NULL;
}

void hl__rindex_release(hl_heap *h) {
    if (h->rindex) hl__unmap(h->rindex, bytes_for(h->rindex_cap));
    h->rindex = NULL;
    h->rindex_count = h->rindex_cap = 0;
}
