/*
 * tcache.c - the per-thread cache of small blocks of a global heap.
 *
 * A small block freed by its owner thread is not given back to the free
 * lists: it goes on a list of blocks of its exact size (hl_heap.cache), and
 * the thread's next malloc of that size takes it back, with no lock, no
 * atomic operation and no coalescing.  Each list holds at most
 * hl_cache_depth() blocks (about 16 KiB of them: 128 of the smallest, 16 of
 * the largest); a free that finds its list full, and a malloc that
 * finds it empty, take the heap's lock and its ordinary path.  The free gives
 * half the list back under that lock (hl__cache_trim_put); the malloc carves
 * half a list's worth of blocks of its size after the block it got
 * (hl__cache_refill): one lock per batch either way.
 *
 * The cache is heap state the checker sees (invariants/check_cache.c), not a
 * side table:
 *   - a cached block keeps its place in its region and stays "used" to the
 *     heap (it never coalesces, st.blocks_in_use counts it); its header reads
 *     HL_USED|HL_CACHED and keeps its slack, sealed by the check word like
 *     any header (the flag flips the word by a secret, see hl_check_word), so
 *     a second free of it, or a realloc, is a reported double free, and a
 *     header forged to look cached fails the check word;
 *   - it is on exactly one list, the one of its size, and the lists' lengths
 *     are the counts;
 *   - st is never written here (other threads write it under the heap's lock
 *     while the owner runs this code without it): the cache keeps its own
 *     counters, which hl_heap_stats folds back in, and bytes_delta, what its
 *     frees and mallocs did to the bytes in use;
 *   - in checked builds a cached block's payload past its first 16 bytes (the
 *     link, and the word a remote free tags) holds the free fill, so a write
 *     after free into a cached block is caught like one into a free block.
 * Memcheck and ASan see a cached block as freed: FREELIKE and poisoned when it
 * enters the cache, MALLOCLIKE when it is handed out again.
 *
 * Only the owner thread calls these, with or without the heap's lock; the
 * global API (src/global.c) keeps hl_check_all and fork from running while it
 * does.
 */
#include "hl_tcache.h"

static const size_t cached_flags = HL_USED | HL_CACHED;

/* The slow side of the fast paths in hl_tcache.h. */
void hl__cache_fill(hl_block *b) {
#if HL_CHECKED
    /* the same bytes a free block's fill covers: past the link and the tag word */
    hl_track_fill(hl_block_fill_start(b), HL_FILL_FREE, hl_block_fill_len(b));
#else
    (void)b;
#endif
}

void *hl__cache_corrupted(hl_heap *h, const hl_block *b, bool link) {
    hl__report(h, HL_ERR_CORRUPTED_BLOCK, "malloc", hl_block_payload(b), NULL,
               link ? "malloc(): thread cache: the link in cached block %p was overwritten (written after free?)"
                    : "malloc(): thread cache: the header of cached block %p was overwritten",
               hl_block_payload(b));
    return NULL;   /* left in place for the checker; this malloc takes the slow path */
}


/* Gives at most max blocks of list i back to the free lists, newest first
 * (the caller holds the heap's lock and has told the tools); stops at a
 * corrupted header, which it reports and leaves in place for the checker.
 * Returns how many the heap took (it refuses one next to a corrupted block). */
static size_t release_list(hl_heap *h, size_t i, size_t max) {
    hl_cache *c = &h->cache;
    size_t taken = 0, released = 0;
    while (c->head[i] && taken < max) {
        hl_block *b = c->head[i];
        if (b->size_flags != (hl_cache_class_size(i) | cached_flags) || !hl__header_ok(h, b)) {
            hl__cache_corrupted(h, b, false);
            break;   /* the rest of this list cannot be trusted: the checker will say why */
        }
        c->head[i] = b->next_free;
        c->count[i]--;
        taken++;
        /* to the heap, the cached block is a used one */
        size_t size = hl_block_size(b);
        b->size_flags = size | HL_USED;
        b->check ^= hl_cached_key(h->cookie);
        *hl_block_footer(b) = size | HL_USED;
        c->bytes_delta += hl_block_usable(b) - b->slack;   /* st is about to subtract it */
        if (hl__release_block(h, hl__region_of(h, b), b)) released++;
    }
    return released;
}

/* Gives every cached block back to the free lists (the caller holds the
 * heap's lock): at thread exit, before a heap is abandoned, and when the heap
 * would otherwise have to grow or fail. */
size_t hl__cache_flush(hl_heap *h) {
    size_t flushed = 0;
    hl_track_enter();   /* cached blocks are freed memory to memcheck: these reads are the allocator's */
    for (size_t i = 0; i < HL_CACHE_CLASSES; i++) flushed += release_list(h, i, SIZE_MAX);
    if (flushed) HL_TRACE(h, "cache flush: %zu blocks", flushed);
    hl_track_leave();
    return flushed;
}

/* A free that found the list of b's size full (the caller holds the heap's
 * lock and verified b, a plain used small block of h): half the list goes
 * back to the free lists under this one lock, so that the next frees of that
 * size find room without it, and b takes its place in the cache.  False if b
 * is not cached (not a cached size, or its list was not full: the caller
 * frees it as before). */
bool hl__cache_trim_put(hl_heap *h, hl_block *b) {
    hl_track_enter();   /* b's header, and cached blocks: memory the caller may not touch */
    size_t size = hl_block_size(b);
    size_t i = hl_cache_class(size);
    bool put = false;
    if (size <= HL_CACHE_MAX_BLOCK && h->cache.count[i] >= hl_cache_depth(i)) {
        size_t released = release_list(h, i, hl_cache_depth(i) / 2);
        put = hl__cache_put(h, b);
        HL_TRACE(h, "free(%p) (cache, %zu blocks of %zu bytes back to the heap)", hl_block_payload(b), released, size);
    }
    hl_track_leave();
    return put;
}

/* A malloc of n bytes missed the cache and the heap's ordinary path served it
 * with b (the caller holds the heap's lock): blocks of b's size are carved,
 * side by side, off the free block b's split left behind it (one list
 * removal, hl__carve), into the list (if it is empty), up to half the list's
 * depth.  The next mallocs of that size are then hits, with no lock and no
 * search, in neighbouring memory.  A carved
 * block is a split like any other (st counts the splits and the blocks in
 * use), its request the whole block, which the cache takes back out of the
 * bytes in use; it was never handed out, so the tools are not told (free
 * memory and cached blocks look alike to them).  Returns how many. */
size_t hl__cache_refill(hl_heap *h, const hl_block *b, size_t n) {
    size_t size = hl__block_size_for(n);
    size_t i = hl_cache_class(size);
    size_t want = hl_cache_depth(i) / 2;
    /* only into an empty list: one whose head was refused as corrupted stays as the checker will find it */
    if (hl_block_size(b) != size || h->cache.count[i]) return 0;
    /* b was just cut from a free block, whose free successor it cannot have
     * had (the heap is fully coalesced): a free block after b is the tail
     * this very malloc wrote, and listed; the epilogue reads used */
    hl_block *rest = hl_block_next(b);
    if (hl_block_used(rest)) return 0;
    size_t have = hl_block_size(rest);
    size_t got = have / size < want ? have / size : want;
    if (got && have != got * size && have - got * size < HL_MIN_BLOCK) got--;   /* leave nothing, or a block */
    if (!got) return 0;
    hl__carve(h, rest, size, got);
    /* the carved blocks lie at b + size, b + 2 size, ...: pushed farthest
     * first, they come back nearest first, in address order */
    for (size_t k = got; k > 0; k--) hl__cache_push(h, i, (hl_block *)((char *)b + k * size), size);
    HL_TRACE(h, "cache refill: %zu blocks of %zu bytes after %p", got, size, hl_block_payload(b));
    return got;
}

size_t hl__cache_blocks(const hl_heap *h) {
    size_t n = 0;
    for (size_t i = 0; i < HL_CACHE_CLASSES; i++) n += h->cache.count[i];
    return n;
}

size_t hl__cache_usable_bytes(const hl_heap *h) {
    size_t n = 0;
    for (size_t i = 0; i < HL_CACHE_CLASSES; i++) n += h->cache.count[i] * (hl_cache_class_size(i) - HL_OVERHEAD);
    return n;
}
