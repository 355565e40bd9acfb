/*
 * wl_small_batch.c - fixed-size blocks allocated in a batch and then freed,
 * one thread: the shape of glibc's benchtests (bench-malloc-simple), where a
 * thread cache decides everything.
 *
 *   wl_small_batch [PAIRS_PER_CASE]
 *
 * Sizes 16, 64, 256 and 1024 B, batches of 25, 100, 400 and 1600 blocks; each
 * of the 16 cases runs PAIRS_PER_CASE malloc+free pairs (default 1500000).
 * Prints ns per pair for each case, and the total.
 */
#include "wl.h"

static const size_t sizes[] = { 16, 64, 256, 1024 };
static const size_t batches[] = { 25, 100, 400, 1600 };

/* One case; returns its seconds. */
static double run_case(size_t size, size_t batch, long pairs) {
    void **slot = wl_xmalloc(batch * sizeof *slot);
    long rounds = pairs / (long)batch;
    double t0 = wl_now();
    for (long r = 0; r < rounds; r++) {
        for (size_t i = 0; i < batch; i++) {
            slot[i] = wl_xmalloc(size);
            *(volatile char *)slot[i] = (char)i;
        }
        for (size_t i = 0; i < batch; i++) free(slot[i]);
    }
    double t = wl_now() - t0;
    free(slot);
    return t;
}

int main(int argc, char **argv) {
    long pairs = wl_arg(argc, argv, 1, 1500000);
    double total = 0, ops = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (size_t b = 0; b < sizeof batches / sizeof *batches; b++) {
            double t = run_case(sizes[s], batches[b], pairs);
            long done = pairs / (long)batches[b] * (long)batches[b];
            printf("case size=%zu batch=%zu ns_per_pair=%.1f\n", sizes[s], batches[b], t * 1e9 / (double)done);
            total += t;
            ops += 2.0 * (double)done;
        }
    char extra[64];
    snprintf(extra, sizeof extra, "ns_per_pair=%.2f", total * 2e9 / ops);
    wl_result("small-batch", total, ops, extra);
    return 0;
}
