/*
 * test_no_membarrier.c - the global API where the kernel refuses membarrier
 * (kernels before 4.14, seccomp sandboxes that do not know the call).
 *
 * Stopping the world (hl_check_all, hl_stats_global, fork, a thread's exit
 * with live blocks) relies on membarrier to fence every running fast path;
 * where it is refused, the fast paths fence themselves (src/global.c, "stopping
 * the fast paths").  The refusal can come at start-up (registration fails) or
 * later (registered, but the expedited barrier fails): both are made real here
 * with a seccomp filter in a forked child, which then runs threads that
 * allocate, hand blocks to each other and free them while the main thread
 * checks the world, and verifies every byte.
 *
 * The parent makes no global allocation before forking, so that a child's
 * first call is the process's first (its start-up).
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */
#include <cmocka.h>     /* named here too: tests/CMakeLists.txt links cmocka to files that include it */

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "tu_seccomp.h"

#ifdef TU_AUDIT_ARCH
enum { ROUNDS = 30, BATCH = 64 };

typedef struct handoff {
    void *p[BATCH];
    size_t n[BATCH];
    _Atomic int full;   /* 1: p[] is the consumer's to check and free */
    _Atomic int done;
    _Atomic int bad;    /* blocks whose bytes changed */
} handoff;

static void *consumer(void *arg) {
    handoff *h = arg;
    for (;;) {
        while (!atomic_load(&h->full)) {
            if (atomic_load(&h->done)) return NULL;
            sched_yield();   /* under Valgrind's one-thread-at-a-time scheduler, a spin costs its whole slice */
        }
        for (int i = 0; i < BATCH; i++) {
            if (tu_first_bad(h->p[i], h->n[i], (uint32_t)i) != h->n[i]) atomic_fetch_add(&h->bad, 1);
            hl_free(h->p[i]);   /* another thread's blocks: remote frees */
        }
        void *mine = hl_malloc(100);   /* a heap of its own too */
        hl_free(mine);
        atomic_store(&h->full, 0);
    }
}

/* The child's work: 0, or the step that went wrong. */
static int workload(void) {
    static handoff h;
    pthread_t tid;
    if (pthread_create(&tid, NULL, consumer, &h) != 0) return 10;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < BATCH; i++) {
            h.n[i] = 16 + (size_t)((r * 131 + i * 37) % 900);
            if (!(h.p[i] = hl_malloc(h.n[i]))) return 11;
            tu_fill(h.p[i], h.n[i], (uint32_t)i);
        }
        atomic_store(&h.full, 1);
        if (hl_check_all(NULL) != 0) return 12;   /* stops the world while the consumer frees */
        while (atomic_load(&h.full)) sched_yield();
    }
    atomic_store(&h.done, 1);
    if (pthread_join(tid, NULL) != 0) return 13;
    if (atomic_load(&h.bad)) return 14;
    hl_free(hl_malloc(8));   /* drains the last remote frees */
    hl_global_stats gs;
    hl_stats_global(&gs);
    if (gs.blocks_in_use != 0) return 15;
    return hl_check_all(NULL) != 0 ? 16 : 0;
}

static int refused_from_the_start(void) {
    if (tu_refuse_syscall(__NR_membarrier, ENOSYS) != 0) return 1;
    return workload();
}

static int refused_after_registration(void) {
    hl_free(hl_malloc(8));                 /* start-up: membarrier registers */
    if (hl_check_all(NULL) != 0) return 2; /* and an expedited barrier works */
    if (tu_refuse_syscall(__NR_membarrier, EPERM) != 0) return 1;
    return workload();
}

static void run_child(int (*fn)(void), const char *what) {
    pid_t pid = tu_fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        tu_child_begin();
        alarm(60);   /* a stopper that never sees a fast path at rest would hang: die instead */
        tu_child_exit(fn());
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) fail_msg("%s: child killed by signal %d", what, WTERMSIG(status));
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status)) fail_msg("%s: child failed at step %d", what, WEXITSTATUS(status));
}

static void test_membarrier_refused_from_the_start(void **state) {
    (void)state;
    run_child(refused_from_the_start, "membarrier refused from the start");
}

static void test_membarrier_refused_after_registration(void **state) {
    (void)state;
    run_child(refused_after_registration, "membarrier refused after registration");
}
#endif

int main(void) {
    const struct CMUnitTest tests[] = {
#ifdef TU_AUDIT_ARCH
        cmocka_unit_test(test_membarrier_refused_from_the_start),
        cmocka_unit_test(test_membarrier_refused_after_registration),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
