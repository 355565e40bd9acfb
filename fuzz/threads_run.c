/*
 * threads_run.c - see threads_run.h.
 *
 * Deterministic mode: a turnstile (turnstile.h) runs operation i on a pthread
 * of its thread index and nobody else meanwhile, so the interleaving is the
 * input's and a crash happens at the same operation every run.  After every
 * operation the main thread (all others parked) sweeps every live block,
 * checks no two overlap, runs the adapter's check and compares its stats with
 * the model.  Free-running mode: threads_freerun.h.
 *
 * No thread exists between inputs: each input starts its threads and joins
 * them all before returning (libFuzzer's rule; AFL++'s forkserver cannot fork
 * threads, and none exist before it starts).
 *
 * FZT_VERBOSE=1 prints each deterministic operation and what it did.
 */
#include "threads_run.h"
#include "threads_freerun.h"
#include "threads_input.h"
#include "turnstile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct det {
    fzt_sink *k;
    fzt_model model;
    fzt_lane lanes[FZT_MAX_THREADS];
    unsigned next_inc;
    bool verbose;
} det;

static void det_start(void *ctx, unsigned lane)
{
    det *d = ctx;
    fzt_lane_enter(&d->lanes[lane]);
}

static bool det_job(void *ctx, unsigned lane, void *job)
{
    det *d = ctx;
    const fz_op *op = job;
    if (fzt_is_exit(op))
        return true;
    fzt_apply(&d->lanes[lane], op);
    return false;
}

/* One operation on its thread, then every rule with the world stopped. */
static bool det_step(det *d, fzt_turnstile *ts, const fz_op *op, size_t index)
{
    fzt_lane *l = &d->lanes[op->thread];
    if (d->k->progress)
        d->k->progress(index);
    l->op_index = index;
    l->op = op;
    l->note[0] = 0;
    if (fzt_is_exit(op)) {
        d->model.epoch++;   /* its heap may be destroyed: stale pointers are no longer sure */
        if (!fzt_turnstile_alive(ts, op->thread))
            snprintf(l->note, sizeof l->note, "skipped: the thread is not running");
    }
    if (!fzt_is_exit(op) || fzt_turnstile_alive(ts, op->thread)) {
        if (!fzt_turnstile_alive(ts, op->thread))
            l->inc = ++d->next_inc;   /* a fresh pthread: it will find or adopt a heap */
        if (fzt_turnstile_run(ts, op->thread, (void *)op))
            abort();   /* pthread_create failed: nothing sensible to report */
    }
    if (d->verbose) {
        char text[FZ_OP_TEXT + 8];
        fzt_op_format(op, text, sizeof text);
        fprintf(stderr, "%5zu: %-40s %s\n", index, text, l->note);
    }
    if (fzt_failed(d->k))
        return false;
    return fzt_sweep(d->k, (fzt_model *const[]){ &d->model }, 1, index, op, "after the operation")
        && fzt_check_world(d->k, index, op, d->model.live_blocks, "after the operation");
}

static void run_deterministic(fzt_sink *k, const fzt_header *h, const fz_op *ops, size_t nops)
{
    static det d;   /* the model is 20 KB: off the stack */
    memset(&d, 0, sizeof d);
    d.k = k;
    const char *v = getenv("FZT_VERBOSE");
    d.verbose = v && *v && strcmp(v, "0") != 0;
    fzt_model_init(&d.model, 0, FZT_LIVE_BUDGET);
    for (unsigned t = 0; t < h->threads; t++)
        d.lanes[t] = (fzt_lane){ .index = t, .m = &d.model, .sink = k };
    fzt_turnstile ts;
    fzt_turnstile_init(&ts, h->threads, det_start, det_job, &d);
    for (size_t i = 0; i < nops; i++)
        if (!det_step(&d, &ts, &ops[i], i + 1))
            break;
    if (fzt_failed(k))
        return;   /* the caller aborts; the parked threads go with the process */
    /* The end: the blocks left go back from this thread (remote frees, drained
     * as their owners exit), then every thread ends and is joined. */
    fzt_release_all(k, &d.model, "end of input");
    fzt_turnstile_finish(&ts);
    fzt_turnstile_destroy(&ts);
    if (!fzt_failed(k))
        fzt_check_world(k, 0, NULL, 0, "end of input");
}

/* Every operation of the input, decoded once (the free-running mode splits them by thread). */
static fz_op *decode_all(const uint8_t *data, size_t size, fzt_header *h, size_t *n)
{
    fz_decoder d;
    fzt_decode_begin(&d, data, size, h);
    fz_op *ops = malloc((size / 2 + 1) * sizeof *ops);   /* an operation takes 2 bytes at least */
    *n = 0;
    while (ops && fz_decode_next(&d, &ops[*n]))
        ++*n;
    return ops;
}

bool fzt_run_input(fzt_sink *k, const uint8_t *data, size_t size)
{
    fzt_header h;
    size_t nops;
    fz_op *ops = decode_all(data, size, &h, &nops);
    if (!ops)
        return true;   /* no memory for the operations: nothing ran */
    if (h.mode == FZT_DETERMINISTIC)
        run_deterministic(k, &h, ops, nops);
    else
        fzt_run_free(k, &h, ops, nops);
    free(ops);
    return !fzt_failed(k);
}
