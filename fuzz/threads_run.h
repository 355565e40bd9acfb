/*
 * threads_run.h - one threaded input (threads_input.h) against the allocator
 * a sink holds: decoded, run in the mode its header asks (the deterministic
 * turnstile, or free-running: threads_freerun.h), every thread joined.
 * fuzz_threads and fuzz_threads_<name> (fuzz/byoa/) are this and a few lines.
 */
#ifndef FZT_RUN_H
#define FZT_RUN_H

#include "threads_oracle.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* k is open (fzt_sink_open).  False when a rule was broken: fzt_print_violation
 * says which.  No thread of the input is left running either way, except
 * after a violation in the deterministic mode (the caller aborts). */
bool fzt_run_input(fzt_sink *k, const uint8_t *data, size_t size);

#endif /* FZT_RUN_H */
