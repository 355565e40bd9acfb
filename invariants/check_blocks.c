/*
 * check_blocks.c - the walk of every region's blocks.
 *
 * A region holds [header|prologue][block]...[block][epilogue].  The walk
 * starts at hl_region_first and steps by each block's size.  A header is read
 * only where the walk stands, and the walk only stands inside [first,
 * epilogue]: the first block is there because the region's size was checked,
 * and each step is taken only after SIZE proved that the block ends at or
 * before the epilogue.  Each block is checked in this order, because each
 * check trusts what the one before it proved:
 *
 *   1 MAGIC      the check word matches the header's address, size|flags,
 *                slack and the heap's cookie (else nothing in it is trusted)
 *   3 SIZE       at least HL_MIN_BLOCK, ends by the epilogue, no flag but
 *                "used", slack 0 when free and at most the usable bytes when
 *                used (the size is size_flags with the four flag bits masked,
 *                so it is a multiple of 16 by construction: a misaligned size
 *                shows up here as an unknown flag)
 *   2 FOOTER     the footer repeats size|flags (its place depends on SIZE)
 *   5 COALESCED  a free block never follows a free block
 *
 * and at the end of the region:
 *
 *   4 TILING     the walk lands on the epilogue, which reads "used", size 0,
 *                with its own check word.  (A block reaching past the
 *                epilogue was already a SIZE violation.)
 *
 * Only when the whole region is structurally sound does a second walk check
 * contents, in checked builds (HL_CHECKED): every byte of a free block's fill
 * area is HL_FILL_FREE, and every slack byte of a used block (between the
 * request and the end of its usable space) is HL_FILL_CANARY.
 *
 * The walk also counts, for the later passes: used and free blocks and bytes,
 * the largest free block, and a fingerprint of the free blocks' addresses.
 */
#include "check_internal.h"

static int check_magic(hl_checker *c, const hl_block *b) {
    uint32_t want = hl_check_word(b, b->size_flags, b->slack, c->h->cookie);
    if (b->check == want)
        return 0;
    return hl__check_fail(c, HL_INV_MAGIC, b, want, b->check,
                          "check word %#x does not match size|flags %#zx, slack %u (header overwritten or forged)",
                          b->check, b->size_flags, b->slack);
}

static int check_size(hl_checker *c, const hl_block *b, uintptr_t epi) {
    size_t size = hl_block_size(b), flags = b->size_flags & HL_FLAGS;
    size_t room = epi - (uintptr_t)b;
    if (size < HL_MIN_BLOCK)
        return hl__check_fail(c, HL_INV_SIZE, b, HL_MIN_BLOCK, size,
                              "size %zu is below the minimum block of %d bytes", size, HL_MIN_BLOCK);
    if (size > room)
        return hl__check_fail(c, HL_INV_SIZE, b, room, size,
                              "size %zu runs %zu bytes past the region's epilogue (%zu bytes left)",
                              size, size - room, room);
    size_t allowed = c->h->cache.enabled && (flags & HL_USED) ? HL_USED | HL_CACHED : HL_USED;
    if (flags & ~allowed)
        return hl__check_fail(c, HL_INV_SIZE, b, flags & allowed, flags,
                              "flags %#zx: a region block may carry only 'used' (%#zx)%s", flags, HL_USED,
                              c->h->cache.enabled ? " and, when used, 'cached'" : "");
    if (!hl_block_used(b) && b->slack != 0)
        return hl__check_fail(c, HL_INV_SIZE, b, 0, b->slack, "free block with slack %u, expected 0", b->slack);
    if (hl_block_used(b) && b->slack > hl_block_usable(b))
        return hl__check_fail(c, HL_INV_SIZE, b, hl_block_usable(b), b->slack,
                              "slack %u exceeds the %zu usable bytes", b->slack, hl_block_usable(b));
    return 0;
}

static int check_footer(hl_checker *c, const hl_block *b) {
    size_t footer = *hl_block_footer(b);
    if (footer == b->size_flags)
        return 0;
    c->focus = hl_block_footer(b);
    return hl__check_fail(c, HL_INV_FOOTER, b, b->size_flags, footer,
                          "footer %#zx does not match header size|flags %#zx", footer, b->size_flags);
}

static int check_coalesced(hl_checker *c, const hl_block *b, const hl_block *prev) {
    if (hl_block_used(b) || !prev || hl_block_used(prev))
        return 0;
    return hl__check_fail(c, HL_INV_COALESCED, b, HL_USED, prev->size_flags,
                          "free block follows free block %p (%zu bytes): they should have been merged",
                          (const void *)prev, hl_block_size(prev));
}

static void count_block(hl_checker *c, const hl_block *b) {
    hl_stats *s = &c->seen;
    if (hl_block_used(b)) {
        s->blocks_in_use++;
        if (b->size_flags & HL_CACHED) {   /* freed, to its caller: no request in use */
            c->cached_blocks++;
            c->cached_print += hl__check_print(b);
        } else {
            s->bytes_in_use += hl_block_usable(b) - b->slack;
        }
        return;
    }
    s->blocks_free++;
    s->bytes_free += hl_block_size(b);
    if (hl_block_usable(b) > s->largest_free)
        s->largest_free = hl_block_usable(b);
    c->free_blocks++;
    c->free_print += hl__check_print(b);
}

static int check_block(hl_checker *c, const hl_block *b, const hl_block *prev, uintptr_t epi) {
    c->prev = prev;
    c->next = NULL;
    c->focus = NULL;
    int id = check_magic(c, b);
    if (!id)
        id = check_size(c, b, epi);
    if (id)
        return id;
    c->next = (uintptr_t)hl_block_next(b) < epi ? hl_block_next(b) : NULL;
    id = check_footer(c, b);
    if (!id)
        id = check_coalesced(c, b, prev);
    return id;
}

static int check_epilogue(hl_checker *c, const hl_block *epi, const hl_block *prev) {
    uint32_t want = hl_check_word(epi, HL_USED, 0, c->h->cookie);
    c->prev = prev;
    c->next = NULL;
    c->focus = NULL;
    if (epi->size_flags != HL_USED)
        return hl__check_fail(c, HL_INV_TILING, epi, HL_USED, epi->size_flags,
                              "epilogue reads size|flags %#zx, expected %#zx (size 0, used)", epi->size_flags, HL_USED);
    if (epi->check != want || epi->slack != 0)
        return hl__check_fail(c, HL_INV_TILING, epi, want, epi->check,
                              "epilogue check word %#x (slack %u) does not match", epi->check, epi->slack);
    return 0;
}

/* The structural walk of region r (set as the failure context by the caller). */
static int walk_region(hl_checker *c, const hl_region *r) {
    const hl_block *epi = hl_region_epilogue(r);
    const hl_block *b = hl_region_first(r), *prev = NULL;
    size_t steps = r->size / HL_MIN_BLOCK;
    while (b != epi) {
        /* The checker's rule: every loop has a bound fixed before it starts.
         * This one cannot be hit: SIZE proves each block at least
         * HL_MIN_BLOCK bytes and ending by the epilogue before the walk steps
         * over it, so the walk reaches the epilogue in fewer steps.  Excluded
         * from coverage for that reason (docs/coverage.md). */
        if (steps-- == 0)   /* GCOVR_EXCL_BR_LINE */
            return hl__check_fail(c, HL_INV_TILING, b, 0, r->size / HL_MIN_BLOCK,   /* GCOVR_EXCL_START */
                                  "the walk took more than %zu steps without reaching the epilogue",
                                  r->size / HL_MIN_BLOCK);   /* GCOVR_EXCL_STOP */
        c->walked++;
        int id = check_block(c, b, prev, (uintptr_t)epi);
        if (id)
            return id;
        count_block(c, b);
        prev = b;
        b = hl_block_next(b);
    }
    return check_epilogue(c, epi, prev);
}

/* --- contents (checked builds) --------------------------------------------------- */

/* The heap's bytes are read as words of any type they were written as. */
typedef uint64_t __attribute__((may_alias)) hl_word;

/* Offset of the first byte of p[0..n) that is not v, or n.  Aligned words,
 * eight at a time with no exit inside a group so that the compiler can
 * vectorise the scan; then bytes, to find the culprit.  Deliberately not
 * memcmp: ASan intercepts it and checks it against the poison heaplab keeps
 * on free memory and slack (src/hl_track.h), which this scan must read. */
static size_t first_unlike(const unsigned char *p, size_t n, unsigned char v) {
    size_t i = 0;
    while (i < n && (uintptr_t)(p + i) % sizeof(hl_word) != 0) {
        if (p[i] != v)
            return i;
        i++;
    }
    const hl_word *w = (const hl_word *)(p + i);
    uint64_t pattern = 0x0101010101010101ull * v;
    size_t words = (n - i) / sizeof(hl_word), k = 0;
    for (; k + 8 <= words; k += 8) {
        uint64_t diff = 0;
        for (size_t j = 0; j < 8; j++)
            diff |= w[k + j] ^ pattern;
        if (diff)
            break;
    }
    for (i += k * sizeof(hl_word); i < n; i++)
        if (p[i] != v)
            return i;
    return n;
}

int hl__check_fill(hl_checker *c, const hl_block *b) {
    const unsigned char *fill = hl_block_fill_start(b);
    size_t len = hl_block_fill_len(b), at = first_unlike(fill, len, HL_FILL_FREE);
    if (at == len)
        return 0;
    c->focus = fill + at;
    return hl__check_fail(c, HL_INV_FREE_FILL, b, HL_FILL_FREE, fill[at],
                          "free block: byte %zu of its fill (block+%#zx) is 0x%02x, expected 0x%02x: written after free",
                          at, (size_t)(HL_HEADER + HL_LINKS) + at, fill[at], HL_FILL_FREE);
}

/* The canary runs from hl_canary_start (the end of the request, or later in
 * global heaps, whose remote frees keep a link in the first payload bytes) to
 * the end of the usable space. */
int hl__check_canary(hl_checker *c, const hl_block *b) {
    size_t usable = hl_block_usable(b), req = usable - b->slack;
    size_t from = hl_canary_start(c->h, req);
    if (from >= usable)
        return 0;
    const unsigned char *canary = (const unsigned char *)hl_block_payload(b) + from;
    size_t len = usable - from, at = first_unlike(canary, len, HL_FILL_CANARY);
    if (at == len)
        return 0;
    c->focus = canary + at;
    return hl__check_fail(c, HL_INV_CANARY, b, HL_FILL_CANARY, canary[at],
                          "used block of %zu requested bytes: canary byte %zu after the request is 0x%02x, expected 0x%02x: overflow",
                          req, from - req + at, canary[at], HL_FILL_CANARY);
}

/* Bytes [lo, hi) of free block b's fill hold the pattern; a violation is
 * reported as hl__check_fill would, naming the first wrong byte. */
static int check_fill_range(hl_checker *c, const hl_block *b, const unsigned char *lo, const unsigned char *hi) {
    size_t at = first_unlike(lo, (size_t)(hi - lo), HL_FILL_FREE);
    if (at == (size_t)(hi - lo))
        return 0;
    return hl__check_fill(c, b);   /* reports the first wrong byte of the whole fill */
}

/* The part of b's fill inside [lo, hi), if any. */
static int check_fill_within(hl_checker *c, const hl_block *b, const unsigned char *lo, const unsigned char *hi) {
    const unsigned char *fill = hl_block_fill_start(b), *end = fill + hl_block_fill_len(b);
    if (lo < fill) lo = fill;
    if (hi > end) hi = end;
    return lo < hi ? check_fill_range(c, b, lo, hi) : 0;
}

/* The every-op check's share of b's fill: the bytes this operation wrote,
 * and the part inside the rolling window (check.c explains both). */
static int check_fill_every_op(hl_checker *c, const hl_region *r, const hl_block *b) {
    const hl_heap *h = c->h;
    if (h->ntouched > HL_TOUCHED_MAX)
        return hl__check_fill(c, b);
    for (unsigned i = 0; i < h->ntouched; i++) {
        int id = check_fill_within(c, b, h->touched[i][0], h->touched[i][1]);
        if (id)
            return id;
    }
    const unsigned char *fill = hl_block_fill_start(b), *end = fill + hl_block_fill_len(b);
    size_t pos = c->region_pos + (size_t)(fill - (const unsigned char *)r);
    size_t total = c->h->st.region_bytes, lo = c->window_lo, hi = c->window_hi;
    /* the window [lo, hi) may run past the end of the regions and wrap to 0 */
    size_t spans[2][2] = { { lo, hi }, { 0, hi > total ? hi - total : 0 } };
    for (int i = 0; i < 2; i++) {
        size_t a = spans[i][0] > pos ? spans[i][0] - pos : 0;
        size_t z = spans[i][1] > pos ? spans[i][1] - pos : 0;
        if (z > (size_t)(end - fill))
            z = (size_t)(end - fill);
        if (a < z) {
            int id = check_fill_range(c, b, fill + a, fill + z);
            if (id)
                return id;
        }
    }
    return 0;
}

/* Second walk of a region the structural walk proved sound. */
static int check_contents(hl_checker *c, const hl_region *r) {
    const hl_block *epi = hl_region_epilogue(r), *prev = NULL;
    for (const hl_block *b = hl_region_first(r); b != epi; prev = b, b = hl_block_next(b)) {
        c->prev = prev;
        c->next = hl_block_next(b) != epi ? hl_block_next(b) : NULL;
        /* a cached block is freed memory, filled as a free block is (from
         * payload + 16, past its link and the remote-free tag word) */
        bool fill = !hl_block_used(b) || (b->size_flags & HL_CACHED);
        int id = !fill ? hl__check_canary(c, b)
                 : c->every_op ? check_fill_every_op(c, r, b) : hl__check_fill(c, b);
        if (id)
            return id;
    }
    return 0;
}

int hl__check_blocks(hl_checker *c) {
    const hl_region *r = c->h->regions;
    for (size_t i = 0; i < c->nregions; i++, r = r->next) {
        hl__check_at(c, HL_AT_REGION, r, r, r->size);
        int id = walk_region(c, r);
        if (!id && HL_CHECKED)
            id = check_contents(c, r);
        if (id)
            return id;
        c->region_pos += r->size;
    }
    return 0;
}
