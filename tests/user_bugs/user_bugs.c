/*
 * user_bugs.c - a program with one deliberate user bug per case, for the
 * expected-failure tests: the program is wrong, and the test passes when
 * Valgrind's memcheck, ASan or MSan says so.  heaplab tells those tools what
 * its blocks are (src/hl_track.h); without that, none of these would be seen,
 * since heaplab's memory is one big mmap'd region to them.
 *
 *   user_bugs CASE    CASE: use_after_free, overflow_header, overflow_slack,
 *                     uninit_read, leak, double_free, clean
 */
#include "heaplab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile char sink;

/* heaplab's default handler aborts; a tool's report is what these tests look
 * for, so heaplab's own report ends the program without a signal instead. */
static void report_and_exit(const hl_error *e, void *ctx) {
    (void)ctx;
    fprintf(stderr, "heaplab: %s\n", e->message);
    fflush(stderr);
    _exit(70);
}

static int run(const char *which, hl_heap *h) {
    char *p = hl_heap_malloc(h, 40);    /* a 64-byte block: 40 usable bytes */
    char *q = hl_heap_malloc(h, 40);    /* its neighbour */
    if (!p || !q) return 2;
    memset(q, 'q', 40);
    if (!strcmp(which, "use_after_free")) {
        hl_heap_free(h, p);
        sink = p[3];
        p = NULL;
    } else if (!strcmp(which, "overflow_header")) {
        p[50] = 1;                      /* past p's footer, into q's header */
    } else if (!strcmp(which, "overflow_slack")) {
        char *r = hl_heap_malloc(h, 33);
        r[33] = 1;                      /* one past the request */
        hl_heap_free(h, r);
    } else if (!strcmp(which, "uninit_read")) {
        if (p[5] == 3) puts("three");   /* a branch on a byte nobody wrote */
    } else if (!strcmp(which, "leak")) {
        p = NULL;                       /* the last pointer to a live block is lost */
    } else if (!strcmp(which, "double_free")) {
        hl_heap_free(h, p);
        hl_heap_free(h, p);
        p = NULL;
    } else if (!strcmp(which, "clean")) {
        strcpy(p, "clean");
        p = hl_heap_realloc(h, p, 4000);
        if (!p || strcmp(p, "clean")) return 3;
        puts(p);
    } else {
        fprintf(stderr, "user_bugs: unknown case %s\n", which);
        return 2;
    }
    hl_heap_free(h, q);
    if (p) hl_heap_free(h, p);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: user_bugs CASE\n");
        return 2;
    }
    hl_set_error_handler(report_and_exit, NULL);
    hl_heap *h = hl_heap_create(NULL);
    if (!h) return 2;
    int rc = run(argv[1], h);
    if (strcmp(argv[1], "leak") != 0) hl_heap_destroy(h);   /* a leak must stay a leak */
    return rc;
}
