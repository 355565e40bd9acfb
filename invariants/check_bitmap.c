/*
 * check_bitmap.c - the segregated-fit bitmaps (invariant BITMAP).
 *
 * Segregated fit finds a list in O(1) through two levels of bitmaps, so a
 * stale bit sends malloc to an empty list and a missing bit hides free
 * memory.  For every first level f:
 *   bit s of sl_bitmap[f] is set  iff  lists[f * HL_SL_COUNT + s] is not empty
 *   bit f of fl_bitmap is set     iff  sl_bitmap[f] is not 0
 * and no bit beyond HL_SL_COUNT (second level) or HL_FL_COUNT (first level)
 * is set.  Only the heap header is read: the lists were walked already.
 * First fit and best fit keep one list and no bitmaps.
 */
#include "check_internal.h"

/* The failure context of list `index`: its head if it has one. */
static const hl_block *at_list(hl_checker *c, size_t index) {
    const hl_block *head = c->h->lists[index];
    if (head)
        hl__check_locate(c, hl__check_region_of(c, head, HL_HEADER), head);
    return head;
}

static int check_level(hl_checker *c, unsigned f) {
    const hl_heap *h = c->h;
    uint32_t sl = h->sl_bitmap[f], want = 0;
    for (unsigned s = 0; s < HL_SL_COUNT; s++)
        if (h->lists[(size_t)f * HL_SL_COUNT + s])
            want |= 1u << s;
    if (sl != want) {
        unsigned s = (unsigned)__builtin_ctz(sl ^ want);
        size_t index = (size_t)f * HL_SL_COUNT + s;
        c->focus = &h->sl_bitmap[f];
        if (s >= HL_SL_COUNT)
            return hl__check_fail(c, HL_INV_BITMAP, NULL, want, sl,
                                  "heap %p: sl_bitmap[%u] = %#x sets bit %u, beyond the %d second-level lists",
                                  (const void *)h, f, sl, s, HL_SL_COUNT);
        const hl_block *head = at_list(c, index);
        return hl__check_fail(c, HL_INV_BITMAP, head, want, sl,
                              "heap %p: sl_bitmap[%u] = %#x: bit %u is %s but list %zu is %s", (const void *)h,
                              f, sl, s, sl >> s & 1 ? "set" : "clear", index, head ? "not empty" : "empty");
    }
    c->focus = &h->fl_bitmap;
    bool fl_bit = h->fl_bitmap >> f & 1;
    if (fl_bit != (sl != 0))
        return hl__check_fail(c, HL_INV_BITMAP, NULL, sl != 0, fl_bit,
                              "heap %p: fl_bitmap %#llx: bit %u is %s but sl_bitmap[%u] = %#x",
                              (const void *)h, (unsigned long long)h->fl_bitmap, f, fl_bit ? "set" : "clear", f, sl);
    return 0;
}

int hl__check_bitmap(hl_checker *c) {
    const hl_heap *h = c->h;
    if (h->nlists != HL_TLSF_LISTS)
        return 0;
    hl__check_at_heap(c, hl__check_heap_bytes(c->h));
    uint64_t valid = ((uint64_t)1 << HL_FL_COUNT) - 1;
    _Static_assert(HL_FL_COUNT < 64, "fl_bitmap holds a bit per first level");
    c->focus = &h->fl_bitmap;
    if (h->fl_bitmap & ~valid)
        return hl__check_fail(c, HL_INV_BITMAP, NULL, h->fl_bitmap & valid, h->fl_bitmap,
                              "heap %p: fl_bitmap %#llx sets bits beyond the %d first levels",
                              (const void *)h, (unsigned long long)h->fl_bitmap, HL_FL_COUNT);
    for (unsigned f = 0; f < HL_FL_COUNT; f++) {
        int id = check_level(c, f);
        if (id)
            return id;
    }
    return 0;
}
