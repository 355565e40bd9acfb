/*
 * large_cache.c - freed large mappings kept for reuse.
 *
 *   [hl_large (HL_LCACHED_MAGIC)][free block header, HL_LARGE][... old bytes]
 *
 * Unmapping every freed large block and mapping the next one afresh makes the
 * kernel fault in and zero every page of every large block, every time (a
 * few microseconds a page).  So a freed mapping goes into the heap's cache
 * instead, newest first, and the next large request takes from it:
 *   - the smallest cached mapping that holds the request, whole when it
 *     wastes at most 1/8 of its size, else split, the tail staying cached;
 *   - failing that, the largest cached mappings that fit are moved with
 *     mremap, one after another, into a fresh mapping of the size wanted,
 *     so only what they do not cover is faulted in.
 * The cache is bounded, so its memory (still resident) stays bounded: at
 * most HL_LCACHE_MAX_COUNT mappings, at most cache_limit() bytes (except the
 * newest mapping alone, up to CACHE_MAX_ONE), and a mapping not reused
 * within HL_LCACHE_AGE large operations is unmapped.  A
 * cap (max_bytes) counts cached bytes, and the cache is emptied before the
 * cap refuses a request.
 *
 * Cached mappings of a global heap stay registered to it, so a second free
 * of a cached block reaches this heap and is reported as a double free.
 */
#define _GNU_SOURCE   /* mremap */
#include "hl_core.h"
#include "hl_global.h"

#include <sys/mman.h>

/* At least this much may stay cached; more while many large bytes are live. */
#define CACHE_MIN_BYTES ((size_t)2 << 20)
/* The newest cached mapping stays, past the byte bound, up to this size: a
 * program that frees and allocates one big block in turn keeps reusing it. */
#define CACHE_MAX_ONE ((size_t)64 << 20)
/* Waste a whole cached mapping may bring to a request (it becomes slack). */
#define MAX_WASTE ((size_t)1 << 30)

static size_t cache_limit(const hl_heap *h) {
    size_t quarter = h->st.large_bytes / 4;
    return quarter > CACHE_MIN_BYTES ? quarter : CACHE_MIN_BYTES;
}

static size_t split_granule(const hl_heap *h) { return h->seg_align ? h->seg_align : hl__page_size(); }

static void reseal(hl_heap *h, hl_large *l) {
    if (l) l->seal = hl_lcached_seal(h->cookie, l);
}

/* Writes a cached header at base, links it at the head, counts it. */
static void cache_insert(hl_heap *h, char *base, size_t size) {
    hl_large *l = (hl_large *)base;
    l->magic = HL_LCACHED_MAGIC ^ (uint64_t)(uintptr_t)l;
    l->heap = h;
    l->base = base;
    l->map_size = size;
    l->pad = h->large_clock;
    l->prev = NULL;
    l->next = h->lcache;
    if (l->next) {
        l->next->prev = l;
        reseal(h, l->next);
    }
    h->lcache = l;
    reseal(h, l);
    hl_block *b = hl_large_block(l);
    size_t bsize = size - sizeof(hl_large);
    b->size_flags = bsize | HL_LARGE;
    b->slack = 0;
    b->check = hl_check_word(b, b->size_flags, 0, h->cookie);
    h->st.large_cached++;
    h->st.large_cached_bytes += size;
    h->st.source_bytes += size;
    hl_track_noaccess(base, size);
}

/* Unlinks l and uncounts it; its memory is the caller's to use or unmap. */
static void cache_remove(hl_heap *h, hl_large *l) {
    if (l->prev) l->prev->next = l->next;
    else h->lcache = l->next;
    if (l->next) l->next->prev = l->prev;
    reseal(h, l->prev);
    reseal(h, l->next);
    h->st.large_cached--;
    h->st.large_cached_bytes -= l->map_size;
    h->st.source_bytes -= l->map_size;
}

static void unmap_range(hl_heap *h, char *base, size_t size) {
    if (h->seg_align) hl__registry_remove(base, size);
    hl_track_release(base, size);
    hl__unmap(base, size);
}

static void evict(hl_heap *h, hl_large *l) {
    char *base = l->base;
    size_t size = l->map_size;
    cache_remove(h, l);
    HL_TRACE(h, "cache: unmap %p (%zu bytes)", (void *)base, size);
    unmap_range(h, base, size);
}

static hl_large *oldest(const hl_heap *h) {
    hl_large *l = h->lcache;
    while (l && l->next) l = l->next;
    return l;
}

/* Unmaps the oldest mappings while the cache is over a bound. */
static void enforce_bounds(hl_heap *h) {
    size_t limit = cache_limit(h);
    hl_large *l;
    while ((l = oldest(h)) != NULL &&
           (h->st.large_cached > HL_LCACHE_MAX_COUNT || (h->st.large_cached_bytes > limit && l != h->lcache) ||
            h->large_clock - l->pad > HL_LCACHE_AGE))
        evict(h, l);
}

void hl__lcache_put(hl_heap *h, void *base, size_t size) {
    h->large_clock++;
    if ((size > cache_limit(h) && size > CACHE_MAX_ONE) || size < sizeof(hl_large) + HL_MIN_BLOCK) {
        unmap_range(h, base, size);
        enforce_bounds(h);
        return;
    }
    hl_track_enter();
    cache_insert(h, base, size);
    hl_track_leave();
    HL_TRACE(h, "cache: keep %p (%zu bytes)", base, size);
    enforce_bounds(h);
}

/* The smallest cached mapping of at least `need` bytes, or NULL. */
static hl_large *best_fit(const hl_heap *h, size_t need) {
    hl_large *best = NULL;
    for (hl_large *l = h->lcache; l; l = l->next)
        if (l->map_size >= need && (!best || l->map_size < best->map_size)) best = l;
    return best;
}

/* Takes l for a request of `need` bytes, whole when that wastes at most 1/8
 * of it.  Otherwise the rest is split off and stays cached; a global heap
 * splits only at a segment boundary (the registry knows whole segments), so
 * there the block keeps up to a segment of slack, and a mapping less than a
 * segment too big is taken whole.  Either way no resident page is dropped. */
static char *take_fit(hl_heap *h, hl_large *l, size_t need, size_t *got) {
    char *base = l->base;
    size_t size = l->map_size, waste = size - need;
    cache_remove(h, l);
    if (waste > size / 8 || waste > MAX_WASTE) {
        size_t cut = hl__round_up(need, split_granule(h));
        if (cut < size && size - cut >= sizeof(hl_large) + HL_MIN_BLOCK) {
            cache_insert(h, base + cut, size - cut);
            size = cut;
        }
    }
    *got = size;
    HL_TRACE(h, "cache: reuse %p (%zu bytes) for %zu", (void *)base, size, need);
    return base;
}

/* The largest cached mapping of at most `room` bytes, or NULL. */
static hl_large *largest_within(const hl_heap *h, size_t room) {
    hl_large *big = NULL;
    for (hl_large *l = h->lcache; l; l = l->next)
        if (l->map_size <= room && (!big || l->map_size > big->map_size)) big = l;
    return big;
}

/* Moves cached mapping l's pages to `to` (inside a fresh mapping of ours);
 * l leaves the cache either way. */
static void move_into(hl_heap *h, hl_large *l, char *to) {
    char *base = l->base;
    size_t size = l->map_size;
    cache_remove(h, l);
    if (h->seg_align) hl__registry_remove(base, size);
    hl_track_release(base, size);
    if (mremap(base, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED) {
        hl__unmap(base, size);   /* e.g. spanning two kernel mappings: it goes, fresh pages serve */
        HL_TRACE(h, "cache: mremap of %p failed; unmapped", (void *)base);
    } else {
        HL_TRACE(h, "cache: moved %p (%zu bytes) to %p", (void *)base, size, (void *)to);
    }
}

/* Builds a mapping of `need` bytes out of cached ones: a fresh mapping, into
 * which the largest cached mappings that fit are moved one after another
 * with mremap, so that only what they do not cover is faulted in.  NULL
 * (nothing changed) when no cached mapping fits or the cap or the system
 * says no. */
static char *take_glued(hl_heap *h, size_t need, size_t *got) {
    hl_large *l = largest_within(h, need);
    if (!l) return NULL;
    size_t cap = h->cfg.max_bytes;
    if (cap && (need > cap || h->st.source_bytes > cap - need)) return NULL;
    char *fresh = hl__source_acquire(h, need, NULL);
    if (!fresh || (h->seg_align && !hl__registry_add(fresh, need, h, true))) {
        if (fresh) hl__unmap(fresh, need);
        *got = SIZE_MAX;   /* refused: the request's answer, not a reason to ask again */
        return NULL;
    }
    size_t covered = 0;
    for (; l; l = largest_within(h, need - covered)) {
        size_t size = l->map_size;
        move_into(h, l, fresh + covered);
        covered += size;
    }
    *got = need;
    return fresh;
}

void *hl__lcache_take(hl_heap *h, size_t need, size_t *got) {
    h->large_clock++;
    *got = 0;
    if (!h->lcache) return NULL;
    need = hl__round_up(need, hl__page_size());
    hl_track_enter();
    hl_large *l = best_fit(h, need);
    char *base = l ? take_fit(h, l, need, got) : take_glued(h, need, got);
    hl_track_leave();
    enforce_bounds(h);
    return base;
}

bool hl__lcache_flush(hl_heap *h) {
    bool any = h->lcache != NULL;
    size_t limit = HL_LCACHE_MAX_COUNT + 1;
    hl_track_enter();
    while (h->lcache && limit--) evict(h, h->lcache);
    hl_track_leave();
    return any;
}

void hl__lcache_release_all(hl_heap *h) {
    hl_large *l = h->lcache;
    size_t limit = HL_LCACHE_MAX_COUNT + 1;
    h->lcache = NULL;
    while (l && limit--) {
        hl_large *next = l->next;
        unmap_range(h, l->base, l->map_size);
        l = next;
    }
}

static bool cached_ok(const hl_heap *h, const hl_large *l) {
    return l->magic == (HL_LCACHED_MAGIC ^ (uint64_t)(uintptr_t)l) && l->seal == hl_lcached_seal(h->cookie, l);
}

int hl__lcache_find(const hl_heap *h, const void *p) {
    size_t limit = HL_LCACHE_MAX_COUNT + 1;
    for (const hl_large *l = h->lcache; l && limit--; l = l->next) {
        if (!cached_ok(h, l)) return 0;   /* a broken cache is the checker's to report */
        if (hl_block_payload(hl_large_block(l)) == p) return 2;
        if ((const char *)p >= (const char *)l->base && (const char *)p < (const char *)l->base + l->map_size)
            return 1;
    }
    return 0;
}
