/*
 * alloc.c - malloc, calloc, aligned_alloc, realloc, free and usable_size on an
 * explicit heap.
 *
 * Each public function counts itself, does its work through the internal
 * paths (which count nothing, so realloc's inner malloc is not a malloc),
 * traces one line, and in checked builds ends with the full heap check.
 */
#include "hl_core.h"

static void *fail(hl_heap *h, int err) {
    h->st.failures++;
    errno = err;
    return NULL;
}

/* The policy's block for `size` bytes, or a new region's. */
static hl_block *find_or_grow(hl_heap *h, size_t size) {
    hl_block *b = hl__policy_find(h, size);
    return b ? b : hl__grow(h, size);
}

static void *region_alloc(hl_heap *h, size_t n, size_t size) {
    hl_block *b = find_or_grow(h, size);
    if (!b) return NULL;
    hl__list_remove(h, b);
    return hl__use_block(h, b, size, n);
}

/* Places a block for n bytes at an `align` boundary inside a free block big
 * enough for any placement; the gap in front becomes a free block. */
static void *region_alloc_aligned(hl_heap *h, size_t n, size_t size, size_t align) {
    size_t search = size + align + HL_MIN_BLOCK;
    hl_block *b = find_or_grow(h, search);
    if (!b) return NULL;
    hl__list_remove(h, b);
    char *payload = hl_block_payload(b);
    char *want = (char *)hl__round_up((uintptr_t)payload, align);
    if (want != payload && (size_t)(want - payload) < HL_MIN_BLOCK) want += align;
    size_t gap = (size_t)(want - payload), have = hl_block_size(b);
    if (gap) {
        /* b's predecessor is used (the heap is coalesced), so the gap stands alone */
        hl__set_free(h, b, gap);
        hl__list_insert(h, b);
        hl_block *rest = hl_payload_block(want);
        hl__set_free(h, rest, have - gap);
        h->st.blocks_free++;   /* hl__use_block takes one back for rest */
        h->st.splits++;
        HL_TRACE(h, "split %p (%zu) -> gap %zu + %zu for alignment %zu", (void *)b, have, gap, have - gap, align);
        b = rest;
    }
    return hl__use_block(h, b, size, n);
}

void *hl__alloc(hl_heap *h, size_t n, size_t align) {
    if (n > HL_MAX_REQUEST || align > HL_MAX_ALIGN) return fail(h, ENOMEM);
    void *p;
    if (hl__wants_large(h, n)) {
        p = hl__large_alloc(h, n, align);
    } else {
        size_t size = hl__block_size_for(n);
        if (!size) return fail(h, ENOMEM);
        p = align <= HL_ALIGN ? region_alloc(h, n, size) : region_alloc_aligned(h, n, size, align);
    }
    return p ? p : fail(h, ENOMEM);
}

bool hl__free(hl_heap *h, hl_block *b) {
    if (hl_block_large(b)) {
        hl__large_free(h, b);
        return true;
    }
    return hl__release_block(h, hl__region_of(h, b), b);
}

/* Frees a caller's block and tells memcheck and ASan: after the free for a
 * region block (a free refused over a corrupted neighbour leaves the block
 * live), before it for a large one (whose memory is about to be unmapped, and
 * must not stay poisoned for whoever maps that address next). */
static void release(hl_heap *h, hl_block *b) {
    void *p = hl_block_payload(b);
    size_t visible = hl__visible(b);
    if (hl_block_large(b)) {
        hl_track_free(p, visible);
        hl__free(h, b);
    } else if (hl__free(h, b)) {
        hl_track_free(p, visible);
    }
}

/* The used block p names, or NULL after a report: hl__resolve, and a block in
 * its thread's cache is as freed as a free one. */
static hl_block *resolve(hl_heap *h, const void *p, const char *op) {
    hl_block *b = hl__resolve(h, p, op);
    if (b && (b->size_flags & HL_CACHED)) {
        hl__report(h, HL_ERR_DOUBLE_FREE, op, p, NULL,
                   "%s(): double free of %p: the block is already free (in its thread's cache)", op, p);
        return NULL;
    }
    return b;
}

/* --- the public functions ------------------------------------------------------- */
#define REQUIRE_HEAP(h, ret)                \
    do {                                    \
        if (!hl__heap_ok(h)) {              \
            errno = EINVAL;                 \
            return ret;                     \
        }                                   \
    } while (0)

/* The caller's new block: what memcheck and MSan should believe of it. */
static void *handed_out(void *p, int zeroed) {
    if (p) hl_track_alloc(p, hl__visible(hl_payload_block(p)), zeroed);
    return p;
}

void *hl_heap_malloc(hl_heap *h, size_t n) {
    REQUIRE_HEAP(h, NULL);
    hl_track_enter();
    h->st.mallocs++;
    void *p = handed_out(hl__alloc(h, n, HL_ALIGN), 0);
    HL_TRACE(h, "malloc(%zu) = %p", n, p);
    HL_AFTER(h, "malloc");
    hl_track_leave();
    return p;
}

void *hl_heap_calloc(hl_heap *h, size_t count, size_t size) {
    REQUIRE_HEAP(h, NULL);
    hl_track_enter();
    h->st.callocs++;
    size_t n;
    void *p = NULL;
    if (__builtin_mul_overflow(count, size, &n)) {
        fail(h, ENOMEM);
    } else if ((p = handed_out(hl__alloc(h, n, HL_ALIGN), 1)) != NULL) {
        memset(p, 0, hl__visible(hl_payload_block(p)));
    }
    HL_TRACE(h, "calloc(%zu, %zu) = %p", count, size, p);
    HL_AFTER(h, "calloc");
    hl_track_leave();
    return p;
}

void *hl_heap_aligned_alloc(hl_heap *h, size_t align, size_t n) {
    REQUIRE_HEAP(h, NULL);
    hl_track_enter();
    h->st.aligned_allocs++;
    void *p = NULL;
    if (align == 0 || (align & (align - 1))) fail(h, EINVAL);
    else p = handed_out(hl__alloc(h, n, align < HL_ALIGN ? HL_ALIGN : align), 0);
    HL_TRACE(h, "aligned_alloc(%zu, %zu) = %p", align, n, p);
    HL_AFTER(h, "aligned_alloc");
    hl_track_leave();
    return p;
}

void hl_heap_free(hl_heap *h, void *p) {
    if (!p) return;
    REQUIRE_HEAP(h, );
    hl_track_enter();
    h->st.frees++;
    hl_block *b = resolve(h, p, "free");
    if (b) release(h, b);
    HL_TRACE(h, "free(%p)%s", p, b ? "" : " refused");
    HL_AFTER(h, "free");
    hl_track_leave();
}

size_t hl_heap_usable_size(const hl_heap *ch, const void *p) {
    hl_heap *h = (hl_heap *)ch;   /* a misuse report counts itself in h->st */
    if (!p || !hl__heap_ok(h)) return 0;
    hl_track_enter();
    hl_block *b = resolve(h, p, "usable_size");
    size_t n = b ? hl__visible(b) : 0;
    hl_track_leave();
    return n;
}

/* --- realloc ------------------------------------------------------------------------ */
static size_t requested(const hl_block *b) { return hl_block_usable(b) - b->slack; }

/* Gives the tail of used block b beyond `size` back to the free lists. */
static void shrink_in_place(hl_heap *h, hl_region *r, hl_block *b, size_t size, size_t n) {
    size_t have = hl_block_size(b), old = requested(b);
    h->st.bytes_in_use += n - old;
    if (have - size < HL_MIN_BLOCK) {
        hl__set_used(h, b, have, 0, n);
        return;
    }
    hl__set_used(h, b, size, 0, n);
    hl_block *tail = hl_block_next(b);
    hl__set_used(h, tail, have - size, 0, 0);
    h->st.blocks_in_use++;   /* hl__release_block counts it back out */
    h->st.splits++;
    HL_TRACE(h, "split %p (%zu) -> %zu + tail %zu", (void *)b, have, size, have - size);
    hl__release_block(h, r, tail);
}

/* Grows b into its free successor; false if that cannot hold `size`, with
 * *corrupt set if the successor's header or links were overwritten. */
static bool grow_in_place(hl_heap *h, hl_region *r, hl_block *b, size_t size, size_t n, bool *corrupt) {
    hl_block *next = hl__free_successor(h, r, b, corrupt);
    size_t have = hl_block_size(b);
    if (!next || have + hl_block_size(next) < size) return false;
    size_t total = have + hl_block_size(next);
    hl__list_remove(h, next);
    h->st.blocks_free--;
    h->st.bytes_free -= hl_block_size(next);
    h->st.merges++;
    HL_TRACE(h, "merge %p + next %p -> %zu (realloc)", (void *)b, (void *)next, total);
    next->size_flags = 0;
    next->check = 0;
    hl__set_used(h, b, total, 0, requested(b));
    shrink_in_place(h, r, b, size, n);
    return true;
}

/* *tracked: the tools were told of the new block already (a resized mapping). */
static void *realloc_block(hl_heap *h, hl_block *b, size_t n, bool *tracked) {
    void *p = hl_block_payload(b);
    size_t old = requested(b);
    if (hl_block_large(b)) {
        bool refused = false;
        void *q = hl__wants_large(h, n) ? hl__large_resize(h, b, n, &refused) : NULL;
        if (q) {
            *tracked = true;
            return q;
        }
        if (refused) return fail(h, ENOMEM);   /* the old block is untouched */
    } else if (!hl__wants_large(h, n)) {
        hl_region *r = hl__region_of(h, b);
        size_t size = hl__block_size_for(n);
        if (size && size <= hl_block_size(b)) {
            shrink_in_place(h, r, b, size, n);
            return p;
        }
        bool corrupt = false;
        if (size && grow_in_place(h, r, b, size, n, &corrupt)) return p;
        if (corrupt) {
            hl__report(h, HL_ERR_CORRUPTED_BLOCK, "realloc", p, NULL,
                       "realloc(): corrupted next neighbour of %p: its header, footer or links were overwritten", p);
            errno = EINVAL;
            return NULL;
        }
    }
    void *q = handed_out(hl__alloc(h, n, HL_ALIGN), 0);
    if (!q) return NULL;   /* the old block is untouched */
    memcpy(q, p, old < n ? old : n);
    release(h, b);
    return q;
}

void *hl_heap_realloc(hl_heap *h, void *p, size_t n) {
    REQUIRE_HEAP(h, NULL);
    hl_track_enter();
    h->st.reallocs++;
    void *q;
    if (!p) {
        q = handed_out(hl__alloc(h, n, HL_ALIGN), 0);
    } else {
        hl_block *b = resolve(h, p, "realloc");
        if (!b) {
            errno = EINVAL;
            q = NULL;
        } else if (n > HL_MAX_REQUEST) {
            q = fail(h, ENOMEM);
        } else {
            size_t was = hl__visible(b);
            bool tracked = false;
            q = realloc_block(h, b, n, &tracked);
            if (q == p && !tracked) hl_track_resize(p, was, hl__visible(b));
        }
    }
    HL_TRACE(h, "realloc(%p, %zu) = %p", p, n, q);
    HL_AFTER(h, "realloc");
    hl_track_leave();
    return q;
}
