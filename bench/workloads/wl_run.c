/*
 * wl_run.c - runs one workload with an allocator preloaded and reports what
 * the kernel measured of it: wall time, CPU time (user + system) and peak
 * resident set.
 *
 *   wl_run LIB|- PROGRAM [ARG...]
 *
 * LIB goes into the child's LD_PRELOAD ("-": none, the C library's malloc);
 * this process itself keeps the system malloc.  The child's output passes
 * through; then one line:
 *
 *   measure wall=<s> cpu=<s> user=<s> sys=<s> maxrss_kb=<KiB> status=<exit status or 128+signal>
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6; }

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: wl_run LIB|- PROGRAM [ARG...]\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        if (strcmp(argv[1], "-") != 0) setenv("LD_PRELOAD", argv[1], 1);
        else unsetenv("LD_PRELOAD");
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid) {
        perror("wait4");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    double user = seconds(ru.ru_utime), sys = seconds(ru.ru_stime);
    int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    printf("measure wall=%.4f cpu=%.4f user=%.4f sys=%.4f maxrss_kb=%ld status=%d\n", wall, user + sys, user, sys,
           ru.ru_maxrss, status);
    return status;
}
