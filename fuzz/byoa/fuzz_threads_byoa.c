/*
 * fuzz_threads_byoa.c - the threaded target for a user's allocator,
 * fuzz_threads_<NAME>: fuzz_threads' property (threads_oracle.h) through the
 * adapter the CMake function names, run by runner.h.  In fork mode (the
 * default) the child is forked before any thread exists; it starts the
 * input's threads, joins them and ends, so the parent stays single-threaded.
 *
 * The adapter must claim FZ_CLAIM_THREAD_SAFE: without it the first input
 * ends the program with "cannot run this allocator: ..." (exit status 2),
 * and nothing is fuzzed.  heaplab_add_allocator(... THREADS) builds this
 * target (fuzz/byoa.cmake) with the same definitions as fuzz_byoa.c.
 */
#include "runner.h"
#include "threads_input.h"
#include "threads_run.h"

#include <stdint.h>
#include <stdio.h>

extern const fz_adapter BYOA_ADAPTER;

static fzt_sink sink;   /* holds the first violation until it is printed */

static byoa_result threads_run(const byoa_target *t, const uint8_t *data, size_t size, const char **why)
{
    if (fzt_sink_open(&sink, t->name, t->adapter, why) != 0)
        return BYOA_REFUSED;
    sink.progress = byoa_mark_op;
    byoa_mark_op(0);   /* running, no operation known yet (free-running: none ever) */
    bool ok = fzt_run_input(&sink, data, size);
    byoa_mark_op(0);
    return ok ? BYOA_RAN : BYOA_VIOLATION;
}

static void threads_print_violation(FILE *out) { fzt_print_violation(&sink, out); }
static void threads_close(void) { fzt_sink_close(&sink); }

static void threads_describe_op(const uint8_t *data, size_t size, size_t index, char *buf, size_t len)
{
    fz_decoder d;
    fzt_header h;
    fz_op op;
    char text[FZ_OP_TEXT + 8] = "?";
    fzt_decode_begin(&d, data, size, &h);
    for (size_t i = 1; i <= index && fz_decode_next(&d, &op); i++)
        if (i == index)
            fzt_op_format(&op, text, sizeof text);
    snprintf(buf, len, "op #%zu %s", index, text);
}

static const byoa_body threads_body = {
    .run = threads_run, .print_violation = threads_print_violation, .close = threads_close,
    .describe_op = threads_describe_op, .describe_running = fzt_lane_describe,
};

static const byoa_target target = {
    .name = BYOA_NAME, .adapter = &BYOA_ADAPTER, .mode = BYOA_MODE,
    .timeout = BYOA_TIMEOUT, .sbrk = BYOA_SBRK, .body = &threads_body,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return byoa_run(&target, data, size);
}
