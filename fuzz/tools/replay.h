/*
 * replay.h - hl-trace's engine: an input decoded into its operations and run
 * step by step through the oracle, stopping at the first violation with the
 * heap and the model left as they were, for the tools that look at them
 * (the text map here; the SVG map and the C reproducer in svg.c, repro_c.c).
 */
#ifndef HL_REPLAY_H
#define HL_REPLAY_H

#include "adapter.h"
#include "oracle.h"
#include "ops.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct hl_replay {
    const fz_adapter *ad;
    fz_header hdr;
    fz_op *ops;              /* the decoded operations */
    size_t nops;
    size_t dropped;          /* input bytes after the last whole operation */
    fz_oracle *oracle;       /* the heap (oracle->heap) and the model */
    bool open;               /* the heap exists (until hl_replay_close) */
    const char *refused;     /* why the adapter refused the header, or NULL */
    size_t done;             /* operations run */
    bool violated;           /* oracle->v says what and where */
} hl_replay;

/* Decodes an input; the heap is created by hl_replay_run.  0, or -1 (errno). */
int hl_replay_load(hl_replay *r, const fz_adapter *ad, const uint8_t *data, size_t size);
int hl_replay_load_file(hl_replay *r, const fz_adapter *ad, const char *path);

typedef void (*hl_replay_step_fn)(const hl_replay *r, size_t index, void *ctx);
/* Runs operations [done, limit) (limit SIZE_MAX: all, then the final check),
 * calling each (if not NULL) after each one.  Stops at the first violation.
 * 1: a violation; 0: none so far; -1: the adapter refused the header. */
int hl_replay_run(hl_replay *r, size_t limit, hl_replay_step_fn each, void *ctx);
/* Destroys the heap and frees the operations. */
void hl_replay_close(hl_replay *r);

/* The text map of the heap around addr (the whole heap if addr is NULL):
 * `radius` entries either side, each block with its slot, addr marked. */
void hl_replay_print_map(const hl_replay *r, const void *addr, unsigned radius, FILE *out);
/* Prints the adapter's full check report (hl_check_report_print), or that the
 * heap passes.  Returns the check's result. */
int hl_replay_print_check(const hl_replay *r, FILE *out);

/* Reads a whole file; NULL with errno on failure. */
uint8_t *hl_read_file(const char *path, size_t *size);

/* Optional tools linked in when their files exist (svg.c, repro_c.c): each
 * draws or writes from a replay stopped by hl_replay_run. */
int hl_trace_svg(const hl_replay *r, FILE *out);
int hl_trace_repro_c(const hl_replay *r, FILE *out);

#endif /* HL_REPLAY_H */
