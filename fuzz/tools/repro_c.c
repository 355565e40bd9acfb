/*
 * repro_c.c - a fuzz input as a standalone C program (see repro_c.h).
 *
 * The program is the runtime below (the oracle's rules, written for one
 * program and the public API only) followed by main(): the configuration and
 * one line per operation.  The runtime is kept as text, in pieces, so that
 * only the helpers the operations use are written (the program compiles
 * warning-clean with -Wall -Wextra).  It mirrors fuzz/oracle.c and
 * fuzz/pattern.c: a change to a rule there belongs here too.
 */
#include "repro_c.h"
#include "replay.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* --- the runtime, as text ------------------------------------------------------------- */
static const char *const rt_core[] = {
    "#include <heaplab.h>\n",
    "\n",
    "#include <errno.h>\n",
    "#include <stdarg.h>\n",
    "#include <stdint.h>\n",
    "#include <stdio.h>\n",
    "#include <stdlib.h>\n",
    "#include <string.h>\n",
    "\n",
    "/* What fuzz_heap's oracle checks, written out for this program alone. */\n",
    "#define REQUEST_BUDGET ((size_t)64 << 20)   /* larger requests are skipped (no small cap) */\n",
    "#define LIVE_BUDGET ((size_t)256 << 20)\n",
    "#define HOPELESS ((size_t)PTRDIFF_MAX + 1)  /* must fail everywhere */\n",
    "\n",
    "static hl_heap *h;\n",
    "static hl_config cfg;\n",
    "static size_t op_no;                /* the operation running (1-based), 0 at the end */\n",
    "static const char *op_text = \"create\";\n",
    "\n",
    "/* The model: each slot's live block and the pattern written into it. */\n",
    "static struct slot {\n",
    "    unsigned char *p;               /* the live block, or NULL */\n",
    "    size_t n;                       /* size requested */\n",
    "    size_t usable;                  /* bytes holding the pattern */\n",
    "    size_t extent;                  /* bytes the block spans (from the walk) */\n",
    "    uint32_t gen;                   /* pattern generation */\n",
    "    int large;                      /* in a mapping of its own */\n",
    "    unsigned char *stale;           /* the last block freed from this slot */\n",
    "} s[256];\n",
    "static size_t live_blocks, live_bytes;\n",
    "static const void *recent_large[16];  /* the last large blocks freed */\n",
    "static unsigned recent_next, recent_count;\n",
    "static int growth_unknown;          /* hl_heap_fail_source made growth failures legitimate */\n",
    "\n",
    "static void fail(const char *rule, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));\n",
    "static void fail(const char *rule, const char *fmt, ...)\n",
    "{\n",
    "    va_list ap;\n",
    "    fprintf(stderr, \"repro: op #%zu %s: rule %s: \", op_no, op_text, rule);\n",
    "    va_start(ap, fmt);\n",
    "    vfprintf(stderr, fmt, ap);\n",
    "    va_end(ap);\n",
    "    fputc('\\n', stderr);\n",
    "    abort();\n",
    "}\n",
    "\n",
    "/* --- errors: a misuse in flight expects exactly one report of its kind ---- */\n",
    "static hl_error_kind expect_kind;\n",
    "static unsigned expect_hits;\n",
    "\n",
    "static void on_error(const hl_error *e, void *ctx)\n",
    "{\n",
    "    (void)ctx;\n",
    "    if (expect_kind && !expect_hits && e->kind == expect_kind) {\n",
    "        expect_hits++;\n",
    "        return;\n",
    "    }\n",
    "    if (e->report)\n",
    "        hl_check_report_print(e->report, stderr);\n",
    "    fail(e->kind == HL_ERR_INVARIANT ? \"checker\" : expect_kind ? \"misuse-kind\" : \"unexpected-error\",\n",
    "         \"%s reported %s%s%s: %s\", e->operation ? e->operation : \"allocator\", hl_error_kind_name(e->kind),\n",
    "         expect_kind ? \", expected \" : \"\", expect_kind ? hl_error_kind_name(expect_kind) : \"\", e->message);\n",
    "}\n",
    "\n",
    "/* --- contents: byte i of a block depends on its slot, generation and i ----- */\n",
    "static uint64_t seed_of(unsigned slot, uint32_t gen)\n",
    "{\n",
    "    uint64_t x = ((uint64_t)gen << 8 | slot) * 0x9E3779B97F4A7C15ull + 0x5851F42D4C957F2Dull;\n",
    "    x ^= x >> 29;\n",
    "    x *= 0xBF58476D1CE4E5B9ull;\n",
    "    x ^= x >> 32;\n",
    "    return x;\n",
    "}\n",
    "\n",
    "static unsigned char pattern(uint64_t seed, size_t i)\n",
    "{\n",
    "    uint64_t w = seed + (uint64_t)(i / 8) * 0xD6E8FEB86659FD93ull;\n",
    "    unsigned char b[8];\n",
    "    memcpy(b, &w, 8);\n",
    "    return b[i % 8];\n",
    "}\n",
    "\n",
    "static void fill(unsigned i)\n",
    "{\n",
    "    s[i].gen++;\n",
    "    uint64_t seed = seed_of(i, s[i].gen);\n",
    "    for (size_t k = 0; k < s[i].usable; k++)\n",
    "        s[i].p[k] = pattern(seed, k);\n",
    "}\n",
    "\n",
    "static void verify(unsigned i, const char *when)\n",
    "{\n",
    "    uint64_t seed = seed_of(i, s[i].gen);\n",
    "    for (size_t k = 0; k < s[i].usable; k++)\n",
    "        if (s[i].p[k] != pattern(seed, k))\n",
    "            fail(\"contents\", \"%s: slot %u (%zu bytes at %p, gen %u) byte %zu is 0x%02x, expected 0x%02x\", when, i,\n",
    "                 s[i].usable, (void *)s[i].p, (unsigned)s[i].gen, k, s[i].p[k], pattern(seed, k));\n",
    "}\n",
    "\n",
    "static void sweep(const char *when)\n",
    "{\n",
    "    for (unsigned i = 0; i < 256; i++)\n",
    "        if (s[i].p)\n",
    "            verify(i, when);\n",
    "}\n",
    "\n",
    "/* --- the walk: where an address lies, and the largest free block ---------- */\n",
    "typedef struct where {\n",
    "    int status;                     /* 0, or -1: the walk stopped at a corrupted block */\n",
    "    int in_region, in_large, found;\n",
    "    hl_walk_info block;             /* the block or mapping holding q, if found */\n",
    "    size_t largest_free;\n",
    "    const char *q;\n",
    "    size_t len;\n",
    "} where;\n",
    "\n",
    "static int where_one(const hl_walk_info *w, void *ctx)\n",
    "{\n",
    "    where *x = ctx;\n",
    "    uintptr_t a = (uintptr_t)x->q, st = (uintptr_t)w->start;\n",
    "    int in = x->q && a >= st && a - st < w->size && a - st + x->len <= w->size;\n",
    "    if (w->kind == HL_WALK_REGION && in)\n",
    "        x->in_region = 1;\n",
    "    if (w->kind == HL_WALK_LARGE && in)\n",
    "        x->in_large = 1;\n",
    "    if (w->kind != HL_WALK_REGION && x->q && a >= st && a - st < w->size && !x->found) {\n",
    "        x->found = 1;\n",
    "        x->block = *w;\n",
    "    }\n",
    "    if (w->kind == HL_WALK_BLOCK && !w->used && w->usable > x->largest_free)\n",
    "        x->largest_free = w->usable;\n",
    "    return 0;\n",
    "}\n",
    "\n",
    "static where where_is(const void *q, size_t len)\n",
    "{\n",
    "    where x = { 0 };\n",
    "    x.q = q;\n",
    "    x.len = len ? len : 1;\n",
    "    x.status = hl_heap_walk(h, where_one, &x) < 0 ? -1 : 0;\n",
    "    return x;\n",
    "}\n",
    "\n",
    "/* --- after every operation -------------------------------------------------- */\n",
    "static void check_heap(void)\n",
    "{\n",
    "    hl_check_report rep;\n",
    "    if (hl_heap_check(h, &rep) != 0) {\n",
    "        hl_check_report_print(&rep, stderr);\n",
    "        fail(\"checker\", \"invariant %s: %s\", rep.invariant, rep.message);\n",
    "    }\n",
    "}\n",
    "\n",
    "static void after(void)\n",
    "{\n",
    "    hl_stats st;\n",
    "    hl_heap_stats(h, &st);\n",
    "    if (st.bytes_in_use != live_bytes || st.blocks_in_use != live_blocks)\n",
    "        fail(\"stats\", \"stats say %zu blocks / %zu bytes in use, the model %zu / %zu\", st.blocks_in_use,\n",
    "             st.bytes_in_use, live_blocks, live_bytes);\n",
    "    if (cfg.max_bytes && st.source_bytes > cfg.max_bytes)\n",
    "        fail(\"cap\", \"%zu bytes taken from the source, cap %zu\", st.source_bytes, cfg.max_bytes);\n",
    "    if (op_no % 32 == 0)\n",
    "        sweep(\"periodic sweep\");\n",
    "    check_heap();\n",
    "}\n",
    "\n",
    "static void op(size_t no, const char *text)\n",
    "{\n",
    "    op_no = no;\n",
    "    op_text = text;\n",
    "}\n",
    "\n",
    "/* --- what the configuration promises ---------------------------------------- */\n",
    "static size_t large_threshold(void)\n",
    "{\n",
    "    if (cfg.source == HL_SOURCE_BUFFER || cfg.mmap_threshold == HL_MMAP_THRESHOLD_NEVER)\n",
    "        return SIZE_MAX;\n",
    "    return cfg.mmap_threshold ? cfg.mmap_threshold : HL_MMAP_THRESHOLD_DEFAULT;\n",
    "}\n",
    "\n",
    "static size_t grow_size(void)\n",
    "{\n",
    "    if (cfg.source == HL_SOURCE_BUFFER)\n",
    "        return 0;\n",
    "    return cfg.grow_size ? cfg.grow_size : HL_GROW_SIZE_DEFAULT;\n",
    "}\n",
    "\n",
    "static int over_budget(size_t need)\n",
    "{\n",
    "    if (need >= HOPELESS)\n",
    "        return 0;\n",
    "    int bounded = cfg.source == HL_SOURCE_BUFFER || (cfg.max_bytes && cfg.max_bytes <= REQUEST_BUDGET);\n",
    "    return !bounded && (need > REQUEST_BUDGET || live_bytes + need > LIVE_BUDGET);\n",
    "}\n",
    "\n",
    "static size_t sat_add(size_t a, size_t b) { return a + b < a ? SIZE_MAX : a + b; }\n",
    "\n",
    "/* NULL is a bug when a free block could clearly serve the request, or the\n",
    " * heap could clearly grow for it (the oracle's null_is_bug). */\n",
    "static void check_null(size_t need, const hl_stats *before, int want_errno, int got_errno)\n",
    "{\n",
    "    hl_stats after_st;\n",
    "    if (got_errno != want_errno)\n",
    "        fail(\"errno\", \"NULL with errno %d, expected %d\", got_errno, want_errno);\n",
    "    hl_heap_stats(h, &after_st);\n",
    "    if (after_st.bytes_in_use != before->bytes_in_use || after_st.blocks_in_use != before->blocks_in_use)\n",
    "        fail(\"null-changed\", \"NULL, but blocks in use went %zu -> %zu\", before->blocks_in_use,\n",
    "             after_st.blocks_in_use);\n",
    "    if (want_errno != ENOMEM || need >= HOPELESS)\n",
    "        return;\n",
    "    if (need < large_threshold()) {\n",
    "        where w = where_is(NULL, 0);\n",
    "        size_t margin = cfg.policy != HL_SEGREGATED_FIT ? sat_add(need, 128) : sat_add(sat_add(need, need), 64);\n",
    "        if (w.status == 0 && w.largest_free >= margin)\n",
    "            fail(\"null\", \"NULL for %zu bytes, but a free block has %zu usable bytes\", need, w.largest_free);\n",
    "    }\n",
    "    size_t grow = grow_size();\n",
    "    if (!grow || growth_unknown)\n",
    "        return;\n",
    "    size_t room = sat_add(need > grow ? need : grow, 3 * 4096);\n",
    "    if (!cfg.max_bytes) {\n",
    "        if (need <= REQUEST_BUDGET)\n",
    "            fail(\"null\", \"NULL for %zu bytes with no cap\", need);\n",
    "        return;\n",
    "    }\n",
    "    if (sat_add(sat_add(after_st.source_bytes, sat_add(room, room)), 65536) <= cfg.max_bytes)\n",
    "        fail(\"null\", \"NULL for %zu bytes, but the cap leaves room to grow\", need);\n",
    "}\n",
    "\n",
    "/* A new block for slot i: alignment, usable size, placement, no overlap,\n",
    " * calloc's zeros; then the model takes it and fills it. */\n",
    "static void accept(unsigned i, unsigned char *p, size_t n, size_t align, int zeroed)\n",
    "{\n",
    "    if (n >= HOPELESS)\n",
    "        fail(\"huge\", \"a request of %zu bytes (> PTRDIFF_MAX) returned %p\", n, (void *)p);\n",
    "    size_t want = align > HL_ALIGNMENT ? align : HL_ALIGNMENT;\n",
    "    if ((uintptr_t)p % want)\n",
    "        fail(\"aligned\", \"%p is not aligned to %zu\", (void *)p, want);\n",
    "    size_t u = hl_heap_usable_size(h, p);\n",
    "    if (u < n || (hl_checked_build() && u != n))\n",
    "        fail(\"usable-size\", \"usable_size(%p) = %zu for a request of %zu\", (void *)p, u, n);\n",
    "    where w = where_is(p, u);\n",
    "    if (w.status)\n",
    "        fail(\"walk\", \"the heap cannot be walked after returning %p\", (void *)p);\n",
    "    if (!w.in_region && !w.in_large)\n",
    "        fail(\"inside\", \"%p + %zu lies in no region or large mapping\", (void *)p, u);\n",
    "    if (!w.found || w.block.payload != p || !w.block.used || w.block.usable < u)\n",
    "        fail(\"inside\", \"%p is not the payload of a used block of at least %zu bytes\", (void *)p, u);\n",
    "    if ((w.block.kind == HL_WALK_LARGE) != (n >= large_threshold()))\n",
    "        fail(\"large-threshold\", \"a request of %zu bytes (threshold %zu) got %s\", n, large_threshold(),\n",
    "             w.block.kind == HL_WALK_LARGE ? \"a mapping of its own\" : \"a block in a region\");\n",
    "    for (unsigned j = 0; j < 256; j++) {\n",
    "        uintptr_t a = (uintptr_t)p, b = (uintptr_t)s[j].p;\n",
    "        if (j != i && s[j].p && a < b + (s[j].usable ? s[j].usable : 1) && b < a + (u ? u : 1))\n",
    "            fail(\"overlap\", \"slot %u [%p, +%zu) overlaps live slot %u [%p, +%zu)\", i, (void *)p, u, j,\n",
    "                 (void *)s[j].p, s[j].usable);\n",
    "    }\n",
    "    for (size_t k = 0; zeroed && k < n; k++)\n",
    "        if (p[k])\n",
    "            fail(\"calloc-zero\", \"calloc'd %p byte %zu of %zu is 0x%02x\", (void *)p, k, n, p[k]);\n",
    "    s[i].p = p;\n",
    "    s[i].n = n;\n",
    "    s[i].usable = u;\n",
    "    s[i].extent = w.block.usable;\n",
    "    s[i].large = w.block.kind == HL_WALK_LARGE;\n",
    "    live_blocks++;\n",
    "    live_bytes += n;\n",
    "    fill(i);\n",
    "}\n",
    "\n",
    "static void remember_large(const void *p)\n",
    "{\n",
    "    recent_large[recent_next] = p;\n",
    "    recent_next = (recent_next + 1) % 16;\n",
    "    if (recent_count < 16)\n",
    "        recent_count++;\n",
    "}\n",
    "\n",
    "static void forget(unsigned i)\n",
    "{\n",
    "    live_blocks--;\n",
    "    live_bytes -= s[i].n;\n",
    "    if (s[i].large)\n",
    "        remember_large(s[i].p);\n",
    "    s[i].stale = s[i].p;\n",
    "    s[i].p = NULL;\n",
    "}\n",
    "\n",
    "/* Frees slot i's block (if any) after checking its contents. */\n",
    "static void release(unsigned i)\n",
    "{\n",
    "    if (!s[i].p)\n",
    "        return;\n",
    "    verify(i, \"before free\");\n",
    "    hl_heap_free(h, s[i].p);\n",
    "    forget(i);\n",
    "}\n",
    "\n",
    "/* --- the operations -------------------------------------------------------------- */\n",
    NULL,
};
static const char *const rt_malloc[] = {
    "static void do_malloc(unsigned i, size_t n)\n",
    "{\n",
    "    release(i);\n",
    "    if (over_budget(n))\n",
    "        return;\n",
    "    hl_stats before;\n",
    "    hl_heap_stats(h, &before);\n",
    "    errno = 0;\n",
    "    unsigned char *p = hl_heap_malloc(h, n);\n",
    "    if (p)\n",
    "        accept(i, p, n, 0, 0);\n",
    "    else\n",
    "        check_null(n, &before, ENOMEM, errno);\n",
    "}\n",
    NULL,
};
static const char *const rt_calloc[] = {
    "static void do_calloc(unsigned i, size_t count, size_t size)\n",
    "{\n",
    "    release(i);\n",
    "    int overflow = size && count > SIZE_MAX / size;\n",
    "    size_t n = overflow ? SIZE_MAX : count * size;\n",
    "    if (over_budget(n))\n",
    "        return;\n",
    "    hl_stats before;\n",
    "    hl_heap_stats(h, &before);\n",
    "    errno = 0;\n",
    "    unsigned char *p = hl_heap_calloc(h, count, size);\n",
    "    if (p && overflow)\n",
    "        fail(\"calloc-overflow\", \"calloc(%zu, %zu) overflows but returned %p\", count, size, (void *)p);\n",
    "    if (p)\n",
    "        accept(i, p, n, 0, 1);\n",
    "    else\n",
    "        check_null(n, &before, ENOMEM, errno);\n",
    "}\n",
    NULL,
};
static const char *const rt_aligned[] = {
    "static void do_aligned_alloc(unsigned i, size_t align, size_t n)\n",
    "{\n",
    "    release(i);\n",
    "    size_t need = n + align < n ? SIZE_MAX : n + align;\n",
    "    if (over_budget(need))\n",
    "        return;\n",
    "    hl_stats before;\n",
    "    hl_heap_stats(h, &before);\n",
    "    errno = 0;\n",
    "    unsigned char *p = hl_heap_aligned_alloc(h, align, n);\n",
    "    int e = errno, valid = align && !(align & (align - 1));\n",
    "    if (p && !valid)\n",
    "        fail(\"einval\", \"aligned_alloc(%zu, %zu) returned %p for a bad alignment\", align, n, (void *)p);\n",
    "    if (p)\n",
    "        accept(i, p, n, align, 0);\n",
    "    else\n",
    "        check_null(need, &before, valid ? ENOMEM : EINVAL, e);\n",
    "}\n",
    NULL,
};
static const char *const rt_realloc[] = {
    "static void do_realloc(unsigned i, size_t n)\n",
    "{\n",
    "    hl_stats before;\n",
    "    if (!s[i].p) {   /* realloc(NULL, n) is malloc */\n",
    "        if (over_budget(n))\n",
    "            return;\n",
    "        hl_heap_stats(h, &before);\n",
    "        errno = 0;\n",
    "        unsigned char *p = hl_heap_realloc(h, NULL, n);\n",
    "        if (p)\n",
    "            accept(i, p, n, 0, 0);\n",
    "        else\n",
    "            check_null(n, &before, ENOMEM, errno);\n",
    "        return;\n",
    "    }\n",
    "    verify(i, \"before realloc\");\n",
    "    if (over_budget(n))\n",
    "        return;\n",
    "    hl_heap_stats(h, &before);\n",
    "    errno = 0;\n",
    "    unsigned char *old = s[i].p, *q = hl_heap_realloc(h, old, n);\n",
    "    int e = errno;\n",
    "    if (!q) {\n",
    "        hl_stats now;\n",
    "        hl_heap_stats(h, &now);\n",
    "        if (n == 0 && now.blocks_in_use + 1 == before.blocks_in_use) {\n",
    "            forget(i);   /* realloc(p, 0) may free p and return NULL */\n",
    "            return;\n",
    "        }\n",
    "        check_null(n, &before, ENOMEM, e);\n",
    "        verify(i, \"after a failed realloc\");\n",
    "        return;\n",
    "    }\n",
    "    size_t keep = s[i].n < n ? s[i].n : n;\n",
    "    uint64_t seed = seed_of(i, s[i].gen);\n",
    "    for (size_t k = 0; k < keep; k++)\n",
    "        if (q[k] != pattern(seed, k))\n",
    "            fail(\"realloc-prefix\", \"realloc(%p, %zu) = %p lost byte %zu of %zu kept (0x%02x, expected 0x%02x)\",\n",
    "                 (void *)old, n, (void *)q, k, keep, q[k], pattern(seed, k));\n",
    "    int was_large = s[i].large;\n",
    "    live_blocks--;\n",
    "    live_bytes -= s[i].n;\n",
    "    s[i].p = NULL;\n",
    "    accept(i, q, n, 0, 0);\n",
    "    if (q != old) {   /* the old block was freed */\n",
    "        s[i].stale = old;\n",
    "        if (was_large)\n",
    "            remember_large(old);\n",
    "    }\n",
    "}\n",
    NULL,
};
static const char *const rt_free[] = {
    "static void do_free(unsigned i)\n",
    "{\n",
    "    if (s[i].p)\n",
    "        release(i);\n",
    "    else\n",
    "        hl_heap_free(h, NULL);\n",
    "}\n",
    NULL,
};
static const char *const rt_usable[] = {
    "static void do_usable_size(unsigned i)\n",
    "{\n",
    "    if (!s[i].p)\n",
    "        return;\n",
    "    size_t u = hl_heap_usable_size(h, s[i].p);\n",
    "    if (u < s[i].n || (hl_checked_build() && u != s[i].n) || u != s[i].usable)\n",
    "        fail(\"usable-size\", \"usable_size(%p) = %zu for a request of %zu (%zu when allocated)\", (void *)s[i].p, u,\n",
    "             s[i].n, s[i].usable);\n",
    "}\n",
    NULL,
};
static const char *const rt_fill[] = {
    "static void do_fill(unsigned i)\n",
    "{\n",
    "    if (!s[i].p)\n",
    "        return;\n",
    "    verify(i, \"before fill\");\n",
    "    fill(i);\n",
    "}\n",
    NULL,
};
static const char *const rt_reset[] = {
    "static void do_reset(void)\n",
    "{\n",
    "    sweep(\"before reset\");\n",
    "    hl_heap_reset(h);\n",
    "    for (unsigned i = 0; i < 256; i++)\n",
    "        if (s[i].p) {\n",
    "            s[i].stale = s[i].p;\n",
    "            s[i].p = NULL;\n",
    "        }\n",
    "    live_blocks = live_bytes = 0;\n",
    "    recent_count = recent_next = 0;\n",
    "}\n",
    NULL,
};
static const char *const rt_fail_source[] = {
    "static void do_fail_source(unsigned skip, unsigned count)\n",
    "{\n",
    "    hl_heap_fail_source(h, skip, count);\n",
    "    if (count)\n",
    "        growth_unknown = 1;\n",
    "}\n",
    NULL,
};
static const char *const rt_misuse[] = {
    "/* --- misuse: exactly one report of the expected kind, and nothing changes -------- */\n",
    "enum via { VIA_FREE, VIA_REALLOC, VIA_USABLE_SIZE };\n",
    "\n",
    "static void misuse(void *q, hl_error_kind kind, enum via via)\n",
    "{\n",
    "    static const char *const via_names[] = { \"free\", \"realloc\", \"usable_size\" };\n",
    "    hl_stats before, now;\n",
    "    hl_heap_stats(h, &before);\n",
    "    expect_kind = kind;\n",
    "    expect_hits = 0;\n",
    "    if (via == VIA_REALLOC) {\n",
    "        void *r = hl_heap_realloc(h, q, 16);\n",
    "        if (r)\n",
    "            fail(\"misuse-changed\", \"realloc(%p) of a bad pointer returned %p\", q, r);\n",
    "    } else if (via == VIA_USABLE_SIZE) {\n",
    "        size_t u = hl_heap_usable_size(h, q);\n",
    "        if (u)\n",
    "            fail(\"misuse-changed\", \"usable_size(%p) of a bad pointer returned %zu\", q, u);\n",
    "    } else {\n",
    "        hl_heap_free(h, q);\n",
    "    }\n",
    "    expect_kind = 0;\n",
    "    if (expect_hits != 1)\n",
    "        fail(\"misuse-missed\", \"%s(%p): expected a %s report, got none\", via_names[via], q, hl_error_kind_name(kind));\n",
    "    hl_heap_stats(h, &now);\n",
    "    if (now.bytes_in_use != before.bytes_in_use || now.blocks_in_use != before.blocks_in_use ||\n",
    "        now.bytes_free != before.bytes_free || now.blocks_free != before.blocks_free ||\n",
    "        now.source_bytes != before.source_bytes)\n",
    "        fail(\"misuse-changed\", \"a reported %s changed the heap\", hl_error_kind_name(kind));\n",
    "    sweep(\"after a misuse\");\n",
    "}\n",
    NULL,
};
static const char *const rt_double_free[] = {
    "static void do_double_free(unsigned i, enum via via)\n",
    "{\n",
    "    release(i);\n",
    "    const unsigned char *q = s[i].stale;\n",
    "    if (!q)\n",
    "        return;\n",
    "    /* what the stale pointer names now decides the report expected */\n",
    "    where w = where_is(q, 1);\n",
    "    if (w.status)\n",
    "        fail(\"walk\", \"the heap cannot be walked\");\n",
    "    if (w.found && w.block.used && w.block.payload == q)\n",
    "        return;   /* a live block again: freeing it would be no misuse */\n",
    "    hl_error_kind kind;\n",
    "    if (w.found) {\n",
    "        kind = w.block.used ? HL_ERR_INVALID_POINTER : HL_ERR_DOUBLE_FREE;\n",
    "    } else if (w.in_region) {\n",
    "        return;   /* region metadata: no claim */\n",
    "    } else {\n",
    "        kind = HL_ERR_INVALID_POINTER;\n",
    "        for (unsigned k = 0; k < recent_count; k++)\n",
    "            if (recent_large[k] == q)\n",
    "                kind = HL_ERR_DOUBLE_FREE;\n",
    "    }\n",
    "    misuse((void *)q, kind, via);\n",
    "}\n",
    NULL,
};
static const char *const rt_interior[] = {
    "static void do_interior_free(unsigned i, size_t offset, enum via via)\n",
    "{\n",
    "    if (!s[i].p || offset >= s[i].extent)\n",
    "        return;\n",
    "    verify(i, \"before a misuse\");\n",
    "    misuse(s[i].p + offset, HL_ERR_INVALID_POINTER, via);\n",
    "}\n",
    NULL,
};
static const char *const rt_foreign[] = {
    "enum foreign { FOREIGN_STATIC, FOREIGN_STACK, FOREIGN_LIBC };\n",
    "\n",
    "static void do_foreign_free(enum foreign kind, enum via via)\n",
    "{\n",
    "    static _Alignas(16) unsigned char on_static[64];\n",
    "    _Alignas(16) unsigned char on_stack[64];\n",
    "    memset(on_stack, 0, sizeof on_stack);\n",
    "    memset(on_static, 0, sizeof on_static);\n",
    "    unsigned char *libc = NULL, *q = on_static + 16;\n",
    "    if (kind == FOREIGN_STACK)\n",
    "        q = on_stack + 16;\n",
    "    if (kind == FOREIGN_LIBC) {\n",
    "        libc = calloc(1, 64);\n",
    "        if (!libc)\n",
    "            return;\n",
    "        q = libc + 16;\n",
    "    }\n",
    "    misuse(q, HL_ERR_INVALID_POINTER, via);\n",
    "    free(libc);\n",
    "}\n",
    NULL,
};
static const char *const rt_finish[] = {
    "static void finish(void)\n",
    "{\n",
    "    op_no = 0;\n",
    "    op_text = \"end of input\";\n",
    "    sweep(\"final sweep\");\n",
    "    check_heap();\n",
    "}\n",
    NULL,
};

enum piece {
    P_MALLOC = 1u << 0, P_CALLOC = 1u << 1, P_ALIGNED = 1u << 2, P_REALLOC = 1u << 3, P_FREE = 1u << 4,
    P_USABLE = 1u << 5, P_FILL = 1u << 6, P_RESET = 1u << 7, P_FAIL_SOURCE = 1u << 8, P_MISUSE = 1u << 9,
    P_DOUBLE_FREE = 1u << 10, P_INTERIOR = 1u << 11, P_FOREIGN = 1u << 12,
};

static const struct {
    unsigned flag;
    const char *const *text;
} pieces[] = {
    { P_MALLOC, rt_malloc }, { P_CALLOC, rt_calloc }, { P_ALIGNED, rt_aligned }, { P_REALLOC, rt_realloc },
    { P_FREE, rt_free }, { P_USABLE, rt_usable }, { P_FILL, rt_fill }, { P_RESET, rt_reset },
    { P_FAIL_SOURCE, rt_fail_source }, { P_MISUSE, rt_misuse }, { P_DOUBLE_FREE, rt_double_free },
    { P_INTERIOR, rt_interior }, { P_FOREIGN, rt_foreign },
};

static unsigned pieces_for(fz_opcode code)
{
    switch (code) {
    case FZ_OP_MALLOC: return P_MALLOC;
    case FZ_OP_CALLOC: return P_CALLOC;
    case FZ_OP_REALLOC: return P_REALLOC;
    case FZ_OP_ALIGNED_ALLOC: return P_ALIGNED;
    case FZ_OP_FREE: return P_FREE;
    case FZ_OP_USABLE_SIZE: return P_USABLE;
    case FZ_OP_FILL: return P_FILL;
    case FZ_OP_DOUBLE_FREE: return P_MISUSE | P_DOUBLE_FREE;
    case FZ_OP_INTERIOR_FREE:
    case FZ_OP_MISALIGNED_FREE: return P_MISUSE | P_INTERIOR;
    case FZ_OP_FOREIGN_FREE: return P_MISUSE | P_FOREIGN;
    case FZ_OP_RESET: return P_RESET;
    case FZ_OP_FAIL_SOURCE: return P_FAIL_SOURCE;
    case FZ_OP_CHECK:
    case FZ_OP_SWEEP:
    case FZ_OP_COUNT: break;
    }
    return 0;
}

static void put_text(FILE *out, const char *const *lines)
{
    for (size_t i = 0; lines[i]; i++)
        fputs(lines[i], out);
}

/* --- main() ------------------------------------------------------------------------------ */
/* A size as C: SIZE_MAX by name, large values in hex. */
static void size_literal(size_t n, char *buf, size_t len)
{
    if (n == SIZE_MAX)
        snprintf(buf, len, "SIZE_MAX");
    else if (n <= 0x7fffffffu)
        snprintf(buf, len, "%zu", n);
    else
        snprintf(buf, len, "(size_t)%#" PRIx64 "ull", (uint64_t)n);
}

/* Text for a C comment or string: no "*" followed by "/", no quote or backslash. */
static void sanitize(const char *in, char *buf, size_t len)
{
    size_t j = 0;
    for (size_t i = 0; in[i] && j + 1 < len; i++) {
        char c = in[i];
        if (c == '"' || c == '\\' || (unsigned char)c < 0x20 || (c == '*' && in[i + 1] == '/'))
            c = '_';
        buf[j++] = c;
    }
    buf[j] = 0;
}

static void op_call(const fz_op *op, char *buf, size_t len)
{
    static const char *const vias[] = { "VIA_FREE", "VIA_REALLOC", "VIA_USABLE_SIZE" };
    static const char *const foreign[] = { "FOREIGN_STATIC", "FOREIGN_STACK", "FOREIGN_LIBC" };
    const char *via = vias[op->via < FZ_VIA_COUNT ? op->via : 0];
    char a[40], b[40];
    size_literal(op->a, a, sizeof a);
    size_literal(op->b, b, sizeof b);
    unsigned slot = op->slot;
    switch (op->code) {
    case FZ_OP_MALLOC: snprintf(buf, len, "do_malloc(%u, %s)", slot, a); return;
    case FZ_OP_CALLOC: snprintf(buf, len, "do_calloc(%u, %s, %s)", slot, a, b); return;
    case FZ_OP_REALLOC: snprintf(buf, len, "do_realloc(%u, %s)", slot, a); return;
    case FZ_OP_ALIGNED_ALLOC: snprintf(buf, len, "do_aligned_alloc(%u, %s, %s)", slot, a, b); return;
    case FZ_OP_FREE: snprintf(buf, len, "do_free(%u)", slot); return;
    case FZ_OP_USABLE_SIZE: snprintf(buf, len, "do_usable_size(%u)", slot); return;
    case FZ_OP_FILL: snprintf(buf, len, "do_fill(%u)", slot); return;
    case FZ_OP_DOUBLE_FREE: snprintf(buf, len, "do_double_free(%u, %s)", slot, via); return;
    case FZ_OP_INTERIOR_FREE:
        snprintf(buf, len, "do_interior_free(%u, %d, %s)", slot, op->variant ? 1 : 16, via);
        return;
    case FZ_OP_MISALIGNED_FREE: snprintf(buf, len, "do_interior_free(%u, 8, %s)", slot, via); return;
    case FZ_OP_FOREIGN_FREE:
        snprintf(buf, len, "do_foreign_free(%s, %s)", foreign[op->variant < FZ_FOREIGN_COUNT ? op->variant : 0], via);
        return;
    case FZ_OP_RESET: snprintf(buf, len, "do_reset()"); return;
    case FZ_OP_CHECK: snprintf(buf, len, "check_heap()"); return;
    case FZ_OP_FAIL_SOURCE:
        snprintf(buf, len, "do_fail_source(%u, %u)", (unsigned)op->a, (unsigned)op->b);
        return;
    case FZ_OP_SWEEP: snprintf(buf, len, "sweep(\"sweep\")"); return;
    case FZ_OP_COUNT: break;
    }
    snprintf(buf, len, "(void)0");
}

static void write_config(FILE *out, const fz_header *hdr)
{
    static const char *const policies[] = { "HL_SEGREGATED_FIT", "HL_FIRST_FIT", "HL_BEST_FIT" };
    static const char *const sources[] = { "HL_SOURCE_MMAP", "HL_SOURCE_BUFFER", "HL_SOURCE_SBRK" };
    char grow[40], cap[40], thr[40];
    size_literal(fz_grow_sizes[hdr->grow % FZ_GROW_CHOICES], grow, sizeof grow);
    size_literal(fz_caps[hdr->cap % FZ_CAP_CHOICES], cap, sizeof cap);
    size_t t = fz_thresholds[hdr->threshold % FZ_THRESHOLD_CHOICES];
    if (t == FZ_THRESHOLD_NEVER)
        snprintf(thr, sizeof thr, "HL_MMAP_THRESHOLD_NEVER");
    else
        size_literal(t, thr, sizeof thr);
    bool buffer = hdr->source % FZ_SOURCE_COUNT == FZ_SOURCE_BUFFER;
    if (buffer)
        fprintf(out, "    static _Alignas(64) unsigned char buffer[%zu];\n", fz_buffer_sizes[hdr->buffer % FZ_BUFFER_CHOICES]);
    fprintf(out, "    hl_set_error_handler(on_error, NULL);\n"
                 "    cfg = (hl_config){\n"
                 "        .policy = %s, .source = %s,\n", policies[hdr->policy % FZ_POLICY_COUNT],
            sources[hdr->source % FZ_SOURCE_COUNT]);
    if (buffer)
        fprintf(out, "        .buffer = buffer, .buffer_size = sizeof buffer,\n");
    fprintf(out, "        .grow_size = %s, .max_bytes = %s, .mmap_threshold = %s,\n    };\n", grow, cap, thr);
    fprintf(out, "    h = hl_heap_create(&cfg);\n"
                 "    if (!h) {\n"
                 "        fprintf(stderr, \"repro: hl_heap_create refused the configuration: %%s\\n\", hl_config_error(&cfg));\n"
                 "        return 2;\n"
                 "    }\n");
}

int hlt_repro_c_write(FILE *out, const fz_header *hdr, const fz_op *ops, size_t nops, size_t fail_index,
                      const char *expected)
{
    bool at_op = fail_index >= 1 && fail_index <= nops;
    size_t last = at_op ? fail_index : nops;
    unsigned need = 0;
    for (size_t i = 0; i < last; i++)
        need |= pieces_for(ops[i].code);

    char config[FZ_OP_TEXT], text[FZ_OP_TEXT], clean[FZ_OP_TEXT], call[160], why[600];
    fz_header_format(hdr, config, sizeof config);
    sanitize(expected ? expected : "", why, sizeof why);
    fprintf(out, "/*\n * A heaplab reproducer written by hl-trace c from a fuzz_heap input:\n"
                 " * %s, %zu of its %zu operations.\n", config, last, nops);
    if (expected && expected[0])
        fprintf(out, " * The fuzzer saw: %s\n", why);
    fprintf(out, " *\n * Build: cc -std=c11 -I include repro.c libheaplab.a -lpthread\n"
                 " * It aborts at the first broken rule (\"repro: op #N ...: rule ...\") and exits 0\n"
                 " * when every operation passes: then the bug is fixed.\n */\n");
    put_text(out, rt_core);
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++)
        if (need & pieces[i].flag)
            put_text(out, pieces[i].text);
    if (!at_op)
        put_text(out, rt_finish);

    fputs("int main(void)\n{\n", out);
    write_config(out, hdr);
    for (size_t i = 0; i < last; i++) {
        fz_op_format(&ops[i], text, sizeof text);
        sanitize(text, clean, sizeof clean);
        op_call(&ops[i], call, sizeof call);
        fprintf(out, "    /* %zu: %s */%s\n", i + 1, clean,
                at_op && i + 1 == fail_index ? "   /* <- the fuzzer's failure */" : "");
        fprintf(out, "    op(%zu, \"%s\"); %s; after();\n", i + 1, clean, call);
    }
    if (at_op)
        fprintf(out, "    hl_heap_destroy(h);\n"
                     "    puts(\"repro: op #%zu passed: the failure no longer reproduces\");\n", fail_index);
    else
        fputs("    finish();\n    hl_heap_destroy(h);\n    puts(\"repro: no rule broken\");\n", out);
    fputs("    return 0;\n}\n", out);
    return ferror(out) ? -1 : 0;
}

/* --- hl-trace c ------------------------------------------------------------------------------ */
int hl_trace_repro_c(const hl_replay *r, FILE *out)
{
    char expected[FZ_OP_TEXT + 600] = "";
    size_t fail_index = 0;
    if (r->violated) {
        const fz_violation *v = &r->oracle->v;
        snprintf(expected, sizeof expected, "op #%zu %s: rule %s: %s", v->op_index, v->op_text, v->rule, v->details);
        fail_index = v->op_index;
    } else if (r->refused) {
        snprintf(expected, sizeof expected, "the adapter refused the configuration: %s", r->refused);
    } else {
        snprintf(expected, sizeof expected, "no violation when this was written");
    }
    return hlt_repro_c_write(out, &r->hdr, r->ops, r->nops, fail_index, expected) == 0 ? 0 : 2;
}
