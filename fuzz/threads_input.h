/*
 * threads_input.h - the threaded input format of fuzz_threads.
 *
 * Header (5 bytes, missing bytes read 0), then operations, each one the
 * thread byte (t = b % threads) followed by an operation of ops.h:
 *
 *   byte 0   mode = b & 1: 0 deterministic (a turnstile runs the operations
 *            one at a time, in input order, each on its thread), 1 free-running
 *            (each thread runs its own operations at the same time)
 *   byte 1   threads = 2 + b % 7 (2..8)
 *   byte 2   sync period = fzt_sync_periods[b % 8]: free-running threads meet
 *            at a barrier every that many operations of the input
 *   byte 3-4 reserved (written 0)
 *
 * In threaded inputs `reset` means "this thread exits" (printed `exit`):
 * the global API has no reset, and a thread that ends is what abandons a
 * heap.  Sizes named "thr" refer to the global heaps' large threshold
 * (128 KiB), "cap" names to their segment (4 MiB).
 */
#ifndef FZT_INPUT_H
#define FZT_INPUT_H

#include "ops.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { FZT_MIN_THREADS = 2, FZT_MAX_THREADS = 8, FZT_SYNC_CHOICES = 8 };
enum fzt_mode { FZT_DETERMINISTIC, FZT_FREE_RUNNING };

typedef struct fzt_header {
    unsigned mode;           /* enum fzt_mode */
    unsigned threads;        /* FZT_MIN_THREADS .. FZT_MAX_THREADS */
    unsigned sync;           /* index into fzt_sync_periods */
} fzt_header;

extern const unsigned fzt_sync_periods[FZT_SYNC_CHOICES];
extern const char *const fzt_mode_names[2];

/* Reads the header; operations follow with fz_decode_next (op->thread set). */
void fzt_decode_begin(fz_decoder *d, const uint8_t *data, size_t size, fzt_header *h);
/* The header's bytes, as the encoder writes them. */
void fzt_header_bytes(const fzt_header *h, uint8_t out[FZ_HEADER_BYTES]);
bool fzt_is_exit(const fz_op *op);
/* "t1 free s3", "t2 exit" */
void fzt_op_format(const fz_op *op, char *buf, size_t len);
/* "threads 4 mode=deterministic sync=16" */
void fzt_header_format(const fzt_header *h, char *buf, size_t len);

#endif /* FZT_INPUT_H */
