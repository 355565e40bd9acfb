/*
 * check_report.c - turning a violation into an hl_check_report, and a report
 * into text a person reads.
 *
 * The failure path must not allocate (it runs inside a broken heap, possibly
 * inside the allocator's own every-op check): the message is formatted with
 * vsnprintf into the report, and the bytes around the block are copied into
 * the report's fixed dump[], only from the span the pass declared readable.
 */
#include "check_internal.h"
#include "hl_track.h"

#include <inttypes.h>
#include <stdarg.h>

static const char *const invariant_names[HL_INV_COUNT] = {
    [HL_INV_OK] = "ok",
    [HL_INV_MAGIC] = "magic",
    [HL_INV_FOOTER] = "footer",
    [HL_INV_SIZE] = "size",
    [HL_INV_TILING] = "tiling",
    [HL_INV_COALESCED] = "coalesced",
    [HL_INV_LIST_LINKS] = "list-links",
    [HL_INV_LIST_MEMBERSHIP] = "list-membership",
    [HL_INV_BITMAP] = "bitmap",
    [HL_INV_STATS] = "stats",
    [HL_INV_FREE_FILL] = "free-fill",
    [HL_INV_CANARY] = "canary",
    [HL_INV_REGION] = "region",
    [HL_INV_LARGE] = "large",
};

const char *hl_invariant_name(int id) {
    return id >= 0 && id < HL_INV_COUNT ? invariant_names[id] : "unknown";
}

void hl__check_at(hl_checker *c, hl_where kind, const void *where, const void *lo, size_t len) {
    c->where_kind = kind;
    c->where = where;
    c->safe_lo = (uintptr_t)lo;
    c->safe_hi = lo ? (uintptr_t)lo + len : 0;
    c->prev = c->next = NULL;
    c->focus = NULL;
}

void hl__check_at_heap(hl_checker *c, size_t len) {
    size_t skip = offsetof(hl_heap, cookie) + sizeof c->h->cookie;
    hl__check_at(c, HL_AT_HEAP, c->h, (const char *)c->h + skip, len - skip);
}

/* Copies up to sizeof dump bytes, clipped to the readable span: from 32
 * bytes before the block's line (so the footer before it shows), or before
 * the focus's line when the focus lies too far into the block to show both. */
static void take_dump(const hl_checker *c, hl_check_report *r, const void *block, const void *focus) {
    r->dump_addr = NULL;
    r->dump_len = 0;
    if (c->safe_hi <= c->safe_lo)
        return;
    if (!focus || (block && (uintptr_t)focus >= (uintptr_t)block &&
                   (uintptr_t)focus - (uintptr_t)block < sizeof r->dump - 32))
        focus = block;
    uintptr_t f = focus ? (uintptr_t)focus & ~(uintptr_t)15 : c->safe_lo;
    uintptr_t lo = f >= c->safe_lo + 32 ? f - 32 : c->safe_lo;
    if (lo >= c->safe_hi)
        return;
    size_t len = c->safe_hi - lo < sizeof r->dump ? c->safe_hi - lo : sizeof r->dump;
    /* a byte loop, not memcpy: ASan intercepts memcpy and would report the
     * poisoned metadata this copies on purpose; volatile keeps the compiler
     * from turning the loop back into memcpy */
    const volatile unsigned char *src = (const volatile unsigned char *)lo;
    for (size_t i = 0; i < len; i++)
        r->dump[i] = src[i];
    /* the copy may hold bytes a caller never initialised; the report's
     * reader must be able to print them */
    hl_track_defined(r->dump, len);
    r->dump_addr = (const void *)lo;
    r->dump_len = len;
}

int hl__check_fail(hl_checker *c, int id, const void *block, size_t expected, size_t found,
                   const char *fmt, ...) {
    hl_check_report *r = c->rep;
    r->id = id;
    r->invariant = hl_invariant_name(id);
    r->block = block;
    r->region = c->where_kind == HL_AT_HEAP ? NULL : c->where;
    r->offset = block && r->region ? (size_t)((uintptr_t)block - (uintptr_t)r->region) : 0;
    r->expected = expected;
    r->found = found;
    r->prev_block = c->prev;
    r->next_block = c->next;
    r->blocks_walked = c->walked;

    int n = 0;
    if (block && r->region)
        n = snprintf(r->message, sizeof r->message, "block %p (%s+0x%zx): ", block,
                     c->where_kind == HL_AT_MAPPING ? "mapping" : "region", r->offset);
    else if (block)
        n = snprintf(r->message, sizeof r->message, "block %p: ", block);
    if (n < 0 || (size_t)n >= sizeof r->message)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message + n, sizeof r->message - (size_t)n, fmt, ap);
    va_end(ap);

    take_dump(c, r, block, c->focus);
    return id;
}

/* --- printing ---------------------------------------------------------------- */

static void print_line(const hl_check_report *r, size_t at, FILE *out) {
    const unsigned char *d = r->dump + at;
    size_t n = r->dump_len - at < 16 ? r->dump_len - at : 16;
    uintptr_t addr = (uintptr_t)r->dump_addr + at;
    fprintf(out, "  %#014" PRIxPTR " ", addr);
    for (size_t i = 0; i < 16; i++) {
        if (i == 8)
            fputc(' ', out);
        if (i < n)
            fprintf(out, " %02x", d[i]);
        else
            fputs("   ", out);
    }
    fputs("  |", out);
    for (size_t i = 0; i < n; i++)
        fputc(d[i] >= 0x20 && d[i] < 0x7f ? d[i] : '.', out);
    fputc('|', out);
    uintptr_t b = (uintptr_t)r->block;
    if (r->block && b >= addr && b < addr + n)
        fprintf(out, " <- block +%zu", (size_t)(b - addr));
    fputc('\n', out);
}

static void print_hexdump(const hl_check_report *r, FILE *out) {
    if (!r->dump_addr || r->dump_len == 0) {
        fputs("  (no bytes known readable around it)\n", out);
        return;
    }
    fprintf(out, "  %zu bytes at %p:\n", r->dump_len, r->dump_addr);
    for (size_t at = 0; at < r->dump_len && at < sizeof r->dump; at += 16)
        print_line(r, at, out);
}

void hl_check_report_print(const hl_check_report *r, FILE *out) {
    if (!r || !out)
        return;
    if (r->id == HL_INV_OK) {
        fprintf(out, "heap check: every invariant holds (%zu blocks walked)\n", r->blocks_walked);
        return;
    }
    fprintf(out, "heap check: invariant %d (%s) violated\n", r->id, hl_invariant_name(r->id));
    fprintf(out, "  %s\n", r->message);
    if (r->block)
        fprintf(out, "  block     %p at offset 0x%zx of %p\n", r->block, r->offset, r->region);
    else if (r->region)
        fprintf(out, "  in        %p\n", r->region);
    fprintf(out, "  neighbours %p (before), %p (after)\n", r->prev_block, r->next_block);
    fprintf(out, "  expected  %#zx (%zu), found %#zx (%zu)\n", r->expected, r->expected, r->found, r->found);
    fprintf(out, "  walked    %zu blocks before stopping\n", r->blocks_walked);
    print_hexdump(r, out);
}
