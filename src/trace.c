/*
 * trace.c - the debug trace: one line per operation, split, merge, region and
 * mapping, as the seed allocators' verbose logging did.
 *
 * Off unless hl_set_trace() names a stream or HEAPLAB_TRACE=1 is in the
 * environment when the first heap is created.  Each line is formatted on the
 * stack and written with one fputs, so lines from one heap never interleave
 * mid-line.
 */
#include "hl_core.h"

#include <stdarg.h>
#include <stdlib.h>

FILE *hl__trace_out;
static bool trace_chosen;   /* hl_set_trace was called: the environment no longer decides */

void hl_set_trace(FILE *out) {
    hl__trace_out = out;
    trace_chosen = true;
}

void hl__trace_init(void) {
    if (trace_chosen) return;
    trace_chosen = true;
    const char *v = getenv("HEAPLAB_TRACE");
    if (v && *v && *v != '0') hl__trace_out = stderr;
}

void hl__trace(const hl_heap *h, const char *fmt, ...) {
    char line[256];
    int n = snprintf(line, sizeof line, "heaplab[%p]: ", (const void *)h);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && n < (int)sizeof line) vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    if (len > sizeof line - 2) len = sizeof line - 2;
    line[len] = '\n';
    line[len + 1] = '\0';
    fputs(line, hl__trace_out);
}
