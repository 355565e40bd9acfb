/*
 * repro_c.h - a fuzz input as a small standalone C program against the
 * public API (hl-trace c), so a crash reproduces without a fuzzing engine
 * and can become a regression test (as ArcHeap turns findings into C proofs
 * of concept).
 *
 * The program: the heap created with the input's configuration, then one
 * line per operation (the op's text as a comment and as the name printed on
 * failure) calling a small helper that makes the same heaplab call fuzz_heap's
 * oracle makes and applies the same rules, written out in the program itself:
 * a pattern fill of every block and its verification, realloc's prefix,
 * calloc's zeros, alignment, placement and overlap from hl_heap_walk, stats
 * against the model, when a NULL is legitimate, misuse reported exactly once
 * through a recording error handler, and hl_heap_check after every operation.
 * The first broken rule prints "repro: op #N <op>: rule <name>: ..." and
 * abort()s; a program that gets through every operation exits 0 (the bug is
 * fixed).  Operations after the failing one are not written: they never ran.
 *
 * Build it against the library: cc -std=c11 -I include repro.c libheaplab.a -lpthread
 * (a checked library, HL_CHECK_EVERY_OP=ON, also checks canaries and free fill).
 *
 * How hl_trace.c uses it: `hl-trace c INPUT [-o OUT.c]` loads and runs the input
 * (hl_replay_load_file, hl_replay_run to the first violation) and calls
 * hl_trace_repro_c(&replay, out), declared in replay.h and defined in
 * repro_c.c; it passes the violation's operation index as fail_index.  CMake
 * adds repro_c.c to hl-trace and defines HL_TRACE_HAVE_REPRO_C when this file
 * exists.
 */
#ifndef HLT_REPRO_C_H
#define HLT_REPRO_C_H

#include "ops.h"

#include <stddef.h>
#include <stdio.h>

/* Writes the program for ops[0, nops) under hdr.  fail_index: the 1-based
 * index of the operation that failed (only operations up to it are written),
 * or 0 for a failure at the end of the input or none (every operation, then
 * the final sweep and check).  expected: one line saying what the fuzzer saw,
 * for the program's opening comment, or NULL.  0, or -1 on an output error. */
int hlt_repro_c_write(FILE *out, const fz_header *hdr, const fz_op *ops, size_t nops, size_t fail_index,
                      const char *expected);

#endif /* HLT_REPRO_C_H */
