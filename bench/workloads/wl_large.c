/*
 * wl_large.c - large blocks, the shape of mimalloc-bench's malloc-large:
 * STEPS times, a random one of 20 slots is freed and refilled with a block of
 * 5 to 25 MiB, and every page of the new block is written.  An allocator that
 * unmaps a freed block and maps the next one afresh pays a page fault (and
 * the kernel's zeroing) for every page, every time; one that keeps freed
 * mappings for reuse does not.
 *
 *   wl_large [STEPS] [SLOTS]   (400, 20)
 */
#include "wl.h"

#include <unistd.h>

int main(int argc, char **argv) {
    long steps = wl_arg(argc, argv, 1, 400);
    size_t slots = (size_t)wl_arg(argc, argv, 2, 20);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    wl_rng r = wl_seed(5);
    void **slot = calloc(slots, sizeof *slot);
    double t0 = wl_now(), ops = 0;
    for (long s = 0; s < steps; s++) {
        size_t i = (size_t)(wl_next(&r) % slots);
        if (slot[i]) ops++;
        free(slot[i]);
        size_t n = wl_range(&r, 5u << 20, 25u << 20);
        char *p = slot[i] = wl_xmalloc(n);
        for (size_t off = 0; off < n; off += page) p[off] = (char)s;
        ops++;
    }
    double t = wl_now() - t0;
    for (size_t i = 0; i < slots; i++) free(slot[i]);
    free(slot);
    wl_result("large", t, ops, NULL);
    return 0;
}
