/*
 * hl_internal.h - heaplab's private types, shared by src/ and invariants/.
 *
 * The map:
 *
 *   hl_heap     one allocator instance.  Owns a list of regions, a list of
 *               large mappings, the free lists, the counters.  Lives at the
 *               start of the caller's buffer (HL_SOURCE_BUFFER) or in a small
 *               mapping of its own (mmap and sbrk sources).
 *   hl_region   a contiguous run of memory from the source.  Starts with a
 *               struct hl_region whose last word is the prologue (a footer
 *               that reads "used", so nothing coalesces backwards out of the
 *               region), then blocks that tile it exactly, then the epilogue
 *               (a header of size 0 that reads "used").
 *   block       [header 16 B][payload ...][footer 8 B], size a multiple of 16.
 *               header = size|flags, a 32-bit check word bound to the block's
 *               address, size and slack, and the slack (usable - requested).
 *               footer = a copy of size|flags.  A free block keeps its
 *               free-list links in the first 16 payload bytes.
 *   hl_large    a block in a mapping of its own: struct hl_large, then a block
 *               header flagged HL_LARGE, the payload, the footer at the end.
 *   free lists  one doubly linked list (first fit, best fit) or a TLSF matrix
 *               of FL x SL lists with a bitmap per level (segregated fit).
 *
 * Checked builds (HL_CHECKED) also fill the free part of every free block with
 * HL_FILL_FREE and the slack of every used block with HL_FILL_CANARY; the
 * checker verifies both.
 */
#ifndef HL_INTERNAL_H
#define HL_INTERNAL_H

#include "heaplab.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#ifndef HL_CHECKED
#define HL_CHECKED 0
#endif

/* --- sizes ------------------------------------------------------------------ */
enum {
    HL_ALIGN = 16,
    HL_HEADER = 16,          /* size_flags, check, slack */
    HL_FOOTER = 8,           /* copy of size_flags */
    HL_OVERHEAD = HL_HEADER + HL_FOOTER,
    HL_LINKS = 16,           /* next_free, prev_free in a free block's payload */
    HL_MIN_BLOCK = 48,       /* header + links + footer, rounded to 16 */
    HL_EPILOGUE = 16,        /* header of size 0 at the end of a region */
};

/* size_flags: the block size (a multiple of 16) with flags in the low bits */
#define HL_USED  ((size_t)1)
#define HL_LARGE ((size_t)2)
#define HL_CACHED ((size_t)4)   /* with HL_USED: held in its thread's cache (src/tcache.c) */
#define HL_FLAGS ((size_t)15)

#define HL_FILL_FREE   0xDDu  /* free bytes of a free block (checked builds) */
#define HL_FILL_CANARY 0xCAu  /* slack bytes of a used block (checked builds) */

/* The every-op check verifies the fill bytes an operation wrote (up to
 * HL_TOUCHED_MAX ranges; more, and it verifies every fill), and the rest of
 * the free fill through a window of HL_SWEEP_WINDOW bytes that moves on by
 * that much after each operation. */
#define HL_TOUCHED_MAX 6
#define HL_SWEEP_WINDOW ((size_t)64 * 1024)

/* Regions never exceed this, so sizes fit the TLSF matrix. */
#define HL_MAX_REGION ((size_t)1 << 40)

/* --- TLSF geometry ------------------------------------------------------------ */
enum {
    HL_SL_LOG2 = 4,
    HL_SL_COUNT = 1 << HL_SL_LOG2,               /* 16 second-level lists */
    HL_FL_SHIFT = HL_SL_LOG2 + 4,                /* log2(HL_ALIGN) = 4 */
    HL_SMALL_BLOCK = 1 << HL_FL_SHIFT,           /* 256: below, classes are 16 B apart */
    HL_FL_COUNT = 40 - HL_FL_SHIFT + 2,          /* block sizes up to HL_MAX_REGION */
    HL_TLSF_LISTS = HL_FL_COUNT * HL_SL_COUNT,
};

/* --- the block ------------------------------------------------------------------ */
typedef struct hl_block {
    size_t size_flags;
    uint32_t check;
    uint32_t slack;                 /* used: usable - requested; free: 0 */
    struct hl_block *next_free;     /* valid only while free */
    struct hl_block *prev_free;
} hl_block;

static inline size_t hl_block_size(const hl_block *b) { return b->size_flags & ~HL_FLAGS; }
static inline bool hl_block_used(const hl_block *b) { return (b->size_flags & HL_USED) != 0; }
static inline bool hl_block_large(const hl_block *b) { return (b->size_flags & HL_LARGE) != 0; }
static inline void *hl_block_payload(const hl_block *b) { return (char *)b + HL_HEADER; }
static inline hl_block *hl_payload_block(const void *p) { return (hl_block *)((char *)p - HL_HEADER); }
static inline size_t hl_block_usable(const hl_block *b) { return hl_block_size(b) - HL_OVERHEAD; }
static inline size_t *hl_block_footer(const hl_block *b) {
    return (size_t *)((char *)b + hl_block_size(b) - HL_FOOTER);
}
static inline hl_block *hl_block_next(const hl_block *b) { return (hl_block *)((char *)b + hl_block_size(b)); }
/* The footer of the block before b: its size, or the prologue's "used". */
static inline size_t hl_block_prev_footer(const hl_block *b) { return *(const size_t *)((const char *)b - HL_FOOTER); }
static inline hl_block *hl_block_prev(const hl_block *b) {
    return (hl_block *)((char *)b - (hl_block_prev_footer(b) & ~HL_FLAGS));
}
/* Free bytes that hold the fill pattern: after the links, before the footer. */
static inline unsigned char *hl_block_fill_start(const hl_block *b) { return (unsigned char *)b + HL_HEADER + HL_LINKS; }
static inline size_t hl_block_fill_len(const hl_block *b) { return hl_block_size(b) - HL_HEADER - HL_LINKS - HL_FOOTER; }

/* The check word binds header to address, size|flags, slack and the heap's
 * cookie: a header copied, shifted, forged from user bytes or overwritten
 * fails it (with probability 1 - 2^-32). */
static inline uint32_t hl_mix_check(const void *block, size_t size_flags, uint32_t slack, uint64_t cookie) {
    uint64_t x = (uint64_t)(uintptr_t)block ^ cookie;
    x ^= (uint64_t)size_flags * 0x9E3779B97F4A7C15ull;
    x ^= (uint64_t)slack << 17;
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return (uint32_t)x;
}
/* The HL_CACHED flag flips the check word by a secret of its own instead of
 * going through the mix, so that the thread cache (src/tcache.c) moves a
 * block in and out of the cache without recomputing it: a cached header
 * still fails the check if its flags, size, slack or word are changed. */
static inline uint32_t hl_cached_key(uint64_t cookie) { return (uint32_t)(cookie >> 32) | 1u; }
static inline uint32_t hl_check_word(const void *block, size_t size_flags, uint32_t slack, uint64_t cookie) {
    uint32_t w = hl_mix_check(block, size_flags & ~HL_CACHED, slack, cookie);
    return size_flags & HL_CACHED ? w ^ hl_cached_key(cookie) : w;
}

/* --- the thread cache of small blocks (src/tcache.c) ----------------------------
 * Global heaps keep freed blocks of up to HL_CACHE_MAX_BLOCK bytes (requests
 * up to 1032) in a list per exact block size, at most hl_cache_depth() each
 * (HL_CACHE_BYTES of blocks, and between 16 and HL_CACHE_DEPTH blocks), for
 * their owner thread alone.  A cached block is a used block to the heap (it tiles, it never
 * coalesces, st counts it in use) whose header reads HL_USED|HL_CACHED, its
 * slack as it was, sealed like any header; its first payload word links the
 * list. */
enum {
    HL_CACHE_MAX_BLOCK = 1056,
    HL_CACHE_CLASSES = HL_CACHE_MAX_BLOCK / HL_ALIGN - HL_MIN_BLOCK / HL_ALIGN + 1,
    HL_CACHE_DEPTH = 128,
    HL_CACHE_BYTES = 16 * 1024,
};
typedef struct hl_cache {
    uint32_t enabled;                       /* only global heaps cache */
    uint32_t count[HL_CACHE_CLASSES];       /* blocks in each list */
    struct hl_block *head[HL_CACHE_CLASSES];/* class i: blocks of (i + 3) * 16 bytes */
    size_t bytes_delta;     /* what the cache did to the requests in use, which st
                               does not know of: the requests of used blocks not
                               cached sum to st.bytes_in_use + bytes_delta */
    size_t mallocs, callocs, frees;  /* operations the cache served (added to st's in hl_heap_stats) */
} hl_cache;
static inline size_t hl_cache_class(size_t block_size) { return block_size / HL_ALIGN - HL_MIN_BLOCK / HL_ALIGN; }
static inline size_t hl_cache_class_size(size_t i) { return (i + HL_MIN_BLOCK / HL_ALIGN) * HL_ALIGN; }
/* About HL_CACHE_BYTES of blocks per list, in steps of powers of two (no
 * division on the fast path). */
static inline uint32_t hl_cache_depth(size_t i) {
    size_t size = hl_cache_class_size(i);
    return size <= 128 ? HL_CACHE_DEPTH : size <= 256 ? 64 : size <= 512 ? 32 : 16;
}

/* --- regions and large mappings ------------------------------------------------ */
typedef struct hl_region {
    uint64_t magic;              /* HL_REGION_MAGIC ^ (uintptr_t)self */
    struct hl_heap *heap;
    struct hl_region *next;      /* the heap's regions, newest first */
    size_t size;                 /* from this header to the end of the epilogue */
    void *base;                  /* what the source returned (for release) */
    size_t base_size;            /* and how much of it */
    uint64_t seal;               /* hl_region_seal(): binds next, size and base to this header */
    size_t prologue;             /* a footer reading "used", size 0 */
} hl_region;
#define HL_REGION_MAGIC 0x6865617072656731ull  /* "heapreg1" */

typedef struct hl_large {
    uint64_t magic;              /* HL_LARGE_MAGIC ^ (uintptr_t)self */
    struct hl_heap *heap;
    struct hl_large *next, *prev;/* the heap's large mappings */
    void *base;                  /* the mapping */
    size_t map_size;
    uint64_t seal;               /* hl_large_seal(): binds the links and the mapping to this header */
    uint64_t pad;
    /* the block header follows; aligned_alloc may leave a gap before this struct */
} hl_large;
#define HL_LARGE_MAGIC 0x686561706c726731ull   /* "heaplrg1" */
/* A freed mapping kept for reuse (src/large_cache.c) carries the same header
 * at its base with this magic, pad holding the large-operation clock at which
 * it was cached, and a free block header (HL_LARGE, not used) after it. */
#define HL_LCACHED_MAGIC 0x686561706c726331ull  /* "heaplrc1" */

/* Seals let a walk trust a link before following it: a header whose links or
 * sizes were overwritten no longer matches its seal. */
static inline uint64_t hl_seal(uint64_t cookie, const void *self, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
    uint64_t x = cookie ^ (uint64_t)(uintptr_t)self;
    const uint64_t w[4] = { a, b, c, d };
    for (int i = 0; i < 4; i++) {
        x ^= w[i] + 0x9E3779B97F4A7C15ull + (x << 6) + (x >> 2);
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 29;
    }
    return x;
}
static inline uint64_t hl_region_seal(uint64_t cookie, const struct hl_region *r) {
    return hl_seal(cookie, r, (uint64_t)(uintptr_t)r->next, r->size, (uint64_t)(uintptr_t)r->base, r->base_size);
}
static inline uint64_t hl_large_seal(uint64_t cookie, const struct hl_large *l) {
    return hl_seal(cookie, l, (uint64_t)(uintptr_t)l->next, (uint64_t)(uintptr_t)l->prev,
                   (uint64_t)(uintptr_t)l->base, l->map_size);
}

static inline uint64_t hl_lcached_seal(uint64_t cookie, const struct hl_large *l) {
    return hl_seal(cookie ^ (l->pad * 0xc4ceb9fe1a85ec53ull), l, (uint64_t)(uintptr_t)l->next,
                   (uint64_t)(uintptr_t)l->prev, (uint64_t)(uintptr_t)l->base, l->map_size);
}

static inline hl_block *hl_region_first(const hl_region *r) { return (hl_block *)((char *)r + sizeof(hl_region)); }
static inline hl_block *hl_region_epilogue(const hl_region *r) { return (hl_block *)((char *)r + r->size - HL_EPILOGUE); }
static inline hl_block *hl_large_block(const hl_large *l) { return (hl_block *)((char *)l + sizeof(hl_large)); }
static inline hl_large *hl_block_large_header(const hl_block *b) { return (hl_large *)((char *)b - sizeof(hl_large)); }

/* --- the heap --------------------------------------------------------------------- */
typedef struct hl_heap {
    uint64_t magic;              /* HL_HEAP_MAGIC ^ (uintptr_t)self */
    uint64_t cookie;             /* secret for check words */
    hl_config cfg;               /* as given, defaults filled in */
    hl_region *regions;
    hl_large *large;
    size_t heap_bytes;           /* bytes of this struct (mapping size for mmap/sbrk heaps) */
    hl_stats st;                 /* counters, kept up to date by every operation;
                                    st.largest_free is not kept: hl__largest_free() */
    unsigned fail_skip, fail_count;  /* hl_heap_fail_source */
    uint64_t recent_large[16];   /* payloads of the last large blocks freed, for double-free reports */
    unsigned recent_large_next;
    /* global heaps (src/global.c): one per thread, regions aligned to HL_SEGMENT */
    struct hl_tlheap *owner;     /* NULL for an explicit heap */
    size_t seg_align;            /* 0, or HL_SEGMENT: regions and mappings aligned and registered */
    uint32_t canary_skip;        /* payload bytes never canaried: a remote free's link lives there */
    uint32_t wide_regions;       /* regions of more than one segment made: region_of's segment shortcut is off */
    struct hl_region *hot;       /* the region the last lookup found (a cache; NULL when regions change) */
    hl_cache cache;              /* the owner thread's small blocks (global heaps) */
    /* the region index (src/region_index.c): the regions sorted by address,
       in a mapping of its own (NULL for a buffer heap's single region) */
    struct hl_region **rindex;
    size_t rindex_count, rindex_cap;   /* entries in use, entries the mapping holds */
    /* the large cache (src/large_cache.c): freed mappings kept for reuse */
    hl_large *lcache;            /* newest first; counted in st.large_cached(_bytes) */
    uint64_t large_clock;        /* large allocations and frees, ever: the cache's clock */
    /* the every-op check's own state (checked builds; invariants/check.c) */
    const unsigned char *touched[HL_TOUCHED_MAX][2]; /* fill bytes [lo, hi) this operation wrote */
    unsigned ntouched;           /* how many; more than HL_TOUCHED_MAX: verify every fill */
    size_t sweep_cursor;         /* where the rolling fill window starts, in region bytes */
    /* segregated fit: a bit per non-empty first level, a bit per non-empty list */
    uint64_t fl_bitmap;
    uint32_t sl_bitmap[HL_FL_COUNT];
    size_t nlists;               /* 1, or HL_TLSF_LISTS */
    hl_block *lists[];           /* heads; first and best fit use lists[0] */
} hl_heap;
#define HL_HEAP_MAGIC 0x6865617068656170ull    /* "heapheap" */

_Static_assert(sizeof(hl_region) % HL_ALIGN == 0, "region header keeps blocks aligned");
_Static_assert(sizeof(hl_large) % HL_ALIGN == 0, "large header keeps payloads aligned");

/* Where a used block's canary starts: after the request, and never in the
 * first canary_skip payload bytes (global heaps link remote frees there). */
static inline size_t hl_canary_start(const struct hl_heap *h, size_t requested) {
    return requested < h->canary_skip ? h->canary_skip : requested;
}

/* The large cache's bounds (src/large_cache.c); the checker holds it to them. */
#define HL_LCACHE_MAX_COUNT 16
#define HL_LCACHE_AGE 64          /* large operations a cached mapping may wait unused */

/* Global heaps take memory in segments of this size and alignment, so the
 * owner of any pointer is found from its segment in O(1) (src/registry.c). */
#define HL_SEGMENT_SHIFT 22
#define HL_SEGMENT ((size_t)1 << HL_SEGMENT_SHIFT)

/* --- free lists (src/freelist.c): the one place that knows list layout -------- */
/* Index of the list a free block of this size belongs in. */
size_t hl__list_index(const hl_heap *h, size_t block_size);
/* TLSF mapping of a size to (fl, sl); exposed for the checker and tests. */
void hl__tlsf_mapping(size_t size, unsigned *fl, unsigned *sl);
void hl__list_insert(hl_heap *h, hl_block *b);
void hl__list_remove(hl_heap *h, hl_block *b);
/* The policy's choice of a free block of at least `size` bytes, or NULL. */
hl_block *hl__policy_find(hl_heap *h, size_t size);
/* Usable bytes of the largest listed free block (0 if none); what
 * hl_heap_stats reports as largest_free. */
size_t hl__largest_free(const hl_heap *h);

/* --- sources (src/source.c) --------------------------------------------------- */
void *hl__source_acquire(hl_heap *h, size_t size, size_t *got);  /* NULL: refused */
void hl__source_release(hl_heap *h, void *base, size_t size);
void *hl__map(size_t size);          /* anonymous mapping, or NULL */
void hl__unmap(void *base, size_t size);

/* --- errors and tracing (src/error.c, src/trace.c) ----------------------------- */
void hl__report(const hl_heap *h, hl_error_kind kind, const char *op, const void *ptr,
                const hl_check_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
extern FILE *hl__trace_out;
void hl__trace(const hl_heap *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define HL_TRACE(h, ...) do { if (hl__trace_out) hl__trace((h), __VA_ARGS__); } while (0)

/* --- checker entry for every-op checks (invariants/) -------------------------- */
/* The full check, sending a violation to the error handler under `op`. */
void hl__check_after(const hl_heap *h, const char *op);
/* Bounds the checker uses before following any pointer. */
bool hl__addr_in_regions(const hl_heap *h, const void *p, size_t len);

#endif /* HL_INTERNAL_H */
