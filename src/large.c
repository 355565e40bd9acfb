/*
 * large.c - blocks in mappings of their own.
 *
 *   [gap][hl_large][header][payload ......][footer]   (one mapping)
 *
 * Requests at or above the heap's mmap_threshold (mmap and sbrk sources) are
 * mapped on their own, and on free the mapping goes to the large cache
 * (large_cache.c), which keeps a bounded few for reuse and unmaps the rest,
 * so a large free never fragments a region and memory still goes back.  The mapping is found again from
 * the heap's list of large mappings, never by trusting the bytes before a
 * pointer, so free() of a foreign pointer touches no memory it does not own.
 * The last few payloads freed are remembered so that a second free of one is
 * reported as a double free rather than as a pointer from nowhere.
 */
#define _GNU_SOURCE   /* mremap */
#include "hl_core.h"
#include "hl_global.h"

#include <sys/mman.h>

static bool large_ok(const hl_heap *h, const hl_large *l) {
    return l->magic == (HL_LARGE_MAGIC ^ (uint64_t)(uintptr_t)l) && l->seal == hl_large_seal(h->cookie, l);
}

static void reseal(hl_heap *h, hl_large *l) {
    if (l) l->seal = hl_large_seal(h->cookie, l);
}

static void link_large(hl_heap *h, hl_large *l) {
    l->prev = NULL;
    l->next = h->large;
    if (l->next) {
        l->next->prev = l;
        reseal(h, l->next);
    }
    h->large = l;
    reseal(h, l);
}

static void unlink_large(hl_heap *h, hl_large *l) {
    if (l->prev) l->prev->next = l->next;
    else h->large = l->next;
    if (l->next) l->next->prev = l->prev;
    reseal(h, l->prev);
    reseal(h, l->next);
}

/* Gives back the pages of a mapping outside [keep_lo, keep_hi). */
static void trim(hl_heap *h, char **base, size_t *size, char *keep_lo, char *keep_hi) {
    size_t page = hl__page_size();
    char *lo = (char *)((uintptr_t)keep_lo & ~(uintptr_t)(page - 1));
    char *hi = (char *)hl__round_up((uintptr_t)keep_hi, page);
    char *end = *base + *size;
    if (lo > *base) hl__unmap(*base, (size_t)(lo - *base));
    if (hi < end) hl__unmap(hi, (size_t)(end - hi));
    h->st.source_bytes -= *size - (size_t)(hi - lo);
    *base = lo;
    *size = (size_t)(hi - lo);
}

static size_t granule(const hl_heap *h) { return h->seg_align ? h->seg_align : hl__page_size(); }

/* A fresh mapping for n bytes at `align`, trimmed to what the block needs;
 * the payload, or NULL.  *base and *size describe the mapping. */
static char *fresh_mapping(hl_heap *h, size_t n, size_t align, size_t map_size, char **base_out, size_t *size_out) {
    char *base = hl__source_acquire(h, map_size, NULL);
    if (!base) return NULL;
    h->st.source_bytes += map_size;
    char *payload = (char *)hl__round_up((uintptr_t)base + sizeof(hl_large) + HL_HEADER, align);
    hl_large *l = hl_block_large_header(hl_payload_block(payload));
    /* a global heap's mapping keeps its segment-aligned start: the registry names it */
    trim(h, &base, &map_size, h->seg_align ? base : (char *)l, payload + n + HL_FOOTER);
    if (h->seg_align && !hl__registry_add(base, map_size, h, true)) {
        hl__unmap(base, map_size);
        h->st.source_bytes -= map_size;
        return NULL;
    }
    *base_out = base;
    *size_out = map_size;
    return payload;
}

void *hl__large_alloc(hl_heap *h, size_t n, size_t align) {
    size_t extra = sizeof(hl_large) + HL_OVERHEAD + (align > HL_ALIGN ? align : 0);
    if (n > HL_MAX_REQUEST - extra - granule(h)) return NULL;
    size_t map_size = hl__round_up(n + extra, granule(h));
    char *base = NULL, *payload;
    /* a cached mapping has its header at its base: it serves the natural alignment */
    size_t got = 0;
    if (align <= HL_ALIGN && (base = hl__lcache_take(h, n + extra, &got)) != NULL) {
        map_size = got;
        h->st.source_bytes += map_size;
        payload = base + sizeof(hl_large) + HL_HEADER;
    } else if (got == SIZE_MAX) {
        return NULL;
    } else if ((payload = fresh_mapping(h, n, align, map_size, &base, &map_size)) == NULL) {
        return NULL;
    }
    hl_block *b = hl_payload_block(payload);
    hl_large *l = hl_block_large_header(b);
    l->magic = HL_LARGE_MAGIC ^ (uint64_t)(uintptr_t)l;
    l->heap = h;
    l->base = base;
    l->map_size = map_size;
    l->pad = 0;
    link_large(h, l);
    hl__set_used(h, b, (size_t)(base + map_size - (char *)b), HL_LARGE, n);
    hl_track_noaccess(base, map_size);

    h->st.large_blocks++;
    h->st.large_bytes += map_size;
    h->st.blocks_in_use++;
    h->st.bytes_in_use += n;
    HL_TRACE(h, "large %p: mapping %p (%zu bytes) for %zu", (void *)payload, (void *)base, map_size, n);
    return payload;
}

void hl__large_free(hl_heap *h, hl_block *b) {
    hl_large *l = hl_block_large_header(b);
    unlink_large(h, l);
    h->st.large_blocks--;
    h->st.large_bytes -= l->map_size;
    h->st.source_bytes -= l->map_size;
    h->st.blocks_in_use--;
    h->st.bytes_in_use -= hl_block_usable(b) - b->slack;
    h->recent_large[h->recent_large_next++ % 16] = (uint64_t)(uintptr_t)hl_block_payload(b);
    HL_TRACE(h, "free mapping %p (%zu bytes)", l->base, l->map_size);
    hl__lcache_put(h, l->base, l->map_size);
}

hl_block *hl__large_find(const hl_heap *h, const void *p, bool *inside) {
    size_t limit = h->st.large_blocks + 1;
    *inside = false;
    for (hl_large *l = h->large; l && limit--; l = l->next) {
        if (!large_ok(h, l)) return NULL;
        hl_block *b = hl_large_block(l);
        if (hl_block_payload(b) == p) return b;
        if ((const char *)p >= (const char *)l->base && (const char *)p < (const char *)l->base + l->map_size) {
            *inside = true;
            return NULL;
        }
    }
    return NULL;
}

bool hl__large_recently_freed(const hl_heap *h, const void *p) {
    for (unsigned i = 0; i < 16; i++)
        if (h->recent_large[i] && h->recent_large[i] == (uint64_t)(uintptr_t)p) return true;
    return false;
}

void hl__release_large(hl_heap *h) {
    hl__lcache_release_all(h);
    hl_large *l = h->large;
    size_t limit = h->st.large_blocks + 1;
    h->large = NULL;
    while (l && limit--) {
        hl_large *next = l->next;
        if (h->seg_align) hl__registry_remove(l->base, l->map_size);
        hl_track_release(l->base, l->map_size);
        hl__unmap(l->base, l->map_size);
        l = next;
    }
}

/* --- realloc: resizing the mapping --------------------------------------------------- */
/* l's header now lives at nl (its mapping moved): relink its neighbours. */
static hl_large *moved_header(hl_heap *h, hl_large *nl, char *base, size_t size) {
    nl->magic = HL_LARGE_MAGIC ^ (uint64_t)(uintptr_t)nl;
    if (nl->prev) nl->prev->next = nl;
    else h->large = nl;
    if (nl->next) nl->next->prev = nl;
    reseal(h, nl->prev);
    reseal(h, nl->next);
    nl->base = base;
    nl->map_size = size;
    return nl;
}

/* Gives back the tail of l's mapping past `want` bytes. */
static void shrink_mapping(hl_heap *h, hl_large *l, size_t want) {
    char *tail = (char *)l->base + want;
    size_t cut = l->map_size - want;
    if (h->seg_align) {   /* only segments wholly past the kept part */
        char *seg = (char *)hl__round_up((uintptr_t)tail, h->seg_align), *end = tail + cut;
        if (seg < end) hl__registry_remove(seg, (size_t)(end - seg));
    }
    hl_track_release(tail, cut);
    hl__unmap(tail, cut);
    l->map_size = want;
}

/* Grows l's mapping where it lies; false if the next pages are taken. */
static bool grow_in_place(hl_heap *h, hl_large *l, size_t want) {
    size_t have = l->map_size;
    if (mremap(l->base, have, want, 0) == MAP_FAILED) return false;
    if (h->seg_align && !hl__registry_add((char *)l->base + have, want - have, h, true)) {
        hl__unmap((char *)l->base + have, want - have);
        return false;
    }
    l->map_size = want;
    return true;
}

/* Moves l's pages into the start of a fresh mapping of `want` bytes; the new
 * header, or NULL (nothing changed).  The caller's block is handed over to
 * the tools here, before its old addresses go away. */
static hl_large *grow_moved(hl_heap *h, hl_large *l, size_t want, bool *refused) {
    char *fresh = hl__source_acquire(h, want, NULL);
    if (!fresh || (h->seg_align && !hl__registry_add(fresh, want, h, true))) {
        if (fresh) hl__unmap(fresh, want);
        *refused = true;
        return NULL;
    }
    char *base = l->base;
    size_t have = l->map_size, off = (size_t)((char *)l - base);
    hl_block *b = hl_large_block(l);
    size_t visible = hl__visible(b);
    hl_track_free(hl_block_payload(b), visible);
    hl_track_release(base, have);
    if (mremap(base, have, have, MREMAP_MAYMOVE | MREMAP_FIXED, fresh) == MAP_FAILED) {
        if (h->seg_align) hl__registry_remove(fresh, want);
        hl__unmap(fresh, want);
        hl_track_noaccess(base, have);
        hl_track_alloc(hl_block_payload(b), visible, 1);
        return NULL;
    }
    if (h->seg_align) hl__registry_remove(base, have);
    return moved_header(h, (hl_large *)(fresh + off), fresh, want);
}

void *hl__large_resize(hl_heap *h, hl_block *b, size_t n, bool *refused) {
    *refused = false;
#ifdef HL_MSAN
    (void)h; (void)b; (void)n;
    return NULL;   /* MSan's shadow does not follow pages that mremap moves */
#else
    hl_large *l = hl_block_large_header(b);
    size_t extra = sizeof(hl_large) + HL_OVERHEAD;
    size_t page = hl__page_size();
    if ((char *)l != (char *)l->base || n > HL_MAX_REQUEST - extra - page) return NULL;
    size_t want = hl__round_up(n + extra, page), have = l->map_size;
    size_t old = hl_block_usable(b) - b->slack, was = hl__visible(b);
    bool moved = false;
    if (want > have) {
        if (!hl__source_may_grow(h, want - have)) {
            *refused = true;   /* the source said no: that is this realloc's answer */
            return NULL;
        }
        if (grow_in_place(h, l, want)) {
            hl_track_noaccess((char *)l->base + have, want - have);
        } else {
            hl_large *nl = grow_moved(h, l, want, refused);
            if (!nl) return NULL;
            l = nl;
            moved = true;
        }
    } else if (want < have && have - want >= have / 8) {
        shrink_mapping(h, l, want);   /* a small shrink keeps its pages, as slack */
    }
    reseal(h, l);
    b = hl_large_block(l);
    size_t now = l->map_size;
    h->st.large_bytes += now - have;
    h->st.source_bytes += now - have;
    h->st.bytes_in_use += n - old;
    hl__set_used(h, b, (size_t)((char *)l->base + now - (char *)b), HL_LARGE, n);
    if (moved) {
        hl_track_noaccess(l->base, now);
        hl_track_alloc(hl_block_payload(b), hl__visible(b), 1);   /* its bytes moved with it */
    } else {
        /* only what is still mapped: the cut tail's shadow was cleared with it */
        size_t room = (size_t)((char *)l->base + now - (char *)hl_block_payload(b));
        hl_track_resize(hl_block_payload(b), was < room ? was : room, hl__visible(b));
    }
    HL_TRACE(h, "resize mapping of %p: %zu -> %zu bytes%s", hl_block_payload(b), have, now, moved ? " (moved)" : "");
    return hl_block_payload(b);
#endif
}
