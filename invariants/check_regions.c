/*
 * check_regions.c - the heap header and the region list (invariant REGION).
 *
 * Everything later passes read hangs off these headers, so they are checked
 * first and most suspiciously: each header is probed for mapping before it is
 * read, then must carry its magic (bound to its own address), name this heap,
 * have a sane size that stays inside what its source gave, match its seal
 * (which binds its link and sizes), lie on mapped pages throughout, and keep
 * out of the heap header and of every region before it.  A list that loops
 * revisits a region, which then "overlaps" itself: the cycle is found by the
 * overlap test, and the bound is only a backstop.
 */
#include "check_internal.h"

#include <stdalign.h>

static bool overlap(uintptr_t a, size_t alen, uintptr_t b, size_t blen) {
    return a < b + blen && b < a + alen;
}

int hl__check_heap_header(hl_checker *c) {
    const hl_heap *h = c->h;
    hl__check_at(c, HL_AT_HEAP, h, NULL, 0);
    if (!h)
        return hl__check_fail(c, HL_INV_REGION, NULL, 0, 0, "the heap pointer is NULL");
    if ((uintptr_t)h % alignof(hl_heap))
        return hl__check_fail(c, HL_INV_REGION, NULL, 0, (uintptr_t)h, "heap %p is misaligned", (const void *)h);
    if (!hl__check_mapped(c, h, offsetof(hl_heap, lists)))
        return hl__check_fail(c, HL_INV_REGION, NULL, 0, (uintptr_t)h, "heap %p is not mapped (or not readable)", (const void *)h);
    hl__check_at_heap(c, offsetof(hl_heap, lists));

    uint64_t magic = HL_HEAP_MAGIC ^ (uint64_t)(uintptr_t)h;
    if (h->magic != magic)
        return hl__check_fail(c, HL_INV_REGION, NULL, magic, h->magic,
                              "heap %p: the heap header is bad: magic %#llx, expected %#llx (destroyed or overwritten)",
                              (const void *)h, (unsigned long long)h->magic, (unsigned long long)magic);
    size_t lists = h->cfg.policy == HL_SEGREGATED_FIT ? HL_TLSF_LISTS : 1;
    if (h->nlists != lists || (unsigned)h->cfg.policy > HL_BEST_FIT || (unsigned)h->cfg.source > HL_SOURCE_SBRK)
        return hl__check_fail(c, HL_INV_REGION, NULL, lists, h->nlists,
                              "heap %p: the heap header is bad: %zu free lists for policy %d, source %d",
                              (const void *)h, h->nlists, (int)h->cfg.policy, (int)h->cfg.source);
    if (h->heap_bytes < hl__check_heap_bytes(h) || (h->seg_align != 0 && h->seg_align != HL_SEGMENT) ||
        h->canary_skip > HL_LINKS)
        return hl__check_fail(c, HL_INV_REGION, NULL, hl__check_heap_bytes(h), h->heap_bytes,
                              "heap %p: the heap header is bad: %zu bytes for a %zu-byte header, segment %zu, canary skip %u",
                              (const void *)h, h->heap_bytes, hl__check_heap_bytes(h), h->seg_align, h->canary_skip);
    if (!hl__check_mapped(c, h, hl__check_heap_bytes(h)))
        return hl__check_fail(c, HL_INV_REGION, NULL, 0, hl__check_heap_bytes(h),
                              "heap %p: its %zu list heads run into unmapped memory", (const void *)h, h->nlists);
    hl__check_at_heap(c, hl__check_heap_bytes(c->h));
    return 0;
}

/* A buffer heap owns nothing outside its buffer: [p, p + len) must be in it. */
static bool in_buffer(const hl_heap *h, const void *p, size_t len) {
    uintptr_t buf = (uintptr_t)h->cfg.buffer;
    if (h->cfg.source != HL_SOURCE_BUFFER)
        return true;
    return h->cfg.buffer_size <= UINTPTR_MAX - buf &&
           hl__check_within((uintptr_t)p, len, buf, buf + h->cfg.buffer_size);
}

/* The header's own fields: magic, owner, size, and where the size reaches. */
static int check_header(hl_checker *c, const hl_region *r) {
    const hl_heap *h = c->h;
    uint64_t magic = HL_REGION_MAGIC ^ (uint64_t)(uintptr_t)r;
    if (r->magic != magic)
        return hl__check_fail(c, HL_INV_REGION, NULL, magic, r->magic, "region %p: bad magic %#llx, expected %#llx",
                              (const void *)r, (unsigned long long)r->magic, (unsigned long long)magic);
    if (r->heap != h)
        return hl__check_fail(c, HL_INV_REGION, NULL, (uintptr_t)h, (uintptr_t)r->heap,
                              "region %p belongs to heap %p, not to %p", (const void *)r, (void *)r->heap, (const void *)h);
    size_t min = sizeof(hl_region) + HL_MIN_BLOCK + HL_EPILOGUE;
    if (r->size % HL_ALIGN || r->size < min || r->size > HL_MAX_REGION)
        return hl__check_fail(c, HL_INV_REGION, NULL, min, r->size,
                              "region %p: size %zu is not a multiple of 16 between %zu and 2^40",
                              (const void *)r, r->size, min);
    uintptr_t base = (uintptr_t)r->base;
    if (r->base_size > UINTPTR_MAX - base || !hl__check_within((uintptr_t)r, r->size, base, base + r->base_size))
        return hl__check_fail(c, HL_INV_REGION, NULL, r->base_size, r->size,
                              "region %p: its %zu bytes run outside the %zu bytes at %p it came from",
                              (const void *)r, r->size, r->base_size, r->base);
    if (!in_buffer(h, r, r->size))
        return hl__check_fail(c, HL_INV_REGION, NULL, h->cfg.buffer_size, r->size,
                              "region %p: its %zu bytes run outside the heap's buffer %p (%zu bytes)",
                              (const void *)r, r->size, h->cfg.buffer, h->cfg.buffer_size);
    uint64_t seal = hl_region_seal(h->cookie, r);
    if (r->seal != seal)
        return hl__check_fail(c, HL_INV_REGION, NULL, seal, r->seal,
                              "region %p: its seal does not match its link and sizes (overwritten)", (const void *)r);
    return 0;
}

/* Where the region lies against the heap header and the regions before it. */
static int check_placement(hl_checker *c, const hl_region *r, size_t index) {
    const hl_heap *h = c->h;
    if (r->prologue != HL_USED)
        return hl__check_fail(c, HL_INV_REGION, NULL, HL_USED, r->prologue,
                              "region %p: prologue %#zx, expected %#zx", (const void *)r, r->prologue, HL_USED);
    if (overlap((uintptr_t)r, r->size, (uintptr_t)h, hl__check_heap_bytes(h)))
        return hl__check_fail(c, HL_INV_REGION, NULL, 0, (uintptr_t)r,
                              "region %p overlaps the heap header %p", (const void *)r, (const void *)h);
    const hl_region *q = h->regions;
    for (size_t i = 0; i < index; i++, q = q->next) {
        if (q == r)
            return hl__check_fail(c, HL_INV_REGION, NULL, i, index,
                                  "the region list has a cycle: region %p comes back as number %zu after number %zu",
                                  (const void *)r, index, i);
        if (overlap((uintptr_t)r, r->size, (uintptr_t)q, q->size))
            return hl__check_fail(c, HL_INV_REGION, NULL, (uintptr_t)q, (uintptr_t)r,
                                  "region %p (%zu bytes) overlaps region %p (%zu bytes)",
                                  (const void *)r, r->size, (const void *)q, q->size);
    }
    return 0;
}

static int check_region(hl_checker *c, const hl_region *r, size_t index) {
    hl__check_at(c, HL_AT_REGION, r, NULL, 0);
    size_t align = c->h->seg_align ? c->h->seg_align : HL_ALIGN;   /* global heaps: segments */
    if ((uintptr_t)r % align)
        return hl__check_fail(c, HL_INV_REGION, NULL, align, (uintptr_t)r,
                              "region %p (number %zu in the list) is not %zu-byte aligned", (const void *)r, index, align);
    if (!in_buffer(c->h, r, sizeof *r))
        return hl__check_fail(c, HL_INV_REGION, NULL, 0, (uintptr_t)r,
                              "region %p (number %zu in the list) lies outside the heap's buffer %p",
                              (const void *)r, index, c->h->cfg.buffer);
    /* the head link is unsealed, so it may point anywhere mapped, PROT_NONE
     * pages included; every later link was sealed by the region before it */
    if (index == 0 ? !hl__check_readable(c, r, sizeof *r) : !hl__check_mapped(c, r, sizeof *r))
        return hl__check_fail(c, HL_INV_REGION, NULL, 0, (uintptr_t)r,
                              "region %p (number %zu in the list) is not mapped (or not readable)", (const void *)r, index);
    hl__check_at(c, HL_AT_REGION, r, r, sizeof *r);
    int id = check_header(c, r);
    if (id)
        return id;
    if (!hl__check_mapped(c, r, r->size))
        return hl__check_fail(c, HL_INV_REGION, NULL, 0, r->size,
                              "region %p: its %zu bytes run into unmapped memory", (const void *)r, r->size);
    hl__check_at(c, HL_AT_REGION, r, r, r->size);
    return check_placement(c, r, index);
}

/* The allocator's region cache must name one of the regions, or none: it
 * is followed without a seal. */
static int check_hot(hl_checker *c) {
    const hl_heap *h = c->h;
    const hl_region *r = h->regions;
    for (size_t i = 0; i < c->nregions && r != h->hot; i++)
        r = r->next;
    if (!h->hot || r == h->hot)
        return 0;
    hl__check_at_heap(c, hl__check_heap_bytes(c->h));
    return hl__check_fail(c, HL_INV_REGION, NULL, 0, (uintptr_t)h->hot,
                          "heap %p: its region cache points at %p, which is none of its regions",
                          (const void *)h, (void *)h->hot);
}

static bool listed(const hl_checker *c, const hl_region *x) {
    const hl_region *r = c->h->regions;
    for (size_t i = 0; i < c->nregions; i++, r = r->next)
        if (r == x) return true;
    return false;
}

/* The region index (src/region_index.c) must hold exactly the listed
 * regions, sorted by address: a lookup trusts its order. */
static int check_index(hl_checker *c) {
    const hl_heap *h = c->h;
    hl__check_at_heap(c, hl__check_heap_bytes(h));
    bool want = h->cfg.source != HL_SOURCE_BUFFER && c->nregions;
    if (h->rindex_count != (want ? c->nregions : 0) || h->rindex_count > h->rindex_cap || (want && !h->rindex))
        return hl__check_fail(c, HL_INV_REGION, NULL, c->nregions, h->rindex_count,
                              "heap %p: its region index holds %zu of %zu entries (at %p), but the heap has %zu regions",
                              (const void *)h, h->rindex_count, h->rindex_cap, (void *)h->rindex, c->nregions);
    if (!h->rindex_count) return 0;
    if (!hl__check_readable(c, h->rindex, h->rindex_cap * sizeof *h->rindex))
        return hl__check_fail(c, HL_INV_REGION, NULL, 0, (uintptr_t)h->rindex,
                              "heap %p: its region index %p is not readable", (const void *)h, (void *)h->rindex);
    for (size_t i = 0; i < h->rindex_count; i++) {
        const hl_region *r = h->rindex[i];
        if (i && (uintptr_t)r <= (uintptr_t)h->rindex[i - 1])
            return hl__check_fail(c, HL_INV_REGION, NULL, (uintptr_t)h->rindex[i - 1], (uintptr_t)r,
                                  "heap %p: region index entry %zu (%p) is not above entry %zu (%p)",
                                  (const void *)h, i, (const void *)r, i - 1, (void *)h->rindex[i - 1]);
        if (!listed(c, r))
            return hl__check_fail(c, HL_INV_REGION, NULL, 0, (uintptr_t)r,
                                  "heap %p: region index entry %zu (%p) is none of its regions",
                                  (const void *)h, i, (const void *)r);
    }
    return 0;
}

int hl__check_regions(hl_checker *c) {
    size_t n = 0;
    for (const hl_region *r = c->h->regions; r; r = r->next, n++) {
        if (n == HL_CHECK_MAX_LINKS)
            return hl__check_fail(c, HL_INV_REGION, NULL, HL_CHECK_MAX_LINKS, n,
                                  "more than %zu regions: the region list does not end", HL_CHECK_MAX_LINKS);
        int id = check_region(c, r, n);
        if (id)
            return id;
        c->nregions = n + 1;
        c->region_bytes += r->size;
        c->seen.regions++;
        c->seen.region_bytes += r->base_size;
    }
    int id = check_hot(c);
    return id ? id : check_index(c);
}
