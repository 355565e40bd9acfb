/*
 * adapter.h - how the fuzz targets and the oracle drive an allocator.
 *
 * An adapter is one static table of functions and the promises ("claims") its
 * allocator makes.  The targets, the shadow-model oracle and hl-trace only
 * ever call an allocator through this table, so fuzzing another allocator
 * means writing one file that fills it (adapter_heaplab.c is the first).
 * The oracle checks every claim an adapter makes and nothing it does not:
 * leave a claim out and the rules that depend on it are not applied; leave an
 * optional function NULL and the checks that need it are skipped.
 *
 * Ground rules for an adapter:
 *   - create() must give a fresh, empty heap for every input;
 *   - misuse the allocator detects is reported through hooks->on_error, and the
 *     allocator then returns to its caller having changed nothing;
 *   - nothing may call exit(): a violation is an abort() or a trap.  (A user's
 *     allocator that exits, aborts or keeps global state anyway is run through
 *     fuzz/byoa/, which forks a child per input and reports an exit as a finding:
 *     docs/byoa.md.)
 */
#ifndef FZ_ADAPTER_H
#define FZ_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define FZ_ADAPTER_VERSION 1

/* The configuration an input's header asks for; an adapter maps what its
 * allocator supports and ignores the rest (or refuses in create()). */
typedef struct fz_config {
    unsigned policy;          /* enum fz_policy (ops.h) */
    unsigned source;          /* enum fz_source (ops.h) */
    void *buffer;             /* FZ_SOURCE_BUFFER: memory the harness owns ... */
    size_t buffer_size;       /* ... and its size */
    size_t grow_size;         /* 0: the allocator's default */
    size_t max_bytes;         /* cap on memory taken from the source; 0: none */
    size_t large_threshold;   /* 0: default; SIZE_MAX: never give blocks their own mapping */
} fz_config;

/* What the allocator promises; the oracle applies the rule behind each one. */
enum fz_claim {
    FZ_CLAIM_NULL_ON_EXHAUSTION = 1u << 0,  /* NULL (errno ENOMEM) when it cannot serve,
                                               and only then (see growth below) */
    FZ_CLAIM_EXACT_FIT = 1u << 1,           /* NULL only if no free block can hold the
                                               request (first fit, best fit) */
    FZ_CLAIM_DETECTS_DOUBLE_FREE = 1u << 2, /* reports a freed pointer as FZ_ERR_DOUBLE_FREE */
    FZ_CLAIM_DETECTS_INVALID = 1u << 3,     /* reports interior, misaligned and foreign
                                               pointers as FZ_ERR_INVALID_POINTER */
    FZ_CLAIM_USABLE_EXACT = 1u << 4,        /* usable_size() == the size requested */
    FZ_CLAIM_CAP = 1u << 5,                 /* honours max_bytes; grows while under it */
    FZ_CLAIM_RECENT_LARGE = 1u << 6,        /* a stale pointer to one of the last 16 large
                                               blocks freed is a double free */
    FZ_CLAIM_ERRNO = 1u << 7,               /* ENOMEM / EINVAL on failure */
    FZ_CLAIM_COALESCES = 1u << 8,           /* once every block is freed, the memory is one
                                               usable run again: with a walk, no region holds
                                               two free blocks; without one, a request of the
                                               most bytes live at once succeeds (and, with
                                               stats, without taking more from the source) */
    FZ_CLAIM_THREAD_SAFE = 1u << 9,         /* may be called from several threads at once
                                               (the threaded targets need it) */
    FZ_CLAIM_OWN_CONFIG = 1u << 10,         /* the allocator ignores fz_config (policy,
                                               source, buffer, cap ...): a "buffer" header
                                               does not bound its memory, so the harness
                                               budget applies (user allocators, fuzz/byoa/) */
};

/* Filled in by create() for the heap it made: claims may depend on the config
 * (first fit is exact, segregated fit is not). */
typedef struct fz_claims {
    unsigned flags;           /* enum fz_claim */
    size_t min_align;         /* every pointer is aligned to this (8 or 16; 0: no claim) */
    size_t large_threshold;   /* requests >= this get a mapping; SIZE_MAX: never */
    size_t grow_size;         /* the growth step in effect; 0: cannot grow */
    size_t max_bytes;         /* the cap in effect; 0: none */
    size_t max_request;       /* 0: none.  Otherwise no size, count or alignment above it
                                 is ever passed (an API taking int sizes: INT_MAX) */
} fz_claims;

/* --- errors the allocator reports ------------------------------------------------ */
typedef enum fz_error_kind {
    FZ_ERR_NONE,
    FZ_ERR_DOUBLE_FREE,
    FZ_ERR_INVALID_POINTER,
    FZ_ERR_CORRUPTED,
    FZ_ERR_INVARIANT,         /* the allocator's own checker found a violation */
    FZ_ERR_OTHER,
} fz_error_kind;

typedef struct fz_error {
    fz_error_kind kind;
    const void *ptr;
    const char *operation;    /* "free", "realloc", ... or NULL */
    const char *message;      /* one line */
    /* Optional: prints the checker's full report (valid during the call only). */
    void (*print_report)(const void *report, FILE *out);
    const void *report;
} fz_error;

typedef struct fz_hooks {
    void (*on_error)(void *ctx, const fz_error *err);
    void *ctx;
} fz_hooks;

/* --- what a walk shows -------------------------------------------------------------- */
typedef enum fz_walk_kind { FZ_WALK_REGION, FZ_WALK_BLOCK, FZ_WALK_LARGE } fz_walk_kind;
typedef struct fz_walk_info {
    fz_walk_kind kind;
    const void *start;        /* region, block (header) or mapping start */
    size_t size;
    const void *payload;      /* blocks and large: what malloc returned */
    size_t usable;            /* blocks and large: bytes usable at payload */
    size_t requested;         /* used blocks: the size asked for (0 if unknown) */
    bool used;
} fz_walk_info;
typedef int (*fz_walk_fn)(const fz_walk_info *info, void *ctx);   /* nonzero stops */

typedef struct fz_stats {
    size_t bytes_in_use;      /* sum of the sizes requested for live blocks */
    size_t blocks_in_use;
    size_t bytes_free, blocks_free;
    size_t source_bytes;      /* memory taken from the source, what a cap limits */
} fz_stats;

/* --- the table ---------------------------------------------------------------------------- */
typedef struct fz_adapter {
    unsigned version;         /* FZ_ADAPTER_VERSION */
    const char *name;
    /* NULL when the allocator refuses cfg; *why then says why. */
    void *(*create)(const fz_config *cfg, const fz_hooks *hooks, fz_claims *claims, const char **why);
    void (*destroy)(void *heap);
    void *(*malloc)(void *heap, size_t n);
    void (*free)(void *heap, void *p);
    /* realloc and calloc may be NULL when the allocator has none: their
     * operations are then skipped. */
    void *(*realloc)(void *heap, void *p, size_t n);
    void *(*calloc)(void *heap, size_t count, size_t size);
    /* Optional from here on. */
    void *(*aligned_alloc)(void *heap, size_t align, size_t n);
    size_t (*usable_size)(void *heap, const void *p);
    /* 0 when the heap is sound; otherwise a one-line reason in msg, and the full
     * report on `report` when it is not NULL. */
    int (*check)(void *heap, char *msg, size_t msglen, FILE *report);
    void (*stats)(void *heap, fz_stats *st);
    void (*reset)(void *heap);
    /* Regions, blocks and mappings; returns what fn returned, or -1 if the walk
     * could not go on (a corrupted heap). */
    int (*walk)(void *heap, fz_walk_fn fn, void *ctx);
    /* [p, p + n) lies inside memory the heap manages (if walk cannot say). */
    bool (*owns)(void *heap, const void *p, size_t n);
    void (*fail_source)(void *heap, unsigned skip, unsigned count);
    void (*dump)(void *heap, FILE *out);   /* the allocator's own text map */
} fz_adapter;

extern const fz_adapter fz_adapter_heaplab;
/* heaplab's global API (hl_malloc ...), thread-safe: what fuzz_threads drives. */
extern const fz_adapter fz_adapter_heaplab_global;

#endif /* FZ_ADAPTER_H */
