/* encode.c - see encode.h: one line of text at a time into bytes. */
#include "encode.h"
#include "ops.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct enc {
    hl_bytes *out;
    char *err;
    size_t errlen;
    unsigned line;
    bool failed;
} enc;

static void fail(enc *e, const char *fmt, const char *arg)
{
    if (e->failed)
        return;
    e->failed = true;
    int n = snprintf(e->err, e->errlen, "line %u: ", e->line);
    if (n >= 0 && (size_t)n < e->errlen)
        snprintf(e->err + n, e->errlen - (size_t)n, fmt, arg ? arg : "");
}

static void put(enc *e, uint8_t b)
{
    hl_bytes *o = e->out;
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 256;
        uint8_t *grown = realloc(o->p, cap);
        if (!grown) {
            fail(e, "out of memory%s", NULL);
            return;
        }
        o->p = grown;
        o->cap = cap;
    }
    o->p[o->n++] = b;
}

static void put_le(enc *e, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        put(e, (uint8_t)(v >> (8 * i)));
}

static bool parse_number(const char *s, size_t *v)
{
    if (!s || !*s || *s == '-')
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || *end)
        return false;
    *v = (size_t)x;
    return true;
}

/* --- sizes and alignments ----------------------------------------------------------- */
static int symbol_selector(const char *name)
{
    for (unsigned sel = FZ_SEL_THRESHOLD; sel < FZ_SEL_U16; sel++)
        if (strcmp(fz_size_symbol(sel), name) == 0)
            return (int)sel;
    return -1;
}

static void put_size(enc *e, const char *tok)
{
    char name[64];
    size_t v;
    if (!tok) {
        fail(e, "a size is missing%s", NULL);
        return;
    }
    snprintf(name, sizeof name, "%s", tok);
    char *eq = strchr(name, '=');
    if (eq)
        *eq = 0;
    int sel = symbol_selector(name);
    if (sel >= 0) {
        put(e, (uint8_t)sel);
        return;
    }
    if (!parse_number(name, &v)) {
        fail(e, "not a size: %s", tok);
        return;
    }
    if (v < FZ_SEL_INTERESTING) {
        put(e, (uint8_t)v);
        return;
    }
    for (unsigned i = 0; i < 64; i++)
        if (fz_interesting_sizes[i] == v) {
            put(e, (uint8_t)(FZ_SEL_INTERESTING + i));
            return;
        }
    if (v < ((size_t)(FZ_SEL_U32 - FZ_SEL_U16) << 16)) {
        put(e, (uint8_t)(FZ_SEL_U16 + (v >> 16)));
        put_le(e, v & 0xffff, 2);
    } else if (v <= UINT32_MAX) {
        put(e, FZ_SEL_U32);
        put_le(e, v, 4);
    } else {
        put(e, FZ_SEL_U64);
        put_le(e, v, 8);
    }
}

static void put_alignment(enc *e, const char *tok)
{
    size_t a;
    if (!parse_number(tok, &a)) {
        fail(e, "not an alignment: %s", tok);
        return;
    }
    for (unsigned k = 0; k < FZ_ALIGN_POW2_MAX; k++)
        if (a == (size_t)1 << k) {
            put(e, (uint8_t)k);
            return;
        }
    for (unsigned i = 0; i < FZ_ALIGN_U64 - FZ_ALIGN_ODD; i++)
        if (fz_odd_alignments[i] == a) {
            put(e, (uint8_t)(FZ_ALIGN_ODD + i));
            return;
        }
    put(e, FZ_ALIGN_U64);
    put_le(e, a, 8);
}

/* --- operands ---------------------------------------------------------------------------- */
static void put_slot(enc *e, const char *tok)
{
    size_t v;
    if (!tok || tok[0] != 's' || !parse_number(tok + 1, &v) || v >= FZ_SLOTS)
        fail(e, "expected a slot s0..s255, got %s", tok ? tok : "nothing");
    else
        put(e, (uint8_t)v);
}

static int lookup(const char *const *names, unsigned count, const char *s)
{
    for (unsigned i = 0; s && i < count; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

/* "via=free" (default free) */
static unsigned get_via(enc *e, const char *tok)
{
    if (!tok)
        return FZ_VIA_FREE;
    if (strncmp(tok, "via=", 4) != 0 || lookup(fz_via_names, FZ_VIA_COUNT, tok + 4) < 0) {
        fail(e, "expected via=free|realloc|usable_size, got %s", tok);
        return 0;
    }
    return (unsigned)lookup(fz_via_names, FZ_VIA_COUNT, tok + 4);
}

static void put_small(enc *e, const char *tok, unsigned max)
{
    size_t v;
    if (!parse_number(tok, &v) || v > max)
        fail(e, "expected a number 0..15, got %s", tok ? tok : "nothing");
    else
        put(e, (uint8_t)v);
}

/* t[0] is the operation's name, t[1..] its operands. */
static void put_op(enc *e, char **t, int nt)
{
    int code = lookup(fz_op_names, FZ_OP_COUNT, t[0]);
    if (code < 0) {
        fail(e, "unknown operation %s", t[0]);
        return;
    }
    put(e, fz_opcode_byte((fz_opcode)code));
    switch (code) {
    case FZ_OP_MALLOC: case FZ_OP_REALLOC:
        put_slot(e, t[1]);
        put_size(e, nt > 2 ? t[2] : NULL);
        break;
    case FZ_OP_CALLOC:
        put_slot(e, t[1]);
        put_size(e, nt > 2 ? t[2] : NULL);
        put_size(e, nt > 3 ? t[3] : NULL);
        break;
    case FZ_OP_ALIGNED_ALLOC:
        put_slot(e, t[1]);
        put_alignment(e, nt > 2 ? t[2] : NULL);
        put_size(e, nt > 3 ? t[3] : NULL);
        break;
    case FZ_OP_FREE: case FZ_OP_USABLE_SIZE: case FZ_OP_FILL:
        put_slot(e, t[1]);
        break;
    case FZ_OP_DOUBLE_FREE: case FZ_OP_MISALIGNED_FREE:
        put_slot(e, t[1]);
        put(e, (uint8_t)get_via(e, nt > 2 ? t[2] : NULL));
        break;
    case FZ_OP_INTERIOR_FREE: {
        put_slot(e, t[1]);
        const char *off = nt > 2 ? t[2] : "+16";
        if (strcmp(off, "+16") && strcmp(off, "+1"))
            fail(e, "interior_free takes +16 or +1, not %s", off);
        put(e, (uint8_t)(get_via(e, nt > 3 ? t[3] : NULL) + FZ_VIA_COUNT * (strcmp(off, "+1") == 0)));
        break;
    }
    case FZ_OP_FOREIGN_FREE: {
        int kind = lookup(fz_foreign_names, FZ_FOREIGN_COUNT, nt > 1 ? t[1] : NULL);
        if (kind < 0)
            fail(e, "foreign_free takes static, stack or libc, not %s", nt > 1 ? t[1] : "nothing");
        put(e, (uint8_t)(get_via(e, nt > 2 ? t[2] : NULL) + FZ_VIA_COUNT * (unsigned)(kind < 0 ? 0 : kind)));
        break;
    }
    case FZ_OP_FAIL_SOURCE:
        put_small(e, nt > 1 ? t[1] : NULL, 15);
        put_small(e, nt > 2 ? t[2] : NULL, 15);
        break;
    default:
        break;
    }
}

/* --- the header ------------------------------------------------------------------------------ */
static int size_index(const size_t *table, unsigned n, const char *v)
{
    size_t x;
    if (strcmp(v, "never") == 0)
        x = FZ_THRESHOLD_NEVER;
    else if (!parse_number(v, &x))
        return -1;
    for (unsigned i = 0; i < n; i++)
        if (table[i] == x)
            return (int)i;
    return -1;
}

static void put_header(enc *e, char **t, int nt)
{
    fz_header h = { 0 };
    for (int i = 1; i < nt; i++) {
        char *v = strchr(t[i], '=');
        int idx = -1;
        if (v)
            *v++ = 0;
        if (!v)
            idx = -1;
        else if (!strcmp(t[i], "policy") && (idx = lookup(fz_policy_names, FZ_POLICY_COUNT, v)) >= 0)
            h.policy = (unsigned)idx;
        else if (!strcmp(t[i], "source") && (idx = lookup(fz_source_names, FZ_SOURCE_COUNT, v)) >= 0)
            h.source = (unsigned)idx;
        else if (!strcmp(t[i], "buffer") && (idx = size_index(fz_buffer_sizes, FZ_BUFFER_CHOICES, v)) >= 0)
            h.buffer = (unsigned)idx;
        else if (!strcmp(t[i], "grow") && (idx = size_index(fz_grow_sizes, FZ_GROW_CHOICES, v)) >= 0)
            h.grow = (unsigned)idx;
        else if (!strcmp(t[i], "cap") && (idx = size_index(fz_caps, FZ_CAP_CHOICES, v)) >= 0)
            h.cap = (unsigned)idx;
        else if (!strcmp(t[i], "threshold") && (idx = size_index(fz_thresholds, FZ_THRESHOLD_CHOICES, v)) >= 0)
            h.threshold = (unsigned)idx;
        if (idx < 0)
            fail(e, "bad config field %s (see fuzz/README.md for the choices)", t[i]);
    }
    put(e, (uint8_t)h.policy);
    put(e, (uint8_t)(h.source + FZ_SOURCE_COUNT * (h.source == FZ_SOURCE_BUFFER ? h.buffer : 0)));
    put(e, (uint8_t)h.grow);
    put(e, (uint8_t)h.cap);
    put(e, (uint8_t)h.threshold);
}

/* --- lines ------------------------------------------------------------------------------------- */
static int split(char *line, char **t, int max)
{
    int n = 0;
    for (char *s = strtok(line, " \t\r\n"); s && n < max - 1; s = strtok(NULL, " \t\r\n"))
        t[n++] = s;
    for (int i = n; i < max; i++)
        t[i] = NULL;   /* missing operands read as NULL */
    return n;
}

int hl_trace_encode(FILE *in, hl_bytes *out, char *err, size_t errlen)
{
    enc e = { out, err, errlen, 0, false };
    char line[1024], *t[16];
    bool header = false;
    while (!e.failed && fgets(line, sizeof line, in)) {
        e.line++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        int nt = split(line, t, 16);
        if (nt && strchr(t[0], ':') && t[0][strlen(t[0]) - 1] == ':') {   /* "12:" numbering */
            memmove(t, t + 1, (size_t)nt * sizeof *t);   /* keeps the NULL after the last */
            nt--;
        }
        if (!nt)
            continue;
        if (!strcmp(t[0], "config")) {
            if (header)
                fail(&e, "a second config line%s", NULL);
            else if (out->n)
                fail(&e, "the config line must come before any operation%s", NULL);
            header = true;
            put_header(&e, t, nt);
            continue;
        }
        if (!header) {   /* no config line: the defaults */
            char *none[1] = { "config" };
            put_header(&e, none, 1);
            header = true;
        }
        put_op(&e, t, nt);
    }
    if (!header && !e.failed) {
        char *none[1] = { "config" };
        put_header(&e, none, 1);
    }
    return e.failed ? -1 : 0;
}

void hl_bytes_free(hl_bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}
