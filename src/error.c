/*
 * error.c - where every misuse the allocator detects is reported.
 *
 * One handler for the process.  The default prints one line and aborts, as
 * glibc does with "free(): invalid pointer": an allocator that has seen its
 * heap misused cannot promise anything afterwards.  The message is formatted
 * on the stack and written with write(2), so reporting never allocates.
 */
#include "hl_core.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

static hl_error_handler handler;
static void *handler_ctx;

void hl_set_error_handler(hl_error_handler fn, void *ctx) {
    handler = fn;
    handler_ctx = ctx;
}

const char *hl_error_kind_name(hl_error_kind kind) {
    switch (kind) {
    case HL_ERR_DOUBLE_FREE: return "double-free";
    case HL_ERR_INVALID_POINTER: return "invalid-pointer";
    case HL_ERR_CORRUPTED_BLOCK: return "corrupted-block";
    case HL_ERR_INVARIANT: return "invariant";
    }
    return "unknown";
}

enum { MESSAGE_MAX = 320 };   /* hl__report's message, its terminator included */

static void default_handler(const hl_error *e) {
    char line[sizeof "heaplab: \n" + MESSAGE_MAX];   /* so the line is never cut */
    int n = snprintf(line, sizeof line, "heaplab: %s\n", e->message);
    if (write(STDERR_FILENO, line, (size_t)n) < 0) { /* nothing left to tell */ }
    abort();
}

void hl__report(const hl_heap *h, hl_error_kind kind, const char *op, const void *ptr,
                const hl_check_report *rep, const char *fmt, ...) {
    char msg[MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (hl__heap_ok(h)) ((hl_heap *)h)->st.errors++;
    hl_error e = { kind, ptr, h, msg, op, rep };
    HL_TRACE(h, "error %s: %s", hl_error_kind_name(kind), msg);
    if (kind == HL_ERR_DOUBLE_FREE && op && strcmp(op, "free") == 0) hl_track_bad_free(ptr);
    hl_track_leave();   /* the handler is the caller's code: memcheck watches it */
    if (handler) handler(&e, handler_ctx);
    else default_handler(&e);
    hl_track_enter();
}
