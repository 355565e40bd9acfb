/*
 * check_large.c - blocks in mappings of their own.
 *
 *   [gap][hl_large][header][payload ......][footer]   (one mapping)
 *
 * The list h->large is doubly linked, its head's prev NULL.  Each entry is
 * probed for mapping before it is read, then must carry its magic, name this
 * heap, point back at the entry before it, lie inside its mapping with room
 * for a block, match its seal (which binds links and mapping), and have its
 * whole mapping mapped.  The back-link test alone rules out a cycle: the
 * first node seen twice would need two different prev values (or a NULL prev
 * in the middle of the list), so the bound is only a backstop.
 *
 * The large cache (h->lcache, src/large_cache.c) is walked the same way: each
 * cached mapping must be mapped, carry the cached magic, name this heap, link
 * back, start its own mapping, match its seal (which binds its links, its
 * mapping and the clock at which it was cached), hold a free block header
 * (HL_LARGE, not used, the rest of the mapping, a valid check word) and not
 * have outlived HL_LCACHE_AGE; the list holds at most HL_LCACHE_MAX_COUNT
 * mappings.  The walk counts them for the stats check.
 *
 * Which invariant a failure reports: what belongs to the mapping (its header,
 * its links, the block's flags, its size against the mapping, its slack) is
 * LARGE; what a region block would report under a named invariant keeps that
 * name here: a bad check word is MAGIC, a footer mismatch FOOTER, a broken
 * canary (checked builds) CANARY.
 */
#include "check_internal.h"

/* The hl_large header itself, its link back and its mapping. */
static int check_header(hl_checker *c, const hl_large *l, const hl_large *prev) {
    const hl_heap *h = c->h;
    const hl_block *b = hl_large_block(l);
    uint64_t magic = HL_LARGE_MAGIC ^ (uint64_t)(uintptr_t)l;
    if (l->magic != magic)
        return hl__check_fail(c, HL_INV_LARGE, b, magic, l->magic, "large mapping %p: bad magic %#llx, expected %#llx",
                              (const void *)l, (unsigned long long)l->magic, (unsigned long long)magic);
    if (l->heap != h)
        return hl__check_fail(c, HL_INV_LARGE, b, (uintptr_t)h, (uintptr_t)l->heap,
                              "large mapping %p belongs to heap %p, not to %p", (const void *)l, (void *)l->heap,
                              (const void *)h);
    if (l->prev != prev)
        return hl__check_fail(c, HL_INV_LARGE, b, (uintptr_t)prev, (uintptr_t)l->prev,
                              "large mapping %p: prev is %p, expected %p (the mapping before it in the list)",
                              (const void *)l, (void *)l->prev, (const void *)prev);
    uintptr_t base = (uintptr_t)l->base;
    if (l->map_size > UINTPTR_MAX - base ||
        !hl__check_within((uintptr_t)l, sizeof *l + HL_MIN_BLOCK, base, base + l->map_size))
        return hl__check_fail(c, HL_INV_LARGE, b, 0, l->map_size,
                              "large mapping %p: its header and a block do not fit its mapping %p (%zu bytes)",
                              (const void *)l, l->base, l->map_size);
    uint64_t seal = hl_large_seal(h->cookie, l);
    if (l->seal != seal)
        return hl__check_fail(c, HL_INV_LARGE, b, seal, l->seal,
                              "large mapping %p: its seal does not match its links and mapping (overwritten)",
                              (const void *)l);
    if (!hl__check_mapped(c, l->base, l->map_size))
        return hl__check_fail(c, HL_INV_LARGE, b, 0, l->map_size,
                              "large mapping %p: its %zu bytes at %p are not all mapped", (const void *)l,
                              l->map_size, l->base);
    return 0;
}

/* The block in a mapping the header check proved readable. */
static int check_block(hl_checker *c, const hl_large *l) {
    const hl_block *b = hl_large_block(l);
    uint32_t want = hl_check_word(b, b->size_flags, b->slack, c->h->cookie);
    if (b->check != want)
        return hl__check_fail(c, HL_INV_MAGIC, b, want, b->check,
                              "large block: check word %#x does not match size|flags %#zx, slack %u",
                              b->check, b->size_flags, b->slack);
    size_t flags = b->size_flags & HL_FLAGS, size = hl_block_size(b);
    if (flags != (HL_USED | HL_LARGE))
        return hl__check_fail(c, HL_INV_LARGE, b, HL_USED | HL_LARGE, flags,
                              "large block: flags %#zx, expected used|large (%#zx)", flags, HL_USED | HL_LARGE);
    size_t room = (uintptr_t)l->base + l->map_size - (uintptr_t)b;
    if (size != room || size < HL_MIN_BLOCK)
        return hl__check_fail(c, HL_INV_LARGE, b, room, size,
                              "large block: size %zu, but its mapping leaves it %zu bytes", size, room);
    if (*hl_block_footer(b) != b->size_flags) {
        c->focus = hl_block_footer(b);
        return hl__check_fail(c, HL_INV_FOOTER, b, b->size_flags, *hl_block_footer(b),
                              "large block: footer %#zx does not match header size|flags %#zx",
                              *hl_block_footer(b), b->size_flags);
    }
    if (b->slack > hl_block_usable(b))
        return hl__check_fail(c, HL_INV_LARGE, b, hl_block_usable(b), b->slack,
                              "large block: slack %u exceeds its %zu usable bytes", b->slack, hl_block_usable(b));
    return HL_CHECKED ? hl__check_canary(c, b) : 0;
}

static int check_mapping(hl_checker *c, const hl_large *l, const hl_large *prev, size_t index) {
    hl__check_at(c, HL_AT_MAPPING, l, NULL, 0);
    if ((uintptr_t)l % HL_ALIGN)
        return hl__check_fail(c, HL_INV_LARGE, NULL, 0, (uintptr_t)l,
                              "large mapping %p (number %zu in the list) is misaligned", (const void *)l, index);
    /* as for regions: only the head link is unsealed */
    size_t head = sizeof *l + HL_HEADER;
    if (index == 0 ? !hl__check_readable(c, l, head) : !hl__check_mapped(c, l, head))
        return hl__check_fail(c, HL_INV_LARGE, NULL, 0, (uintptr_t)l,
                              "large mapping %p (number %zu in the list) is not mapped (or not readable)", (const void *)l, index);
    hl__check_at(c, HL_AT_MAPPING, l, l, head);
    int id = check_header(c, l, prev);
    if (id)
        return id;
    hl__check_at(c, HL_AT_MAPPING, l, l->base, l->map_size);
    c->walked++;
    id = check_block(c, l);
    if (id)
        return id;
    const hl_block *b = hl_large_block(l);
    c->seen.blocks_in_use++;
    c->seen.bytes_in_use += hl_block_usable(b) - b->slack;
    c->seen.large_blocks++;
    c->seen.large_bytes += l->map_size;
    return 0;
}

int hl__check_large(hl_checker *c) {
    const hl_large *prev = NULL;
    size_t n = 0;
    hl__check_at_heap(c, hl__check_heap_bytes(c->h));
    if (c->h->cfg.source == HL_SOURCE_BUFFER && c->h->large)
        return hl__check_fail(c, HL_INV_LARGE, NULL, 0, (uintptr_t)c->h->large,
                              "heap %p: a buffer heap maps nothing, but its large list starts at %p",
                              (const void *)c->h, (void *)c->h->large);
    for (const hl_large *l = c->h->large; l; prev = l, l = l->next, n++) {
        if (n == HL_CHECK_MAX_LINKS)
            return hl__check_fail(c, HL_INV_LARGE, NULL, HL_CHECK_MAX_LINKS, n,
                                  "more than %zu large mappings: the list does not end", HL_CHECK_MAX_LINKS);
        int id = check_mapping(c, l, prev, n);
        if (id)
            return id;
    }
    return 0;
}

/* --- the large cache ------------------------------------------------------------------ */
static int check_cached_header(hl_checker *c, const hl_large *l, const hl_large *prev) {
    const hl_heap *h = c->h;
    const hl_block *b = hl_large_block(l);
    uint64_t magic = HL_LCACHED_MAGIC ^ (uint64_t)(uintptr_t)l;
    if (l->magic != magic)
        return hl__check_fail(c, HL_INV_LARGE, b, magic, l->magic,
                              "cached mapping %p: bad magic %#llx, expected %#llx", (const void *)l,
                              (unsigned long long)l->magic, (unsigned long long)magic);
    if (l->heap != h || l->prev != prev || l->base != (const void *)l)
        return hl__check_fail(c, HL_INV_LARGE, b, (uintptr_t)prev, (uintptr_t)l->prev,
                              "cached mapping %p: heap %p, prev %p, base %p; expected heap %p, prev %p, base itself",
                              (const void *)l, (void *)l->heap, (void *)l->prev, l->base, (const void *)h,
                              (const void *)prev);
    if (l->map_size < sizeof *l + HL_MIN_BLOCK || l->map_size > UINTPTR_MAX - (uintptr_t)l)
        return hl__check_fail(c, HL_INV_LARGE, b, 0, l->map_size,
                              "cached mapping %p: size %zu cannot hold its header and a block", (const void *)l,
                              l->map_size);
    uint64_t seal = hl_lcached_seal(h->cookie, l);
    if (l->seal != seal)
        return hl__check_fail(c, HL_INV_LARGE, b, seal, l->seal,
                              "cached mapping %p: its seal does not match its links, mapping and age (overwritten)",
                              (const void *)l);
    if (l->pad > h->large_clock || h->large_clock - l->pad > HL_LCACHE_AGE)
        return hl__check_fail(c, HL_INV_LARGE, b, h->large_clock, l->pad,
                              "cached mapping %p: cached at large operation %llu, now %llu: older than %d operations",
                              (const void *)l, (unsigned long long)l->pad, (unsigned long long)h->large_clock,
                              HL_LCACHE_AGE);
    if (!hl__check_mapped(c, l->base, l->map_size))
        return hl__check_fail(c, HL_INV_LARGE, b, 0, l->map_size,
                              "cached mapping %p: its %zu bytes are not all mapped", (const void *)l, l->map_size);
    size_t want = (l->map_size - sizeof *l) | HL_LARGE;
    if (b->size_flags != want || b->slack)
        return hl__check_fail(c, HL_INV_LARGE, b, want, b->size_flags,
                              "cached mapping %p: block header %#zx (slack %u), expected free|large %#zx, no slack",
                              (const void *)l, b->size_flags, b->slack, want);
    uint32_t check = hl_check_word(b, b->size_flags, b->slack, h->cookie);
    if (b->check != check)
        return hl__check_fail(c, HL_INV_MAGIC, b, check, b->check,
                              "cached mapping %p: check word %#x does not match its block header", (const void *)l,
                              b->check);
    return 0;
}

static int check_cached(hl_checker *c, const hl_large *l, const hl_large *prev, size_t index) {
    hl__check_at(c, HL_AT_MAPPING, l, NULL, 0);
    size_t head = sizeof *l + HL_HEADER;
    if ((uintptr_t)l % c->page ||
        (index == 0 ? !hl__check_readable(c, l, head) : !hl__check_mapped(c, l, head)))
        return hl__check_fail(c, HL_INV_LARGE, NULL, 0, (uintptr_t)l,
                              "cached mapping %p (number %zu in the cache) is misaligned or not mapped",
                              (const void *)l, index);
    hl__check_at(c, HL_AT_MAPPING, l, l, head);
    int id = check_cached_header(c, l, prev);
    if (id) return id;
    c->seen.large_cached++;
    c->seen.large_cached_bytes += l->map_size;
    return 0;
}

int hl__check_large_cache(hl_checker *c) {
    const hl_large *prev = NULL;
    size_t n = 0;
    hl__check_at_heap(c, hl__check_heap_bytes(c->h));
    if (c->h->cfg.source == HL_SOURCE_BUFFER && c->h->lcache)
        return hl__check_fail(c, HL_INV_LARGE, NULL, 0, (uintptr_t)c->h->lcache,
                              "heap %p: a buffer heap maps nothing, but its large cache starts at %p",
                              (const void *)c->h, (void *)c->h->lcache);
    for (const hl_large *l = c->h->lcache; l; prev = l, l = l->next, n++) {
        if (n == HL_LCACHE_MAX_COUNT)
            return hl__check_fail(c, HL_INV_LARGE, NULL, HL_LCACHE_MAX_COUNT, n + 1,
                                  "the large cache holds more than %d mappings (or does not end)", HL_LCACHE_MAX_COUNT);
        int id = check_cached(c, l, prev, n);
        if (id) return id;
    }
    return 0;
}
