/*
 * adapter_heaplab_global.c - the adapter for heaplab's global API (hl_malloc
 * and friends): one process-wide allocator with a heap per thread, remote
 * frees and abandoned heaps, what fuzz_threads drives.
 *
 * create() makes nothing: the global heaps live as long as the process (what
 * one input leaves, the next finds).  It installs the error handler, which is
 * process-wide, and destroy() removes it.
 *
 * Claims: thread-safe; NULL with ENOMEM only when hopeless (the heaps grow by
 * 4 MiB segments with no cap); every misuse kind detected; usable_size ==
 * request in checked builds.  Stats count the blocks the caller holds: blocks
 * in use less those freed remotely and still waiting on their owner's stack.
 * The check is hl_check_all.  No walk: the heaps are per thread and change
 * under a walker's feet.
 */
#include "adapter.h"
#include "adapter_heaplab_errors.h"

#include <heaplab.h>
#include <stdio.h>
#include <stdint.h>

static void *hlg_create(const fz_config *cfg, const fz_hooks *hooks, fz_claims *cl, const char **why)
{
    static char token;   /* the global API has no handle */
    (void)cfg;           /* nor a configuration */
    (void)why;
    fz_heaplab_errors_forward(hooks);
    *cl = (fz_claims){
        .flags = FZ_CLAIM_THREAD_SAFE | FZ_CLAIM_NULL_ON_EXHAUSTION | FZ_CLAIM_CAP | FZ_CLAIM_ERRNO
               | FZ_CLAIM_DETECTS_DOUBLE_FREE | FZ_CLAIM_DETECTS_INVALID
               | (hl_checked_build() ? FZ_CLAIM_USABLE_EXACT : 0),
        .min_align = HL_ALIGNMENT,
        .large_threshold = HL_MMAP_THRESHOLD_DEFAULT,
        .grow_size = (size_t)4 << 20,   /* a global heap's segment (src/hl_internal.h) */
        .max_bytes = 0,
    };
    return &token;
}

static void hlg_destroy(void *h)
{
    (void)h;
    fz_heaplab_errors_stop();
}

static void *hlg_malloc(void *h, size_t n) { (void)h; return hl_malloc(n); }
static void hlg_free(void *h, void *p) { (void)h; hl_free(p); }
static void *hlg_realloc(void *h, void *p, size_t n) { (void)h; return hl_realloc(p, n); }
static void *hlg_calloc(void *h, size_t c, size_t s) { (void)h; return hl_calloc(c, s); }
static void *hlg_aligned(void *h, size_t a, size_t n) { (void)h; return hl_aligned_alloc(a, n); }
static size_t hlg_usable(void *h, const void *p) { (void)h; return hl_malloc_usable_size(p); }

/* The message matches what fuzz_threads printed before it used adapters. */
static int hlg_check(void *h, char *msg, size_t len, FILE *out)
{
    (void)h;
    hl_check_report rep;
    int id = hl_check_all(&rep);
    if (id == 0)
        return 0;
    snprintf(msg, len, "hl_check_all: invariant %s: %s", rep.invariant ? rep.invariant : "?", rep.message);
    if (out)
        hl_check_report_print(&rep, out);
    return id;
}

static void hlg_stats(void *h, fz_stats *st)
{
    (void)h;
    hl_global_stats gs;
    hl_stats_global(&gs);
    *st = (fz_stats){
        .bytes_in_use = gs.bytes_in_use,
        .blocks_in_use = gs.blocks_in_use - (gs.remote_frees - gs.remote_drained),
        .bytes_free = gs.bytes_free, .source_bytes = gs.source_bytes,
    };
}

const fz_adapter fz_adapter_heaplab_global = {
    .version = FZ_ADAPTER_VERSION,
    .name = "heaplab-global",
    .create = hlg_create, .destroy = hlg_destroy,
    .malloc = hlg_malloc, .free = hlg_free, .realloc = hlg_realloc, .calloc = hlg_calloc,
    .aligned_alloc = hlg_aligned, .usable_size = hlg_usable, .check = hlg_check, .stats = hlg_stats,
};
