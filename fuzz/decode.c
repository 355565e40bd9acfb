/*
 * decode.c - bytes to operations (ops.h), and operations to text.
 *
 * The decoder is shared by every engine and tool, so an input means the same
 * thing to libFuzzer, AFL++, the standalone driver and hl-trace.
 */
#include "ops.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The defaults the "thr" and "cap" size names fall back to (heaplab's). */
#define FZ_DEFAULT_THRESHOLD ((size_t)128 * 1024)
#define FZ_DEFAULT_GROW ((size_t)256 * 1024)

const size_t fz_buffer_sizes[FZ_BUFFER_CHOICES] = {
    65536, 65536 + 24, 131072, 262144 + 8, 1048576, 4194304,
};
const size_t fz_grow_sizes[FZ_GROW_CHOICES] = {
    0, 4096, 12288, 65536, 100000, 262144, 1048576, 4194304,
};
const size_t fz_caps[FZ_CAP_CHOICES] = {
    0, 65536, 131072, 262144, 1048576, 4194304, 16777216, 67108864,
};
const size_t fz_thresholds[FZ_THRESHOLD_CHOICES] = {
    0, FZ_THRESHOLD_NEVER, 512, 4096, 32768, 65536, 131072, 1048576,
};
const char *const fz_policy_names[FZ_POLICY_COUNT] = { "segregated", "first", "best" };
const char *const fz_source_names[FZ_SOURCE_COUNT] = { "mmap", "buffer", "sbrk" };

const char *const fz_op_names[FZ_OP_COUNT] = {
    "malloc", "calloc", "realloc", "aligned_alloc", "free", "usable_size", "fill",
    "double_free", "interior_free", "misaligned_free", "foreign_free",
    "reset", "check", "fail_source", "sweep",
};
const char *const fz_via_names[FZ_VIA_COUNT] = { "free", "realloc", "usable_size" };
const char *const fz_foreign_names[FZ_FOREIGN_COUNT] = { "static", "stack", "libc" };

/* Opcode byte % 32: allocation and free are the common operations. */
static const uint8_t opcode_table[32] = {
    FZ_OP_MALLOC, FZ_OP_MALLOC, FZ_OP_MALLOC, FZ_OP_MALLOC, FZ_OP_MALLOC, FZ_OP_MALLOC,
    FZ_OP_FREE, FZ_OP_FREE, FZ_OP_FREE, FZ_OP_FREE, FZ_OP_FREE, FZ_OP_FREE,
    FZ_OP_REALLOC, FZ_OP_REALLOC, FZ_OP_REALLOC, FZ_OP_REALLOC,
    FZ_OP_CALLOC, FZ_OP_CALLOC, FZ_OP_ALIGNED_ALLOC, FZ_OP_ALIGNED_ALLOC,
    FZ_OP_FILL, FZ_OP_FILL, FZ_OP_USABLE_SIZE, FZ_OP_DOUBLE_FREE,
    FZ_OP_INTERIOR_FREE, FZ_OP_MISALIGNED_FREE, FZ_OP_FOREIGN_FREE, FZ_OP_RESET,
    FZ_OP_CHECK, FZ_OP_FAIL_SOURCE, FZ_OP_SWEEP, FZ_OP_MALLOC,
};

uint8_t fz_opcode_byte(fz_opcode code)
{
    for (unsigned i = 0; i < 32; i++)
        if (opcode_table[i] == code)
            return (uint8_t)i;
    return 0;
}

/* Request sizes n where heaplab's block size (n + 24 rounded to 16, at least
 * 48) or a TLSF class (16 B apart below 256, then 16 per power of two)
 * changes, and 16-byte alignment boundaries, each +-1.  All >= 64, distinct. */
const size_t fz_interesting_sizes[64] = {
    64, 65, 71, 72, 73, 79, 80, 81, 95, 96, 97, 104, 127, 128, 129, 200,
    231, 232, 233, 255, 256, 257, 300, 487, 488, 489, 511, 512, 513, 519, 520, 521,
    999, 1000, 1001, 1023, 1024, 1025, 1063, 1064, 1065, 1500, 2023, 2024, 2025, 2047,
    2048, 2049, 3000, 4071, 4072, 4073, 4095, 4096, 4097, 8191, 8192, 8193,
    65535, 65536, 65537, 262143, 262144, 262145,
};

const size_t fz_odd_alignments[31] = {
    0, 3, 5, 6, 7, 12, 17, 24, 33, 48, 80, 96, 100, 255, 513, 1000,
    4095, 4097, 65535, 65537, 1048577, SIZE_MAX, SIZE_MAX - 15, PTRDIFF_MAX,
    (size_t)1 << 63, ((size_t)1 << 63) + 16, (size_t)1 << 24, (size_t)1 << 28,
    (size_t)1 << 31, (size_t)1 << 32, (size_t)1 << 40,
};

static const char *const room_names[16] = {
    "cap", "cap-1", "cap-16", "cap-24", "cap-32", "cap-48", "cap-64", "cap-256",
    "cap-4096", "cap/2", "cap/2+1", "cap/4", "cap+1", "cap+16", "cap+4096", "cap*2",
};
static const char *const huge_names[16] = {
    "SIZE_MAX", "SIZE_MAX-1", "SIZE_MAX-7", "SIZE_MAX-15", "SIZE_MAX-16", "SIZE_MAX-23",
    "SIZE_MAX-24", "SIZE_MAX-47", "SIZE_MAX-4096", "PTRDIFF_MAX", "PTRDIFF_MAX+1",
    "2^32-1", "2^32", "2^40-1", "2^40", "2^48",
};
static const size_t huge_values[16] = {
    SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 7, SIZE_MAX - 15, SIZE_MAX - 16, SIZE_MAX - 23,
    SIZE_MAX - 24, SIZE_MAX - 47, SIZE_MAX - 4096, PTRDIFF_MAX, (size_t)PTRDIFF_MAX + 1,
    ((size_t)1 << 32) - 1, (size_t)1 << 32, ((size_t)1 << 40) - 1, (size_t)1 << 40,
    (size_t)1 << 48,
};
static const char *const threshold_names[32] = {
    "thr-16", "thr-15", "thr-14", "thr-13", "thr-12", "thr-11", "thr-10", "thr-9",
    "thr-8", "thr-7", "thr-6", "thr-5", "thr-4", "thr-3", "thr-2", "thr-1",
    "thr", "thr+1", "thr+2", "thr+3", "thr+4", "thr+5", "thr+6", "thr+7",
    "thr+8", "thr+9", "thr+10", "thr+11", "thr+12", "thr+13", "thr+14", "thr+15",
};

const char *fz_size_symbol(unsigned sel)
{
    if (sel >= FZ_SEL_THRESHOLD && sel < FZ_SEL_ROOM)
        return threshold_names[sel - FZ_SEL_THRESHOLD];
    if (sel >= FZ_SEL_ROOM && sel < FZ_SEL_HUGE)
        return room_names[sel - FZ_SEL_ROOM];
    if (sel >= FZ_SEL_HUGE && sel < FZ_SEL_U16)
        return huge_names[sel - FZ_SEL_HUGE];
    return NULL;
}

size_t fz_header_threshold(const fz_header *h)
{
    size_t t = fz_thresholds[h->threshold];
    return (t == 0 || t == FZ_THRESHOLD_NEVER) ? FZ_DEFAULT_THRESHOLD : t;
}

size_t fz_header_room(const fz_header *h)
{
    if (fz_caps[h->cap])
        return fz_caps[h->cap];
    if (h->source == FZ_SOURCE_BUFFER)
        return fz_buffer_sizes[h->buffer];
    return fz_grow_sizes[h->grow] ? fz_grow_sizes[h->grow] : FZ_DEFAULT_GROW;
}

static size_t room_value(size_t room, unsigned i)
{
    static const size_t minus[9] = { 0, 1, 16, 24, 32, 48, 64, 256, 4096 };
    if (i < 9)
        return room > minus[i] ? room - minus[i] : 0;
    switch (i) {
    case 9: return room / 2;
    case 10: return room / 2 + 1;
    case 11: return room / 4;
    case 12: return room + 1;
    case 13: return room + 16;
    case 14: return room + 4096;
    default: return room * 2;
    }
}

size_t fz_symbol_value(const fz_decoder *d, unsigned sel)
{
    if (sel >= FZ_SEL_THRESHOLD && sel < FZ_SEL_ROOM)
        return d->threshold + (size_t)((int)sel - FZ_SEL_THRESHOLD - 16);
    if (sel >= FZ_SEL_ROOM && sel < FZ_SEL_HUGE)
        return room_value(d->room, sel - FZ_SEL_ROOM);
    return huge_values[(sel - FZ_SEL_HUGE) & 15];
}

static size_t read_size(fz_decoder *d, uint8_t *sel_out)
{
    unsigned sel = fz_read_u8(&d->in);
    *sel_out = (uint8_t)sel;
    if (sel < FZ_SEL_INTERESTING)
        return sel;
    if (sel < FZ_SEL_THRESHOLD)
        return fz_interesting_sizes[sel - FZ_SEL_INTERESTING];
    if (sel < FZ_SEL_U16)
        return fz_symbol_value(d, sel);
    if (sel < FZ_SEL_U32)
        return fz_read_u16(&d->in) + ((size_t)(sel - FZ_SEL_U16) << 16);
    if (sel < FZ_SEL_U64)
        return (size_t)fz_read_u32(&d->in) << (2 * (sel - FZ_SEL_U32));
    return (size_t)fz_read_u64(&d->in);
}

static size_t read_alignment(fz_decoder *d)
{
    unsigned b = fz_read_u8(&d->in);
    if (b < FZ_ALIGN_ODD)
        return (size_t)1 << (b % FZ_ALIGN_POW2_MAX);
    if (b < FZ_ALIGN_U64)
        return fz_odd_alignments[b - FZ_ALIGN_ODD];
    return (size_t)fz_read_u64(&d->in);
}

void fz_decode_begin(fz_decoder *d, const uint8_t *data, size_t size)
{
    memset(d, 0, sizeof *d);
    fz_reader_init(&d->in, data, size);
    uint8_t b[FZ_HEADER_BYTES];
    for (unsigned i = 0; i < FZ_HEADER_BYTES; i++)
        b[i] = fz_read_u8(&d->in);   /* missing bytes read 0: the defaults */
    d->hdr.policy = b[0] % FZ_POLICY_COUNT;
    d->hdr.source = b[1] % FZ_SOURCE_COUNT;
    d->hdr.buffer = d->hdr.source == FZ_SOURCE_BUFFER ? (b[1] / FZ_SOURCE_COUNT) % FZ_BUFFER_CHOICES : 0;
    d->hdr.grow = b[2] % FZ_GROW_CHOICES;
    d->hdr.cap = b[3] % FZ_CAP_CHOICES;
    d->hdr.threshold = b[4] % FZ_THRESHOLD_CHOICES;
    d->in.out = false;
    d->threshold = fz_header_threshold(&d->hdr);
    d->room = fz_header_room(&d->hdr);
}

/* The operands after the opcode byte. */
static void read_operands(fz_decoder *d, fz_op *op)
{
    uint8_t b;
    switch (op->code) {
    case FZ_OP_MALLOC: case FZ_OP_REALLOC:
        op->slot = fz_read_u8(&d->in);
        op->a = read_size(d, &op->a_sel);
        break;
    case FZ_OP_CALLOC:
        op->slot = fz_read_u8(&d->in);
        op->a = read_size(d, &op->a_sel);
        op->b = read_size(d, &op->b_sel);
        break;
    case FZ_OP_ALIGNED_ALLOC:
        op->slot = fz_read_u8(&d->in);
        op->a = read_alignment(d);
        op->b = read_size(d, &op->b_sel);
        break;
    case FZ_OP_FREE: case FZ_OP_USABLE_SIZE: case FZ_OP_FILL:
        op->slot = fz_read_u8(&d->in);
        break;
    case FZ_OP_DOUBLE_FREE: case FZ_OP_MISALIGNED_FREE: case FZ_OP_INTERIOR_FREE:
        op->slot = fz_read_u8(&d->in);
        b = fz_read_u8(&d->in);
        op->via = (uint8_t)(b % FZ_VIA_COUNT);
        op->variant = op->code == FZ_OP_INTERIOR_FREE ? (b / FZ_VIA_COUNT) & 1 : 0;
        break;
    case FZ_OP_FOREIGN_FREE:
        b = fz_read_u8(&d->in);
        op->via = (uint8_t)(b % FZ_VIA_COUNT);
        op->variant = (uint8_t)((b / FZ_VIA_COUNT) % FZ_FOREIGN_COUNT);
        break;
    case FZ_OP_FAIL_SOURCE:
        op->a = fz_read_u8(&d->in) % 16;
        op->b = fz_read_u8(&d->in) % 16;
        break;
    default:
        break;   /* reset, check, sweep: no operands */
    }
}

bool fz_decode_next(fz_decoder *d, fz_op *op)
{
    memset(op, 0, sizeof *op);
    if (d->in.left == 0)
        return false;
    if (d->threads)
        op->thread = (uint8_t)(fz_read_u8(&d->in) % d->threads);
    op->code = (fz_opcode)opcode_table[fz_read_u8(&d->in) % 32];
    read_operands(d, op);
    if (d->in.out)
        return false;   /* truncated: the sequence ends before it */
    d->index++;
    return true;
}

/* --- text ------------------------------------------------------------------------------ */
static int format_size(char *buf, size_t len, size_t v, unsigned sel)
{
    const char *name = fz_size_symbol(sel);
    if (name)
        return snprintf(buf, len, "%s=%zu", name, v);
    return snprintf(buf, len, "%zu", v);
}

void fz_op_format(const fz_op *op, char *buf, size_t len)
{
    char a[64], b[64];
    const char *name = fz_op_names[op->code];
    switch (op->code) {
    case FZ_OP_MALLOC: case FZ_OP_REALLOC:
        format_size(a, sizeof a, op->a, op->a_sel);
        snprintf(buf, len, "%s s%u %s", name, op->slot, a);
        break;
    case FZ_OP_CALLOC:
        format_size(a, sizeof a, op->a, op->a_sel);
        format_size(b, sizeof b, op->b, op->b_sel);
        snprintf(buf, len, "%s s%u %s %s", name, op->slot, a, b);
        break;
    case FZ_OP_ALIGNED_ALLOC:
        format_size(b, sizeof b, op->b, op->b_sel);
        snprintf(buf, len, "%s s%u %zu %s", name, op->slot, op->a, b);
        break;
    case FZ_OP_FREE: case FZ_OP_USABLE_SIZE: case FZ_OP_FILL:
        snprintf(buf, len, "%s s%u", name, op->slot);
        break;
    case FZ_OP_DOUBLE_FREE: case FZ_OP_MISALIGNED_FREE:
        snprintf(buf, len, "%s s%u via=%s", name, op->slot, fz_via_names[op->via]);
        break;
    case FZ_OP_INTERIOR_FREE:
        snprintf(buf, len, "%s s%u %s via=%s", name, op->slot, op->variant ? "+1" : "+16",
                 fz_via_names[op->via]);
        break;
    case FZ_OP_FOREIGN_FREE:
        snprintf(buf, len, "%s %s via=%s", name, fz_foreign_names[op->variant], fz_via_names[op->via]);
        break;
    case FZ_OP_FAIL_SOURCE:
        snprintf(buf, len, "%s %zu %zu", name, op->a, op->b);
        break;
    default:
        snprintf(buf, len, "%s", name);
        break;
    }
}

static void format_threshold(char *buf, size_t len, size_t t)
{
    if (t == FZ_THRESHOLD_NEVER)
        snprintf(buf, len, "never");
    else
        snprintf(buf, len, "%zu", t);
}

void fz_header_format(const fz_header *h, char *buf, size_t len)
{
    char thr[32], bufsz[40] = "";
    format_threshold(thr, sizeof thr, fz_thresholds[h->threshold]);
    if (h->source == FZ_SOURCE_BUFFER)
        snprintf(bufsz, sizeof bufsz, " buffer=%zu", fz_buffer_sizes[h->buffer]);
    snprintf(buf, len, "config policy=%s source=%s%s grow=%zu cap=%zu threshold=%s",
             fz_policy_names[h->policy], fz_source_names[h->source], bufsz,
             fz_grow_sizes[h->grow], fz_caps[h->cap], thr);
}
