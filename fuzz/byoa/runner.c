/* runner.c - see runner.h. */
#define _GNU_SOURCE
#include "runner.h"
#include "capture.h"
#include "coverage.h"
#include "exit_trap.h"
#include "oracle.h"
#include "ops.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* Sanitizer runtime hooks, when a runtime is linked (weak: NULL otherwise). */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
void __sanitizer_print_stack_trace(void) __attribute__((weak));

enum phase { PHASE_RUNNING, PHASE_DONE, PHASE_VIOLATION, PHASE_EXIT, PHASE_REFUSED };
enum where { WHERE_CREATE, WHERE_OP, WHERE_FINISH, WHERE_RUNNING };

/* What a child tells its parent, in memory both see. */
struct shared {
    volatile int phase;
    volatile int where;
    volatile size_t op_index;     /* 1-based, while where == WHERE_OP */
    volatile int exit_status;     /* PHASE_EXIT: exit()'s argument, -1 unknown */
    char where_text[256];         /* PHASE_EXIT: the operation of the thread that exited */
    char message[8192];           /* PHASE_VIOLATION: the oracle's report; PHASE_REFUSED: why */
    unsigned char counters[];     /* coverage.h */
};

static struct {
    bool ready;
    byoa_mode mode;
    unsigned timeout;
    byoa_output output;
    int capture;                  /* the capture file, or -1 */
    struct shared *sh;            /* fork mode */
    const byoa_target *t;
    const byoa_body *body;
} rs;

static fz_oracle oracle;          /* 20 KB: off the stack */

/* --- setup ------------------------------------------------------------------------------------ */
static void read_environment(const byoa_target *t)
{
    const char *m = getenv("HEAPLAB_BYOA_MODE"), *s = getenv("HEAPLAB_BYOA_TIMEOUT");
    rs.mode = m && !strcmp(m, "inprocess") ? BYOA_IN_PROCESS : m && !strcmp(m, "fork") ? BYOA_FORK : t->mode;
    rs.timeout = s && atoi(s) > 0 ? (unsigned)atoi(s) : t->timeout;
    rs.output = byoa_output_mode();
}

static void in_process_exit(int status);

static void setup(const byoa_target *t)
{
    rs.ready = true;
    rs.t = t;
    rs.body = t->body ? t->body : &byoa_heap_body;
    read_environment(t);
    /* An sbrk allocator and glibc's malloc must not both move the break
     * (docs/byoa.md): from here on glibc serves new memory with mmap.  Done in
     * the parent, so every child starts from the same break. */
    if (t->sbrk)
        mallopt(M_MMAP_THRESHOLD, 0);
    rs.capture = rs.output == BYOA_OUTPUT_TAIL ? byoa_capture_open() : -1;
    if (rs.mode == BYOA_FORK) {
        size_t size = sizeof *rs.sh + byoa_coverage_size();
        void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (m != MAP_FAILED) {
            rs.sh = m;
            return;
        }
        perror("byoa: mmap (running in process instead)");
        rs.mode = BYOA_IN_PROCESS;
    }
    if (rs.output != BYOA_OUTPUT_ALL)
        byoa_capture_redirect(rs.capture, 1);   /* stderr stays the engine's */
    byoa_exit_trap_install(in_process_exit);
}

/* --- one input through the oracle ---------------------------------------------------------------- */
static void mark(int where, size_t index)
{
    if (rs.sh) {
        rs.sh->where = where;
        rs.sh->op_index = index;
    }
}

void byoa_mark_op(size_t index) { mark(index ? WHERE_OP : WHERE_RUNNING, index); }

/* --- the default body: fuzz_heap's oracle ----------------------------------------------------------- */
static byoa_result heap_run(const byoa_target *t, const uint8_t *data, size_t size, const char **why)
{
    fz_decoder d;
    fz_decode_begin(&d, data, size);
    mark(WHERE_CREATE, 0);
    if (fz_oracle_open(&oracle, t->adapter, &d.hdr, why) != 0)
        return BYOA_RAN;   /* the adapter refused the header: nothing to run */
    oracle.target = t->name;
    fz_op op;
    size_t index = 0;
    bool ok = true;
    while (ok && fz_decode_next(&d, &op)) {
        mark(WHERE_OP, ++index);
        ok = fz_oracle_step(&oracle, &op);
    }
    mark(WHERE_FINISH, index);
    return ok && fz_oracle_finish(&oracle) ? BYOA_RAN : BYOA_VIOLATION;
}

static void heap_print_violation(FILE *out) { fz_oracle_print_violation(&oracle, out); }
static void heap_close(void) { fz_oracle_close(&oracle); }

static void heap_describe_op(const uint8_t *data, size_t size, size_t index, char *buf, size_t len)
{
    fz_decoder d;
    fz_op op;
    char text[FZ_OP_TEXT] = "?";
    fz_decode_begin(&d, data, size);
    for (size_t i = 1; i <= index && fz_decode_next(&d, &op); i++)
        if (i == index)
            fz_op_format(&op, text, sizeof text);
    snprintf(buf, len, "op #%zu %s", index, text);
}

static bool heap_describe_running(char *buf, size_t len)
{
    const fz_oracle *o = fz_oracle_running;
    char text[FZ_OP_TEXT];
    if (o && o->op) {
        fz_op_format(o->op, text, sizeof text);
        snprintf(buf, len, "op #%zu %s", o->op_index, text);
    } else {
        snprintf(buf, len, o && o->op_index ? "end of input" : "create");
    }
    return true;
}

const byoa_body byoa_heap_body = {
    .run = heap_run, .print_violation = heap_print_violation, .close = heap_close,
    .describe_op = heap_describe_op, .describe_running = heap_describe_running,
};

/* The body, with the exit trap armed. */
static byoa_result run_body(const byoa_target *t, const uint8_t *data, size_t size, const char **why)
{
    *why = "";
    byoa_exit_trap_arm(true);
    byoa_result r = rs.body->run(t, data, size, why);
    byoa_exit_trap_arm(false);
    return r;
}

/* "op #N <operation>" for where the process was, from the input itself. */
static void describe(const uint8_t *data, size_t size, int where, size_t index, char *buf, size_t len)
{
    if (where == WHERE_CREATE)
        snprintf(buf, len, "create");
    else if (where == WHERE_FINISH)
        snprintf(buf, len, "end of input");
    else if (where == WHERE_RUNNING)
        snprintf(buf, len, "during the input (operation not known: free-running threads)");
    else
        rs.body->describe_op(data, size, index, buf, len);
}

static void describe_running(char *buf, size_t len)
{
    if (!rs.body->describe_running(buf, len))
        snprintf(buf, len, "during the input (not in an operation)");
}

static void refused(const char *why) __attribute__((noreturn));
static void refused(const char *why)
{
    fprintf(stderr, "%s: cannot run this allocator: %s\n", rs.t->name, why);
    fflush(stdout);
    fflush(stderr);
    _exit(2);   /* not exit(): the engine would take it for the input's crash */
}

/* A finding the runner itself sees (exit, hang, crash): the target's line, then
 * the verdict line hl-trace's replay prints (`verdict: WHERE: rule R: details`),
 * which ci/crash_lib.sh reads when this driver replays a threaded crash. */
static void print_finding(const char *where, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void print_finding(const char *where, const char *rule, const char *fmt, ...)
{
    char details[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(details, sizeof details, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s: rule %s: %s\nverdict: %s: rule %s: %s\n", rs.t->name, where, rule, details, where, rule,
            details);
}

static void print_exit_finding(const char *where, int status)
{
    if (status >= 0)
        print_finding(where, "exit", "the allocator called exit(%d)", status);
    else
        print_finding(where, "exit", "the process exited during the input (status unknown)");
}

/* --- in process ---------------------------------------------------------------------------------- */
static void in_process_exit(int status)
{
    char where[FZ_OP_TEXT + 64];
    describe_running(where, sizeof where);
    fflush(stdout);
    byoa_capture_print_tail(rs.capture, BYOA_TAIL, stderr);
    print_exit_finding(where, status);
    abort();
}

static int run_in_process(const byoa_target *t, const uint8_t *data, size_t size)
{
    fflush(stdout);
    byoa_capture_rewind(rs.capture);
    const char *why;
    byoa_result r = run_body(t, data, size, &why);
    if (r == BYOA_REFUSED)
        refused(why);
    if (r == BYOA_VIOLATION) {
        fflush(stdout);
        byoa_capture_print_tail(rs.capture, BYOA_TAIL, stderr);
        rs.body->print_violation(stderr);
        abort();
    }
    rs.body->close();
    return 0;
}

/* --- fork mode: the child ---------------------------------------------------------------------- */
static void child_exit(int status)
{
    char where[sizeof rs.sh->where_text];
    if (rs.body->describe_running(where, sizeof where))
        memcpy(rs.sh->where_text, where, sizeof where);
    rs.sh->exit_status = status;
    rs.sh->phase = PHASE_EXIT;
    fflush(stdout);
    fflush(stderr);
    _exit(status >= 0 ? status : 1);
}

static void child_abort(int sig)
{
    static const char msg[] = "byoa: SIGABRT in the child (abort(), or a failed assert)\n";
    if (write(2, msg, sizeof msg - 1) < 0)
        (void)0;
    if (__sanitizer_print_stack_trace)
        __sanitizer_print_stack_trace();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The engine's handlers would report (and save the input) from the child: the
 * parent does that.  The child dies of its signal, or a sanitizer's report
 * ends it with the sanitizer's exit code. */
static void child_signals(void)
{
    static const int plain[] = { SIGALRM, SIGILL, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGXFSZ };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        signal(plain[i], SIG_DFL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = child_abort;
    sigaction(SIGABRT, &sa, NULL);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(NULL);
}

static void save_violation(void)
{
    FILE *f = fmemopen(rs.sh->message, sizeof rs.sh->message, "w");
    if (f) {
        rs.body->print_violation(f);
        fclose(f);
    }
}

static void child(const byoa_target *t, const uint8_t *data, size_t size) __attribute__((noreturn));
static void child(const byoa_target *t, const uint8_t *data, size_t size)
{
    child_signals();
    if (rs.output == BYOA_OUTPUT_TAIL) {
        byoa_capture_redirect(rs.capture, 1);
        byoa_capture_redirect(rs.capture, 2);
    } else if (rs.output == BYOA_OUTPUT_NONE) {
        byoa_capture_redirect(-1, 1);
    }
    byoa_exit_trap_install(child_exit);
    alarm(rs.timeout);
    const char *why;
    byoa_result r = run_body(t, data, size, &why);
    if (r == BYOA_RAN) {
        byoa_coverage_save(rs.sh->counters);
        rs.sh->phase = PHASE_DONE;
    } else if (r == BYOA_REFUSED) {
        snprintf(rs.sh->message, sizeof rs.sh->message, "%s", why);
        rs.sh->phase = PHASE_REFUSED;
    } else {
        save_violation();
        rs.sh->phase = PHASE_VIOLATION;
    }
    fflush(stdout);
    _exit(0);
}

/* --- fork mode: the parent ---------------------------------------------------------------------- */
static bool not_a_finding(int status)
{
    if (!WIFSIGNALED(status))
        return false;
    int sig = WTERMSIG(status);
    return sig == SIGINT || sig == SIGTERM || sig == SIGKILL;
}

static void report_child(const uint8_t *data, size_t size, int status)
{
    const struct shared *sh = rs.sh;
    char where[sizeof sh->where_text + FZ_OP_TEXT];
    if (sh->phase == PHASE_EXIT && sh->where_text[0])
        snprintf(where, sizeof where, "%s", sh->where_text);
    else
        describe(data, size, sh->where, sh->op_index, where, sizeof where);
    byoa_capture_print_tail(rs.capture, BYOA_TAIL, stderr);
    if (sh->phase == PHASE_VIOLATION) {
        fprintf(stderr, "%s", sh->message);
    } else if (sh->phase == PHASE_EXIT) {
        print_exit_finding(where, sh->exit_status);
    } else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
        print_finding(where, "hang", "the input did not finish within %u s (an endless loop?)", rs.timeout);
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        print_finding(where, "crash", "the allocator was killed by signal %d (%s)%s", sig, strsignal(sig),
                      sig == SIGABRT ? ": abort(), or a failed assert" : "");
    } else {
        print_finding(where, "crash", "the process ended with status %d without exit() "
                      "(a sanitizer's report above, or _exit())", WEXITSTATUS(status));
    }
    fflush(stderr);
}

static int run_forked(const byoa_target *t, const uint8_t *data, size_t size)
{
    struct shared *sh = rs.sh;
    sh->phase = PHASE_RUNNING;
    sh->where = WHERE_CREATE;
    sh->op_index = 0;
    sh->exit_status = 0;
    sh->where_text[0] = 0;
    sh->message[0] = 0;
    byoa_capture_rewind(rs.capture);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("byoa: fork (input not run)");
        return 0;
    }
    if (pid == 0)
        child(t, data, size);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 0;
    if (sh->phase == PHASE_DONE && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        byoa_coverage_load(sh->counters);
        return 0;
    }
    if (sh->phase == PHASE_REFUSED && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        refused(sh->message);
    if (not_a_finding(status)) {
        fprintf(stderr, "%s: the child was killed by %s: not a finding\n", t->name, strsignal(WTERMSIG(status)));
        return 0;
    }
    report_child(data, size, status);
    abort();
}

int byoa_run(const byoa_target *t, const uint8_t *data, size_t size)
{
    if (!rs.ready)
        setup(t);
    return rs.mode == BYOA_FORK ? run_forked(t, data, size) : run_in_process(t, data, size);
}
