/*
 * adapter_heaplab.c - the adapter for heaplab's explicit heaps (hl_heap_*).
 *
 * Claims: NULL with ENOMEM on exhaustion, the cap honoured, every misuse kind
 * detected, the last 16 large frees remembered, free neighbours merged (boundary
 * tags: once all is freed, each region is one free block); exact fit for first and best
 * fit; usable_size == request in checked builds (the slack holds canaries).
 */
#include "adapter.h"
#include "ops.h"
#include "adapter_heaplab_errors.h"

#include <heaplab.h>
#include <stdio.h>
#include <stdint.h>

static const hl_policy policies[FZ_POLICY_COUNT] = { HL_SEGREGATED_FIT, HL_FIRST_FIT, HL_BEST_FIT };
static const hl_source sources[FZ_SOURCE_COUNT] = { HL_SOURCE_MMAP, HL_SOURCE_BUFFER, HL_SOURCE_SBRK };

static hl_config to_hl_config(const fz_config *c)
{
    hl_config cfg = {
        .policy = policies[c->policy % FZ_POLICY_COUNT],
        .source = sources[c->source % FZ_SOURCE_COUNT],
        .grow_size = c->grow_size, .max_bytes = c->max_bytes,
        .mmap_threshold = c->large_threshold,
    };
    if (cfg.source == HL_SOURCE_BUFFER) {
        cfg.buffer = c->buffer;
        cfg.buffer_size = c->buffer_size;
    }
    return cfg;
}

static void fill_claims(const hl_config *cfg, fz_claims *cl)
{
    cl->flags = FZ_CLAIM_NULL_ON_EXHAUSTION | FZ_CLAIM_DETECTS_DOUBLE_FREE | FZ_CLAIM_DETECTS_INVALID
              | FZ_CLAIM_CAP | FZ_CLAIM_RECENT_LARGE | FZ_CLAIM_ERRNO | FZ_CLAIM_COALESCES;
    if (cfg->policy != HL_SEGREGATED_FIT)
        cl->flags |= FZ_CLAIM_EXACT_FIT;
    if (hl_checked_build())
        cl->flags |= FZ_CLAIM_USABLE_EXACT;
    cl->min_align = HL_ALIGNMENT;
    cl->max_bytes = cfg->max_bytes;
    if (cfg->source == HL_SOURCE_BUFFER) {
        cl->large_threshold = SIZE_MAX;   /* a buffer heap never maps */
        cl->grow_size = 0;
        cl->max_bytes = 0;                /* nor grows: the whole buffer is its source, whatever the cap */
    } else {
        cl->large_threshold = cfg->mmap_threshold ? cfg->mmap_threshold : HL_MMAP_THRESHOLD_DEFAULT;
        cl->grow_size = cfg->grow_size ? cfg->grow_size : HL_GROW_SIZE_DEFAULT;
    }
}

static void *hla_create(const fz_config *c, const fz_hooks *hooks, fz_claims *cl, const char **why)
{
    hl_config cfg = to_hl_config(c);
    const char *err = hl_config_error(&cfg);
    if (err) {
        *why = err;
        return NULL;
    }
    fz_heaplab_errors_forward(hooks);
    hl_heap *h = hl_heap_create(&cfg);
    if (!h) {
        *why = "hl_heap_create failed";
        return NULL;
    }
    fill_claims(&cfg, cl);
    return h;
}

static void hla_destroy(void *h)
{
    hl_heap_destroy(h);
    fz_heaplab_errors_stop();
}

static void *hla_malloc(void *h, size_t n) { return hl_heap_malloc(h, n); }
static void hla_free(void *h, void *p) { hl_heap_free(h, p); }
static void *hla_realloc(void *h, void *p, size_t n) { return hl_heap_realloc(h, p, n); }
static void *hla_calloc(void *h, size_t c, size_t s) { return hl_heap_calloc(h, c, s); }
static void *hla_aligned(void *h, size_t a, size_t n) { return hl_heap_aligned_alloc(h, a, n); }
static size_t hla_usable(void *h, const void *p) { return hl_heap_usable_size(h, p); }
static void hla_reset(void *h) { hl_heap_reset(h); }
static void hla_fail(void *h, unsigned skip, unsigned count) { hl_heap_fail_source(h, skip, count); }
static void hla_dump(void *h, FILE *out) { hl_heap_dump(h, out); }

static int hla_check(void *h, char *msg, size_t len, FILE *out)
{
    hl_check_report rep;
    int id = hl_heap_check(h, &rep);
    if (id == 0)
        return 0;
    snprintf(msg, len, "invariant %s: %s", rep.invariant ? rep.invariant : "?", rep.message);
    if (out)
        hl_check_report_print(&rep, out);
    return id;
}

static void hla_stats(void *h, fz_stats *st)
{
    hl_stats s;
    hl_heap_stats(h, &s);
    *st = (fz_stats){
        .bytes_in_use = s.bytes_in_use, .blocks_in_use = s.blocks_in_use,
        .bytes_free = s.bytes_free, .blocks_free = s.blocks_free,
        .source_bytes = s.source_bytes,
    };
}

struct walk_bridge { fz_walk_fn fn; void *ctx; };

static int walk_one(const hl_walk_info *w, void *ctx)
{
    const struct walk_bridge *b = ctx;
    static const fz_walk_kind kinds[] = { FZ_WALK_REGION, FZ_WALK_BLOCK, FZ_WALK_LARGE };
    fz_walk_info info = {
        .kind = kinds[w->kind], .start = w->start, .size = w->size, .payload = w->payload,
        .usable = w->usable, .requested = w->requested, .used = w->used != 0,
    };
    return b->fn(&info, b->ctx);
}

static int hla_walk(void *h, fz_walk_fn fn, void *ctx)
{
    struct walk_bridge b = { fn, ctx };
    return hl_heap_walk(h, walk_one, &b);
}

const fz_adapter fz_adapter_heaplab = {
    .version = FZ_ADAPTER_VERSION,
    .name = "heaplab",
    .create = hla_create, .destroy = hla_destroy,
    .malloc = hla_malloc, .free = hla_free, .realloc = hla_realloc, .calloc = hla_calloc,
    .aligned_alloc = hla_aligned, .usable_size = hla_usable, .check = hla_check,
    .stats = hla_stats, .reset = hla_reset, .walk = hla_walk, .owns = NULL,
    .fail_source = hla_fail, .dump = hla_dump,
};
