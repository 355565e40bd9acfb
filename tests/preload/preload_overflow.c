/*
 * preload_overflow.c - a program with a heap overflow: it writes two bytes
 * past a 20-byte block, then goes on allocating.  Under the checked preload
 * (libheaplab-checked.so) the next call's heap check must find the broken
 * canary and abort with heaplab's report; the test passes on that report.
 */
#include <stdlib.h>
#include <string.h>

int main(void) {
    char *volatile p = malloc(20);
    if (!p) return 1;
    memset(p, 1, 22);   /* the bug: 2 bytes past the request */
    free(malloc(10));
    free(p);
    return 0;
}
