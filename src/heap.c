/*
 * heap.c - creating, resetting and destroying explicit heaps.
 *
 * A buffer heap keeps its hl_heap at the start of the caller's buffer and one
 * region in the rest, so it needs nothing from the system.  mmap and sbrk
 * heaps keep their hl_heap in a small mapping of its own (never in the break,
 * so that releasing sbrk regions never strands it) and take regions lazily,
 * on the first request that does not fit.
 */
#include "hl_core.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

int hl_checked_build(void) { return HL_CHECKED; }

/* One random secret per process; each heap's cookie mixes in its address. */
static uint64_t process_secret(void) {
    static _Atomic uint64_t secret;
    uint64_t s = atomic_load_explicit(&secret, memory_order_relaxed);
    if (s) return s;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s)
        s = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)&secret;
    s |= 1;
    uint64_t expected = 0;
    atomic_compare_exchange_strong(&secret, &expected, s);
    return atomic_load(&secret);
}

/* A fresh key for every heap and every reset: the check words of blocks that
 * no longer exist (a reset heap, an earlier heap on the same buffer) stop
 * matching all at once, so a stale pointer into the old blocks is reported
 * instead of passing for a live block. */
static uint64_t new_cookie(const hl_heap *h) {
    static _Atomic uint64_t generation;
    uint64_t g = atomic_fetch_add_explicit(&generation, 1, memory_order_relaxed);
    return process_secret() ^ ((uint64_t)(uintptr_t)h * 0xff51afd7ed558ccdull) ^ (g * 0x9E3779B97F4A7C15ull);
}

static size_t heap_struct_size(hl_policy policy) {
    size_t lists = policy == HL_SEGREGATED_FIT ? HL_TLSF_LISTS : 1;
    return hl__round_up(sizeof(hl_heap) + lists * sizeof(hl_block *), HL_ALIGN);
}

static size_t region_min(void) { return sizeof(hl_region) + HL_MIN_BLOCK + HL_EPILOGUE; }

/* The buffer a buffer heap will use, aligned inward.  Only for a buffer
 * hl_config_error has let through (at least HL_BUFFER_MIN bytes, not
 * wrapping), so aligning both ends inward leaves bytes between them. */
static char *buffer_span(const hl_config *c, size_t *size) {
    uintptr_t lo = hl__round_up((uintptr_t)c->buffer, HL_ALIGN);
    uintptr_t hi = ((uintptr_t)c->buffer + c->buffer_size) & ~(uintptr_t)(HL_ALIGN - 1);
    *size = hi - lo;
    return (char *)lo;
}

const char *hl_config_error(const hl_config *c) {
    if (!c) return NULL;
    if ((unsigned)c->policy > HL_BEST_FIT) return "unknown policy (use HL_SEGREGATED_FIT, HL_FIRST_FIT or HL_BEST_FIT)";
    if ((unsigned)c->source > HL_SOURCE_SBRK) return "unknown source (use HL_SOURCE_MMAP, HL_SOURCE_BUFFER or HL_SOURCE_SBRK)";
    if (c->source != HL_SOURCE_BUFFER) return NULL;
    if (!c->buffer) return "HL_SOURCE_BUFFER needs a buffer (cfg.buffer is NULL)";
    if (c->buffer_size < HL_BUFFER_MIN) return "the buffer is smaller than HL_BUFFER_MIN (8192 bytes)";
    if ((uintptr_t)c->buffer + c->buffer_size < (uintptr_t)c->buffer) return "the buffer wraps around the address space";
    size_t span;
    buffer_span(c, &span);
    if (span < heap_struct_size(c->policy) + region_min()) return "the buffer is too small for the heap's header and one block";
    return NULL;
}

static void fill_defaults(hl_config *c) {
    size_t page = hl__page_size();
    if (!c->grow_size) c->grow_size = HL_GROW_SIZE_DEFAULT;
    if (c->grow_size > HL_MAX_REGION) c->grow_size = HL_MAX_REGION;
    c->grow_size = hl__round_up(c->grow_size, page);
    if (!c->mmap_threshold) c->mmap_threshold = HL_MMAP_THRESHOLD_DEFAULT;
}

/* Everything but the regions and large mappings: the heap as new. */
static void init_state(hl_heap *h) {
    memset(&h->st, 0, sizeof h->st);
    h->regions = NULL;
    h->hot = NULL;
    h->large = NULL;
    h->lcache = NULL;
    h->large_clock = 0;
    h->fail_skip = h->fail_count = 0;
    memset(h->recent_large, 0, sizeof h->recent_large);
    h->recent_large_next = 0;
    h->fl_bitmap = 0;
    memset(h->sl_bitmap, 0, sizeof h->sl_bitmap);
    memset(h->lists, 0, h->nlists * sizeof h->lists[0]);
    uint32_t cache_on = h->cache.enabled;
    memset(&h->cache, 0, sizeof h->cache);
    h->cache.enabled = cache_on;
}

static void add_buffer_region(hl_heap *h) {
    size_t span;
    char *lo = buffer_span(&h->cfg, &span);
    char *region = lo + h->heap_bytes;
    size_t size = span - h->heap_bytes;
    if (size > HL_MAX_REGION) size = HL_MAX_REGION;
    hl__region_init(h, region, size, region, size);
}

hl_heap *hl_heap_create(const hl_config *cfg) {
    hl_config c = cfg ? *cfg : (hl_config){0};
    if (hl_config_error(&c)) {
        errno = EINVAL;
        return NULL;
    }
    fill_defaults(&c);
    hl__trace_init();
    size_t bytes = heap_struct_size(c.policy);
    hl_heap *h;
    if (c.source == HL_SOURCE_BUFFER) {
        size_t span;
        h = (hl_heap *)buffer_span(&c, &span);
    } else {
        bytes = hl__round_up(bytes, hl__page_size());
        h = hl__map(bytes);
        if (!h) {
            errno = ENOMEM;
            return NULL;
        }
    }
    /* a buffer heap's header lands on whatever the caller's buffer held */
    memset(h, 0, heap_struct_size(c.policy));
    h->magic = HL_HEAP_MAGIC ^ (uint64_t)(uintptr_t)h;
    h->cookie = new_cookie(h);
    h->cfg = c;
    h->heap_bytes = bytes;
    h->nlists = c.policy == HL_SEGREGATED_FIT ? HL_TLSF_LISTS : 1;
    init_state(h);
    hl_track_enter();
    if (c.source == HL_SOURCE_BUFFER) add_buffer_region(h);
    hl_track_leave();
    HL_TRACE(h, "create policy %d source %d grow %zu cap %zu threshold %zu",
             (int)c.policy, (int)c.source, c.grow_size, c.max_bytes, c.mmap_threshold);
    return h;
}

/* Every live block dies with a reset or a destroy: memcheck must hear of it,
 * or it would report them all as leaked. */
static int forget_block(const hl_walk_info *w, void *ctx) {
    (void)ctx;
    if (w->kind == HL_WALK_LARGE || (w->kind == HL_WALK_BLOCK && w->used))
        hl_track_free(w->payload, HL_CHECKED ? w->requested : w->usable);
    return 0;
}

static void forget_live_blocks(hl_heap *h) {
    if (hl_track_active() || HL_ASAN_POISON) hl_heap_walk(h, forget_block, NULL);
}

void hl_heap_reset(hl_heap *h) {
    if (!hl__heap_ok(h)) return;
    forget_live_blocks(h);
    hl_track_enter();
    hl__release_large(h);
    hl__release_regions(h);
    init_state(h);
    h->cookie = new_cookie(h);
    if (h->cfg.source == HL_SOURCE_BUFFER) add_buffer_region(h);
    HL_TRACE(h, "reset");
    HL_AFTER(h, "reset");
    hl_track_leave();
}

void hl_heap_destroy(hl_heap *h) {
    if (!hl__heap_ok(h)) return;
    HL_TRACE(h, "destroy");
    forget_live_blocks(h);
    hl_track_enter();
    hl__release_large(h);
    hl__release_regions(h);
    h->magic = 0;   /* a destroyed heap is no heap: later calls are refused */
    hl_track_leave();
    if (h->cfg.source != HL_SOURCE_BUFFER) {
        hl__unmap(h, h->heap_bytes);
    } else {
        hl_track_defined(h->cfg.buffer, h->cfg.buffer_size);   /* the caller's again */
    }
}
