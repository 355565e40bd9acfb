/*
 * wl_realloc.c - many buffers grown a little at a time with realloc, as
 * string builders and vectors grow: BUFFERS buffers, each step appends 1 to
 * 64 bytes to a random one (realloc to the new length, then writes the new
 * bytes); a buffer that reaches its limit (1 to 64 KiB, drawn per buffer) is
 * freed and starts again empty.  Whether realloc grows in place, and how
 * much it copies when it cannot, decides the time.
 *
 *   wl_realloc [STEPS] [BUFFERS]   (2000000, 2000)
 */
#include "wl.h"

typedef struct buffer {
    char *p;
    size_t len, limit;
} buffer;

int main(int argc, char **argv) {
    long steps = wl_arg(argc, argv, 1, 2000000);
    size_t count = (size_t)wl_arg(argc, argv, 2, 2000);
    wl_rng r = wl_seed(11);
    buffer *b = calloc(count, sizeof *b);
    for (size_t i = 0; i < count; i++) b[i].limit = wl_range(&r, 1024, 65536);
    double ops = 0, copied_check = 0;
    double t0 = wl_now();
    for (long s = 0; s < steps; s++) {
        buffer *x = &b[wl_next(&r) % count];
        size_t add = wl_range(&r, 1, 64);
        if (x->len + add > x->limit) {
            copied_check += x->p[x->len / 2];
            free(x->p);
            *x = (buffer){ NULL, 0, wl_range(&r, 1024, 65536) };
            ops++;
        }
        char *q = realloc(x->p, x->len + add);
        if (!q) return 1;
        memset(q + x->len, (int)(s & 0x7f), add);
        x->p = q;
        x->len += add;
        ops++;
    }
    double t = wl_now() - t0;
    for (size_t i = 0; i < count; i++) free(b[i].p);
    free(b);
    char extra[64];
    snprintf(extra, sizeof extra, "check=%.0f", copied_check);
    wl_result("realloc-grow", t, ops, extra);
    return 0;
}
