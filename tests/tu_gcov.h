/*
 * tu_gcov.h - coverage counters of forked children.
 *
 * gcc's --coverage writes its counters (.gcda) from an exit handler.  A test
 * child that ends in _exit (so that it runs none of the parent's atexit
 * handlers) or dies of abort (the default error handler's verdict) never runs
 * it, and the code only such children run (the default handler, fork's child
 * handler, misuse seen from a forked child) would count as never executed.
 * In coverage builds (HL_TEST_COVERAGE, set by tests/CMakeLists.txt) these
 * helpers write the counters first; elsewhere they only do what they say.
 * The child still ends as it would have: _exit with its code, or SIGABRT.
 */
#ifndef HEAPLAB_TU_GCOV_H
#define HEAPLAB_TU_GCOV_H

#include <signal.h>
#include <unistd.h>

#if defined(HL_TEST_COVERAGE) && HL_TEST_COVERAGE
void __gcov_dump(void);   /* libgcov: write the counters now */
static void tu_gcov_dump_on_abort(int sig)
{
    (void)sig;
    __gcov_dump();   /* then abort() restores SIG_DFL and raises SIGABRT again */
}
#endif

/* Call first in a forked child that may abort. */
static inline void tu_child_begin(void)
{
    signal(SIGABRT, SIG_DFL);
#if defined(HL_TEST_COVERAGE) && HL_TEST_COVERAGE
    signal(SIGABRT, tu_gcov_dump_on_abort);
#endif
}

/* fork(), called so that the child keeps the counters of what fork itself
 * ran.  gcc's --coverage rewrites a direct call of fork into __gcov_fork,
 * which zeroes the child's counters after fork returns: after the
 * pthread_atfork child handlers have run, so their counts would be lost.
 * Through a volatile pointer the call is not rewritten; the child then
 * starts with the parent's counts too, which double-counts executions but
 * changes no line or branch from not taken to taken. */
static pid_t (*volatile tu_fork_fn)(void) = fork;
static inline pid_t tu_fork(void) { return tu_fork_fn(); }

/* Ends a forked child with _exit(code). */
static inline void tu_child_exit(int code)
{
#if defined(HL_TEST_COVERAGE) && HL_TEST_COVERAGE
    __gcov_dump();
#endif
    _exit(code);
}

#endif /* HEAPLAB_TU_GCOV_H */
