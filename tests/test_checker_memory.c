/*
 * test_checker_memory.c - what the checker may read (invariants/check_memory.c)
 * where its probes meet the edges: addresses whose range wraps past the top
 * of the address space, and a process in which process_vm_readv is refused
 * (a seccomp filter, as Docker's default profile has for processes without
 * CAP_SYS_PTRACE), where the checker falls back on mincore's answer.
 *
 * Each forgery is reported as the invariant it breaks, with its reason, and
 * the heap checks clean once it is undone.
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */
#include <cmocka.h>     /* named here too: tests/CMakeLists.txt links cmocka to files that include it */

#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "tu_seccomp.h"

#define expect_report(rc, rep, what)                            \
    do {                                                        \
        assert_int_equal((rc), HL_INV_REGION);                  \
        assert_int_equal((rep).id, HL_INV_REGION);              \
        assert_string_equal((rep).invariant, "region");         \
        assert_non_null(strstr((rep).message, (what)));         \
    } while (0)

static hl_heap *mmap_heap(void)
{
    hl_config cfg = {0};
    cfg.source = HL_SOURCE_MMAP;
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    return h;
}

/* A page that was mapped a moment ago and is not any more. */
static void *unmapped_page(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    assert_int_equal(munmap(p, 4096), 0);
    return p;
}

/* --- ranges that wrap ------------------------------------------------------- */

/* A heap "header" in the last 16 bytes of the address space: its range wraps,
 * so the checker reports it unmapped without asking the kernel. */
static void test_heap_pointer_at_the_top(void **state)
{
    (void)state;
    const hl_heap *top = (const hl_heap *)(UINTPTR_MAX & ~(uintptr_t)15);
    hl_check_report rep;
    expect_report(hl_heap_check(top, &rep), rep, "is not mapped");
}

/* A region index whose entries would run past the top of the address space. */
static void test_region_index_at_the_top(void **state)
{
    (void)state;
    hl_heap *h = mmap_heap();
    void *p = hl_heap_malloc(h, 100);
    assert_non_null(p);
    assert_int_equal(hl_heap_check(h, NULL), 0);
    hl_region **index = h->rindex;
    h->rindex = (hl_region **)(UINTPTR_MAX & ~(uintptr_t)15);
    hl_check_report rep;
    expect_report(hl_heap_check(h, &rep), rep, "is not readable");
    h->rindex = index;
    assert_int_equal(hl_heap_check(h, NULL), 0);
    hl_heap_free(h, p);
    hl_heap_destroy(h);
}

/* --- process_vm_readv refused ------------------------------------------------- */

#ifdef TU_AUDIT_ARCH
/* In a forked child (cmocka's asserts belong to the parent): 0, or the step
 * that went wrong. */
static int check_without_process_vm_readv(int err)
{
    if (tu_refuse_syscall(__NR_process_vm_readv, err) != 0) return 1;
    char byte = 0, probe = 1;
    struct iovec local = { &byte, 1 }, remote = { &probe, 1 };
    errno = 0;
    if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != -1 || errno != err) return 2;

    hl_config cfg = {0};
    cfg.source = HL_SOURCE_MMAP;
    hl_heap *h = hl_heap_create(&cfg);
    void *p = h ? hl_heap_malloc(h, 100) : NULL;
    if (!p) return 3;
    hl_check_report rep;
    if (hl_heap_check(h, &rep) != 0) return 4;   /* refused: mincore says mapped, and it is */

    /* unmapped: mincore alone still tells */
    hl_region **index = h->rindex;
    h->rindex = (hl_region **)unmapped_page();
    int rc = hl_heap_check(h, &rep);
    h->rindex = index;
    if (rc != HL_INV_REGION || !strstr(rep.message, "is not readable")) return 5;
    hl_region *first = h->regions;
    h->regions = (hl_region *)unmapped_page();
    rc = hl_heap_check(h, &rep);
    h->regions = first;
    if (rc != HL_INV_REGION || !strstr(rep.message, "is not mapped (or not readable)")) return 6;

    if (hl_heap_check(h, NULL) != 0) return 7;
    hl_heap_free(h, p);
    hl_heap_destroy(h);
    return 0;
}

static void run_refused(int err)
{
    pid_t pid = tu_fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        tu_child_begin();
        tu_child_exit(check_without_process_vm_readv(err));
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) fail_msg("child (errno %d) killed by signal %d", err, WTERMSIG(status));
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status)) fail_msg("child (errno %d) failed at step %d", err, WEXITSTATUS(status));
}

/* Each errno that means "not allowed here" (not "that address faults"). */
static void test_process_vm_readv_refused(void **state)
{
    (void)state;
    run_refused(EPERM);
    run_refused(ENOSYS);
    run_refused(EACCES);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_pointer_at_the_top),
        cmocka_unit_test(test_region_index_at_the_top),
#ifdef TU_AUDIT_ARCH
        cmocka_unit_test(test_process_vm_readv_refused),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
