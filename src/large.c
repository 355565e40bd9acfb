/*
 * large.c - blocks in mappings of their own.
 *
 *   [gap][hl_large][header][payload ......][footer]   (one mapping)
 *
 * Requests at or above the heap's mmap_threshold (mmap and sbrk sources) are
 * mapped on their own and unmapped on free, so that a large free gives its
 * memory back and never fragments a region.  The mapping is found again from
 * the heap's list of large mappings, never by trusting the bytes before a
 * pointer, so free() of a foreign pointer touches no memory it does not own.
 * The last few payloads freed are remembered so that a second free of one is
 * reported as a double free rather than as a pointer from nowhere.
 */
#include "hl_core.h"
#include "hl_global.h"

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

void *hl__large_alloc(hl_heap *h, size_t n, size_t align) {
    size_t page = hl__page_size();
    size_t extra = sizeof(hl_large) + HL_OVERHEAD + (align > HL_ALIGN ? align : 0);
    if (n > HL_MAX_REQUEST - extra - page) return NULL;
    size_t map_size = hl__round_up(n + extra, h->seg_align ? h->seg_align : page);
    char *base = hl__source_acquire(h, map_size, NULL);
    if (!base) return NULL;
    h->st.source_bytes += map_size;

    char *payload = (char *)hl__round_up((uintptr_t)base + sizeof(hl_large) + HL_HEADER, align);
    hl_block *b = hl_payload_block(payload);
    hl_large *l = hl_block_large_header(b);
    /* a global heap's mapping keeps its segment-aligned start: the registry names it */
    trim(h, &base, &map_size, h->seg_align ? base : (char *)l, payload + n + HL_FOOTER);
    if (h->seg_align && !hl__registry_add(base, map_size, h, true)) {
        hl__unmap(base, map_size);
        h->st.source_bytes -= map_size;
        return NULL;
    }

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
    HL_TRACE(h, "unmap %p (%zu bytes)", l->base, l->map_size);
    if (h->seg_align) hl__registry_remove(l->base, l->map_size);
    hl_track_release(l->base, l->map_size);
    hl__unmap(l->base, l->map_size);
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
