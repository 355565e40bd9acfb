/*
 * preload_dso.c - a library that preload_stress dlopen()s while heaplab is
 * the process's malloc.
 *
 * Its thread-local buffer uses the general-dynamic TLS model (a dlopen()ed
 * module cannot have static TLS), so the first touch in each thread goes
 * through __tls_get_addr, which allocates that thread's block for this module
 * with malloc: heaplab must serve it without needing TLS set-up of its own.
 */
#include <stdlib.h>
#include <string.h>

int preload_dso_work(int seed);

static __thread char scratch[4096];

/* Fills this thread's buffer and a heap block from it; returns a checksum
 * that the caller recomputes. */
int preload_dso_work(int seed) {
    memset(scratch, seed & 0xff, sizeof scratch);
    char *copy = malloc(sizeof scratch);
    if (!copy) return -1;
    memcpy(copy, scratch, sizeof scratch);
    int sum = 0;
    for (size_t i = 0; i < sizeof scratch; i++) sum += (unsigned char)copy[i];
    free(copy);
    return sum;
}
