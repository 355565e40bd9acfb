/*
 * heaplab.h - the public API of heaplab, a boundary-tagged allocator built to
 * be fuzzed, and the heap checker that walks it.
 *
 * Explicit heaps (hl_heap_*) are what the fuzz targets, the tests and embedded
 * users drive: a heap on a caller's buffer, on mmap'd regions or on sbrk, with
 * a first-fit, best-fit or segregated-fit (TLSF-style, O(1)) policy.  An
 * explicit heap is not thread-safe: one thread at a time, or the caller locks.
 *
 * Every returned pointer is aligned to HL_ALIGNMENT.  Functions follow the C
 * standard: malloc(0) returns a unique freeable pointer, free(NULL) does
 * nothing, realloc(NULL, n) is malloc, calloc checks n*size for overflow, a
 * failure is NULL with errno ENOMEM and a bad alignment is NULL with EINVAL.
 *
 * Misuse the allocator detects (double free, a pointer it never returned, a
 * corrupted block, a broken invariant in checked builds) goes to the error
 * handler; if the handler returns, the operation does nothing at all.
 */
#ifndef HEAPLAB_H
#define HEAPLAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HL_ALIGNMENT 16u                       /* alignment of every block */
#define HL_MMAP_THRESHOLD_DEFAULT (128u * 1024u)
#define HL_MMAP_THRESHOLD_NEVER SIZE_MAX       /* never give blocks their own mapping */
#define HL_GROW_SIZE_DEFAULT (256u * 1024u)
#define HL_BUFFER_MIN 8192u                    /* smallest buffer a heap of any policy accepts
                                                  (segregated fit keeps ~4.5 KiB of list heads in it) */

typedef struct hl_heap hl_heap;                /* opaque */

typedef enum hl_policy { HL_SEGREGATED_FIT, HL_FIRST_FIT, HL_BEST_FIT } hl_policy;
typedef enum hl_source { HL_SOURCE_MMAP, HL_SOURCE_BUFFER, HL_SOURCE_SBRK } hl_source;

/* All zero: segregated fit on mmap'd regions, default growth, no cap. */
typedef struct hl_config {
    hl_policy policy;
    hl_source source;
    void *buffer;          /* HL_SOURCE_BUFFER: memory the caller owns ...    */
    size_t buffer_size;    /* ... and its size (at least HL_BUFFER_MIN)       */
    size_t grow_size;      /* bytes per new region; 0: HL_GROW_SIZE_DEFAULT   */
    size_t max_bytes;      /* cap on bytes taken from the source; 0: none.
                              A buffer heap's cap is its buffer: max_bytes is ignored */
    size_t mmap_threshold; /* 0: 128 KiB; HL_MMAP_THRESHOLD_NEVER: never.
                              Requests at or above it get their own mapping
                              (mmap and sbrk sources; a buffer heap never maps) */
} hl_config;

/* --- life cycle ----------------------------------------------------------- */
hl_heap *hl_heap_create(const hl_config *cfg);  /* NULL: errno EINVAL or ENOMEM */
void hl_heap_destroy(hl_heap *h);               /* returns every byte to its source */
void hl_heap_reset(hl_heap *h);                 /* frees every block at once: the heap as new */
/* Why hl_heap_create would refuse cfg, or NULL if it would accept it. */
const char *hl_config_error(const hl_config *cfg);

/* --- allocation ------------------------------------------------------------ */
void *hl_heap_malloc(hl_heap *h, size_t n);
void *hl_heap_calloc(hl_heap *h, size_t count, size_t size);
void *hl_heap_realloc(hl_heap *h, void *p, size_t n);
void *hl_heap_aligned_alloc(hl_heap *h, size_t align, size_t n); /* align: power of two */
void hl_heap_free(hl_heap *h, void *p);
/* Bytes the caller may use at p.  Checked builds return the size requested,
 * since the rest of the block holds canaries. */
size_t hl_heap_usable_size(const hl_heap *h, const void *p);

/* --- statistics and inspection --------------------------------------------- */
typedef struct hl_stats {
    size_t bytes_in_use;    /* sum of the sizes requested for live blocks */
    size_t blocks_in_use;   /* live blocks, large ones included */
    size_t bytes_free;      /* bytes in free blocks, their headers included */
    size_t blocks_free;
    size_t largest_free;    /* largest request one free block can serve as it is */
    size_t regions;         /* regions taken from the source */
    size_t region_bytes;
    size_t large_blocks;    /* blocks in mappings of their own */
    size_t large_bytes;
    size_t source_bytes;    /* region_bytes + large_bytes + large_cached_bytes: what the cap limits */
    /* operation counts since creation or the last reset */
    size_t mallocs, callocs, reallocs, aligned_allocs, frees;
    size_t failures;        /* requests answered with NULL */
    size_t errors;          /* misuses reported to the error handler */
    size_t splits, merges;
    /* freed large mappings kept for reuse (docs/large.md), still mapped */
    size_t large_cached;
    size_t large_cached_bytes;
} hl_stats;
void hl_heap_stats(const hl_heap *h, hl_stats *st);

/* The block map of every region, every large mapping and every free list, as
 * text for a person. */
void hl_heap_dump(const hl_heap *h, FILE *out);

/* What hl_heap_walk shows: regions first, then their blocks in address order,
 * then large mappings.  Lets tools draw the heap and oracles check pointers. */
typedef enum hl_walk_kind { HL_WALK_REGION, HL_WALK_BLOCK, HL_WALK_LARGE } hl_walk_kind;
typedef struct hl_walk_info {
    hl_walk_kind kind;
    const void *start;      /* region, block header or mapping start */
    size_t size;            /* its size in bytes */
    const void *payload;    /* blocks and large: what malloc returned */
    size_t usable;          /* blocks and large: usable bytes at payload */
    size_t requested;       /* used blocks: the size asked for */
    int used;               /* blocks: 1 allocated, 0 free */
} hl_walk_info;
typedef int (*hl_walk_fn)(const hl_walk_info *info, void *ctx); /* nonzero stops */
/* Walks a heap that passes hl_heap_check; returns what the callback returned,
 * or -1 without calling it past a corrupted block. */
int hl_heap_walk(const hl_heap *h, hl_walk_fn fn, void *ctx);

/* --- the heap checker (invariants/) ---------------------------------------- */
typedef enum hl_invariant {
    HL_INV_OK = 0,
    HL_INV_MAGIC = 1,        /* 1. every header's check word matches its block */
    HL_INV_FOOTER,           /* 2. header and footer agree */
    HL_INV_SIZE,             /* 3. sizes aligned, at least the minimum, inside the region */
    HL_INV_TILING,           /* 4. blocks tile each region exactly */
    HL_INV_COALESCED,        /* 5. no two adjacent free blocks */
    HL_INV_LIST_LINKS,       /* 6. free lists doubly linked, in range, no cycle */
    HL_INV_LIST_MEMBERSHIP,  /* 7. free iff listed, once, in its size class */
    HL_INV_BITMAP,           /* 8. segregated bitmaps agree with the lists */
    HL_INV_STATS,            /* 9. counters agree with the walk */
    HL_INV_FREE_FILL,        /* 10a. free blocks keep their fill (checked builds) */
    HL_INV_CANARY,           /* 10b. slack after each request keeps its canary (checked builds) */
    HL_INV_REGION,           /* region headers and the region list are sound */
    HL_INV_LARGE,            /* large mappings and their list are sound */
    HL_INV_COUNT
} hl_invariant;

typedef struct hl_check_report {
    int id;                  /* an hl_invariant; 0 when every invariant holds */
    const char *invariant;   /* its name, e.g. "footer" */
    const void *block;       /* the offending block (header address), or NULL */
    const void *region;      /* the region or mapping it lies in, or NULL */
    size_t offset;           /* block - region */
    size_t expected, found;  /* the value the invariant wanted, and what was there */
    const void *prev_block, *next_block; /* its neighbours in address order */
    size_t blocks_walked;
    char message[256];       /* one line: what is wrong, where, expected vs found */
    const void *dump_addr;   /* bytes around the block, for a hexdump */
    size_t dump_len;
    unsigned char dump[128];
} hl_check_report;

/* Walks every block, large mapping and free list.  Returns 0 when every
 * invariant holds, otherwise the id of the first violation, described in
 * *report (which may be NULL).  Never allocates, never loops, never follows a
 * link it has not range-checked. */
int hl_heap_check(const hl_heap *h, hl_check_report *report);
const char *hl_invariant_name(int id);
/* The report as a person reads it: message, neighbours, hexdump. */
void hl_check_report_print(const hl_check_report *r, FILE *out);

/* --- errors ---------------------------------------------------------------- */
typedef enum hl_error_kind {
    HL_ERR_DOUBLE_FREE = 1,  /* the block is already free */
    HL_ERR_INVALID_POINTER,  /* interior, misaligned, or not from this heap */
    HL_ERR_CORRUPTED_BLOCK,  /* bad check word, header and footer disagree, bad link */
    HL_ERR_INVARIANT         /* the checker found a violation (checked builds) */
} hl_error_kind;

typedef struct hl_error {
    hl_error_kind kind;
    const void *ptr;                 /* the pointer the caller passed */
    const hl_heap *heap;
    const char *message;             /* one line, e.g. "free(): double free of 0x..." */
    const char *operation;           /* "free", "realloc", "usable_size", "check", ... */
    const hl_check_report *report;   /* HL_ERR_INVARIANT: what the checker found */
} hl_error;

typedef void (*hl_error_handler)(const hl_error *err, void *ctx);
/* NULL: the default, which prints err->message on one line and aborts. */
void hl_set_error_handler(hl_error_handler fn, void *ctx);
const char *hl_error_kind_name(hl_error_kind kind);

/* --- the global allocator: thread-safe, any thread may free any block ------ */
/* Each thread allocates from a heap of its own; a block freed by another
 * thread goes back to its owner through a lock-free remote-free stack.  The
 * usual C semantics; a pointer heaplab never returned is reported as
 * HL_ERR_INVALID_POINTER without its memory being touched. */
void *hl_malloc(size_t n);
void hl_free(void *p);
void *hl_calloc(size_t count, size_t size);
void *hl_realloc(void *p, size_t n);
void *hl_aligned_alloc(size_t align, size_t n);
int hl_posix_memalign(void **out, size_t align, size_t n);  /* 0, EINVAL or ENOMEM */
size_t hl_malloc_usable_size(const void *p);
/* Checks every global heap and its remote-free stack, holding every heap's
 * lock for the duration (the world stops briefly).  0 when all is well. */
int hl_check_all(hl_check_report *report);
typedef struct hl_global_stats {
    size_t heaps;             /* global heaps alive (owned or abandoned) */
    size_t heaps_abandoned;   /* of those, waiting for a thread to adopt them */
    size_t heaps_created, heaps_adopted;
    size_t remote_frees;      /* blocks freed by a thread that does not own them */
    size_t remote_drained;    /* of those, taken back by their owner */
    size_t bytes_in_use, blocks_in_use, bytes_free, source_bytes; /* summed over heaps */
    size_t cached_blocks, cached_bytes; /* freed small blocks in threads' caches (usable bytes) */
} hl_global_stats;
void hl_stats_global(hl_global_stats *st);
/* Gives the calling thread's cached small blocks (and the remote frees
 * waiting for it) back to its heap's free lists, as jemalloc's
 * "thread.tcache.flush" does: before measuring what the heap holds free, or
 * when a thread goes idle for a long time.  Nothing for a thread with no heap. */
void hl_thread_cache_flush(void);

/* --- debugging --------------------------------------------------------------- */
/* One line per operation, split and merge; NULL turns it off.  HEAPLAB_TRACE=1
 * in the environment turns it on (to stderr) for heaps created after. */
void hl_set_trace(FILE *out);
/* 1 if built with HL_CHECK_EVERY_OP (canaries, free fill, a full check after
 * every operation), 0 for a release build. */
int hl_checked_build(void);
/* Fault injection: the next `skip` requests to h's source succeed, then the
 * following `count` fail as if the source were exhausted. */
void hl_heap_fail_source(hl_heap *h, unsigned skip, unsigned count);
/* Fault injection for the whole process: the next `skip` anonymous mappings
 * heaplab asks the kernel for succeed, then the following `count` fail, as
 * mmap failing would: a heap's regions and large blocks, and the memory of
 * the global API (thread records and heaps, the registry's leaves).  sbrk and
 * the caller's buffers are not affected.  hl_fail_maps(0, 0) turns it off. */
void hl_fail_maps(unsigned skip, unsigned count);

#ifdef __cplusplus
}
#endif
#endif /* HEAPLAB_H */
