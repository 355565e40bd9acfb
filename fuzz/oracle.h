/*
 * oracle.h - the shadow model: what the heap must look like after each
 * operation, and the rules an allocator breaks when it does not.
 *
 * The oracle runs one input's operations against a fresh heap through an
 * adapter (adapter.h) and keeps a model of every live block: where it is, how
 * big it is asked and usable, and the pattern written into it (unique to its
 * slot and generation).  After each operation it applies the rules below;
 * the first one broken is recorded in `v` and every later step refuses to run.
 *
 *   aligned          every pointer is aligned to min_align and to the alignment asked
 *   inside           it lies in one of the heap's regions or mappings, in a used block
 *   overlap          it overlaps no other live block over its whole usable size
 *   large-threshold  with a walk and claims.large_threshold (not 0 or SIZE_MAX): the
 *                    block is in a large mapping exactly when its request is >= it
 *   contents         every live block keeps its pattern (checked on free, realloc,
 *                    fill, misuse, reset and a sweep every FZ_SWEEP_EVERY operations)
 *   realloc-prefix   realloc keeps min(old, new) bytes
 *   calloc-zero      calloc returns zeros
 *   calloc-overflow  calloc(count, size) with count * size overflowing returns NULL
 *   huge             a request above PTRDIFF_MAX returned a block
 *   usable-size      usable_size >= request (== request if the adapter claims it)
 *   null             NULL only when the heap cannot serve: see null_is_bug() in oracle.c
 *   null-changed     a NULL return changed the blocks in use
 *   errno            ENOMEM on exhaustion, EINVAL for a bad alignment
 *   einval           aligned_alloc with an alignment that is not a power of two
 *   stats            bytes_in_use / blocks_in_use agree with the model
 *   cap              memory taken from the source never exceeds the cap
 *   misuse-missed    a misuse the allocator claims to detect was not reported
 *   misuse-kind      it was reported as another kind (or more than once)
 *   misuse-changed   a reported misuse changed the heap
 *   unexpected-error the allocator reported an error nobody provoked
 *   checker          the allocator's checker (every-op or explicit) found a violation
 *   walk             the heap could not be walked
 *   coalesce         FZ_CLAIM_COALESCES: after every block was freed, the free memory
 *                    is not one run (see check_coalesced() in oracle.c)
 * Requests above claims.max_request are never issued (skipped, like the budget).
 */
#ifndef FZ_ORACLE_H
#define FZ_ORACLE_H

#include "adapter.h"
#include "ops.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum {
    FZ_SWEEP_EVERY = 32,     /* operations between full content sweeps */
    FZ_RECENT_LARGE = 16,    /* FZ_CLAIM_RECENT_LARGE: how many large frees count */
    FZ_KNOWN_LARGE = 64,     /* large frees remembered: an older one of these may be known too */
};

typedef struct fz_slot {
    unsigned char *p;        /* the live block, or NULL */
    size_t n;                /* size requested */
    size_t usable;           /* bytes holding the pattern: usable_size() at allocation */
    size_t extent;           /* bytes the block really spans from p (from the walk) */
    uint32_t gen;            /* pattern generation */
    bool large;              /* in a mapping of its own */
    const unsigned char *stale;  /* the last block freed from this slot (double free) */
} fz_slot;

typedef struct fz_violation {
    size_t op_index;         /* 1-based; 0: the final sweep and check */
    char op_text[FZ_OP_TEXT];
    const char *rule;
    char details[512];
    const void *addr;        /* the block concerned, for heap maps; may be NULL */
    char report[4096];       /* the checker's report, when it made one */
} fz_violation;

typedef struct fz_oracle {
    const fz_adapter *ad;
    void *heap;
    fz_config cfg;
    fz_claims claims;
    const char *target;      /* prefix of violation messages, e.g. "fuzz_heap" */
    fz_slot slots[FZ_SLOTS];
    size_t live_blocks, live_bytes;
    size_t op_index;
    const fz_op *op;
    /* misuse in flight: the report expected and how many arrived */
    fz_error_kind expect, expect_also;   /* also: a second kind that is right too, or none */
    unsigned expect_hits;
    /* FZ_CLAIM_RECENT_LARGE: payloads of the last large frees since create/reset */
    const void *recent[FZ_KNOWN_LARGE];
    unsigned recent_next, recent_count;
    bool growth_unknown;     /* fail_source made growth failures legitimate */
    bool failed;
    fz_violation v;
    char note[160];          /* what the last operation did, for hl-trace replay */
    /* FZ_CLAIM_COALESCES: bytes requested by live blocks outside large mappings,
     * and the most of them live at once since the heap was last empty */
    size_t small_live, small_peak;
} fz_oracle;

/* The oracle whose create, operation, final check or destroy is in progress
 * (NULL between them): for handlers that must say where an allocator ended the
 * process (exit(), abort()) - fuzz/byoa/. */
extern const fz_oracle *volatile fz_oracle_running;

/* A fresh heap for the header; -1 (and *why) when the adapter refuses it. */
int fz_oracle_open(fz_oracle *o, const fz_adapter *ad, const fz_header *hdr, const char **why);
void fz_oracle_close(fz_oracle *o);
/* Runs one operation and applies the rules; false once a rule is broken. */
bool fz_oracle_step(fz_oracle *o, const fz_op *op);
/* The end of an input: a final sweep and a full check. */
bool fz_oracle_finish(fz_oracle *o);
/* "<target>: op #N <op>: rule <name>: <details>", then the checker's report. */
void fz_oracle_print_violation(const fz_oracle *o, FILE *out);
/* The slot whose live block contains addr, or -1. */
int fz_oracle_slot_of(const fz_oracle *o, const void *addr);

#endif /* FZ_ORACLE_H */
