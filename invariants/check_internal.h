/*
 * check_internal.h - the heap checker's shared state and its passes.
 *
 * hl_heap_check (check.c) runs these passes in order and stops at the first
 * violation, which it describes in an hl_check_report:
 *
 *   check_regions.c  the heap header and the region list          REGION
 *   check_blocks.c   every block of every region, in address order:
 *                    MAGIC, SIZE, FOOTER, COALESCED per block, TILING at the
 *                    epilogue; then, in checked builds, FREE_FILL and CANARY
 *   check_large.c    every large mapping                          LARGE (and
 *                    MAGIC, FOOTER, CANARY for the block inside it)
 *   check_lists.c    every free list                              LIST_LINKS,
 *                                                                 LIST_MEMBERSHIP
 *   check_cache.c    the thread cache's lists (global heaps)      LIST_LINKS,
 *                                                                 LIST_MEMBERSHIP
 *   check_bitmap.c   the segregated-fit bitmaps                   BITMAP
 *   check_stats.c    the counters against what the walks counted  STATS
 *
 * Three rules hold everywhere, because the checker runs on heaps that a
 * fuzzer or a user's bug has scribbled on:
 *   - no pointer is read before it is proven to lie in memory an earlier pass
 *     validated (a region's block area, a mapping) or that the kernel says is
 *     mapped (check_memory.c);
 *   - every loop has a bound fixed before it starts;
 *   - nothing allocates, on the success path or the failure path.
 */
#ifndef HL_CHECK_INTERNAL_H
#define HL_CHECK_INTERNAL_H

#include "hl_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Backstop for the region and large-mapping lists.  A process cannot hold
 * more mappings than vm.max_map_count (65530 by default), and a revisited
 * region already fails the overlap test, so a sound heap never comes near. */
#define HL_CHECK_MAX_LINKS ((size_t)1 << 20)

/* What a failure lies in: the heap header, a region, a large mapping. */
typedef enum hl_where { HL_AT_HEAP, HL_AT_REGION, HL_AT_MAPPING } hl_where;

typedef struct hl_checker {
    const hl_heap *h;
    hl_check_report *rep;        /* never NULL: hl_heap_check supplies one */
    size_t page;                 /* page size, for mapping probes */

    /* what the passes established, for the passes after them */
    size_t nregions;             /* regions the region pass validated */
    size_t region_bytes;         /* the sum of their sizes: bounds list walks */
    size_t free_blocks;          /* free blocks the block walk met ... */
    uint64_t free_print;         /* ... and the sum of hl__check_print of each */
    size_t cached_blocks;        /* cached blocks the block walk met ... */
    uint64_t cached_print;       /* ... and the sum of hl__check_print of each */
    size_t walked;               /* blocks walked so far, regions and large */
    hl_stats seen;               /* the counters, recounted */

    /* where the block being checked lies, copied into a failure report */
    hl_where where_kind;
    const void *where;           /* that heap header, region or mapping */
    uintptr_t safe_lo, safe_hi;  /* bytes there known to be readable */
    const void *prev, *next;     /* the block's neighbours in address order */
    const void *focus;           /* the bytes found wrong; NULL: the block */

    /* the every-op check (hl__check_after): see check.c */
    bool every_op;
    size_t region_pos;           /* bytes of the regions walked before this one */
    size_t window_lo, window_hi; /* the fill window, in those positions; may wrap */
} hl_checker;

/* Bytes of the heap header, list heads included (nlists already validated). */
static inline size_t hl__check_heap_bytes(const hl_heap *h) {
    return offsetof(hl_heap, lists) + h->nlists * sizeof h->lists[0];
}

/* --- the passes: each returns 0 or the id of the violation it reported ------ */
int hl__check_heap_header(hl_checker *c);
int hl__check_regions(hl_checker *c);
int hl__check_blocks(hl_checker *c);
int hl__check_large(hl_checker *c);
int hl__check_large_cache(hl_checker *c);   /* the large cache (check_large.c) */
int hl__check_lists(hl_checker *c);
int hl__check_cache(hl_checker *c);
int hl__check_bitmap(hl_checker *c);
int hl__check_stats(hl_checker *c);

/* Content checks of one block, in checked builds (check_blocks.c); the large
 * pass uses the canary check too. */
int hl__check_canary(hl_checker *c, const hl_block *b);
int hl__check_fill(hl_checker *c, const hl_block *b);

/* --- reporting (check_report.c) ---------------------------------------------- */
/* Fills c->rep with the violation (block may be NULL) and returns id.  The
 * message gets a "block 0x... (region+0x...): " prefix when there is a block. */
int hl__check_fail(hl_checker *c, int id, const void *block, size_t expected, size_t found,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Says where the next failure lies: the heap header, a region or a mapping
 * and its start, the bytes known readable there, no neighbours, no focus yet.
 * A report names a region or mapping (report->region); a failure in the heap
 * header names none. */
void hl__check_at(hl_checker *c, hl_where kind, const void *where, const void *lo, size_t len);

/* The same for a failure in the heap header, whose first `len` bytes are
 * readable.  The cookie is a secret (check words and seals derive from it),
 * so the span starts after it and no report ever shows it. */
void hl__check_at_heap(hl_checker *c, size_t len);

/* --- memory (check_memory.c) -------------------------------------------------- */
/* True if every page of [p, p + len) is mapped.  Asks the kernel (mincore),
 * so an unmapped address is an answer, not a crash. */
bool hl__check_mapped(const hl_checker *c, const void *p, size_t len);
/* True if [p, p + len) can be read: mapped, and its first and last bytes
 * readable (not PROT_NONE).  For headers, before their first read. */
bool hl__check_readable(const hl_checker *c, const void *p, size_t len);
/* The validated region whose block area [first, epilogue) holds all of
 * [p, p + len), or NULL.  Reads only validated region headers. */
const hl_region *hl__check_region_of(const hl_checker *c, const void *p, size_t len);
/* Points the failure context at block-area address p of region r: readable
 * span, and the blocks before and after p (found by walking r, which the
 * block pass has proven sound). */
void hl__check_locate(hl_checker *c, const hl_region *r, const void *p);

/* A 64-bit mix of a block's address.  Summed over a set of blocks it is a
 * fingerprint of the set: the free-list pass compares the one of the listed
 * blocks with the one of the free blocks the walk met. */
static inline uint64_t hl__check_print(const void *block) {
    uint64_t x = (uint64_t)(uintptr_t)block;
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ull;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dull;
    x ^= x >> 33;
    return x;
}

/* [p, p + len) inside [lo, hi), in integers: no pointer arithmetic that could
 * leave an object, no overflow. */
static inline bool hl__check_within(uintptr_t p, size_t len, uintptr_t lo, uintptr_t hi) {
    return p >= lo && p <= hi && len <= hi - p;
}

#endif /* HL_CHECK_INTERNAL_H */
