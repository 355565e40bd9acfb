/*
 * trace_glue.c - hl-trace-<NAME>: hl-trace for a user's allocator.
 *
 * The per-allocator hl-trace is fuzz/tools/ compiled with its adapter in place
 * of heaplab's (fuzz/byoa.cmake).  A replay runs in one fresh process, so no
 * fork is needed; what this adds is a verdict when the allocator ends the
 * process itself, in the form `hl-trace replay` prints and ci/campaign.sh reads:
 *   verdict: op #N <operation>: rule exit: the allocator called exit(S)
 *   verdict: op #N <operation>: rule crash: the allocator called abort() ...
 *   verdict: op #N <operation>: rule crash: the sanitizer's report above
 * and stdout line-buffered, so `replay -v` shows every step up to the end.
 */
#include "exit_trap.h"
#include "oracle.h"
#include "ops.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static void print_where(void)
{
    const fz_oracle *o = fz_oracle_running;
    char text[FZ_OP_TEXT];
    fflush(stdout);
    if (o && o->op) {
        fz_op_format(o->op, text, sizeof text);
        printf("verdict: op #%zu %s: ", o->op_index, text);
    } else {
        printf("verdict: %s: ", o && o->op_index ? "end of input" : "create");
    }
}

static void on_exit_call(int status)
{
    print_where();
    if (status >= 0)
        printf("rule exit: the allocator called exit(%d)\n", status);
    else
        printf("rule exit: the process exited during the operation\n");
    fflush(stdout);
    _exit(1);   /* hl-trace's status for a violation */
}

static void on_abort(int sig)
{
    if (fz_oracle_running) {
        print_where();
        printf("rule crash: the allocator called abort() (a failed assert?)\n");
        fflush(stdout);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* After a sanitizer's report (ASan, UBSan), before it ends the process. */
static void on_sanitizer_death(void)
{
    if (!fz_oracle_running)
        return;
    print_where();
    printf("rule crash: the sanitizer's report above\n");
    fflush(stdout);
}

__attribute__((constructor)) static void glue_init(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* the steps printed so far survive a crash */
    byoa_exit_trap_install(on_exit_call);
    signal(SIGABRT, on_abort);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(on_sanitizer_death);
}
