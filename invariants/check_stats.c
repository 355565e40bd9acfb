/*
 * check_stats.c - the counters against what the walks counted (invariant STATS).
 *
 * The allocator keeps h->st up to date on every operation; the block and
 * large-mapping walks recounted the same quantities from the heap itself.
 * largest_free is not kept in h->st (the allocator answers it from its lists
 * with hl__largest_free), so the walk's largest free block is compared with
 * that answer instead: a list search that misses the largest block is as
 * wrong as a stale counter.  The lists were proven sound before this pass, so
 * calling into the allocator here is safe.
 *
 * The thread cache (src/tcache.c) changes blocks' requests without writing
 * st (other threads write st under the heap's lock while the owner uses the
 * cache without it); it keeps the difference in cache.bytes_delta, so the
 * requests of the used blocks that are not cached must sum to
 * st.bytes_in_use + bytes_delta.
 */
#include "check_internal.h"

static const struct counter {
    const char *name;
    size_t offset;
} counters[] = {
    { "blocks_in_use", offsetof(hl_stats, blocks_in_use) },
    { "bytes_in_use", offsetof(hl_stats, bytes_in_use) },
    { "blocks_free", offsetof(hl_stats, blocks_free) },
    { "bytes_free", offsetof(hl_stats, bytes_free) },
    { "regions", offsetof(hl_stats, regions) },
    { "region_bytes", offsetof(hl_stats, region_bytes) },
    { "large_blocks", offsetof(hl_stats, large_blocks) },
    { "large_bytes", offsetof(hl_stats, large_bytes) },
    { "source_bytes", offsetof(hl_stats, source_bytes) },
    { "large_cached", offsetof(hl_stats, large_cached) },
    { "large_cached_bytes", offsetof(hl_stats, large_cached_bytes) },
};

static size_t field(const hl_stats *s, size_t offset) {
    size_t v;
    memcpy(&v, (const char *)s + offset, sizeof v);
    return v;
}

int hl__check_stats(hl_checker *c) {
    const hl_heap *h = c->h;
    c->seen.source_bytes = c->seen.region_bytes + c->seen.large_bytes + c->seen.large_cached_bytes;
    hl__check_at_heap(c, hl__check_heap_bytes(c->h));
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        size_t counted = field(&c->seen, counters[i].offset), kept = field(&h->st, counters[i].offset);
        if (counters[i].offset == offsetof(hl_stats, bytes_in_use))
            kept += h->cache.bytes_delta;   /* the requests the cache changed without telling st */
        c->focus = (const char *)&h->st + counters[i].offset;
        if (counted != kept)
            return hl__check_fail(c, HL_INV_STATS, NULL, counted, kept,
                                  "heap %p: stats.%s is %zu, but the walk counted %zu",
                                  (const void *)h, counters[i].name, kept, counted);
    }
    c->focus = NULL;
    size_t largest = hl__largest_free(h);
    if (largest != c->seen.largest_free)
        return hl__check_fail(c, HL_INV_STATS, NULL, c->seen.largest_free, largest,
                              "heap %p: largest_free from the free lists is %zu, but the largest free block has %zu usable bytes",
                              (const void *)h, largest, c->seen.largest_free);
    return 0;
}
