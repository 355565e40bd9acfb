/*
 * inspect.c - what a person or a tool can see of a heap: its statistics, the
 * walk over regions, blocks and mappings, and the text dump.
 *
 * The walk validates each header before it steps over it, so it stops with -1
 * on a corrupted heap instead of wandering; the checker in invariants/ is the
 * place that says what is wrong.
 */
#include "hl_core.h"

void hl_heap_stats(const hl_heap *h, hl_stats *st) {
    if (!hl__heap_ok(h)) {
        memset(st, 0, sizeof *st);
        return;
    }
    *st = h->st;
    /* blocks in the thread cache are free to the caller, in use to the heap */
    st->blocks_in_use -= hl__cache_blocks(h);
    st->bytes_in_use += h->cache.bytes_delta;
    st->mallocs += h->cache.mallocs;
    st->callocs += h->cache.callocs;
    st->frees += h->cache.frees;
    hl_track_enter();
    st->largest_free = hl__largest_free(h);
    hl_track_leave();
}

/* The walk reads metadata with memcheck's reporting off, and calls back into
 * the caller's code with it on. */
static int call(hl_walk_fn fn, const hl_walk_info *info, void *ctx) {
    hl_track_leave();
    int rc = fn(info, ctx);
    hl_track_enter();
    return rc;
}

static int walk_region(const hl_heap *h, const hl_region *r, hl_walk_fn fn, void *ctx) {
    hl_walk_info info = { HL_WALK_REGION, r, r->size, NULL, 0, 0, 0 };
    int rc = call(fn, &info, ctx);
    if (rc) return rc;
    const hl_block *epi = hl_region_epilogue(r);
    size_t limit = r->size / HL_MIN_BLOCK + 1;
    for (const hl_block *b = hl_region_first(r); b != epi; b = hl_block_next(b)) {
        if (!limit-- || b > epi || !hl__header_ok(h, b) || hl_block_size(b) < HL_MIN_BLOCK) return -1;
        bool used = hl_block_used(b);
        hl_walk_info bi = { HL_WALK_BLOCK, b, hl_block_size(b), hl_block_payload(b), hl_block_usable(b),
                            used ? hl_block_usable(b) - b->slack : 0, used };
        if ((rc = call(fn, &bi, ctx)) != 0) return rc;
    }
    return 0;
}

static int walk(const hl_heap *h, hl_walk_fn fn, void *ctx);

int hl_heap_walk(const hl_heap *h, hl_walk_fn fn, void *ctx) {
    if (!hl__heap_ok(h)) return -1;
    hl_track_enter();
    int rc = walk(h, fn, ctx);
    hl_track_leave();
    return rc;
}

static int walk(const hl_heap *h, hl_walk_fn fn, void *ctx) {
    size_t limit = h->st.regions + 1;
    int rc;
    for (const hl_region *r = h->regions; r; r = r->next) {
        if (!limit-- || r->seal != hl_region_seal(h->cookie, r)) return -1;
        if ((rc = walk_region(h, r, fn, ctx)) != 0) return rc;
    }
    limit = h->st.large_blocks + 1;
    for (const hl_large *l = h->large; l; l = l->next) {
        if (!limit-- || l->seal != hl_large_seal(h->cookie, l)) return -1;
        const hl_block *b = hl_large_block(l);
        if (!hl__header_ok(h, b)) return -1;
        hl_walk_info li = { HL_WALK_LARGE, l->base, l->map_size, hl_block_payload(b), hl_block_usable(b),
                            hl_block_usable(b) - b->slack, 1 };
        if ((rc = call(fn, &li, ctx)) != 0) return rc;
    }
    return 0;
}

/* --- the dump ------------------------------------------------------------------------ */
static const char *policy_name(hl_policy p) {
    return p == HL_FIRST_FIT ? "first-fit" : p == HL_BEST_FIT ? "best-fit" : "segregated-fit";
}
static const char *source_name(hl_source s) {
    return s == HL_SOURCE_BUFFER ? "buffer" : s == HL_SOURCE_SBRK ? "sbrk" : "mmap";
}

typedef struct dump_ctx {
    FILE *out;
    const hl_heap *h;
    const void *region;
} dump_ctx;

static int dump_one(const hl_walk_info *w, void *vctx) {
    dump_ctx *d = vctx;
    switch (w->kind) {
    case HL_WALK_REGION:
        d->region = w->start;
        fprintf(d->out, "region %p: %zu bytes\n", w->start, w->size);
        break;
    case HL_WALK_BLOCK:
        if (w->used)
            fprintf(d->out, "  +0x%06zx  used  %8zu B  payload %p  requested %zu\n",
                    (size_t)((const char *)w->start - (const char *)d->region), w->size, w->payload, w->requested);
        else
            fprintf(d->out, "  +0x%06zx  free  %8zu B  payload %p  list %zu\n",
                    (size_t)((const char *)w->start - (const char *)d->region), w->size, w->payload,
                    hl__list_index(d->h, w->size));
        break;
    case HL_WALK_LARGE:
        fprintf(d->out, "large mapping %p: %zu bytes, payload %p, requested %zu\n",
                w->start, w->size, w->payload, w->requested);
        break;
    }
    return 0;
}

static void dump_lists(const hl_heap *h, FILE *out) {
    fprintf(out, "free lists:\n");
    for (size_t i = 0; i < h->nlists; i++) {
        const hl_block *b = h->lists[i];
        if (!b) continue;
        if (h->nlists > 1) fprintf(out, "  [%zu] fl %zu sl %zu:", i, i / HL_SL_COUNT, i % HL_SL_COUNT);
        else fprintf(out, "  [0]:");
        size_t limit = h->st.blocks_free + 1;
        for (; b && limit--; b = b->next_free) {
            if (!hl__region_of(h, b) || !hl__header_ok(h, b)) {
                fprintf(out, " %p (corrupted: run hl_heap_check)", (const void *)b);
                break;
            }
            fprintf(out, " %p (%zu)", (const void *)b, hl_block_size(b));
        }
        fputc('\n', out);
    }
    if (h->nlists > 1) fprintf(out, "  bitmap fl 0x%llx\n", (unsigned long long)h->fl_bitmap);
}

void hl_heap_dump(const hl_heap *h, FILE *out) {
    if (!hl__heap_ok(h)) {
        fprintf(out, "heaplab: %p is not a live heap\n", (const void *)h);
        return;
    }
    hl_stats st;
    hl_heap_stats(h, &st);
    const hl_stats *s = &st;
    fprintf(out, "heaplab heap %p: %s on %s; %zu regions (%zu B), %zu large (%zu B)\n",
            (const void *)h, policy_name(h->cfg.policy), source_name(h->cfg.source),
            s->regions, s->region_bytes, s->large_blocks, s->large_bytes);
    fprintf(out, "  in use: %zu blocks, %zu B requested; free: %zu blocks, %zu B, largest %zu B usable\n",
            s->blocks_in_use, s->bytes_in_use, s->blocks_free, s->bytes_free, s->largest_free);
    dump_ctx d = { out, h, NULL };
    if (hl_heap_walk(h, dump_one, &d) < 0) fprintf(out, "  (walk stopped at a corrupted block: run hl_heap_check)\n");
    hl_track_enter();
    dump_lists(h, out);
    hl_track_leave();
}
