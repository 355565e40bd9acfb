/*
 * fuzz_threads.c - the threaded target: heaplab's global API (hl_malloc and
 * friends, adapter_heaplab_global.c) driven by 2 to 8 threads, with the
 * shadow model of threads_oracle.h.  The input format is in threads_input.h,
 * the two modes (deterministic, free-running) in threads_run.h.
 *
 * Property: no input makes the global API break a rule of threads_oracle.h,
 * report an error nobody provoked, or fail hl_check_all; and each input
 * leaves nothing allocated (hl_stats_global) once its threads are gone.
 * A violation prints "fuzz_threads: op #N tT <op>: rule <name>: <details>"
 * and abort()s.
 *
 * Environment: FZT_VERBOSE=1 prints each deterministic operation and what it
 * did, and what the process keeps between inputs; FZT_ABORT_ON_ERROR=1 makes
 * any report of the allocator fatal at once (how the determinism test makes a
 * crash out of a double free).
 */
#include "threads_run.h"

#include <heaplab.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fzt_sink k;
    const char *why;
    if (fzt_sink_open(&k, "fuzz_threads", &fz_adapter_heaplab_global, &why) != 0) {
        fprintf(stderr, "fuzz_threads: %s\n", why);
        abort();
    }
    if (!fzt_run_input(&k, data, size)) {
        fzt_print_violation(&k, stderr);
        fflush(stderr);
        abort();
    }
    if (getenv("FZT_VERBOSE")) {   /* what the process keeps between inputs */
        hl_global_stats gs;
        hl_stats_global(&gs);
        fprintf(stderr, "end of input: %zu heaps (%zu abandoned), %zu source bytes, %zu blocks in use\n",
                gs.heaps, gs.heaps_abandoned, gs.source_bytes, gs.blocks_in_use);
    }
    fzt_sink_close(&k);
    return 0;
}
