/*
 * check.c - hl_heap_check, the heap checker, and the every-op check.
 *
 * The checker walks every region block by block, every large mapping and
 * every free list, recounts the statistics, and reports the first invariant
 * that does not hold (the passes and their order: check_internal.h).  It
 * never allocates, never follows a pointer it has not range-checked, and
 * bounds every walk, so it can run on a heap that a fuzzer has scribbled on.
 * Its cost is linear in the heap: every block header, every free-list node,
 * and in checked builds every free and slack byte.
 */
#include "check_internal.h"
#include "hl_track.h"

#include <unistd.h>

typedef int (*check_pass)(hl_checker *c);

static const check_pass passes[] = {
    hl__check_heap_header, hl__check_regions, hl__check_blocks, hl__check_large,
    hl__check_large_cache, hl__check_lists, hl__check_cache, hl__check_bitmap, hl__check_stats,
};

static size_t page_size(void) {
    long page = sysconf(_SC_PAGESIZE);
    return page > 0 ? (size_t)page : 4096;
}

static int run(const hl_heap *h, hl_check_report *report, bool every_op) {
    hl_check_report scratch;
    hl_checker c;
    memset(&c, 0, sizeof c);
    c.h = h;
    c.rep = report ? report : &scratch;
    c.page = page_size();
    c.every_op = every_op;
    memset(c.rep, 0, sizeof *c.rep);
    c.rep->invariant = hl_invariant_name(HL_INV_OK);
    if (every_op) {
        c.window_lo = h->sweep_cursor;
        c.window_hi = h->sweep_cursor + HL_SWEEP_WINDOW;
    }
    /* the checker reads metadata and free memory, which memcheck is told
     * nobody may touch: its reads are the allocator's, not the caller's */
    hl_track_enter();
    int id = HL_INV_OK;
    for (size_t i = 0; i < sizeof passes / sizeof passes[0] && !id; i++)
        id = passes[i](&c);
    hl_track_leave();
    if (id)
        return id;
    c.rep->blocks_walked = c.walked;
    snprintf(c.rep->message, sizeof c.rep->message,
             "heap %p: every invariant holds (%zu blocks in %zu regions, %zu large)",
             (const void *)h, c.walked, c.nregions, c.seen.large_blocks);
    return HL_INV_OK;
}

int hl_heap_check(const hl_heap *h, hl_check_report *report) { return run(h, report, false); }

/*
 * The every-op check of checked builds runs after every public operation,
 * and differs from hl_heap_check in two ways, both to keep fuzzing fast:
 *   - the fill of free blocks is verified where this operation wrote it
 *     (hl_heap.touched: the ranges it filled; every fill if it filled more
 *     than HL_TOUCHED_MAX ranges) and, for the rest, through a window of
 *     HL_SWEEP_WINDOW bytes of the regions
 *     that moves on after each operation: a write into a free block that no
 *     operation touched is caught within (region bytes / HL_SWEEP_WINDOW)
 *     operations, not at once.  Everything else is verified in full: every
 *     block header, footer and size, the tiling, coalescing, every free list
 *     and bitmap, the counters, and every canary.
 *   - the system calls that prove a link is mapped before it is followed are
 *     skipped: the allocator has just used the heap header, the region list
 *     and the large-mapping list itself (through their seals) in the
 *     operation being checked.
 * Anyone calling hl_heap_check gets the full check, probes and all.
 */
void hl__check_after(const hl_heap *h, const char *op) {
    hl_check_report rep;
    int id = run(h, &rep, true);
    hl_heap *mut = (hl_heap *)h;   /* the check's own state lives in the heap header */
    mut->ntouched = 0;
    mut->sweep_cursor += HL_SWEEP_WINDOW;
    if (mut->sweep_cursor >= h->st.region_bytes)
        mut->sweep_cursor = 0;
    if (id != HL_INV_OK)
        hl__report(h, HL_ERR_INVARIANT, op, NULL, &rep, "%s(): heap invariant %s violated: %s",
                   op, rep.invariant, rep.message);
}
