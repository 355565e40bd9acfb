/*
 * tu_seccomp.h - make one system call fail in this process, as a seccomp
 * sandbox does (Docker's default profile refuses process_vm_readv and, on
 * older kernels, membarrier): the paths heaplab takes when the kernel says
 * no are then tested on any machine.  For forked children: a filter cannot
 * be removed.
 */
#ifndef HEAPLAB_TU_SECCOMP_H
#define HEAPLAB_TU_SECCOMP_H

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define TU_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TU_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef TU_AUDIT_ARCH
/* From now on system call nr fails with err in this process (every thread
 * created after, too); nothing else changes.  0, or -1 if the kernel would
 * not take the filter. */
static inline int tu_refuse_syscall(long nr, int err)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TU_AUDIT_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = sizeof filter / sizeof filter[0], .filter = filter };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0 ? 0 : -1;
}
#endif

#endif /* HEAPLAB_TU_SECCOMP_H */
