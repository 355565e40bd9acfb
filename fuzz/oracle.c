/*
 * oracle.c - the shadow model and its rules (the list is in oracle.h).
 *
 * Each operation handler calls the allocator through the adapter, then checks
 * what came back against the model before updating it.  violation() records
 * the first broken rule; handlers stop as soon as o->failed is set, because
 * after a broken rule the heap may be anything.
 */
#include "oracle.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_DISABLE_ERROR_REPORTING
#define VALGRIND_DISABLE_ERROR_REPORTING ((void)0)
#define VALGRIND_ENABLE_ERROR_REPORTING ((void)0)
#endif
#include "heapwalk.h"
#include "pattern.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Harness limits: requests a heap with no small cap would really have to
 * serve are kept under these (larger ones are skipped), so one input cannot
 * take gigabytes.  Requests above PTRDIFF_MAX must fail everywhere (no object
 * may be that large) and are always issued. */
#define FZ_REQUEST_BUDGET ((size_t)64 << 20)
#define FZ_LIVE_BUDGET ((size_t)256 << 20)
#define FZ_HOPELESS ((size_t)PTRDIFF_MAX + 1)

/* The memory buffer-source heaps live in (the largest header choice). */
static _Alignas(64) unsigned char heap_buffer[4u << 20];
/* What foreign_free static passes (never inside heap_buffer). */
static _Alignas(16) unsigned char foreign_static[64];

const fz_oracle *volatile fz_oracle_running;

static void violation(fz_oracle *o, const char *rule, const void *addr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void violation(fz_oracle *o, const char *rule, const void *addr, const char *fmt, ...)
{
    if (o->failed)
        return;
    o->failed = true;
    o->v.op_index = o->op_index;
    if (o->op)
        fz_op_format(o->op, o->v.op_text, sizeof o->v.op_text);
    else
        snprintf(o->v.op_text, sizeof o->v.op_text, "end of input");
    o->v.rule = rule;
    o->v.addr = addr;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->v.details, sizeof o->v.details, fmt, ap);
    va_end(ap);
}

static void note(fz_oracle *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(fz_oracle *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->note, sizeof o->note, fmt, ap);
    va_end(ap);
}

static bool claims(const fz_oracle *o, unsigned flag) { return (o->claims.flags & flag) != 0; }

/* --- errors the allocator reports ---------------------------------------------------- */
static const char *kind_name(fz_error_kind k)
{
    static const char *const names[] = { "none", "double-free", "invalid-pointer", "corrupted-block",
                                         "invariant", "other" };
    return k <= FZ_ERR_OTHER ? names[k] : "?";
}

static void capture_report(fz_oracle *o, const fz_error *e)
{
    if (!e->print_report)
        return;
    FILE *f = fmemopen(o->v.report, sizeof o->v.report, "w");
    if (!f)
        return;
    e->print_report(e->report, f);
    fclose(f);
}

static void on_error(void *ctx, const fz_error *e)
{
    fz_oracle *o = ctx;
    if (o->expect != FZ_ERR_NONE && o->expect_hits == 0
        && (e->kind == o->expect || (o->expect_also != FZ_ERR_NONE && e->kind == o->expect_also))) {
        o->expect_hits++;
        return;
    }
    if (o->failed)
        return;
    const char *rule = e->kind == FZ_ERR_INVARIANT ? "checker"
                     : o->expect != FZ_ERR_NONE ? "misuse-kind" : "unexpected-error";
    capture_report(o, e);
    violation(o, rule, e->ptr, "%s reported %s%s%s: %s", e->operation ? e->operation : "allocator",
              kind_name(e->kind), o->expect != FZ_ERR_NONE ? ", expected " : "",
              o->expect != FZ_ERR_NONE ? kind_name(o->expect) : "", e->message ? e->message : "");
}

/* --- the model -------------------------------------------------------------------------- */
static uint64_t slot_seed(const fz_oracle *o, const fz_slot *s)
{
    return fz_pattern_seed((unsigned)(s - o->slots), s->gen);
}

static bool verify_block(fz_oracle *o, const fz_slot *s, const char *when)
{
    size_t bad = fz_pattern_mismatch(s->p, s->usable, slot_seed(o, s));
    if (bad == SIZE_MAX)
        return true;
    violation(o, "contents", s->p + bad,
              "%s: slot %u (%zu bytes at %p, gen %u) byte %zu is 0x%02x, expected 0x%02x", when,
              (unsigned)(s - o->slots), s->usable, (void *)s->p, s->gen, bad, s->p[bad],
              fz_pattern_byte(slot_seed(o, s), bad));
    return false;
}

static void sweep(fz_oracle *o, const char *when)
{
    for (unsigned i = 0; i < FZ_SLOTS && !o->failed; i++)
        if (o->slots[i].p)
            verify_block(o, &o->slots[i], when);
}

static void fill_block(fz_oracle *o, fz_slot *s)
{
    s->gen++;
    fz_pattern_fill(s->p, s->usable, slot_seed(o, s));
}

static void remember_large_free(fz_oracle *o, const void *p)
{
    o->recent[o->recent_next] = p;
    o->recent_next = (o->recent_next + 1) % FZ_KNOWN_LARGE;
    if (o->recent_count < FZ_KNOWN_LARGE)
        o->recent_count++;
}

/* q was the payload of one of the last `window` large frees. */
static bool recently_freed_large(const fz_oracle *o, const void *q, unsigned window)
{
    for (unsigned j = 0; j < o->recent_count && j < window; j++)
        if (o->recent[(o->recent_next + FZ_KNOWN_LARGE - 1 - j) % FZ_KNOWN_LARGE] == q)
            return true;
    return false;
}

/* The model forgets a live block (freed, or moved by realloc). */
static void forget(fz_oracle *o, fz_slot *s)
{
    o->live_blocks--;
    o->live_bytes -= s->n;
    if (s->large)
        remember_large_free(o, s->p);
    else
        o->small_live -= s->n;
    s->stale = s->p;
    s->p = NULL;
}

static void take_stats(const fz_oracle *o, fz_stats *st)
{
    memset(st, 0, sizeof *st);
    if (o->ad->stats)
        o->ad->stats(o->heap, st);
}

/* Frees a live block the normal way, after checking its contents. */
static void release(fz_oracle *o, fz_slot *s)
{
    if (!s->p || !verify_block(o, s, "before free"))
        return;
    o->ad->free(o->heap, s->p);
    forget(o, s);
}

static bool over_budget(const fz_oracle *o, size_t need)
{
    if (need >= FZ_HOPELESS)
        return false;
    bool bounded = (o->cfg.source == FZ_SOURCE_BUFFER && !claims(o, FZ_CLAIM_OWN_CONFIG))
                || (o->claims.max_bytes && o->claims.max_bytes <= FZ_REQUEST_BUDGET);
    return !bounded && (need > FZ_REQUEST_BUDGET || o->live_bytes + need > FZ_LIVE_BUDGET);
}

/* FZ_CLAIM max_request: sizes the allocator's API cannot take are never passed. */
static bool excluded(const fz_oracle *o, size_t n)
{
    return o->claims.max_request && n > o->claims.max_request;
}

/* --- rules for a returned pointer ------------------------------------------------------- */
/* claims.large_threshold (0 and SIZE_MAX make no claim): a block for n bytes
 * lies in a mapping of its own exactly when n >= the threshold, whichever call
 * made it.  heaplab decides on n alone: aligned_alloc maps a large n whatever
 * the alignment; realloc keeps a large block in its mapping only while n stays
 * at or above the threshold, and moves a region block that grows to it. */
static void check_threshold(fz_oracle *o, const fz_slot *s, bool large)
{
    size_t thr = o->claims.large_threshold;
    if (thr == 0 || thr == SIZE_MAX || large == (s->n >= thr))
        return;
    violation(o, "large-threshold", s->p, "%p (%zu bytes) is %s, but the large threshold is %zu: "
              "requests %s it get %s", (void *)s->p, s->n, large ? "a large mapping" : "in a region", thr,
              large ? "below" : "at or above", large ? "a region block" : "a mapping of their own");
}

static void check_placement(fz_oracle *o, const fz_slot *s, size_t *extent, bool *large)
{
    fz_where w;
    fz_where_is(o->ad, o->heap, s->p, s->usable, &w);
    *extent = s->usable;
    *large = false;
    if (w.status == -1) {
        violation(o, "walk", s->p, "the heap cannot be walked after returning %p", (void *)s->p);
        return;
    }
    if (w.status == -2) {
        if (o->ad->owns && !o->ad->owns(o->heap, s->p, s->usable))
            violation(o, "inside", s->p, "%p (%zu bytes) is not inside the heap", (void *)s->p, s->usable);
        return;
    }
    if (!w.in_region && !w.in_large) {
        violation(o, "inside", s->p, "%p + %zu lies in no region or large mapping", (void *)s->p, s->usable);
        return;
    }
    if (!w.found || w.block.payload != s->p || !w.block.used || w.block.usable < s->usable) {
        violation(o, "inside", s->p, "%p is not the payload of a used block of at least %zu bytes "
                  "(walk: %s block at %p, payload %p, usable %zu)", (void *)s->p, s->usable,
                  !w.found ? "no" : w.block.used ? "used" : "free", w.block.start, w.block.payload,
                  w.block.usable);
        return;
    }
    *extent = w.block.usable;
    *large = w.block.kind == FZ_WALK_LARGE;
    check_threshold(o, s, *large);
}

static void check_overlap(fz_oracle *o, const fz_slot *s)
{
    uintptr_t a = (uintptr_t)s->p, a_end = a + (s->usable ? s->usable : 1);
    for (unsigned i = 0; i < FZ_SLOTS; i++) {
        const fz_slot *t = &o->slots[i];
        if (t == s || !t->p)
            continue;
        uintptr_t b = (uintptr_t)t->p, b_end = b + (t->usable ? t->usable : 1);
        if (a < b_end && b < a_end) {
            violation(o, "overlap", s->p, "slot %u [%p, +%zu) overlaps live slot %u [%p, +%zu)",
                      (unsigned)(s - o->slots), (void *)s->p, s->usable, i, (void *)t->p, t->usable);
            return;
        }
    }
}

static size_t checked_usable(fz_oracle *o, const void *p, size_t n)
{
    if (!o->ad->usable_size)
        return n;
    size_t u = o->ad->usable_size(o->heap, p);
    if (u < n || (claims(o, FZ_CLAIM_USABLE_EXACT) && u != n))
        violation(o, "usable-size", p, "usable_size(%p) = %zu for a request of %zu%s", p, u, n,
                  claims(o, FZ_CLAIM_USABLE_EXACT) ? " (the adapter claims they are equal)" : "");
    return u;
}

/* A new block at p for slot s: every placement rule, then the model takes it
 * and fills it.  zeroed: calloc's promise; keep: bytes realloc carried over. */
static void accept(fz_oracle *o, fz_slot *s, unsigned char *p, size_t n, size_t align, bool zeroed)
{
    if (n >= FZ_HOPELESS) {   /* before touching a byte of it */
        violation(o, "huge", p, "a request of %zu bytes (> PTRDIFF_MAX) returned %p", n, (void *)p);
        return;
    }
    size_t want = align > o->claims.min_align ? align : o->claims.min_align;
    if (want && (uintptr_t)p % want) {
        violation(o, "aligned", p, "%p is not aligned to %zu", (void *)p, want);
        return;
    }
    s->p = p;
    s->n = n;
    s->usable = checked_usable(o, p, n);
    check_placement(o, s, &s->extent, &s->large);
    check_overlap(o, s);
    if (zeroed && !o->failed) {
        size_t nz = fz_first_nonzero(p, n);
        if (nz != SIZE_MAX)
            violation(o, "calloc-zero", p + nz, "calloc'd %p byte %zu of %zu is 0x%02x", (void *)p, nz, n, p[nz]);
    }
    o->live_blocks++;
    o->live_bytes += n;
    if (!s->large) {
        o->small_live += n;
        if (o->small_live > o->small_peak)
            o->small_peak = o->small_live;
    }
    if (!o->failed)
        fill_block(o, s);
    note(o, "= %p usable %zu%s", (void *)p, s->usable, s->large ? " (large)" : "");
}

/* --- when is NULL legitimate? -------------------------------------------------------------
 * Conservative and allocator-agnostic: NULL is a bug when a free block has
 * at least 2 * need + 64 usable bytes (need + 128 for an exact-fit allocator),
 * for a request the heap serves from its free blocks; or when the heap can
 * grow (a source it controls, no fail_source pending) and the cap leaves
 * clearly enough room: twice the region or mapping it would need, plus 64 KiB.
 * With no cap, a request up to FZ_REQUEST_BUDGET must succeed. */
static size_t sat_add(size_t a, size_t b) { return a + b < a ? SIZE_MAX : a + b; }
static size_t sat_twice(size_t a) { return sat_add(a, a); }

static bool null_is_bug(fz_oracle *o, size_t need, char *why, size_t whylen)
{
    if (!claims(o, FZ_CLAIM_NULL_ON_EXHAUSTION) || need >= FZ_HOPELESS)
        return false;
    size_t thr = o->claims.large_threshold;
    if (need < thr) {
        fz_where w;
        fz_where_is(o->ad, o->heap, NULL, 0, &w);
        size_t margin = claims(o, FZ_CLAIM_EXACT_FIT) ? sat_add(need, 128) : sat_add(sat_twice(need), 64);
        if (w.status == 0 && w.largest_free >= margin) {
            snprintf(why, whylen, "a free block has %zu usable bytes (>= %zu)", w.largest_free, margin);
            return true;
        }
    }
    if (!o->claims.grow_size || !claims(o, FZ_CLAIM_CAP) || o->growth_unknown)
        return false;
    size_t room = sat_add(need > o->claims.grow_size ? need : o->claims.grow_size, 3 * 4096);
    if (!o->claims.max_bytes) {
        snprintf(why, whylen, "no cap, and %zu bytes is within the harness budget", need);
        return need <= FZ_REQUEST_BUDGET;
    }
    fz_stats st;
    take_stats(o, &st);
    if (sat_add(sat_add(st.source_bytes, sat_twice(room)), 65536) <= o->claims.max_bytes) {
        snprintf(why, whylen, "source_bytes %zu + 2 * %zu + 64 KiB fits the cap %zu", st.source_bytes,
                 room, o->claims.max_bytes);
        return true;
    }
    return false;
}

static void on_null(fz_oracle *o, size_t need, const fz_stats *before, int want_errno, int got_errno)
{
    char why[160];
    note(o, "= NULL (errno %d)", got_errno);
    if (claims(o, FZ_CLAIM_ERRNO) && got_errno != want_errno) {
        violation(o, "errno", NULL, "NULL with errno %d, expected %d", got_errno, want_errno);
        return;
    }
    fz_stats after;
    take_stats(o, &after);
    if (after.bytes_in_use != before->bytes_in_use || after.blocks_in_use != before->blocks_in_use) {
        violation(o, "null-changed", NULL, "NULL, but blocks in use went %zu -> %zu, bytes %zu -> %zu",
                  before->blocks_in_use, after.blocks_in_use, before->bytes_in_use, after.bytes_in_use);
        return;
    }
    if (want_errno == ENOMEM && null_is_bug(o, need, why, sizeof why))
        violation(o, "null", NULL, "NULL for %zu bytes, but %s", need, why);
}

/* --- allocation operations -------------------------------------------------------------- */
static bool skip(fz_oracle *o, const char *why)
{
    note(o, "skipped: %s", why);
    return false;
}

static void op_malloc(fz_oracle *o, fz_slot *s, size_t n)
{
    release(o, s);
    if (o->failed || (over_budget(o, n) && !skip(o, "over the harness memory budget")))
        return;
    if (excluded(o, n) && !skip(o, "above the adapter's max_request"))
        return;
    fz_stats before;
    take_stats(o, &before);
    errno = 0;
    unsigned char *p = o->ad->malloc(o->heap, n);
    int e = errno;
    if (!p)
        on_null(o, n, &before, ENOMEM, e);
    else
        accept(o, s, p, n, 0, false);
}

static void op_calloc(fz_oracle *o, fz_slot *s, size_t count, size_t size)
{
    if (!o->ad->calloc) {
        skip(o, "the adapter has no calloc");
        return;
    }
    release(o, s);
    bool overflow = size && count > SIZE_MAX / size;
    size_t n = overflow ? SIZE_MAX : count * size;
    if (o->failed || (over_budget(o, n) && !skip(o, "over the harness memory budget")))
        return;
    if ((excluded(o, n) || excluded(o, count) || excluded(o, size))
        && !skip(o, "above the adapter's max_request"))
        return;
    fz_stats before;
    take_stats(o, &before);
    errno = 0;
    unsigned char *p = o->ad->calloc(o->heap, count, size);
    int e = errno;
    if (p && overflow) {
        violation(o, "calloc-overflow", p, "calloc(%zu, %zu) overflows but returned %p", count, size, (void *)p);
        return;
    }
    if (!p)
        on_null(o, overflow ? SIZE_MAX : n, &before, ENOMEM, e);
    else
        accept(o, s, p, n, 0, true);
}

static bool power_of_two(size_t a) { return a && (a & (a - 1)) == 0; }

static void op_aligned(fz_oracle *o, fz_slot *s, size_t align, size_t n)
{
    if (!o->ad->aligned_alloc) {
        skip(o, "the adapter has no aligned_alloc");
        return;
    }
    release(o, s);
    size_t need = n + align < n ? SIZE_MAX : n + align;
    if (o->failed || (over_budget(o, need) && !skip(o, "over the harness memory budget")))
        return;
    if ((excluded(o, n) || excluded(o, align)) && !skip(o, "above the adapter's max_request"))
        return;
    fz_stats before;
    take_stats(o, &before);
    errno = 0;
    unsigned char *p = o->ad->aligned_alloc(o->heap, align, n);
    int e = errno;
    if (!power_of_two(align)) {
        if (p)
            violation(o, "einval", p, "aligned_alloc(%zu, %zu) returned %p for a bad alignment", align, n, (void *)p);
        else
            on_null(o, need, &before, EINVAL, e);
        return;
    }
    if (!p)
        on_null(o, need, &before, ENOMEM, e);
    else
        accept(o, s, p, n, align, false);
}

static void op_realloc(fz_oracle *o, fz_slot *s, size_t n)
{
    if (!o->ad->realloc) {
        skip(o, "the adapter has no realloc");
        return;
    }
    if (excluded(o, n) && !skip(o, "above the adapter's max_request"))
        return;
    if (!s->p) {   /* realloc(NULL, n) is malloc */
        if (over_budget(o, n) && !skip(o, "over the harness memory budget"))
            return;
        fz_stats before;
        take_stats(o, &before);
        errno = 0;
        unsigned char *p = o->ad->realloc(o->heap, NULL, n);
        int e = errno;
        if (!p)
            on_null(o, n, &before, ENOMEM, e);
        else
            accept(o, s, p, n, 0, false);
        return;
    }
    if (!verify_block(o, s, "before realloc"))
        return;
    if (over_budget(o, n) && !skip(o, "over the harness memory budget"))
        return;
    fz_stats before;
    take_stats(o, &before);
    errno = 0;
    unsigned char *q = o->ad->realloc(o->heap, s->p, n);
    int e = errno;
    if (!q) {
        fz_stats after;
        take_stats(o, &after);
        if (n == 0 && after.blocks_in_use + 1 == before.blocks_in_use) {
            forget(o, s);   /* realloc(p, 0) may free p and return NULL */
            note(o, "= NULL (freed)");
            return;
        }
        on_null(o, n, &before, ENOMEM, e);
        verify_block(o, s, "after a failed realloc");
        return;
    }
    size_t keep = s->n < n ? s->n : n;
    size_t bad = fz_pattern_mismatch(q, keep, slot_seed(o, s));
    if (bad != SIZE_MAX) {
        violation(o, "realloc-prefix", q + bad, "realloc(%p, %zu) = %p lost byte %zu of %zu kept (0x%02x, expected 0x%02x)",
                  (void *)s->p, n, (void *)q, bad, keep, q[bad], fz_pattern_byte(slot_seed(o, s), bad));
        return;
    }
    unsigned char *old = s->p;
    bool moved = q != old, was_large = s->large;
    o->live_blocks--;
    o->live_bytes -= s->n;
    if (!was_large)
        o->small_live -= s->n;
    accept(o, s, q, n, 0, false);
    if (moved) {   /* the old block was freed */
        s->stale = old;
        if (was_large)
            remember_large_free(o, old);
    }
}

/* --- misuse ---------------------------------------------------------------------------------- */
/* What heaplab-like allocators report for a stale pointer q, by where q is now;
 * FZ_ERR_NONE means do not issue it (it would free a live block, or the
 * model cannot say). */
static fz_error_kind classify_stale(fz_oracle *o, const void *q, const char **why, fz_error_kind *also)
{
    *also = FZ_ERR_NONE;
    fz_where w;
    fz_where_is(o->ad, o->heap, q, 1, &w);
    if (w.status) {
        *why = w.status == -2 ? "no walk to classify a stale pointer" : "walk failed";
        if (w.status == -1)
            violation(o, "walk", q, "the heap cannot be walked");
        return FZ_ERR_NONE;
    }
    if (w.found && w.block.used && w.block.payload == q) {
        *why = "the stale pointer is a live block again";
        return FZ_ERR_NONE;
    }
    if (w.found)
        return w.block.used ? FZ_ERR_INVALID_POINTER : FZ_ERR_DOUBLE_FREE;
    if (w.in_region) {
        *why = "the stale pointer lies in region metadata";
        return FZ_ERR_NONE;
    }
    if (!claims(o, FZ_CLAIM_RECENT_LARGE)) {
        *why = "the adapter makes no claim about pointers outside the heap";
        return FZ_ERR_NONE;
    }
    if (recently_freed_large(o, q, FZ_RECENT_LARGE))
        return FZ_ERR_DOUBLE_FREE;
    /* Older large frees are past the claim, yet the allocator may still know
     * the mapping (heaplab's large cache keeps up to 16 for up to 64 large
     * operations): a double free is then the truer report, and a report of
     * either kind is right; one is still required. */
    if (recently_freed_large(o, q, FZ_KNOWN_LARGE))
        *also = FZ_ERR_DOUBLE_FREE;
    return FZ_ERR_INVALID_POINTER;
}

static bool claimed(const fz_oracle *o, fz_error_kind k)
{
    return k == FZ_ERR_DOUBLE_FREE ? claims(o, FZ_CLAIM_DETECTS_DOUBLE_FREE)
         : k == FZ_ERR_INVALID_POINTER ? claims(o, FZ_CLAIM_DETECTS_INVALID) : false;
}

/* Passes a bad pointer; exactly one report of `expect` (or of `also`, when
 * both are right), and nothing changes. */
static void issue_misuse_either(fz_oracle *o, void *q, fz_error_kind expect, fz_error_kind also, unsigned via)
{
    if (!claimed(o, expect)) {
        skip(o, "the adapter does not claim to detect it");
        return;
    }
    if (via == FZ_VIA_REALLOC && !o->ad->realloc) {
        skip(o, "the adapter has no realloc");
        return;
    }
    fz_stats before, after;
    take_stats(o, &before);
    o->expect = expect;
    o->expect_also = also;
    o->expect_hits = 0;
    /* A deliberate misuse: the allocator may tell memcheck about it too
     * (heaplab reports a double free to memcheck), which under Valgrind
     * is the expected report, not an error of the harness. */
    VALGRIND_DISABLE_ERROR_REPORTING;
    if (via == FZ_VIA_REALLOC) {
        void *r = o->ad->realloc(o->heap, q, 16);
        if (r && !o->failed)
            violation(o, "misuse-changed", q, "realloc(%p) of a bad pointer returned %p", q, r);
    } else if (via == FZ_VIA_USABLE_SIZE && o->ad->usable_size) {
        size_t u = o->ad->usable_size(o->heap, q);
        if (u && !o->failed)
            violation(o, "misuse-changed", q, "usable_size(%p) of a bad pointer returned %zu", q, u);
    } else {
        o->ad->free(o->heap, q);
    }
    VALGRIND_ENABLE_ERROR_REPORTING;
    o->expect = o->expect_also = FZ_ERR_NONE;
    if (o->failed)
        return;
    if (o->expect_hits != 1) {
        violation(o, "misuse-missed", q, "%s(%p): expected a %s report, got none",
                  fz_via_names[via], q, kind_name(expect));
        return;
    }
    take_stats(o, &after);
    if (after.bytes_in_use != before.bytes_in_use || after.blocks_in_use != before.blocks_in_use
        || after.bytes_free != before.bytes_free || after.blocks_free != before.blocks_free
        || after.source_bytes != before.source_bytes) {
        violation(o, "misuse-changed", q, "a reported %s changed the heap: in use %zu/%zu -> %zu/%zu, "
                  "free %zu/%zu -> %zu/%zu", kind_name(expect), before.blocks_in_use, before.bytes_in_use,
                  after.blocks_in_use, after.bytes_in_use, before.blocks_free, before.bytes_free,
                  after.blocks_free, after.bytes_free);
        return;
    }
    sweep(o, "after a misuse");
    note(o, "reported %s", kind_name(expect));
}

static void issue_misuse(fz_oracle *o, void *q, fz_error_kind expect, unsigned via)
{
    issue_misuse_either(o, q, expect, FZ_ERR_NONE, via);
}

static void op_double_free(fz_oracle *o, fz_slot *s, unsigned via)
{
    release(o, s);
    if (o->failed)
        return;
    if (!s->stale) {
        skip(o, "the slot never held a freed block");
        return;
    }
    const char *why = "";
    fz_error_kind also;
    fz_error_kind k = classify_stale(o, s->stale, &why, &also);
    if (k == FZ_ERR_NONE)
        skip(o, why);
    else
        issue_misuse_either(o, (void *)s->stale, k, also, via);
}

static void op_interior(fz_oracle *o, fz_slot *s, size_t offset, unsigned via)
{
    if (!s->p)
        skip(o, "empty slot");
    else if (offset >= s->extent)
        skip(o, "the block is too small for that offset");
    else if (verify_block(o, s, "before a misuse"))
        issue_misuse(o, s->p + offset, FZ_ERR_INVALID_POINTER, via);
}

static void op_foreign(fz_oracle *o, unsigned kind, unsigned via)
{
    _Alignas(16) unsigned char on_stack[64];
    memset(on_stack, 0, sizeof on_stack);
    memset(foreign_static, 0, sizeof foreign_static);
    unsigned char *libc = NULL, *q;
    if (kind == FZ_FOREIGN_STATIC) {
        q = foreign_static + 16;
    } else if (kind == FZ_FOREIGN_STACK) {
        q = on_stack + 16;
    } else {
        libc = calloc(1, 64);
        if (!libc) {
            skip(o, "libc malloc failed");
            return;
        }
        q = libc + 16;   /* the header an allocator may read lies inside libc's block */
    }
    issue_misuse(o, q, FZ_ERR_INVALID_POINTER, via);
    free(libc);
}

/* --- whole-heap operations ------------------------------------------------------------------- */
static void op_reset(fz_oracle *o)
{
    if (!o->ad->reset) {
        skip(o, "the adapter has no reset");
        return;
    }
    sweep(o, "before reset");
    if (o->failed)
        return;
    o->ad->reset(o->heap);
    for (unsigned i = 0; i < FZ_SLOTS; i++) {
        fz_slot *s = &o->slots[i];
        if (s->p) {
            s->stale = s->p;
            s->p = NULL;
        }
    }
    o->live_blocks = o->live_bytes = 0;
    o->small_live = o->small_peak = 0;       /* a reset owes no coalescing */
    o->recent_count = o->recent_next = 0;   /* the claim counts frees since the reset */
}

static void op_check(fz_oracle *o)
{
    char msg[300];
    if (!o->ad->check) {
        skip(o, "the adapter has no check");
        return;
    }
    if (o->ad->check(o->heap, msg, sizeof msg, NULL)) {
        FILE *f = fmemopen(o->v.report, sizeof o->v.report, "w");
        if (f) {
            o->ad->check(o->heap, msg, sizeof msg, f);
            fclose(f);
        }
        violation(o, "checker", NULL, "%s", msg);
    }
}

static void op_usable(fz_oracle *o, fz_slot *s)
{
    if (!s->p || !o->ad->usable_size) {
        skip(o, s->p ? "the adapter has no usable_size" : "empty slot");
        return;
    }
    size_t u = checked_usable(o, s->p, s->n);
    if (!o->failed && u != s->usable)
        violation(o, "usable-size", s->p, "usable_size(%p) = %zu, was %zu when allocated", (void *)s->p, u, s->usable);
    note(o, "= %zu", u);
}

static void op_fill(fz_oracle *o, fz_slot *s)
{
    if (!s->p)
        skip(o, "empty slot");
    else if (verify_block(o, s, "before fill"))
        fill_block(o, s);
}

static void op_fail_source(fz_oracle *o, size_t skip_n, size_t count)
{
    if (!o->ad->fail_source) {
        skip(o, "the adapter has no fail_source");
        return;
    }
    o->ad->fail_source(o->heap, (unsigned)skip_n, (unsigned)count);
    if (count)
        o->growth_unknown = true;
}

static void dispatch(fz_oracle *o, const fz_op *op)
{
    fz_slot *s = &o->slots[op->slot];
    switch (op->code) {
    case FZ_OP_MALLOC: op_malloc(o, s, op->a); break;
    case FZ_OP_CALLOC: op_calloc(o, s, op->a, op->b); break;
    case FZ_OP_REALLOC: op_realloc(o, s, op->a); break;
    case FZ_OP_ALIGNED_ALLOC: op_aligned(o, s, op->a, op->b); break;
    case FZ_OP_FREE:
        if (s->p)
            release(o, s);
        else
            o->ad->free(o->heap, NULL);
        break;
    case FZ_OP_USABLE_SIZE: op_usable(o, s); break;
    case FZ_OP_FILL: op_fill(o, s); break;
    case FZ_OP_DOUBLE_FREE: op_double_free(o, s, op->via); break;
    case FZ_OP_INTERIOR_FREE: op_interior(o, s, op->variant ? 1 : 16, op->via); break;
    case FZ_OP_MISALIGNED_FREE: op_interior(o, s, 8, op->via); break;
    case FZ_OP_FOREIGN_FREE: op_foreign(o, op->variant, op->via); break;
    case FZ_OP_RESET: op_reset(o); break;
    case FZ_OP_CHECK: op_check(o); break;
    case FZ_OP_FAIL_SOURCE: op_fail_source(o, op->a, op->b); break;
    case FZ_OP_SWEEP: sweep(o, "sweep"); break;
    case FZ_OP_COUNT: break;
    }
}

/* --- FZ_CLAIM_COALESCES -----------------------------------------------------------------------
 * Checked each time the last live block goes (not after a reset).  With a walk:
 * no region holds more than one free block (blocks the walk gives outside every
 * region count as one region).  Without one: a request of the most bytes that
 * were live at once since the heap was last empty must succeed, without taking
 * more from the source when stats say so; those blocks fitted in the heap with
 * a header each, so one merged run holds them (this assumes one contiguous heap:
 * an allocator with several regions gives a walk). */
enum { COALESCE_REGIONS = 64 };

struct coalesce_walk {
    uintptr_t lo[COALESCE_REGIONS], hi[COALESCE_REGIONS];
    size_t free_blocks[COALESCE_REGIONS + 1];   /* the last: blocks outside every region */
    unsigned regions;
};

static int count_free(const fz_walk_info *i, void *ctx)
{
    struct coalesce_walk *c = ctx;
    uintptr_t a = (uintptr_t)i->start;
    if (i->kind == FZ_WALK_REGION && c->regions < COALESCE_REGIONS) {
        c->lo[c->regions] = a;
        c->hi[c->regions++] = a + i->size;
    } else if (i->kind == FZ_WALK_BLOCK && !i->used) {
        unsigned r = 0;
        while (r < c->regions && !(a >= c->lo[r] && a < c->hi[r]))
            r++;
        c->free_blocks[r < c->regions ? r : COALESCE_REGIONS]++;
    }
    return 0;
}

static void coalesced_by_walk(fz_oracle *o)
{
    struct coalesce_walk c;
    memset(&c, 0, sizeof c);
    if (o->ad->walk(o->heap, count_free, &c) < 0) {
        violation(o, "walk", NULL, "the heap cannot be walked after the last block was freed");
        return;
    }
    for (unsigned r = 0; r <= COALESCE_REGIONS; r++) {
        if (c.free_blocks[r] < 2)
            continue;
        if (r < c.regions)
            violation(o, "coalesce", (const void *)c.lo[r], "every block is free, but region [%p, %p) holds "
                      "%zu free blocks, not one run", (void *)c.lo[r], (void *)c.hi[r], c.free_blocks[r]);
        else
            violation(o, "coalesce", NULL, "every block is free, but the heap holds %zu free blocks, not one run",
                      c.free_blocks[r]);
        return;
    }
}

static void coalesced_by_probe(fz_oracle *o, size_t n)
{
    if (over_budget(o, n) || excluded(o, n))
        return;
    fz_stats before, after;
    take_stats(o, &before);
    void *p = o->ad->malloc(o->heap, n);
    if (!p) {
        violation(o, "coalesce", NULL, "every block is free, but malloc(%zu) (the most bytes live at once) "
                  "returned NULL", n);
        return;
    }
    take_stats(o, &after);
    o->ad->free(o->heap, p);
    if (o->ad->stats && after.source_bytes > before.source_bytes)
        violation(o, "coalesce", p, "every block is free, but malloc(%zu) (the most bytes live at once) took "
                  "%zu more bytes from the source", n, after.source_bytes - before.source_bytes);
}

static void check_coalesced(fz_oracle *o)
{
    size_t peak = o->small_peak;
    o->small_peak = 0;
    if (o->ad->walk)
        coalesced_by_walk(o);
    else
        coalesced_by_probe(o, peak);
}

/* Rules that hold after every operation. */
static void after_op(fz_oracle *o)
{
    if (o->ad->stats) {
        fz_stats st;
        o->ad->stats(o->heap, &st);
        if (st.bytes_in_use != o->live_bytes || st.blocks_in_use != o->live_blocks)
            violation(o, "stats", NULL, "stats say %zu blocks / %zu bytes in use, the model %zu / %zu",
                      st.blocks_in_use, st.bytes_in_use, o->live_blocks, o->live_bytes);
        else if (claims(o, FZ_CLAIM_CAP) && o->claims.max_bytes && st.source_bytes > o->claims.max_bytes)
            violation(o, "cap", NULL, "%zu bytes taken from the source, cap %zu", st.source_bytes, o->claims.max_bytes);
    }
    if (!o->failed && claims(o, FZ_CLAIM_COALESCES) && o->live_blocks == 0 && o->small_peak)
        check_coalesced(o);
    if (o->op_index % FZ_SWEEP_EVERY == 0)
        sweep(o, "periodic sweep");
}

/* --- the life cycle ----------------------------------------------------------------------------- */
int fz_oracle_open(fz_oracle *o, const fz_adapter *ad, const fz_header *hdr, const char **why)
{
    memset(o, 0, sizeof *o);
    o->ad = ad;
    o->target = "fuzz_heap";
    o->cfg = (fz_config){
        .policy = hdr->policy, .source = hdr->source,
        .grow_size = fz_grow_sizes[hdr->grow], .max_bytes = fz_caps[hdr->cap],
        .large_threshold = fz_thresholds[hdr->threshold],
    };
    if (hdr->source == FZ_SOURCE_BUFFER) {
        o->cfg.buffer = heap_buffer;
        o->cfg.buffer_size = fz_buffer_sizes[hdr->buffer];
    }
    fz_hooks hooks = { on_error, o };
    *why = NULL;
    fz_oracle_running = o;
    o->heap = ad->create(&o->cfg, &hooks, &o->claims, why);
    fz_oracle_running = NULL;
    return o->heap ? 0 : -1;
}

void fz_oracle_close(fz_oracle *o)
{
    fz_oracle_running = o;
    if (o->heap)
        o->ad->destroy(o->heap);
    o->heap = NULL;
    fz_oracle_running = NULL;
}

bool fz_oracle_step(fz_oracle *o, const fz_op *op)
{
    if (o->failed)
        return false;
    o->op_index++;
    o->op = op;
    o->note[0] = 0;
    fz_oracle_running = o;
    dispatch(o, op);
    if (!o->failed)
        after_op(o);
    fz_oracle_running = NULL;
    return !o->failed;
}

bool fz_oracle_finish(fz_oracle *o)
{
    if (o->failed)
        return false;
    o->op = NULL;
    fz_oracle_running = o;
    sweep(o, "final sweep");
    if (!o->failed)
        op_check(o);
    fz_oracle_running = NULL;
    return !o->failed;
}

void fz_oracle_print_violation(const fz_oracle *o, FILE *out)
{
    if (!o->failed)
        return;
    fprintf(out, "%s: op #%zu %s: rule %s: %s\n", o->target, o->v.op_index, o->v.op_text, o->v.rule, o->v.details);
    if (o->v.report[0])
        fprintf(out, "%s%s", o->v.report, o->v.report[strlen(o->v.report) - 1] == '\n' ? "" : "\n");
}

int fz_oracle_slot_of(const fz_oracle *o, const void *addr)
{
    uintptr_t a = (uintptr_t)addr;
    for (int i = 0; i < FZ_SLOTS; i++) {
        const fz_slot *s = &o->slots[i];
        if (s->p && a >= (uintptr_t)s->p && a - (uintptr_t)s->p < (s->extent > s->usable ? s->extent : s->usable))
            return i;
    }
    return -1;
}
