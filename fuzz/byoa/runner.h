/*
 * runner.h - runs one fuzz input against a user's allocator: in a child
 * process forked for it (the default), or in this process.  What runs the
 * input is a body: fuzz_heap's oracle (fuzz_byoa.c, the default), or the
 * threaded one (fuzz_threads_byoa.c), whose threads start and end in the child.
 *
 * Fork mode.  The parent never calls the allocator, so its global state (a
 * static heap, sbrk'd memory, counters) is pristine in every child.  For each
 * input the parent forks; the child points its output at the capture file
 * (capture.h), arms a timeout, runs the oracle over the input, saves its
 * coverage (coverage.h) and ends with _exit().  The parent waits and judges:
 *
 *   the child finished the input            not a finding; coverage copied back
 *   the oracle found a violation            its message
 *   the allocator called exit(s)            rule exit   (exit_trap.h)
 *   it died of a signal, or a sanitizer     rule crash  (SIGABRT: abort() or assert)
 *   ended it, or _exit() was called
 *   the timeout fired                       rule hang
 *   the body refused to run the allocator   not a finding: the reason, exit status 2
 *                                           (fuzz_threads_<name> for an adapter
 *                                           that does not claim thread safety)
 *
 * A finding prints the child's output (its last BYOA_TAIL bytes), then one line
 *   <target>: op #N <operation>: rule <rule>: <details>
 * and abort()s, so the engine saves the input as a crash and the replay driver
 * dies the way fuzz_heap_replay does on a violation.  A child killed by
 * SIGINT, SIGTERM or SIGKILL (the user, the engine, the OOM killer) is not a finding.
 *
 * In-process mode runs the oracle here; create() must then give a fresh heap
 * (call the allocator's reset there), and exit() is reported the same way.
 *
 * Environment: HEAPLAB_BYOA_MODE=fork|inprocess overrides the target's mode,
 * HEAPLAB_BYOA_TIMEOUT the seconds an input may take in fork mode,
 * HEAPLAB_BYOA_OUTPUT=tail|all|none what happens to the allocator's output.
 */
#ifndef BYOA_RUNNER_H
#define BYOA_RUNNER_H

#include "adapter.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum byoa_mode { BYOA_FORK, BYOA_IN_PROCESS } byoa_mode;
typedef enum byoa_result { BYOA_RAN, BYOA_VIOLATION, BYOA_REFUSED } byoa_result;

struct byoa_target;

/* What runs one input.  Its functions run in the child in fork mode. */
typedef struct byoa_body {
    /* Runs the input; BYOA_REFUSED when the allocator cannot be run at all
     * (*why says why: it is printed and the program ends). */
    byoa_result (*run)(const struct byoa_target *t, const uint8_t *data, size_t size, const char **why);
    void (*print_violation)(FILE *out);
    void (*close)(void);   /* in process, after an input that ran clean */
    /* "op #N <operation>" for the input's operation N (1-based) */
    void (*describe_op)(const uint8_t *data, size_t size, size_t index, char *buf, size_t len);
    /* The operation the calling thread is running, for an exit() made in it;
     * false when it runs none. */
    bool (*describe_running)(char *buf, size_t len);
} byoa_body;

/* fuzz_heap's oracle (oracle.h) over the input. */
extern const byoa_body byoa_heap_body;

typedef struct byoa_target {
    const char *name;            /* "fuzz_heap_<NAME>": prefixes every message */
    const fz_adapter *adapter;
    byoa_mode mode;
    unsigned timeout;            /* seconds one input may take (fork mode) */
    bool sbrk;                   /* the allocator moves the program break: keep
                                    glibc's malloc off it (docs/byoa.md) */
    const byoa_body *body;       /* NULL: byoa_heap_body */
} byoa_target;

/* Runs one input; returns 0, or does not return (a finding aborts). */
int byoa_run(const byoa_target *t, const uint8_t *data, size_t size);
/* A body says which operation (1-based) it is about to run, so that a crash
 * is reported there; 0: none known. */
void byoa_mark_op(size_t index);

#endif /* BYOA_RUNNER_H */
