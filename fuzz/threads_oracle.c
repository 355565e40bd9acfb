/*
 * threads_oracle.c - the shadow model of a thread-safe global allocator
 * (rules in threads_oracle.h).
 *
 * Operation handlers call the adapter on the calling thread, check what came
 * back against the model, then update it.  The first broken rule goes to the
 * shared sink under its mutex; handlers stop once the sink has failed.
 */
#include "threads_oracle.h"
#include "pattern.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define FZT_HOPELESS ((size_t)PTRDIFF_MAX + 1)
/* Blocks this big (or this aligned) may live in a mapping of their own, which
 * a free unmaps: a stale pointer to one is no longer certainly a double free. */
#define FZT_MAYBE_LARGE ((size_t)64 << 10)

static _Alignas(16) unsigned char foreign_static[64];

/* --- the sink ------------------------------------------------------------------------------- */
static void on_error(void *ctx, const fz_error *e);

int fzt_sink_open(fzt_sink *k, const char *target, const fz_adapter *ad, const char **why)
{
    memset(k, 0, sizeof *k);
    k->target = target;
    k->ad = ad;
    const char *e = getenv("FZT_ABORT_ON_ERROR");
    k->abort_on_error = e && *e && strcmp(e, "0") != 0;
    k->hooks = (fz_hooks){ .on_error = on_error, .ctx = k };
    fz_config cfg = { 0 };   /* threaded inputs have no configuration header */
    *why = "create() refused the configuration";
    k->heap = ad->create(&cfg, &k->hooks, &k->claims, why);
    if (!k->heap)
        return -1;
    if (!(k->claims.flags & FZ_CLAIM_THREAD_SAFE)) {
        ad->destroy(k->heap);
        k->heap = NULL;
        *why = "the adapter does not claim FZ_CLAIM_THREAD_SAFE: an allocator that is not thread-safe "
               "cannot be fuzzed with threads";
        return -1;
    }
    pthread_mutex_init(&k->mu, NULL);
    return 0;
}

void fzt_sink_close(fzt_sink *k)
{
    k->ad->destroy(k->heap);
    k->heap = NULL;
    pthread_mutex_destroy(&k->mu);
}

void fzt_free(fzt_sink *k, void *p) { k->ad->free(k->heap, p); }
void *fzt_realloc(fzt_sink *k, void *p, size_t n) { return k->ad->realloc(k->heap, p, n); }

bool fzt_failed(fzt_sink *k)
{
    pthread_mutex_lock(&k->mu);
    bool f = k->failed;
    pthread_mutex_unlock(&k->mu);
    return f;
}

static void format_op(char *buf, size_t len, const fz_op *op)
{
    char text[FZ_OP_TEXT];
    fz_op_format(op, text, sizeof text);
    const char *what = op->code == FZ_OP_RESET ? "exit" : text;
    int n = snprintf(buf, len, "t%u ", op->thread);
    if (n < 0 || (size_t)n >= len)
        return;
    size_t room = len - (size_t)n - 1, have = strlen(what);   /* cut short at the end of buf */
    memcpy(buf + n, what, have < room ? have : room);
    buf[(size_t)n + (have < room ? have : room)] = '\0';
}

/* A checker's report, and how to print it (fz_error's print_report). */
typedef struct report_ref {
    void (*print)(const void *report, FILE *out);
    const void *report;
} report_ref;

/* Records the first violation; `rep`, when not NULL, prints a checker report. */
static void violation_v(fzt_sink *k, size_t op_index, const fz_op *op, const char *rule,
                        const report_ref *rep, const char *fmt, va_list ap)
{
    pthread_mutex_lock(&k->mu);
    if (!k->failed) {
        k->failed = true;
        k->op_index = op_index;
        if (op)
            format_op(k->op_text, sizeof k->op_text, op);
        else
            k->op_text[0] = 0;
        k->rule = rule;
        vsnprintf(k->details, sizeof k->details, fmt, ap);
        FILE *f = rep && rep->print ? fmemopen(k->report, sizeof k->report, "w") : NULL;
        if (f) {
            rep->print(rep->report, f);
            fclose(f);
        }
    }
    pthread_mutex_unlock(&k->mu);
}

void fzt_violation(fzt_sink *k, size_t op_index, const fz_op *op, const char *rule, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    violation_v(k, op_index, op, rule, NULL, fmt, ap);
    va_end(ap);
}

static void violation_report(fzt_sink *k, size_t op_index, const fz_op *op, const char *rule,
                             const report_ref *rep, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void violation_report(fzt_sink *k, size_t op_index, const fz_op *op, const char *rule,
                             const report_ref *rep, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    violation_v(k, op_index, op, rule, rep, fmt, ap);
    va_end(ap);
}

void fzt_print_violation(fzt_sink *k, FILE *out)
{
    pthread_mutex_lock(&k->mu);
    if (k->failed) {
        /* then the verdict line in hl-trace replay's form, for ci/crash_lib.sh */
        if (k->op_text[0])
            fprintf(out, "%s: op #%zu %s: rule %s: %s\nverdict: op #%zu %s: rule %s\n", k->target, k->op_index,
                    k->op_text, k->rule, k->details, k->op_index, k->op_text, k->rule);
        else
            fprintf(out, "%s: rule %s: %s\nverdict: during the input: rule %s\n", k->target, k->rule, k->details,
                    k->rule);
        size_t n = strlen(k->report);
        if (n)
            fprintf(out, "%s%s", k->report, k->report[n - 1] == '\n' ? "" : "\n");
    }
    pthread_mutex_unlock(&k->mu);
}

/* Lane shorthand: a violation at the operation in flight. */
static void lviolation(fzt_lane *l, const char *rule, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void lviolation(fzt_lane *l, const char *rule, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    violation_v(l->sink, l->op_index, l->op, rule, NULL, fmt, ap);
    va_end(ap);
}

static void note(fzt_lane *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(fzt_lane *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->note, sizeof l->note, fmt, ap);
    va_end(ap);
}

/* --- the error hook: one heap for every thread, so the lane comes from the thread ------------- */
static __thread fzt_lane *cur;

static const char *kind_name(fz_error_kind k)
{
    static const char *const names[] = { "none", "double-free", "invalid-pointer", "corrupted-block",
                                         "invariant", "other" };
    return k <= FZ_ERR_OTHER ? names[k] : "?";
}

/* FZT_ABORT_ON_ERROR: the report itself is the crash, at the operation that made it. */
static void die_on(const fzt_sink *k, const fzt_lane *l, const fz_error *e)
{
    char op[FZ_OP_TEXT + 8] = "no operation";
    if (l && l->op)
        format_op(op, sizeof op, l->op);
    fprintf(stderr, "%s: op #%zu %s: error %s from %s: %s\n", k->target, l ? l->op_index : 0, op,
            kind_name(e->kind), e->operation ? e->operation : "?", e->message ? e->message : "");
    fflush(stderr);
    abort();
}

static void on_error(void *ctx, const fz_error *e)
{
    fzt_lane *l = cur;
    fzt_sink *k = ctx;
    if (k->abort_on_error)
        die_on(k, l, e);
    fz_error_kind kind = e->kind;
    if (l && l->expect != FZ_ERR_NONE && l->expect_hits == 0 && kind == l->expect) {
        l->expect_hits++;
        return;
    }
    const char *rule = kind == FZ_ERR_INVARIANT ? "checker"
                     : l && l->expect != FZ_ERR_NONE ? "misuse-kind" : "unexpected-error";
    report_ref rep = { e->print_report, e->report };
    violation_report(k, l ? l->op_index : 0, l ? l->op : NULL, rule, &rep,
                     "%s reported %s%s%s: %s", e->operation ? e->operation : "allocator", kind_name(kind),
                     l && l->expect != FZ_ERR_NONE ? ", expected " : "",
                     l && l->expect != FZ_ERR_NONE ? kind_name(l->expect) : "", e->message ? e->message : "");
}

void fzt_lane_enter(fzt_lane *l) { cur = l; }

bool fzt_lane_describe(char *buf, size_t len)
{
    const fzt_lane *l = cur;
    if (!l || !l->op)
        return false;
    char op[FZ_OP_TEXT + 8];
    format_op(op, sizeof op, l->op);
    snprintf(buf, len, "op #%zu %s", l->op_index, op);
    return true;
}

static bool claimed(const fzt_sink *k, unsigned flag) { return (k->claims.flags & flag) != 0; }

/* --- the model -------------------------------------------------------------------------------- */
void fzt_model_init(fzt_model *m, uint64_t salt, size_t live_budget)
{
    memset(m, 0, sizeof *m);
    m->seed_salt = salt;
    m->live_budget = live_budget;
}

uint64_t fzt_slot_seed(const fzt_model *m, unsigned slot, uint32_t gen)
{
    return fz_pattern_seed(slot, gen) ^ m->seed_salt;
}

static unsigned slot_no(const fzt_model *m, const fzt_slot *s) { return (unsigned)(s - m->slots); }

static bool verify_slot(fzt_sink *k, const fzt_model *m, const fzt_slot *s, size_t op_index,
                        const fz_op *op, const char *when)
{
    uint64_t seed = fzt_slot_seed(m, slot_no(m, s), s->gen);
    size_t bad = fz_pattern_mismatch(s->p, s->usable, seed);
    if (bad == SIZE_MAX)
        return true;
    fzt_violation(k, op_index, op, "contents",
                  "%s: slot %u (%zu bytes at %p, gen %u, allocated by t%u) byte %zu is 0x%02x, expected 0x%02x",
                  when, slot_no(m, s), s->usable, (void *)s->p, s->gen, s->from, bad, s->p[bad],
                  fz_pattern_byte(seed, bad));
    return false;
}

static bool verify(fzt_lane *l, const fzt_slot *s, const char *when)
{
    return verify_slot(l->sink, l->m, s, l->op_index, l->op, when);
}

static void fill(fzt_model *m, fzt_slot *s)
{
    s->gen++;
    fz_pattern_fill(s->p, s->usable, fzt_slot_seed(m, slot_no(m, s), s->gen));
}

/* The model forgets a block: freed (or moved) by lane l. */
static void forget(fzt_lane *l, fzt_slot *s, bool remember)
{
    l->m->live_blocks--;
    l->m->live_bytes -= s->n;
    s->stale = s->p;
    s->stale_sure = remember && s->inc == l->inc && !s->maybe_large;
    s->stale_epoch = l->m->epoch;
    s->p = NULL;
}

static void release(fzt_lane *l, fzt_slot *s)
{
    if (!s->p || !verify(l, s, "before free"))
        return;
    fzt_free(l->sink, s->p);
    forget(l, s, true);
}

static bool over_budget(fzt_lane *l, size_t need)
{
    if (need >= FZT_HOPELESS)
        return false;   /* always issued: it must fail */
    if (need <= FZT_REQUEST_BUDGET && l->m->live_bytes + need <= l->m->live_budget)
        return false;
    note(l, "skipped: over the harness memory budget");
    return true;
}

/* --- a returned block ---------------------------------------------------------------------- */
static bool overlaps(const fzt_model *m, const fzt_slot *s, unsigned *other)
{
    uintptr_t a = (uintptr_t)s->p, a_end = a + (s->usable ? s->usable : 1);
    for (unsigned i = 0; i < FZ_SLOTS; i++) {
        const fzt_slot *t = &m->slots[i];
        if (t == s || !t->p)
            continue;
        uintptr_t b = (uintptr_t)t->p, b_end = b + (t->usable ? t->usable : 1);
        if (a < b_end && b < a_end) {
            *other = i;
            return true;
        }
    }
    return false;
}

static void accept(fzt_lane *l, fzt_slot *s, unsigned char *p, size_t n, size_t align, bool zeroed)
{
    if (n >= FZT_HOPELESS) {
        lviolation(l, "huge", "a request of %zu bytes (> PTRDIFF_MAX) returned %p", n, (void *)p);
        return;
    }
    const fzt_sink *k = l->sink;
    size_t want = align > k->claims.min_align ? align : k->claims.min_align;
    if (want && (uintptr_t)p % want) {
        lviolation(l, "aligned", "%p is not aligned to %zu", (void *)p, want);
        return;
    }
    bool exact = claimed(k, FZ_CLAIM_USABLE_EXACT);
    size_t u = k->ad->usable_size ? k->ad->usable_size(k->heap, p) : n;
    if (u < n || (exact && u != n)) {
        lviolation(l, "usable-size", "usable_size(%p) = %zu for a request of %zu%s", (void *)p, u, n,
                   exact ? " (the adapter claims they are equal: a checked build)" : "");
        return;
    }
    s->p = p;
    s->n = n;
    s->usable = u;
    s->inc = l->inc;
    s->from = l->index;
    s->maybe_large = n >= FZT_MAYBE_LARGE || u >= FZT_MAYBE_LARGE || align >= FZT_MAYBE_LARGE - n;
    unsigned other;
    if (overlaps(l->m, s, &other)) {
        const fzt_slot *t = &l->m->slots[other];
        lviolation(l, "overlap", "slot %u [%p, +%zu) overlaps live slot %u [%p, +%zu) (allocated by t%u)",
                   slot_no(l->m, s), (void *)p, u, other, (void *)t->p, t->usable, t->from);
    }
    if (zeroed) {
        size_t nz = fz_first_nonzero(p, n);
        if (nz != SIZE_MAX)
            lviolation(l, "calloc-zero", "calloc'd %p byte %zu of %zu is 0x%02x", (void *)p, nz, n, p[nz]);
    }
    l->m->live_blocks++;
    l->m->live_bytes += n;
    fill(l->m, s);
    note(l, "= %p usable %zu", (void *)p, u);
}

/* NULL must be for exhaustion only, from an allocator that can grow without
 * a cap (heaplab's global API): then it is right only for a hopeless request. */
static bool must_serve(const fzt_sink *k)
{
    return claimed(k, FZ_CLAIM_NULL_ON_EXHAUSTION) && claimed(k, FZ_CLAIM_CAP) && k->claims.grow_size
        && !k->claims.max_bytes;
}

static void on_null(fzt_lane *l, size_t need, int want_errno, int got)
{
    note(l, "= NULL (errno %d)", got);
    if (claimed(l->sink, FZ_CLAIM_ERRNO) && got != want_errno)
        lviolation(l, "errno", "NULL with errno %d, expected %d", got, want_errno);
    else if (want_errno == ENOMEM && need < FZT_HOPELESS && must_serve(l->sink))
        lviolation(l, "null", "NULL for %zu bytes (no cap, within the harness budget)", need);
}

/* Requests above claims.max_request are never passed (an API with int sizes). */
static bool excluded(fzt_lane *l, size_t n)
{
    size_t max = l->sink->claims.max_request;
    if (!max || n <= max)
        return false;
    note(l, "skipped: above the adapter's max_request");
    return true;
}

/* --- operations ---------------------------------------------------------------------------------- */
static void op_malloc(fzt_lane *l, fzt_slot *s, size_t n)
{
    release(l, s);
    if (fzt_failed(l->sink) || over_budget(l, n) || excluded(l, n))
        return;
    errno = 0;
    unsigned char *p = l->sink->ad->malloc(l->sink->heap, n);
    int e = errno;
    l->m->epoch++;
    if (p)
        accept(l, s, p, n, 0, false);
    else
        on_null(l, n, ENOMEM, e);
}

static void op_calloc(fzt_lane *l, fzt_slot *s, size_t count, size_t size)
{
    release(l, s);
    const fzt_sink *k = l->sink;
    if (!k->ad->calloc) {
        note(l, "skipped: the adapter has no calloc");
        return;
    }
    bool overflow = size && count > SIZE_MAX / size;
    size_t n = overflow ? SIZE_MAX : count * size;
    if (fzt_failed(l->sink) || over_budget(l, n) || excluded(l, count) || excluded(l, size))
        return;
    errno = 0;
    unsigned char *p = k->ad->calloc(k->heap, count, size);
    int e = errno;
    l->m->epoch++;
    if (p && overflow)
        lviolation(l, "calloc-overflow", "calloc(%zu, %zu) overflows but returned %p", count, size, (void *)p);
    else if (p)
        accept(l, s, p, n, 0, true);
    else
        on_null(l, n, ENOMEM, e);
}

static bool power_of_two(size_t a) { return a && (a & (a - 1)) == 0; }

static void op_aligned(fzt_lane *l, fzt_slot *s, size_t align, size_t n)
{
    release(l, s);
    const fzt_sink *k = l->sink;
    if (!k->ad->aligned_alloc) {
        note(l, "skipped: the adapter has no aligned_alloc");
        return;
    }
    size_t need = n + align < n ? SIZE_MAX : n + align;
    if (fzt_failed(l->sink) || over_budget(l, need) || excluded(l, n) || excluded(l, align))
        return;
    errno = 0;
    unsigned char *p = k->ad->aligned_alloc(k->heap, align, n);
    int e = errno;
    l->m->epoch++;
    if (!power_of_two(align)) {
        if (p)
            lviolation(l, "einval", "aligned_alloc(%zu, %zu) returned %p for a bad alignment", align, n, (void *)p);
        else
            on_null(l, need, EINVAL, e);
    } else if (p) {
        accept(l, s, p, n, align, false);
    } else {
        on_null(l, need, ENOMEM, e);
    }
}

static void op_realloc(fzt_lane *l, fzt_slot *s, size_t n)
{
    if (!l->sink->ad->realloc) {
        note(l, "skipped: the adapter has no realloc");
        return;
    }
    if (s->p && !verify(l, s, "before realloc"))
        return;
    if (over_budget(l, n) || excluded(l, n))
        return;
    unsigned char *old = s->p;
    errno = 0;
    unsigned char *q = fzt_realloc(l->sink, old, n);
    int e = errno;
    l->m->epoch++;
    if (!q) {
        on_null(l, n, ENOMEM, e);
        if (old)
            verify(l, s, "after a failed realloc");
        return;
    }
    if (!old) {
        accept(l, s, q, n, 0, false);
        return;
    }
    size_t keep = s->n < n ? s->n : n;
    uint64_t seed = fzt_slot_seed(l->m, slot_no(l->m, s), s->gen);
    size_t bad = fz_pattern_mismatch(q, keep, seed);
    if (bad != SIZE_MAX) {
        lviolation(l, "realloc-prefix", "realloc(%p, %zu) = %p (block of t%u) lost byte %zu of %zu kept "
                   "(0x%02x, expected 0x%02x)", (void *)old, n, (void *)q, s->from, bad, keep, q[bad],
                   fz_pattern_byte(seed, bad));
        return;
    }
    forget(l, s, q != old);   /* moved: the old block was freed (remotely if another heap's) */
    if (q == old)
        s->stale = NULL;
    accept(l, s, q, n, 0, false);
}

static void op_free(fzt_lane *l, fzt_slot *s, unsigned slot)
{
    if (!s->p) {
        fzt_free(l->sink, NULL);
        note(l, "free(NULL)");
    } else if (l->give && verify(l, s, "before a hand-over") && l->give(l, s, slot)) {
        l->m->live_blocks--;
        l->m->live_bytes -= s->n;
        s->p = NULL;
        s->stale = NULL;
    } else {
        release(l, s);
    }
}

static void op_usable(fzt_lane *l, fzt_slot *s)
{
    if (!s->p) {
        note(l, "skipped: empty slot");
        return;
    }
    const fzt_sink *k = l->sink;
    if (!k->ad->usable_size) {
        note(l, "skipped: the adapter has no usable_size");
        return;
    }
    size_t u = k->ad->usable_size(k->heap, s->p);
    if (u != s->usable)
        lviolation(l, "usable-size", "usable_size(%p) = %zu, was %zu when allocated", (void *)s->p, u, s->usable);
    note(l, "= %zu", u);
}

static void op_fill(fzt_lane *l, fzt_slot *s)
{
    if (!s->p)
        note(l, "skipped: empty slot");
    else if (verify(l, s, "before fill"))
        fill(l->m, s);
}

/* The blocks the harness holds, as the allocator counts them (heaplab's
 * adapter leaves out those still waiting on a remote-free stack). */
static size_t held_blocks(const fzt_sink *k)
{
    fz_stats st = { 0 };
    k->ad->stats(k->heap, &st);
    return st.blocks_in_use;
}

static bool skip_misuse(fzt_lane *l, fz_error_kind expect, unsigned via)
{
    const fzt_sink *k = l->sink;
    unsigned claim = expect == FZ_ERR_DOUBLE_FREE ? FZ_CLAIM_DETECTS_DOUBLE_FREE : FZ_CLAIM_DETECTS_INVALID;
    if (!claimed(k, claim))
        note(l, "skipped: the adapter does not claim to detect it");
    else if ((via == FZ_VIA_REALLOC && !k->ad->realloc) || (via == FZ_VIA_USABLE_SIZE && !k->ad->usable_size))
        note(l, "skipped: the adapter has no %s", fz_via_names[via]);
    else
        return false;
    return true;
}

/* Passes a bad pointer: exactly one report of `expect`, and nothing changes. */
static void issue_misuse(fzt_lane *l, void *q, fz_error_kind expect, unsigned via)
{
    const fzt_sink *k = l->sink;
    if (skip_misuse(l, expect, via))
        return;
    /* deterministic: nobody else runs, the stats must hold still */
    bool alone = l->give == NULL && k->ad->stats;
    size_t before = alone ? held_blocks(k) : 0;
    l->expect = expect;
    l->expect_hits = 0;
    if (via == FZ_VIA_REALLOC) {
        void *r = k->ad->realloc(k->heap, q, 16);
        if (r)
            lviolation(l, "misuse-changed", "realloc(%p) of a bad pointer returned %p", q, r);
    } else if (via == FZ_VIA_USABLE_SIZE) {
        size_t u = k->ad->usable_size(k->heap, q);
        if (u)
            lviolation(l, "misuse-changed", "usable_size(%p) of a bad pointer returned %zu", q, u);
    } else {
        k->ad->free(k->heap, q);
    }
    l->expect = FZ_ERR_NONE;
    if (fzt_failed(l->sink))
        return;
    if (l->expect_hits != 1) {
        lviolation(l, "misuse-missed", "%s(%p): expected a %s report, got none", fz_via_names[via], q,
                   kind_name(expect));
        return;
    }
    size_t after = alone ? held_blocks(k) : 0;
    if (after != before)
        lviolation(l, "misuse-changed", "a reported %s changed the blocks held: %zu -> %zu", kind_name(expect),
                   before, after);
    note(l, "reported %s", kind_name(expect));
}

static void op_double_free(fzt_lane *l, fzt_slot *s, unsigned via)
{
    release(l, s);
    if (fzt_failed(l->sink))
        return;
    if (!s->stale)
        note(l, "skipped: the slot never held a freed block");
    else if (!s->stale_sure || s->stale_epoch != l->m->epoch)
        note(l, "skipped: the stale pointer is not certainly a free block (remote free, large, or reused since)");
    else
        issue_misuse(l, (void *)s->stale, FZ_ERR_DOUBLE_FREE, via);
}

static void op_interior(fzt_lane *l, fzt_slot *s, size_t offset, unsigned via)
{
    if (!s->p)
        note(l, "skipped: empty slot");
    else if (offset >= s->usable)
        note(l, "skipped: the block is too small for that offset");
    else if (verify(l, s, "before a misuse"))
        issue_misuse(l, s->p + offset, FZ_ERR_INVALID_POINTER, via);
}

static void op_foreign(fzt_lane *l, unsigned kind, unsigned via)
{
    _Alignas(16) unsigned char on_stack[64];
    memset(on_stack, 0, sizeof on_stack);
    unsigned char *libc = NULL, *q;
    if (kind == FZ_FOREIGN_STATIC) {
        q = foreign_static + 16;
    } else if (kind == FZ_FOREIGN_STACK) {
        q = on_stack + 16;
    } else {
        libc = calloc(1, 64);
        if (!libc) {
            note(l, "skipped: libc malloc failed");
            return;
        }
        q = libc + 16;
    }
    issue_misuse(l, q, FZ_ERR_INVALID_POINTER, via);
    free(libc);
}

static void print_text(const void *text, FILE *out) { fputs(text, out); }

/* The adapter's check; false (a violation recorded) when it finds one. */
static bool run_check(fzt_sink *k, size_t op_index, const fz_op *op, const char *when)
{
    if (!k->ad->check)
        return true;
    char msg[256] = "", text[sizeof k->report] = "";
    FILE *f = fmemopen(text, sizeof text, "w");
    int bad = k->ad->check(k->heap, msg, sizeof msg, f);
    if (f)
        fclose(f);
    if (!bad)
        return true;
    report_ref rep = { print_text, text };
    if (when)
        violation_report(k, op_index, op, "checker", &rep, "%s: %s", when, msg);
    else
        violation_report(k, op_index, op, "checker", &rep, "%s", msg);
    return false;
}

static void op_check(fzt_lane *l)
{
    if (!run_check(l->sink, l->op_index, l->op, NULL))
        return;
    if (!l->sink->ad->check)
        note(l, "skipped: the adapter has no check");
}

void fzt_apply(fzt_lane *l, const fz_op *op)
{
    fzt_slot *s = &l->m->slots[op->slot];
    l->op = op;
    l->note[0] = 0;
    switch (op->code) {
    case FZ_OP_MALLOC: op_malloc(l, s, op->a); break;
    case FZ_OP_CALLOC: op_calloc(l, s, op->a, op->b); break;
    case FZ_OP_REALLOC: op_realloc(l, s, op->a); break;
    case FZ_OP_ALIGNED_ALLOC: op_aligned(l, s, op->a, op->b); break;
    case FZ_OP_FREE: op_free(l, s, op->slot); break;
    case FZ_OP_USABLE_SIZE: op_usable(l, s); break;
    case FZ_OP_FILL: op_fill(l, s); break;
    case FZ_OP_DOUBLE_FREE: op_double_free(l, s, op->via); break;
    case FZ_OP_INTERIOR_FREE: op_interior(l, s, op->variant ? 1 : 16, op->via); break;
    case FZ_OP_MISALIGNED_FREE: op_interior(l, s, 8, op->via); break;
    case FZ_OP_FOREIGN_FREE: op_foreign(l, op->variant, op->via); break;
    case FZ_OP_CHECK: op_check(l); break;
    case FZ_OP_SWEEP: fzt_sweep(l->sink, (fzt_model *const[]){ l->m }, 1, l->op_index, op, "sweep"); break;
    case FZ_OP_FAIL_SOURCE: note(l, "skipped: threaded targets inject no faults"); break;
    case FZ_OP_RESET: /* exit: the driver's business */
    case FZ_OP_COUNT: break;
    }
}

/* --- whole-model rules ------------------------------------------------------------------------- */
struct range { uintptr_t a, end; unsigned model, slot; };

static int by_start(const void *x, const void *y)
{
    const struct range *a = x, *b = y;
    return a->a < b->a ? -1 : a->a > b->a;
}

bool fzt_sweep(fzt_sink *k, fzt_model *const *ms, unsigned nm, size_t op_index, const fz_op *op,
               const char *when)
{
    struct range *r = malloc(sizeof *r * FZ_SLOTS * (nm ? nm : 1));   /* libc's, not heaplab's */
    size_t n = 0;
    bool ok = true;
    if (!r)
        return true;
    for (unsigned j = 0; j < nm; j++)
        for (unsigned i = 0; i < FZ_SLOTS; i++) {
            const fzt_slot *s = &ms[j]->slots[i];
            if (!s->p)
                continue;
            if (!verify_slot(k, ms[j], s, op_index, op, when)) {
                free(r);
                return false;
            }
            r[n++] = (struct range){ (uintptr_t)s->p, (uintptr_t)s->p + (s->usable ? s->usable : 1), j, i };
        }
    qsort(r, n, sizeof *r, by_start);
    for (size_t i = 1; i < n; i++)
        if (r[i].a < r[i - 1].end) {
            fzt_violation(k, op_index, op, "overlap", "%s: model %u slot %u at %#lx overlaps model %u slot %u "
                          "[%#lx, %#lx)", when, r[i].model, r[i].slot, (unsigned long)r[i].a, r[i - 1].model,
                          r[i - 1].slot, (unsigned long)r[i - 1].a, (unsigned long)r[i - 1].end);
            ok = false;
            break;
        }
    free(r);
    return ok;
}

bool fzt_check_world(fzt_sink *k, size_t op_index, const fz_op *op, size_t live, const char *when)
{
    if (!run_check(k, op_index, op, when))
        return false;
    if (!k->ad->stats)
        return true;
    size_t held = held_blocks(k);
    if (held != live) {
        fzt_violation(k, op_index, op, "stats", "%s: %s stats: %zu blocks in use (not counting any waiting "
                      "to be freed); the harness holds %zu", when, k->ad->name, held, live);
        return false;
    }
    return true;
}

void fzt_release_all(fzt_sink *k, fzt_model *m, const char *when)
{
    for (unsigned i = 0; i < FZ_SLOTS; i++) {
        fzt_slot *s = &m->slots[i];
        if (!s->p)
            continue;
        if (!verify_slot(k, m, s, 0, NULL, when))
            return;
        fzt_free(k, s->p);
        s->p = NULL;
        m->live_blocks--;
        m->live_bytes -= s->n;
    }
}
