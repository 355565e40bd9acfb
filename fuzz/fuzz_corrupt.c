/*
 * fuzz_corrupt.c - the checker's own robustness (issue 5).
 *
 * Property: whatever bytes of a heap's METADATA are overwritten, hl_heap_check
 * either reports a violation or the heap is still sound; and the checker never
 * crashes, reads out of bounds or loops (ASan, UBSan and libFuzzer's -timeout
 * watch that).  "Still sound" is decided without the checker, by a semantic
 * validation against the shadow model of fuzz/oracle.h:
 *   1. hl_heap_walk completes and agrees with the model: every live block once,
 *      used, at its payload, with its requested size, in a region or a mapping
 *      of its own as before; no used block the model does not know; the
 *      regions and mappings the heap had before;
 *   2. hl_heap_stats agrees with the walk and the model;
 *   3. the heap still works: mallocs that must not fail (nor grow the heap)
 *      while a free block could serve them, a free of the live block next to
 *      the corruption, frees of the new blocks; no error reported, and
 *      hl_heap_check passing after each;
 *   4. every live block still holds its pattern, and 1 and 2 hold again.
 * A corruption the checker passed but the validation rejected is a MISSED
 * corruption: the target prints which byte it wrote, where (structure and
 * field), the checker's verdict and what the validation saw, and aborts.
 *
 * The input (every byte string is valid):
 *   byte 0        rounds = 1 + b % 8
 *   6 per round   a corruption record: kind, index (u16 le), offset, how, value
 *   the rest      a fuzz_heap input (fuzz/README.md) that builds the heap,
 *                 at most FC_BUILD_OPS operations, under the oracle's rules
 * Each round maps the heap (hl_heap_walk), picks a target from the record
 * (a block header or footer, free-list links, a region header, the prologue
 * or epilogue, a large mapping's header, the heap header's list heads,
 * bitmaps, counters and other fields, or an arbitrary byte of a region or
 * mapping that is not a live block's payload), rewrites it, and runs the
 * checker.  A reported corruption is undone byte for byte (the heap is then
 * exactly as before and must pass again); a harmless one stays, and the next
 * round corrupts the heap as it now is.  fuzz/README.md (section fuzz_corrupt) has the
 * record format in full and the measured detection rate.
 *
 * The metadata is poisoned for ASan (HL_ASAN_POISON) and this file is
 * instrumented, so every read or write of heap metadata here goes through
 * peek/poke, which are excluded from ASan and leave the poison as the
 * allocator keeps it.
 *
 * Environment: FUZZ_CORRUPT_KEEP_GOING=1 counts a missed corruption and goes
 * on instead of aborting (to measure a rate below 100%);
 * FUZZ_CORRUPT_EXERCISE=1 also drives the allocator after a corruption the
 * checker reported (errors are recorded; the allocator must not crash);
 * FUZZ_CORRUPT_VERBOSE=1 prints every round.
 */
#define _DEFAULT_SOURCE  /* munmap */
#include "adapter.h"
#include "heapwalk.h"
#include "oracle.h"
#include "ops.h"
#include "pattern.h"

#include "hl_internal.h"   /* the heap's layout (src/): what there is to corrupt */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FC_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FC_ASAN 1
#endif
#ifdef FC_ASAN
#include <sanitizer/asan_interface.h>
#define FC_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define FC_UNPOISON(p, n) ((void)(p), (void)(n))
#endif
#define FC_NO_ASAN __attribute__((no_sanitize("address")))
/* Memcheck sees region memory as NOACCESS (src/hl_track.h): our deliberate
 * metadata accesses run with its reports off, as the allocator's do. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define FC_QUIET_BEGIN VALGRIND_DISABLE_ERROR_REPORTING
#define FC_QUIET_END VALGRIND_ENABLE_ERROR_REPORTING
#endif
#endif
#ifndef FC_QUIET_BEGIN
#define FC_QUIET_BEGIN ((void)0)
#define FC_QUIET_END ((void)0)
#endif

/* The sanitizer runtime calls the death callback before it dies (an ASan or
 * UBSan report, a SEGV), so a crash of the standalone replay names the
 * corruption.  It holds one callback: ours is set from a constructor, so that
 * libFuzzer, which sets its own later (in main), replaces it and still saves
 * the crashing input; replay that input with fuzz_corrupt_replay to see the
 * corruption.  Weak: absent without a sanitizer. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    FC_MAX_ROUNDS = 8,
    FC_RECORD = 6,           /* bytes per corruption record */
    FC_BUILD_OPS = 64,       /* operations that build the heap, at most */
    FC_MAP_REGIONS = 64,
    FC_MAP_BLOCKS = 4096,    /* region blocks and large blocks the map keeps */
    FC_MAP_LARGE = 64,
    FC_WRITES = 8,           /* bytes one record rewrites, at most (a word) */
    FC_NEW = 3,              /* blocks the validation allocates */
    FC_TEXT = 512,
};

/* --- the corruption records ------------------------------------------------- */
typedef enum fc_kind {
    K_HEADER,       /* a block header: size_flags, check, slack (region or large block) */
    K_FOOTER,       /* a block footer */
    K_LINKS,        /* a free block's next_free, prev_free */
    K_REGION,       /* a region header: magic, heap, next, size, base, base_size, seal, prologue */
    K_EDGE,         /* a region's epilogue (or, offset >= 0x80, its prologue) */
    K_LARGE,        /* a large mapping's header: magic, heap, next, prev, base, map_size, seal, pad */
    K_LISTS,        /* a free-list head in the heap header */
    K_BITMAP,       /* fl_bitmap, sl_bitmap[] */
    K_COUNTERS,     /* the counters the checker recounts */
    K_HEAP,         /* magic, cookie, cfg.policy, regions, large, nlists, hot */
    K_RAW_REGION,   /* any byte of a region but a live block's payload */
    K_RAW_LARGE,    /* any byte of a large mapping but its payload */
    K_COUNT
} fc_kind;

static const char *const kind_names[K_COUNT] = {
    "header", "footer", "links", "region", "edge", "large", "lists", "bitmap",
    "counters", "heap", "raw-region", "raw-large",
};

typedef enum fc_how {
    H_XOR,          /* the byte ^= value (1 if value is 0) */
    H_SET,          /* the byte = value */
    H_FLIP,         /* bit value % width of the field flips */
    H_ADD16,        /* the field += (int8_t)value * 16 (16 if value is 0) */
    H_ADD,          /* the field += (int8_t)value (1 if value is 0) */
    H_PTR,          /* the field = a value from the heap: see interesting() */
    H_COUNT
} fc_how;

static const char *const how_names[H_COUNT] = { "xor", "set", "flip", "add16", "add", "ptr" };

typedef struct fc_record {
    fc_kind kind;
    unsigned index;          /* which instance */
    unsigned offset;         /* which byte (and so which field) */
    fc_how how;
    uint8_t value;
} fc_record;

/* --- metadata access: never through ASan's checks ----------------------------- */
/* volatile keeps the compiler from turning the loops into memcpy, which ASan
 * intercepts and checks against the poison. */
FC_NO_ASAN static void peek(void *dst, const void *src, size_t n)
{
    const volatile unsigned char *s = src;
    unsigned char *d = dst;
    FC_QUIET_BEGIN;
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
    FC_QUIET_END;
}

FC_NO_ASAN static void poke(void *dst, const void *src, size_t n)
{
    volatile unsigned char *d = dst;
    const unsigned char *s = src;
    FC_QUIET_BEGIN;
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
    FC_QUIET_END;
}

static uint64_t read_field(const void *at, unsigned width)
{
    uint64_t v = 0;
    peek(&v, at, width);   /* little endian: the low bytes */
    return v;
}

static uint64_t read_word(const void *at) { return read_field(at, 8); }

/* The first byte of [p, p + n) that differs from the pattern, or SIZE_MAX.
 * Read past ASan: a broken allocator may have poisoned a live block. */
FC_NO_ASAN static size_t pattern_mismatch(const unsigned char *p, size_t n, uint64_t seed)
{
    const volatile unsigned char *v = p;
    for (size_t i = 0; i < n; i++)
        if (v[i] != fz_pattern_byte(seed, i))
            return i;
    return SIZE_MAX;
}

/* --- the map of the heap a round corrupts ------------------------------------- */
typedef struct mblock {
    unsigned char *b;        /* header */
    size_t size;             /* header to footer */
    size_t requested;        /* used blocks: the request */
    bool used, large;
    unsigned region;         /* region blocks: index in map.regions */
} mblock;

typedef struct mregion {
    unsigned char *r;
    size_t size;
    void *base;              /* what the source gave: for an abandoned heap */
    size_t base_size;
} mregion;

typedef struct mlarge {
    unsigned char *base;     /* the mapping */
    size_t size;
    size_t block;            /* index in map.blocks, or SIZE_MAX if the map was full */
} mlarge;

typedef struct heap_map {
    hl_heap *h;
    size_t heap_bytes;       /* the heap header's mapping (mmap and sbrk heaps) */
    size_t nlists;
    size_t nregions, nblocks, nlarge, nfree;
    bool full;               /* the heap had more than the map holds */
    hl_stats st;             /* hl_heap_stats when mapped */
    mregion regions[FC_MAP_REGIONS];
    mblock blocks[FC_MAP_BLOCKS];
    mlarge large[FC_MAP_LARGE];
} heap_map;

static int map_one(const hl_walk_info *w, void *ctx)
{
    heap_map *m = ctx;
    if (w->kind == HL_WALK_REGION) {
        if (m->nregions == FC_MAP_REGIONS) {
            m->full = true;
            return 0;
        }
        const hl_region *r = w->start;
        m->regions[m->nregions++] = (mregion){
            (unsigned char *)w->start, w->size,
            (void *)(uintptr_t)read_word(&r->base), read_word(&r->base_size),
        };
        return 0;
    }
    if (w->kind == HL_WALK_LARGE && m->nlarge == FC_MAP_LARGE) {
        m->full = true;
        return 0;
    }
    size_t index = SIZE_MAX;
    if (m->nblocks < FC_MAP_BLOCKS) {
        index = m->nblocks++;
        bool large = w->kind == HL_WALK_LARGE;
        m->blocks[index] = (mblock){
            (unsigned char *)w->payload - HL_HEADER, w->usable + HL_OVERHEAD, w->requested,
            w->used != 0, large, large ? 0 : (unsigned)(m->nregions - 1),
        };
        if (!w->used)
            m->nfree++;
    } else {
        m->full = true;
    }
    if (w->kind == HL_WALK_LARGE)
        m->large[m->nlarge++] = (mlarge){ (unsigned char *)w->start, w->size, index };
    return 0;
}

/* Maps a heap that passed hl_heap_check; false if the walk refuses it. */
static bool map_heap(hl_heap *h, heap_map *m)
{
    m->h = h;
    m->heap_bytes = read_word(&h->heap_bytes);
    m->nlists = read_word(&h->nlists);
    m->nregions = m->nblocks = m->nlarge = m->nfree = 0;
    m->full = false;
    hl_heap_stats(h, &m->st);
    return hl_heap_walk(h, map_one, m) == 0;
}

static const mblock *block_at(const heap_map *m, const void *p)
{
    uintptr_t a = (uintptr_t)p;
    for (size_t i = 0; i < m->nblocks; i++)
        if (a >= (uintptr_t)m->blocks[i].b && a - (uintptr_t)m->blocks[i].b < m->blocks[i].size)
            return &m->blocks[i];
    return NULL;
}

/* --- naming a byte: which structure, which field ----------------------------------- */
typedef struct named { const char *name; size_t offset, width; } named;

#define FIELD(type, f) { #f, offsetof(type, f), sizeof(((type *)0)->f) }
static const named region_fields[] = {
    FIELD(hl_region, magic), FIELD(hl_region, heap), FIELD(hl_region, next), FIELD(hl_region, size),
    FIELD(hl_region, base), FIELD(hl_region, base_size), FIELD(hl_region, seal), FIELD(hl_region, prologue),
};
static const named large_fields[] = {
    FIELD(hl_large, magic), FIELD(hl_large, heap), FIELD(hl_large, next), FIELD(hl_large, prev),
    FIELD(hl_large, base), FIELD(hl_large, map_size), FIELD(hl_large, seal), FIELD(hl_large, pad),
};
static const named header_fields[] = {
    FIELD(hl_block, size_flags), FIELD(hl_block, check), FIELD(hl_block, slack),
};
static const named link_fields[] = { FIELD(hl_block, next_free), FIELD(hl_block, prev_free) };
#define STAT(f) { "st." #f, offsetof(hl_heap, st) + offsetof(hl_stats, f), sizeof(size_t) }
/* The counters hl_heap_check recounts (check_stats.c), the corruption targets. */
static const named counter_fields[] = {
    STAT(blocks_in_use), STAT(bytes_in_use), STAT(blocks_free), STAT(bytes_free), STAT(regions),
    STAT(region_bytes), STAT(large_blocks), STAT(large_bytes), STAT(source_bytes),
};
/* Heap-header fields that say what the heap is.  Left out as targets:
 * cfg.source, cfg.buffer, buffer_size and heap_bytes only matter to destroy
 * (which the checker cannot protect), cfg's sizes and fail_* are settings,
 * recent_large a diagnostic; describe() names them all the same. */
static const named heap_fields[] = {
    FIELD(hl_heap, magic), FIELD(hl_heap, cookie),
    { "cfg.policy", offsetof(hl_heap, cfg) + offsetof(hl_config, policy), sizeof(hl_policy) },
    FIELD(hl_heap, regions), FIELD(hl_heap, large), FIELD(hl_heap, nlists), FIELD(hl_heap, hot),
};
static const named other_heap_fields[] = {
    { "cfg.source", offsetof(hl_heap, cfg) + offsetof(hl_config, source), sizeof(hl_source) },
    { "cfg.buffer", offsetof(hl_heap, cfg) + offsetof(hl_config, buffer), sizeof(void *) },
    { "cfg.buffer_size", offsetof(hl_heap, cfg) + offsetof(hl_config, buffer_size), sizeof(size_t) },
    { "cfg.grow_size", offsetof(hl_heap, cfg) + offsetof(hl_config, grow_size), sizeof(size_t) },
    { "cfg.max_bytes", offsetof(hl_heap, cfg) + offsetof(hl_config, max_bytes), sizeof(size_t) },
    { "cfg.mmap_threshold", offsetof(hl_heap, cfg) + offsetof(hl_config, mmap_threshold), sizeof(size_t) },
    FIELD(hl_heap, heap_bytes), FIELD(hl_heap, fl_bitmap),
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const named *field_of(const named *t, size_t n, size_t off)
{
    for (size_t i = 0; i < n; i++)
        if (off >= t[i].offset && off < t[i].offset + t[i].width)
            return &t[i];
    return NULL;
}

static void say_field(char *buf, size_t len, const char *what, const named *f, size_t off)
{
    if (f)
        snprintf(buf, len, "%s: %s byte %zu", what, f->name, off - f->offset);
    else
        snprintf(buf, len, "%s: byte %zu", what, off);
}

static bool describe_heap(const heap_map *m, uintptr_t a, char *buf, size_t len)
{
    uintptr_t h = (uintptr_t)m->h;
    size_t lists = offsetof(hl_heap, lists), sl = offsetof(hl_heap, sl_bitmap);
    if (a < h || a - h >= lists + m->nlists * sizeof(hl_block *))
        return false;
    size_t off = a - h;
    const named *f = field_of(heap_fields, COUNT(heap_fields), off);
    if (!f) f = field_of(counter_fields, COUNT(counter_fields), off);
    if (!f) f = field_of(other_heap_fields, COUNT(other_heap_fields), off);
    if (f)
        say_field(buf, len, "heap header", f, off);
    else if (off >= lists)
        snprintf(buf, len, "heap header: lists[%zu] byte %zu", (off - lists) / 8, (off - lists) % 8);
    else if (off >= sl && off < sl + sizeof(uint32_t) * HL_FL_COUNT)
        snprintf(buf, len, "heap header: sl_bitmap[%zu] byte %zu", (off - sl) / 4, (off - sl) % 4);
    else
        snprintf(buf, len, "heap header: +%#zx (another field)", off);
    return true;
}

/* What byte `off` of block b is: header field, links, fill, payload, slack, footer. */
static void describe_in_block(const mblock *b, size_t off, char *buf, size_t len)
{
    char what[48];
    snprintf(what, sizeof what, "%s block %p (%s, %zu B)", b->large ? "large" : "region", (void *)b->b,
             b->used ? "used" : "free", b->size);
    if (off < HL_HEADER)
        say_field(buf, len, what, field_of(header_fields, COUNT(header_fields), off), off);
    else if (off >= b->size - HL_FOOTER)
        snprintf(buf, len, "%s: footer byte %zu", what, off - (b->size - HL_FOOTER));
    else if (!b->used && off < HL_HEADER + HL_LINKS)
        say_field(buf, len, what, field_of(link_fields, COUNT(link_fields), off), off);
    else if (!b->used)
        snprintf(buf, len, "%s: free fill byte %zu", what, off - HL_HEADER - HL_LINKS);
    else if (off - HL_HEADER < b->requested)
        snprintf(buf, len, "%s: payload byte %zu (live data!)", what, off - HL_HEADER);
    else
        snprintf(buf, len, "%s: slack (canary) byte %zu", what, off - HL_HEADER - b->requested);
}

static bool describe_region(const heap_map *m, uintptr_t a, char *buf, size_t len)
{
    for (size_t i = 0; i < m->nregions; i++) {
        const mregion *r = &m->regions[i];
        uintptr_t lo = (uintptr_t)r->r, epi = lo + r->size - HL_EPILOGUE;
        if (a < lo || a >= lo + r->size)
            continue;
        char what[48];
        snprintf(what, sizeof what, "region %p", (void *)r->r);
        if (a - lo < sizeof(hl_region))
            say_field(buf, len, what, field_of(region_fields, COUNT(region_fields), a - lo), a - lo);
        else if (a >= epi)
            say_field(buf, len, "epilogue", field_of(header_fields, COUNT(header_fields), a - epi), a - epi);
        else if (block_at(m, (void *)a))
            describe_in_block(block_at(m, (void *)a), a - (uintptr_t)block_at(m, (void *)a)->b, buf, len);
        else
            snprintf(buf, len, "region %p: +%#zx (a block the map does not hold)", (void *)r->r, (size_t)(a - lo));
        return true;
    }
    return false;
}

static bool describe_large(const heap_map *m, uintptr_t a, char *buf, size_t len)
{
    for (size_t i = 0; i < m->nlarge; i++) {
        const mlarge *l = &m->large[i];
        if (a < (uintptr_t)l->base || a - (uintptr_t)l->base >= l->size)
            continue;
        const mblock *b = l->block == SIZE_MAX ? NULL : &m->blocks[l->block];
        uintptr_t hdr = b ? (uintptr_t)b->b - sizeof(hl_large) : 0;
        char what[48];
        snprintf(what, sizeof what, "large mapping %p", (void *)hdr);
        if (b && a >= (uintptr_t)b->b)
            describe_in_block(b, a - (uintptr_t)b->b, buf, len);
        else if (b && a >= hdr)
            say_field(buf, len, what, field_of(large_fields, COUNT(large_fields), a - hdr), a - hdr);
        else
            snprintf(buf, len, "large mapping %p: gap byte %zu", (void *)l->base, (size_t)(a - (uintptr_t)l->base));
        return true;
    }
    return false;
}

static void describe(const heap_map *m, const void *p, char *buf, size_t len)
{
    uintptr_t a = (uintptr_t)p;
    if (!describe_heap(m, a, buf, len) && !describe_region(m, a, buf, len) && !describe_large(m, a, buf, len))
        snprintf(buf, len, "%p (outside the heap?)", p);
}

/* --- choosing the target ----------------------------------------------------------- */
typedef struct site {
    fc_kind kind;            /* what was chosen (after fallbacks) */
    unsigned char *self;     /* the structure the field belongs to */
    unsigned char *at;       /* the field */
    unsigned width;          /* 1, 4 or 8 */
    unsigned byte;           /* the byte of the field byte-wise rewrites touch */
    bool bytes_only;         /* arbitrary bytes: never rewritten as a word */
} site;

static void set_field(site *s, unsigned char *self, const named *f, unsigned off)
{
    s->self = self;
    s->at = self + f->offset;
    s->width = (unsigned)f->width;
    s->byte = (unsigned)(off - f->offset) % s->width;
}

static bool pick_header(const heap_map *m, const fc_record *r, site *s)
{
    if (!m->nblocks)
        return false;
    const mblock *b = &m->blocks[r->index % m->nblocks];
    set_field(s, b->b, field_of(header_fields, COUNT(header_fields), r->offset % HL_HEADER), r->offset % HL_HEADER);
    return true;
}

static bool pick_footer(const heap_map *m, const fc_record *r, site *s)
{
    if (!m->nblocks)
        return false;
    const mblock *b = &m->blocks[r->index % m->nblocks];
    static const named footer = { "footer", 0, HL_FOOTER };
    set_field(s, b->b + b->size - HL_FOOTER, &footer, r->offset % HL_FOOTER);
    s->self = b->b;
    return true;
}

static bool pick_links(const heap_map *m, const fc_record *r, site *s)
{
    if (!m->nfree)
        return false;
    size_t k = r->index % m->nfree;
    for (size_t i = 0; i < m->nblocks; i++) {
        const mblock *b = &m->blocks[i];
        if (!b->used && k-- == 0) {
            unsigned off = HL_HEADER + r->offset % HL_LINKS;
            set_field(s, b->b, field_of(link_fields, COUNT(link_fields), off), off);
            return true;
        }
    }
    return false;
}

static bool pick_region(const heap_map *m, const fc_record *r, site *s)
{
    if (!m->nregions)
        return false;
    unsigned char *reg = m->regions[r->index % m->nregions].r;
    unsigned off = r->offset % sizeof(hl_region);
    set_field(s, reg, field_of(region_fields, COUNT(region_fields), off), off);
    return true;
}

static bool pick_edge(const heap_map *m, const fc_record *r, site *s)
{
    if (!m->nregions)
        return false;
    const mregion *reg = &m->regions[r->index % m->nregions];
    if (r->offset & 0x80) {
        unsigned off = offsetof(hl_region, prologue) + r->offset % 8;
        set_field(s, reg->r, field_of(region_fields, COUNT(region_fields), off), off);
        return true;
    }
    unsigned off = r->offset % HL_EPILOGUE;
    set_field(s, reg->r + reg->size - HL_EPILOGUE, field_of(header_fields, COUNT(header_fields), off), off);
    return true;
}

static bool pick_large(const heap_map *m, const fc_record *r, site *s)
{
    if (!m->nlarge || m->large[r->index % m->nlarge].block == SIZE_MAX)
        return false;
    unsigned char *l = m->blocks[m->large[r->index % m->nlarge].block].b - sizeof(hl_large);
    unsigned off = r->offset % sizeof(hl_large);
    set_field(s, l, field_of(large_fields, COUNT(large_fields), off), off);
    return true;
}

/* Even indexes pick among the lists that hold blocks, odd ones any list. */
static bool pick_lists(const heap_map *m, const fc_record *r, site *s)
{
    hl_block **heads = m->h->lists;
    size_t n = m->nlists, nonempty = 0, pick = n;
    for (size_t i = 0; i < n; i++)
        nonempty += read_word(&heads[i]) != 0;
    if (r->index % 2 == 0 && nonempty) {
        size_t k = (r->index / 2) % nonempty;
        for (pick = 0; pick < n; pick++)
            if (read_word(&heads[pick]) && k-- == 0)
                break;
    } else {
        pick = (r->index / 2) % n;
    }
    named f = { "lists[]", 0, sizeof(hl_block *) };
    set_field(s, (unsigned char *)&heads[pick], &f, r->offset % 8);
    s->self = (unsigned char *)m->h;
    return true;
}

static bool pick_bitmap(const heap_map *m, const fc_record *r, site *s)
{
    unsigned f = r->index % (1 + HL_FL_COUNT);
    unsigned char *h = (unsigned char *)m->h;
    named fl = { "fl_bitmap", offsetof(hl_heap, fl_bitmap), sizeof(uint64_t) };
    named sl = { "sl_bitmap[]", offsetof(hl_heap, sl_bitmap) + (f - 1) * sizeof(uint32_t), sizeof(uint32_t) };
    const named *which = f == 0 ? &fl : &sl;
    set_field(s, h, which, (unsigned)which->offset + r->offset % which->width);
    return true;
}

static bool pick_counter(const heap_map *m, const fc_record *r, site *s)
{
    const named *f = &counter_fields[r->index % COUNT(counter_fields)];
    set_field(s, (unsigned char *)m->h, f, (unsigned)f->offset + r->offset % 8);
    return true;
}

static bool pick_heap(const heap_map *m, const fc_record *r, site *s)
{
    const named *f = &heap_fields[r->index % COUNT(heap_fields)];
    set_field(s, (unsigned char *)m->h, f, (unsigned)f->offset + r->offset % f->width);
    return true;
}

/* Live bytes are the user's, not metadata: a pick that lands in one moves to
 * the slack and footer after it. */
static unsigned char *off_live(const fz_oracle *o, unsigned char *a, unsigned salt)
{
    for (unsigned i = 0; i < FZ_SLOTS; i++) {
        const fz_slot *sl = &o->slots[i];
        if (!sl->p || a < sl->p || a >= sl->p + sl->usable)
            continue;
        size_t tail = sl->extent + HL_FOOTER - sl->usable;   /* slack (if any) and footer */
        if (sl->extent < sl->usable)
            tail = HL_FOOTER;
        return sl->p + sl->usable + salt % tail;
    }
    return a;
}

static void set_raw(site *s, unsigned char *at)
{
    s->self = s->at = at;
    s->width = 1;
    s->byte = 0;
    s->bytes_only = true;
}

static bool pick_raw_region(const heap_map *m, const fz_oracle *o, const fc_record *r, site *s)
{
    size_t total = 0;
    for (size_t i = 0; i < m->nregions; i++)
        total += m->regions[i].size;
    if (!total)
        return false;
    size_t at = ((size_t)r->index << 8 | r->offset) % total;   /* 24 bits: any byte of 16 MiB */
    for (size_t i = 0; i < m->nregions; at -= m->regions[i++].size) {
        if (at < m->regions[i].size) {
            set_raw(s, off_live(o, m->regions[i].r + at, r->value));
            return true;
        }
    }
    return false;
}

/* Offsets below 0xc0: the header end of the mapping (hl_large, the block
 * header, the first payload bytes, which move to the slack); else anywhere. */
static bool pick_raw_large(const heap_map *m, const fz_oracle *o, const fc_record *r, site *s)
{
    if (!m->nlarge)
        return false;
    const mlarge *l = &m->large[r->index % m->nlarge];
    unsigned char *at = l->base + (size_t)r->value * 4099 % l->size;
    if (r->offset < 0xc0 && l->block != SIZE_MAX) {
        const mblock *b = &m->blocks[l->block];
        at = b->b - sizeof(hl_large) + r->offset % (sizeof(hl_large) + HL_HEADER + 80);
        if (at >= b->b + b->size)
            at = b->b + b->size - 1;
    }
    set_raw(s, off_live(o, at, r->value));
    return true;
}

static bool pick_kind(const heap_map *m, const fz_oracle *o, fc_kind k, const fc_record *r, site *s)
{
    memset(s, 0, sizeof *s);
    s->kind = k;
    switch (k) {
    case K_HEADER: return pick_header(m, r, s);
    case K_FOOTER: return pick_footer(m, r, s);
    case K_LINKS: return pick_links(m, r, s);
    case K_REGION: return pick_region(m, r, s);
    case K_EDGE: return pick_edge(m, r, s);
    case K_LARGE: return pick_large(m, r, s);
    case K_LISTS: return pick_lists(m, r, s);
    case K_BITMAP: return pick_bitmap(m, r, s);
    case K_COUNTERS: return pick_counter(m, r, s);
    case K_HEAP: return pick_heap(m, r, s);
    case K_RAW_REGION: return pick_raw_region(m, o, r, s);
    case K_RAW_LARGE: return pick_raw_large(m, o, r, s);
    case K_COUNT: break;
    }
    return false;
}

/* The record's kind, or the nearest kind the heap has an instance of. */
static void pick(const heap_map *m, const fz_oracle *o, const fc_record *r, site *s)
{
    static const fc_kind fallback[K_COUNT] = {
        [K_HEADER] = K_HEAP, [K_FOOTER] = K_HEADER, [K_LINKS] = K_HEADER, [K_REGION] = K_HEAP,
        [K_EDGE] = K_REGION, [K_LARGE] = K_REGION, [K_LISTS] = K_HEAP, [K_BITMAP] = K_HEAP,
        [K_COUNTERS] = K_HEAP, [K_HEAP] = K_HEAP, [K_RAW_REGION] = K_RAW_LARGE, [K_RAW_LARGE] = K_HEADER,
    };
    fc_kind k = r->kind;
    for (unsigned tries = 0; tries < 4 && !pick_kind(m, o, k, r, s); tries++)
        k = fallback[k];
    if (s->at == NULL)
        pick_kind(m, o, K_HEAP, r, s);
}

/* --- rewriting it -------------------------------------------------------------------- */
typedef struct fc_write {
    unsigned char *at;
    unsigned char was, now;
} fc_write;

typedef struct corruption {
    fc_record rec;
    site s;
    fc_write w[FC_WRITES];
    unsigned n;              /* bytes that changed */
    char text[FC_TEXT];      /* what was written where */
} corruption;

/* H_PTR's values: addresses a bug could plausibly leave in a field. */
static uint64_t interesting(const heap_map *m, const site *s, uint8_t v)
{
    size_t k = v / 8;
    switch (v % 8) {
    case 1: return m->nblocks ? (uintptr_t)m->blocks[k % m->nblocks].b : 0;
    case 2: return m->nblocks ? (uintptr_t)m->blocks[k % m->nblocks].b + HL_HEADER : 0;
    case 3: return (uintptr_t)s->self;
    case 4:
        for (size_t i = 0; i < m->nblocks; i++)
            if (!m->blocks[(i + k) % m->nblocks].used)
                return (uintptr_t)m->blocks[(i + k) % m->nblocks].b;
        return 0;
    case 5: return m->nregions ? (uintptr_t)m->regions[k % m->nregions].r : 0;
    case 6: return (uintptr_t)m->h;
    case 7: return m->nregions ? (uintptr_t)m->regions[k % m->nregions].r + m->regions[k % m->nregions].size - HL_EPILOGUE : 0;
    }
    return 0;
}

static uint64_t rewrite(const heap_map *m, const site *s, const fc_record *r, uint64_t old)
{
    unsigned shift = 8 * s->byte;
    uint8_t v = r->value;
    fc_how how = r->how;
    if (s->bytes_only && (how == H_ADD16 || how == H_ADD || how == H_PTR))
        how = how == H_PTR ? H_SET : H_XOR;
    switch (how) {
    case H_XOR: return old ^ ((uint64_t)(v ? v : 1) << shift);
    case H_SET: return (old & ~((uint64_t)0xff << shift)) | (uint64_t)v << shift;
    case H_FLIP: return old ^ ((uint64_t)1 << (v % (8 * s->width)));
    case H_ADD16: return old + (uint64_t)(int64_t)(v ? (int8_t)v : 1) * 16;
    case H_ADD: return old + (uint64_t)(int64_t)(v ? (int8_t)v : 1);
    case H_PTR: return interesting(m, s, v);
    case H_COUNT: break;
    }
    return old;
}

static uint64_t truncate_to(uint64_t v, unsigned width)
{
    return width >= 8 ? v : v & (((uint64_t)1 << 8 * width) - 1);
}

static void apply(const heap_map *m, corruption *c)
{
    const site *s = &c->s;
    uint64_t old = read_field(s->at, s->width), now = truncate_to(rewrite(m, s, &c->rec, old), s->width);
    c->n = 0;
    for (unsigned i = 0; i < s->width; i++) {
        unsigned char was = (unsigned char)(old >> 8 * i), to = (unsigned char)(now >> 8 * i);
        if (was == to)
            continue;
        c->w[c->n++] = (fc_write){ s->at + i, was, to };
        poke(s->at + i, &to, 1);
    }
    char where[160];
    describe(m, s->at + s->byte, where, sizeof where);
    int len = snprintf(c->text, sizeof c->text, "%s %s %#x at %p (%s): ", kind_names[s->kind],
                       how_names[c->rec.how], c->rec.value, (void *)s->at, where);
    if (c->n == 0 && len > 0 && (size_t)len < sizeof c->text)
        snprintf(c->text + len, sizeof c->text - (size_t)len, "no byte changed (%#llx)", (unsigned long long)old);
    else if (len > 0 && (size_t)len < sizeof c->text)
        snprintf(c->text + len, sizeof c->text - (size_t)len, "%u byte(s) of the %u-byte field: %#llx -> %#llx",
                 c->n, s->width, (unsigned long long)old, (unsigned long long)now);
}

static void undo(const corruption *c)
{
    for (unsigned i = c->n; i-- > 0;)
        poke(c->w[i].at, &c->w[i].was, 1);
}

/* --- errors the heap reports ---------------------------------------------------------- */
typedef struct recorder {
    unsigned count;
    char first[400];         /* the first report: kind, operation, message */
} recorder;

static void record_error(const hl_error *e, void *ctx)
{
    recorder *r = ctx;
    if (r->count++ == 0)
        snprintf(r->first, sizeof r->first, "%s reported %s: %s", e->operation ? e->operation : "?",
                 hl_error_kind_name(e->kind), e->message ? e->message : "");
}

/* --- the tally -------------------------------------------------------------------------- */
typedef struct tally { size_t rounds, unchanged, reported, harmless, missed; } tally;

static struct {
    size_t inputs;
    tally all, kind[K_COUNT];
    size_t verdicts[HL_INV_COUNT];
    size_t exercised, exercise_errors;
    bool keep_going, exercise, verbose;
    const char *artifacts;   /* keep-going mode: where the first input of each kind of miss goes */
    struct { char sig[96]; size_t hits; } misses[64];   /* keep-going mode: distinct misses */
    unsigned nmisses;
} fc;

static double rate(const tally *t)
{
    size_t broke = t->reported + t->missed;
    return broke ? 100.0 * (double)t->reported / (double)broke : 100.0;
}

static void print_tally(FILE *out)
{
    const tally *t = &fc.all;
    fprintf(out, "fuzz_corrupt: %zu inputs, %zu corruptions: %zu unchanged (harmless), %zu reported by the checker, "
            "%zu harmless (the heap still sound), %zu missed\n",
            fc.inputs, t->rounds, t->unchanged, t->reported, t->harmless, t->missed);
    fprintf(out, "fuzz_corrupt: detection rate %.2f%% (%zu reported / %zu that broke the heap)\n", rate(t),
            t->reported, t->reported + t->missed);
    fprintf(out, "  %-10s %8s %9s %8s %8s %6s\n", "kind", "rounds", "unchanged", "reported", "harmless", "missed");
    for (unsigned k = 0; k < K_COUNT; k++)
        fprintf(out, "  %-10s %8zu %9zu %8zu %8zu %6zu\n", kind_names[k], fc.kind[k].rounds, fc.kind[k].unchanged,
                fc.kind[k].reported, fc.kind[k].harmless, fc.kind[k].missed);
    fprintf(out, "  verdicts:");
    for (int i = 1; i < HL_INV_COUNT; i++)
        if (fc.verdicts[i])
            fprintf(out, " %s %zu", hl_invariant_name(i), fc.verdicts[i]);
    fprintf(out, "\n");
    if (fc.exercise)
        fprintf(out, "  exercised after a report: %zu heaps, %zu errors recorded (expected), no crash\n",
                fc.exercised, fc.exercise_errors);
    for (unsigned i = 0; i < fc.nmisses; i++)
        fprintf(out, "  missed %zu x: %s\n", fc.misses[i].hits, fc.misses[i].sig);
}

static void print_tally_at_exit(void) { print_tally(stderr); }

/* --- the state of one input ---------------------------------------------------------------- */
typedef struct fc_run {
    fz_oracle o;             /* the model (and the heap it built) */
    hl_heap *h;
    heap_map map;
    recorder rec;
    unsigned round, rounds;
    const char *phase;       /* for a crash report */
    corruption cur;
    char history[4 * FC_TEXT];   /* harmless corruptions left in the heap */
    const uint8_t *input;
    size_t input_size;
} fc_run;

static fc_run run;   /* large (the oracle, the map): off the stack */

static void print_input(FILE *out)
{
    fprintf(out, "  input (%zu bytes):", run.input_size);
    for (size_t i = 0; i < run.input_size && i < 1024; i++)
        fprintf(out, "%s%02x", i % 32 ? " " : "\n    ", run.input[i]);
    fprintf(out, "%s\n", run.input_size > 1024 ? " ..." : "");
}

/* The sanitizer is about to die inside this input: say what it was doing. */
static void on_death(void)
{
    fprintf(stderr, "\nfuzz_corrupt: crashed while %s (round %u of %u)\n", run.phase ? run.phase : "?",
            run.round + 1, run.rounds);
    if (run.cur.text[0] && run.round < run.rounds)
        fprintf(stderr, "  corruption: %s\n", run.cur.text);
    if (run.history[0])
        fprintf(stderr, "  earlier harmless corruptions still in the heap:\n%s", run.history);
    print_input(stderr);
    print_tally(stderr);
}

static void once(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    const char *e;
    fc.keep_going = (e = getenv("FUZZ_CORRUPT_KEEP_GOING")) && *e == '1';
    fc.exercise = (e = getenv("FUZZ_CORRUPT_EXERCISE")) && *e == '1';
    fc.verbose = (e = getenv("FUZZ_CORRUPT_VERBOSE")) && *e == '1';
    fc.artifacts = getenv("FUZZ_CORRUPT_ARTIFACTS");
    atexit(print_tally_at_exit);
}

__attribute__((constructor)) static void before_main(void)
{
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(on_death);
}

/* --- semantic validation ---------------------------------------------------------------------- */
typedef struct verdict {
    bool bad;
    char why[600];
} verdict;

static bool fail(verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(verdict *v, const char *fmt, ...)
{
    if (v->bad)
        return false;
    v->bad = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->why, sizeof v->why, fmt, ap);
    va_end(ap);
    return false;
}

typedef struct newblock { unsigned char *p; size_t n; uint64_t seed; } newblock;

typedef struct walk_check {
    const fz_oracle *o;
    const newblock *extra;   /* blocks the validation holds */
    unsigned nextra;
    size_t regions, used, large, large_bytes, free, free_bytes, largest_free;
    const void *region_at[FC_MAP_REGIONS];
    verdict *v;
} walk_check;

static int find_slot(const fz_oracle *o, const void *payload)
{
    for (int i = 0; i < FZ_SLOTS; i++)
        if (o->slots[i].p == payload)
            return i;
    return -1;
}

static bool known_extra(const walk_check *c, const void *payload, size_t usable)
{
    for (unsigned i = 0; i < c->nextra; i++)
        if (c->extra[i].p == payload)
            return usable >= c->extra[i].n;
    return false;
}

static int check_used(walk_check *c, const hl_walk_info *w)
{
    int i = find_slot(c->o, w->payload);
    if (i < 0) {
        if (known_extra(c, w->payload, w->usable))
            return 0;
        fail(c->v, "the walk shows a used block at %p (%zu B) that no live block of the model has",
             w->payload, w->size);
        return 1;
    }
    const fz_slot *s = &c->o->slots[i];
    if (w->usable < s->usable || w->requested != s->n || (w->kind == HL_WALK_LARGE) != s->large) {
        fail(c->v, "the walk shows slot %d's block %p as %s, usable %zu, requested %zu; the model: %s, %zu, %zu",
             i, w->payload, w->kind == HL_WALK_LARGE ? "large" : "a region block", w->usable, w->requested,
             s->large ? "large" : "a region block", s->usable, s->n);
        return 1;
    }
    return 0;
}

static int walk_one(const hl_walk_info *w, void *ctx)
{
    walk_check *c = ctx;
    if (w->kind == HL_WALK_REGION) {
        if (c->regions < FC_MAP_REGIONS)
            c->region_at[c->regions] = w->start;
        c->regions++;
        return 0;
    }
    if (w->kind == HL_WALK_LARGE) {
        c->large++;
        c->large_bytes += w->size;
    }
    if (!w->used) {
        c->free++;
        c->free_bytes += w->size;
        if (w->usable > c->largest_free)
            c->largest_free = w->usable;
        return 0;
    }
    c->used++;
    return check_used(c, w);
}

/* The regions of the map are all still there, in order (new ones may precede them). */
static bool same_regions(const walk_check *c, const heap_map *m, bool may_grow)
{
    if (m->full || c->regions > FC_MAP_REGIONS)
        return true;
    if (!may_grow && c->regions != m->nregions)
        return false;
    if (c->regions < m->nregions)
        return false;
    size_t skip = c->regions - m->nregions;
    for (size_t i = 0; i < m->nregions; i++)
        if (c->region_at[skip + i] != m->regions[i].r)
            return false;
    return true;
}

static bool stats_agree(const fc_run *r, const walk_check *c, verdict *v)
{
    hl_stats st;
    hl_heap_stats(r->h, &st);
    const fz_oracle *o = &r->o;
    size_t in_use = o->live_blocks + c->nextra, bytes = o->live_bytes;
    for (unsigned i = 0; i < c->nextra; i++)
        bytes += c->extra[i].n;
    if (st.blocks_in_use != in_use || st.bytes_in_use != bytes)
        return fail(v, "stats: %zu blocks / %zu bytes in use, the model %zu / %zu", st.blocks_in_use,
                    st.bytes_in_use, in_use, bytes);
    if (st.blocks_free != c->free || st.bytes_free != c->free_bytes || st.largest_free != c->largest_free)
        return fail(v, "stats: %zu free blocks, %zu bytes, largest %zu; the walk: %zu, %zu, largest %zu",
                    st.blocks_free, st.bytes_free, st.largest_free, c->free, c->free_bytes, c->largest_free);
    if (st.regions != c->regions || st.large_blocks != c->large || st.large_bytes != c->large_bytes)
        return fail(v, "stats: %zu regions, %zu large (%zu bytes); the walk: %zu regions, %zu large (%zu bytes)",
                    st.regions, st.large_blocks, st.large_bytes, c->regions, c->large, c->large_bytes);
    if (st.regions == r->map.st.regions && st.region_bytes != r->map.st.region_bytes)
        return fail(v, "stats: region_bytes %zu, was %zu with the same regions", st.region_bytes,
                    r->map.st.region_bytes);
    if (st.source_bytes != st.region_bytes + st.large_bytes + st.large_cached_bytes)
        return fail(v, "stats: source_bytes %zu is not region_bytes %zu + large_bytes %zu + large_cached_bytes %zu",
                    st.source_bytes, st.region_bytes, st.large_bytes, st.large_cached_bytes);
    return true;
}

/* 1 and 2: the walk and the stats against the model. */
static bool walk_agrees(const fc_run *r, const newblock *extra, unsigned nextra, bool may_grow, verdict *v,
                        walk_check *out)
{
    walk_check c = { .o = &r->o, .extra = extra, .nextra = nextra, .v = v };
    int rc = hl_heap_walk(r->h, walk_one, &c);
    if (out)
        *out = c;
    if (v->bad)
        return false;
    if (rc != 0)
        return fail(v, "hl_heap_walk stopped (%d) at a corrupted block", rc);
    if (c.used != r->o.live_blocks + nextra)
        return fail(v, "the walk shows %zu used blocks, the model has %zu live", c.used, r->o.live_blocks + nextra);
    if (!same_regions(&c, &r->map, may_grow))
        return fail(v, "the walk shows %zu regions, not the %zu the heap had", c.regions, r->map.nregions);
    return stats_agree(r, &c, v);
}

static bool contents_intact(const fz_oracle *o, verdict *v)
{
    for (unsigned i = 0; i < FZ_SLOTS; i++) {
        const fz_slot *s = &o->slots[i];
        if (!s->p)
            continue;
        size_t bad = pattern_mismatch(s->p, s->usable, fz_pattern_seed(i, s->gen));
        if (bad != SIZE_MAX)
            return fail(v, "slot %u's block %p (%zu bytes) lost its contents at byte %zu", i, (void *)s->p,
                        s->usable, bad);
    }
    return true;
}

/* After each operation of step 3: no error, and the checker passes. */
static bool still_sound(fc_run *r, const char *after, verdict *v)
{
    if (r->rec.count)
        return fail(v, "%s: %s", after, r->rec.first);
    hl_check_report rep;
    if (hl_heap_check(r->h, &rep) != HL_INV_OK)
        return fail(v, "%s: hl_heap_check now reports %s: %s (the corruption surfaced later)", after,
                    rep.invariant, rep.message);
    return true;
}

static bool overlaps_live(const fz_oracle *o, const newblock *nb, unsigned n, const unsigned char *p, size_t len)
{
    uintptr_t a = (uintptr_t)p, e = a + (len ? len : 1);
    for (unsigned i = 0; i < FZ_SLOTS; i++) {
        const fz_slot *s = &o->slots[i];
        uintptr_t b = (uintptr_t)s->p, be = b + (s->usable ? s->usable : 1);
        if (s->p && a < be && b < e)
            return true;
    }
    for (unsigned i = 0; i < n; i++) {
        uintptr_t b = (uintptr_t)nb[i].p, be = b + (nb[i].n ? nb[i].n : 1);
        if (a < be && b < e)
            return true;
    }
    return false;
}

/* Would the oracle's null rule call NULL (or growth) a bug for n bytes? */
static bool must_serve(const fc_run *r, size_t n, size_t largest_free)
{
    bool exact = (r->o.claims.flags & FZ_CLAIM_EXACT_FIT) != 0;
    return n < r->o.claims.large_threshold && largest_free >= (exact ? n + 128 : 2 * n + 64);
}

static bool place(fc_run *r, newblock *nb, unsigned *count, size_t n, verdict *v)
{
    hl_stats before, after;
    hl_heap_stats(r->h, &before);
    bool must = must_serve(r, n, before.largest_free);
    errno = 0;
    unsigned char *p = hl_heap_malloc(r->h, n);
    char what[64];
    snprintf(what, sizeof what, "malloc(%zu) = %p", n, (void *)p);
    if (!still_sound(r, what, v))
        return false;
    if (!p)
        return must ? fail(v, "%s, errno %d, but a free block has %zu usable bytes", what, errno,
                           before.largest_free) : true;
    hl_heap_stats(r->h, &after);
    if (must && (after.regions != before.regions || after.large_blocks != before.large_blocks))
        return fail(v, "%s grew the heap, but a free block had %zu usable bytes", what, before.largest_free);
    fz_where w;
    fz_where_is(&fz_adapter_heaplab, r->h, p, n, &w);
    if ((uintptr_t)p % HL_ALIGNMENT || w.status || !w.found || w.block.payload != p || !w.block.used
        || w.block.usable < n)
        return fail(v, "%s is not a used block of the heap of at least %zu bytes", what, n);
    if (overlaps_live(&r->o, nb, *count, p, n))
        return fail(v, "%s overlaps a live block", what);
    nb[*count] = (newblock){ p, n, fz_pattern_seed(FZ_SLOTS + *count, r->round) };
    fz_pattern_fill(p, n, nb[*count].seed);
    ++*count;
    return true;
}

/* The live block (of the model) next to the corruption: freeing it makes the
 * allocator read its neighbours' headers and footers, and merge. */
static int slot_near(const fc_run *r, const unsigned char *at)
{
    const mblock *b = block_at(&r->map, at);
    if (!b)
        return -1;
    const mblock *first = r->map.blocks, *last = first + r->map.nblocks;
    for (const mblock *x = b; x >= first && x > b - 2; x--) {
        int i = x->used ? find_slot(&r->o, x->b + HL_HEADER) : -1;
        if (i >= 0)
            return i;
    }
    for (const mblock *x = b + 1; x < last && x < b + 2; x++) {
        int i = x->used ? find_slot(&r->o, x->b + HL_HEADER) : -1;
        if (i >= 0)
            return i;
    }
    return -1;
}

static bool free_near(fc_run *r, const unsigned char *at, verdict *v)
{
    int i = slot_near(r, at);
    if (i < 0)
        return true;
    fz_slot *s = &r->o.slots[i];
    size_t bad = pattern_mismatch(s->p, s->usable, fz_pattern_seed((unsigned)i, s->gen));
    if (bad != SIZE_MAX)
        return fail(v, "slot %d's block %p lost its contents at byte %zu", i, (void *)s->p, bad);
    hl_heap_free(r->h, s->p);
    char what[64];
    snprintf(what, sizeof what, "free(%p) (slot %d)", (void *)s->p, i);
    if (r->rec.count)
        return fail(v, "%s: %s", what, r->rec.first);
    /* the model forgets it, as the oracle does */
    r->o.live_blocks--;
    r->o.live_bytes -= s->n;
    s->stale = s->p;
    s->p = NULL;
    return still_sound(r, what, v);
}

static bool release_new(fc_run *r, newblock *nb, unsigned *count, verdict *v)
{
    while (*count) {
        newblock *b = &nb[--*count];
        size_t bad = pattern_mismatch(b->p, b->n, b->seed);
        if (bad != SIZE_MAX)
            return fail(v, "the validation's block %p (%zu bytes) lost its contents at byte %zu", (void *)b->p,
                        b->n, bad);
        hl_heap_free(r->h, b->p);
        char what[48];
        snprintf(what, sizeof what, "free(%p)", (void *)b->p);
        if (!still_sound(r, what, v))
            return false;
    }
    return true;
}

/* 3: the heap still works. */
static bool still_works(fc_run *r, verdict *v)
{
    walk_check c;
    if (!walk_agrees(r, NULL, 0, false, v, &c))
        return false;
    const mblock *site_block = block_at(&r->map, r->cur.s.at);
    size_t sizes[FC_NEW] = {
        1 + r->cur.rec.value % 48,
        c.largest_free > 64 ? (c.largest_free - 64) / 2 : 8,
        site_block && !site_block->used ? site_block->size - HL_OVERHEAD : 200,
    };
    newblock nb[FC_NEW];
    unsigned count = 0;
    bool ok = true;
    for (unsigned i = 0; ok && i < FC_NEW; i++)
        ok = place(r, nb, &count, sizes[i], v);
    ok = ok && free_near(r, r->cur.s.at, v) && walk_agrees(r, nb, count, true, v, NULL);
    ok = ok && release_new(r, nb, &count, v);
    return ok && contents_intact(&r->o, v) && walk_agrees(r, NULL, 0, true, v, NULL);
}

/* --- one round ------------------------------------------------------------------------------------ */
static fc_record read_record(const uint8_t *b)
{
    return (fc_record){
        .kind = (fc_kind)(b[0] % K_COUNT), .index = (unsigned)b[1] | (unsigned)b[2] << 8,
        .offset = b[3], .how = (fc_how)(b[4] % H_COUNT), .value = b[5],
    };
}

/* Unmaps what the map says the heap had, when the heap itself can no longer
 * be trusted to destroy itself.  Regions from sbrk stay (the break is shared). */
static void abandon(fc_run *r)
{
    const heap_map *m = &r->map;
    hl_set_error_handler(NULL, NULL);
    if (r->o.cfg.source == FZ_SOURCE_MMAP)
        for (size_t i = 0; i < m->nregions; i++) {
            FC_UNPOISON(m->regions[i].base, m->regions[i].base_size);
            munmap(m->regions[i].base, m->regions[i].base_size);
        }
    for (size_t i = 0; i < m->nlarge; i++) {
        FC_UNPOISON(m->large[i].base, m->large[i].size);
        munmap(m->large[i].base, m->large[i].size);
    }
    if (r->o.cfg.source == FZ_SOURCE_BUFFER)
        FC_UNPOISON(r->o.cfg.buffer, r->o.cfg.buffer_size);
    else
        munmap(m->h, m->heap_bytes);
    r->o.heap = NULL;
    r->h = NULL;
}

/* Gets rid of a heap a round left broken: the last corruption undone, it is
 * destroyed as usual if it then passes the check (the caller closes it),
 * else unmapped by hand. */
static void dispose(fc_run *r)
{
    undo(&r->cur);
    if (hl_heap_check(r->h, NULL) != HL_INV_OK)
        abandon(r);
}

#define BUMP(k, f) (fc.all.f++, fc.kind[k].f++)

static void append_history(fc_run *r)
{
    size_t len = strlen(r->history);
    if (len < sizeof r->history)
        snprintf(r->history + len, sizeof r->history - len, "    round %u: %s\n", r->round + 1, r->cur.text);
}

/* What a miss hit, without addresses and numbers: "heap header: cfg.policy byte". */
static void signature(const char *where, char *sig, size_t len)
{
    size_t n = 0;
    for (const char *p = where; *p && n + 1 < len; p++) {
        if (p[0] == '0' && p[1] == 'x') {
            for (p += 2; p[1] && strchr("0123456789abcdef", p[1]); p++)
                continue;
            continue;
        }
        if ((*p >= '0' && *p <= '9') || (*p == ' ' && n && sig[n - 1] == ' '))
            continue;
        sig[n++] = *p;
    }
    sig[n] = 0;
}

/* Keep-going mode: counts the kinds of miss, and saves the first input of each. */
static void note_miss(const fc_run *r)
{
    char where[160], sig[96];
    describe(&r->map, r->cur.s.at + r->cur.s.byte, where, sizeof where);
    signature(where, sig, sizeof sig);
    for (unsigned i = 0; i < fc.nmisses; i++)
        if (!strcmp(fc.misses[i].sig, sig)) {
            fc.misses[i].hits++;
            return;
        }
    if (fc.nmisses == COUNT(fc.misses))
        return;
    snprintf(fc.misses[fc.nmisses].sig, sizeof fc.misses[0].sig, "%s", sig);
    fc.misses[fc.nmisses++].hits = 1;
    if (!fc.artifacts)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/missed-%u", fc.artifacts, fc.nmisses);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(r->input, 1, r->input_size, f);
        fclose(f);
        fprintf(stderr, "  saved as %s\n", path);
    }
}

static void missed(fc_run *r, const hl_check_report *rep, const verdict *v)
{
    const corruption *c = &r->cur;
    BUMP(c->s.kind, missed);
    fprintf(stderr, "fuzz_corrupt: MISSED CORRUPTION in round %u of %u: hl_heap_check passed a broken heap\n"
            "  corruption: %s\n", r->round + 1, r->rounds, c->text);
    for (unsigned i = 0; i < c->n; i++) {
        char where[160];
        describe(&r->map, c->w[i].at, where, sizeof where);
        fprintf(stderr, "  wrote 0x%02x over 0x%02x at %p: %s\n", c->w[i].now, c->w[i].was, (void *)c->w[i].at, where);
    }
    if (r->history[0])
        fprintf(stderr, "  earlier harmless corruptions still in the heap:\n%s", r->history);
    fprintf(stderr, "  checker verdict: %s: %s\n  semantic validation: %s\n", rep->invariant, rep->message, v->why);
    print_input(stderr);
    note_miss(r);
    if (!fc.keep_going) {
        print_tally(stderr);
        fflush(stderr);
        abort();
    }
}

/* Drives the allocator on a heap the checker rejected: it may report errors
 * (recorded: that is the right answer) but must not crash. */
static void exercise(fc_run *r)
{
    r->phase = "exercising the allocator on a heap the checker rejected";
    r->rec.count = 0;
    size_t sizes[3] = { 1 + r->cur.rec.value % 48, 200, 4000 };
    void *p[3];
    for (unsigned i = 0; i < 3; i++)
        p[i] = hl_heap_malloc(r->h, sizes[i]);
    int near = slot_near(r, r->cur.s.at);
    if (near >= 0)
        hl_heap_free(r->h, r->o.slots[near].p);   /* the model is not kept up: the input ends here */
    for (unsigned i = 0; i < 3; i++)
        hl_heap_free(r->h, p[i]);
    hl_heap_check(r->h, NULL);
    fc.exercised++;
    fc.exercise_errors += r->rec.count;
}

/* The checker reported the corruption: undo it, and the heap must pass again. */
static bool reported(fc_run *r, int id)
{
    BUMP(r->cur.s.kind, reported);
    fc.verdicts[id < HL_INV_COUNT && id > 0 ? id : 0]++;
    if (fc.exercise)
        exercise(r);
    r->phase = "undoing a reported corruption";
    undo(&r->cur);
    hl_check_report again;
    if (hl_heap_check(r->h, &again) == HL_INV_OK)
        return !fc.exercise;   /* after an exercise the model is stale: the input ends */
    if (fc.exercise) {
        abandon(r);   /* already undone */
        return false;
    }
    fprintf(stderr, "fuzz_corrupt: undoing \"%s\" did not give back a sound heap: %s: %s\n", r->cur.text,
            again.invariant, again.message);
    print_input(stderr);
    abort();
}

/* One record: corrupt, check, then undo (reported) or validate (passed). */
static bool corrupt_round(fc_run *r, const uint8_t *bytes)
{
    corruption *c = &r->cur;
    r->phase = "mapping the heap";
    if (!map_heap(r->h, &r->map)) {
        fprintf(stderr, "fuzz_corrupt: hl_heap_walk refused a heap that passed hl_heap_check and validation\n");
        print_input(stderr);
        abort();
    }
    memset(c, 0, sizeof *c);
    c->rec = read_record(bytes);
    pick(&r->map, &r->o, &c->rec, &c->s);
    r->phase = "corrupting the heap";
    apply(&r->map, c);
    BUMP(c->s.kind, rounds);
    if (fc.verbose)
        fprintf(stderr, "fuzz_corrupt: round %u: %s\n", r->round + 1, c->text);
    if (c->n == 0) {
        BUMP(c->s.kind, unchanged);
        return true;
    }
    r->phase = "running hl_heap_check on the corrupted heap";
    hl_check_report rep;
    int id = hl_heap_check(r->h, &rep);
    if (fc.verbose)
        fprintf(stderr, "fuzz_corrupt:   verdict %s: %s\n", rep.invariant, rep.message);
    if (id != HL_INV_OK)
        return reported(r, id);
    r->phase = "validating a corrupted heap the checker passed";
    verdict v = { 0 };
    r->rec.count = 0;
    if (!still_works(r, &v)) {
        missed(r, &rep, &v);
        dispose(r);
        return false;
    }
    BUMP(c->s.kind, harmless);
    append_history(r);
    return true;
}

/* --- the target ----------------------------------------------------------------------------------- */
static bool build_heap(fc_run *r, const uint8_t *data, size_t size)
{
    fz_decoder d;
    fz_decode_begin(&d, data, size);
    const char *why;
    r->phase = "building the heap";
    if (fz_oracle_open(&r->o, &fz_adapter_heaplab, &d.hdr, &why) != 0)
        return false;   /* every header is accepted (ctest fuzz/configs-accepted) */
    r->o.target = "fuzz_corrupt (building the heap)";
    fz_op op;
    for (unsigned n = 0; n < FC_BUILD_OPS && fz_decode_next(&d, &op) && fz_oracle_step(&r->o, &op); n++)
        continue;
    if (!fz_oracle_finish(&r->o)) {   /* a bug of the allocator, not of the checker */
        fz_oracle_print_violation(&r->o, stderr);
        print_input(stderr);
        abort();
    }
    r->h = r->o.heap;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    once();
    fc.inputs++;
    run.input = data;
    run.input_size = size;
    run.history[0] = 0;
    run.cur.text[0] = 0;
    run.round = run.rounds = 0;
    unsigned want = size ? 1 + data[0] % FC_MAX_ROUNDS : 0;
    size_t head = 1 + (size_t)want * FC_RECORD;
    run.rounds = size >= head ? want : size ? (unsigned)((size - 1) / FC_RECORD) : 0;
    const uint8_t *records = data + (size ? 1 : 0);
    bool ok = size >= head ? build_heap(&run, data + head, size - head) : build_heap(&run, NULL, 0);
    if (!ok)
        return 0;
    hl_set_error_handler(record_error, &run.rec);
    for (run.round = 0; run.round < run.rounds; run.round++)
        if (!corrupt_round(&run, records + (size_t)run.round * FC_RECORD))
            break;
    run.phase = "destroying the heap";
    fz_oracle_close(&run.o);   /* resets the error handler too */
    run.h = NULL;
    run.phase = NULL;
    return 0;
}
