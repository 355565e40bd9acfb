/* threads_input.c - see threads_input.h. */
#include "threads_input.h"

#include <heaplab.h>
#include <stdio.h>
#include <string.h>

#define FZT_SEGMENT ((size_t)4 << 20)   /* what a global heap grows by (src/hl_internal.h) */

const unsigned fzt_sync_periods[FZT_SYNC_CHOICES] = { 16, 4, 8, 32, 64, 128, 256, 1024 };
const char *const fzt_mode_names[2] = { "deterministic", "free-running" };

void fzt_decode_begin(fz_decoder *d, const uint8_t *data, size_t size, fzt_header *h)
{
    uint8_t b[FZ_HEADER_BYTES] = { 0 };
    memcpy(b, data, size < FZ_HEADER_BYTES ? size : FZ_HEADER_BYTES);
    h->mode = b[0] & 1;
    h->threads = FZT_MIN_THREADS + b[1] % (FZT_MAX_THREADS - FZT_MIN_THREADS + 1);
    h->sync = b[2] % FZT_SYNC_CHOICES;
    fz_decode_begin(d, data, size);
    /* The global heaps have one configuration: the size names refer to it. */
    memset(&d->hdr, 0, sizeof d->hdr);
    d->threshold = HL_MMAP_THRESHOLD_DEFAULT;
    d->room = FZT_SEGMENT;
    d->threads = h->threads;
}

void fzt_header_bytes(const fzt_header *h, uint8_t out[FZ_HEADER_BYTES])
{
    memset(out, 0, FZ_HEADER_BYTES);
    out[0] = (uint8_t)h->mode;
    out[1] = (uint8_t)(h->threads - FZT_MIN_THREADS);
    out[2] = (uint8_t)h->sync;
}

bool fzt_is_exit(const fz_op *op) { return op->code == FZ_OP_RESET; }

void fzt_op_format(const fz_op *op, char *buf, size_t len)
{
    char text[FZ_OP_TEXT];
    if (fzt_is_exit(op))
        snprintf(text, sizeof text, "exit");
    else
        fz_op_format(op, text, sizeof text);
    snprintf(buf, len, "t%u %s", op->thread, text);
}

void fzt_header_format(const fzt_header *h, char *buf, size_t len)
{
    snprintf(buf, len, "threads %u mode=%s sync=%u", h->threads, fzt_mode_names[h->mode & 1],
             fzt_sync_periods[h->sync]);
}
