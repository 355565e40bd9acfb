/* threads_freerun.c - see threads_freerun.h. */
#include "threads_freerun.h"
#include "pattern.h"

#include <stdlib.h>
#include <string.h>

enum { QUEUE_CAP = 32, SELF_SWEEP_EVERY = 32 };

typedef struct handed {
    unsigned char *p;
    size_t n, usable;
    uint64_t seed;           /* the pattern it holds */
    bool realloc_first;
    unsigned from;
} handed;

typedef struct queue {
    pthread_mutex_t mu;
    handed m[QUEUE_CAP];
    unsigned head, count;
} queue;

struct run;

typedef struct runner {
    fzt_lane lane;
    fzt_model model;
    queue q;
    size_t *ops;             /* indices of this thread's operations */
    size_t nops, pos;
    size_t barriers_passed;
    pthread_t tid;
    bool ended, finished;    /* under run.mu */
    struct run *run;
} runner;

typedef struct run {
    fzt_sink *k;
    const fz_op *ops;
    size_t nops, period, barriers;
    unsigned threads, next_inc;
    pthread_mutex_t mu;
    pthread_cond_t main_cv, lane_cv;
    unsigned arrived, finished;
    size_t generation;
    runner r[FZT_MAX_THREADS];
} run;

/* --- hand-over queues --------------------------------------------------------------------------- */
static bool give(fzt_lane *l, fzt_slot *s, unsigned slot)
{
    run *R = l->give_ctx;
    unsigned dest = slot % R->threads;
    if (dest == l->index)
        return false;
    queue *q = &R->r[dest].q;
    handed h = { s->p, s->n, s->usable, fzt_slot_seed(l->m, slot, s->gen), (slot / R->threads) & 1, l->index };
    pthread_mutex_lock(&q->mu);
    bool ok = q->count < QUEUE_CAP;
    if (ok)
        q->m[(q->head + q->count++) % QUEUE_CAP] = h;
    pthread_mutex_unlock(&q->mu);
    return ok;
}

static size_t take_all(queue *q, handed *out)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->count;
    for (size_t i = 0; i < n; i++)
        out[i] = q->m[(q->head + i) % QUEUE_CAP];
    q->head = (q->head + q->count) % QUEUE_CAP;
    q->count = 0;
    pthread_mutex_unlock(&q->mu);
    return n;
}

static bool check_handed(fzt_sink *k, const fzt_lane *l, const handed *h, const char *when)
{
    size_t bad = fz_pattern_mismatch(h->p, h->usable, h->seed);
    if (bad == SIZE_MAX)
        return true;
    fzt_violation(k, l ? l->op_index : 0, l ? l->op : NULL, "contents",
                  "%s: block %p (%zu bytes) handed over by t%u: byte %zu is 0x%02x, expected 0x%02x", when,
                  (void *)h->p, h->usable, h->from, bad, h->p[bad], fz_pattern_byte(h->seed, bad));
    return false;
}

/* The receiver's side: check, maybe realloc (prefix kept), free. */
static void receive(runner *me, const handed *h)
{
    fzt_sink *k = me->run->k;
    fzt_lane *l = &me->lane;
    if (!check_handed(k, l, h, "received"))
        return;
    unsigned char *p = h->p;
    if (h->realloc_first && k->ad->realloc) {
        size_t n = h->n % 2 ? h->n / 2 : h->n + 100;
        unsigned char *q = fzt_realloc(k, p, n);
        if (!q) {
            fzt_violation(k, l->op_index, l->op, "null", "realloc of a block handed over by t%u to %zu bytes "
                          "returned NULL", h->from, n);
            return;
        }
        size_t keep = n < h->n ? n : h->n, bad = fz_pattern_mismatch(q, keep, h->seed);
        if (bad != SIZE_MAX) {
            fzt_violation(k, l->op_index, l->op, "realloc-prefix", "realloc(%p, %zu) = %p of a block handed "
                          "over by t%u lost byte %zu of %zu kept", (void *)p, n, (void *)q, h->from, bad, keep);
            return;
        }
        p = q;
    }
    fzt_free(k, p);
}

static void drain(runner *me)
{
    handed got[QUEUE_CAP];
    size_t n = take_all(&me->q, got);
    for (size_t i = 0; i < n; i++)
        receive(me, &got[i]);
}

/* --- the threads ------------------------------------------------------------------------------------ */
static void barrier(runner *me)
{
    run *R = me->run;
    pthread_mutex_lock(&R->mu);
    size_t gen = R->generation;
    R->arrived++;
    pthread_cond_signal(&R->main_cv);
    while (R->generation == gen)
        pthread_cond_wait(&R->lane_cv, &R->mu);
    pthread_mutex_unlock(&R->mu);
}

static void pass_barriers_until(runner *me, size_t n)
{
    while (me->barriers_passed < n) {
        drain(me);
        barrier(me);
        me->barriers_passed++;
    }
}

static void signal_main(runner *me, bool *flag)
{
    run *R = me->run;
    pthread_mutex_lock(&R->mu);
    *flag = true;
    if (flag == &me->finished)
        R->finished++;
    pthread_cond_signal(&R->main_cv);
    pthread_mutex_unlock(&R->mu);
}

static void *runner_main(void *arg)
{
    runner *me = arg;
    run *R = me->run;
    fzt_lane_enter(&me->lane);
    while (me->pos < me->nops) {
        size_t i = me->ops[me->pos++];
        const fz_op *op = &R->ops[i];
        pass_barriers_until(me, i / R->period);
        drain(me);
        me->lane.op_index = i + 1;
        me->lane.op = op;
        if (fzt_is_exit(op)) {
            signal_main(me, &me->ended);
            return NULL;
        }
        if (fzt_failed(R->k))
            continue;   /* keep meeting the barriers, run nothing */
        fzt_apply(&me->lane, op);
        if (me->pos % SELF_SWEEP_EVERY == 0)
            fzt_sweep(R->k, (fzt_model *const[]){ &me->model }, 1, i + 1, op, "periodic sweep");
    }
    pass_barriers_until(me, R->barriers);
    drain(me);
    signal_main(me, &me->finished);
    return NULL;
}

static int start(run *R, runner *me)
{
    me->lane.inc = ++R->next_inc;
    return pthread_create(&me->tid, NULL, runner_main, me);
}

/* --- the main thread ----------------------------------------------------------------------------------- */
static size_t held(run *R, bool check, const char *when)
{
    size_t live = 0;
    for (unsigned t = 0; t < R->threads; t++) {
        runner *r = &R->r[t];
        pthread_mutex_lock(&r->q.mu);
        live += r->model.live_blocks + r->q.count;
        for (unsigned i = 0; check && i < r->q.count; i++)
            check_handed(R->k, NULL, &r->q.m[(r->q.head + i) % QUEUE_CAP], when);
        pthread_mutex_unlock(&r->q.mu);
    }
    return live;
}

/* Every thread is parked at the barrier: the world holds still. */
static void sync_point(run *R)
{
    char when[64];
    snprintf(when, sizeof when, "sync point %zu", R->generation + 1);
    fzt_model *ms[FZT_MAX_THREADS];
    for (unsigned t = 0; t < R->threads; t++)
        ms[t] = &R->r[t].model;
    if (fzt_sweep(R->k, ms, R->threads, 0, NULL, when)) {
        size_t live = held(R, true, when);
        if (!fzt_failed(R->k))
            fzt_check_world(R->k, 0, NULL, live, when);
    }
}

/* Restarts threads that exited, runs sync points, until every thread is done. */
static void supervise(run *R)
{
    pthread_mutex_lock(&R->mu);
    while (R->finished < R->threads) {
        bool acted = false;
        for (unsigned t = 0; t < R->threads; t++) {
            runner *r = &R->r[t];
            if (!r->ended)
                continue;
            r->ended = false;
            pthread_mutex_unlock(&R->mu);
            pthread_join(r->tid, NULL);   /* its heap is abandoned (or destroyed) now */
            if (start(R, r))
                abort();   /* the barriers would wait for it forever */
            pthread_mutex_lock(&R->mu);
            acted = true;
        }
        if (R->arrived == R->threads) {
            sync_point(R);
            R->arrived = 0;
            R->generation++;
            pthread_cond_broadcast(&R->lane_cv);
            acted = true;
        }
        if (!acted)
            pthread_cond_wait(&R->main_cv, &R->mu);
    }
    pthread_mutex_unlock(&R->mu);
}

static void init_run(run *R, fzt_sink *k, const fzt_header *h, const fz_op *ops, size_t nops, size_t *idx)
{
    memset(R, 0, sizeof *R);
    R->k = k;
    R->ops = ops;
    R->nops = nops;
    R->threads = h->threads;
    R->period = fzt_sync_periods[h->sync];
    R->barriers = nops ? (nops - 1) / R->period : 0;
    pthread_mutex_init(&R->mu, NULL);
    pthread_cond_init(&R->main_cv, NULL);
    pthread_cond_init(&R->lane_cv, NULL);
    size_t at = 0;
    for (unsigned t = 0; t < R->threads; t++) {
        runner *r = &R->r[t];
        r->run = R;
        r->ops = idx + at;
        for (size_t i = 0; i < nops; i++)
            if (ops[i].thread == t)
                r->ops[r->nops++] = i;
        at += r->nops;
        fzt_model_init(&r->model, (uint64_t)(t + 1) * 0x9E3779B97F4A7C15ull, FZT_LIVE_BUDGET / R->threads);
        pthread_mutex_init(&r->q.mu, NULL);
        r->lane = (fzt_lane){ .index = t, .m = &r->model, .sink = k, .give = give, .give_ctx = R };
    }
}

static void destroy_run(run *R)
{
    for (unsigned t = 0; t < R->threads; t++)
        pthread_mutex_destroy(&R->r[t].q.mu);
    pthread_cond_destroy(&R->lane_cv);
    pthread_cond_destroy(&R->main_cv);
    pthread_mutex_destroy(&R->mu);
}

void fzt_run_free(fzt_sink *k, const fzt_header *h, const fz_op *ops, size_t nops)
{
    static run R;   /* 8 models: off the stack */
    size_t *idx = malloc((nops ? nops : 1) * sizeof *idx);
    if (!idx)
        return;
    init_run(&R, k, h, ops, nops, idx);
    for (unsigned t = 0; t < R.threads; t++)
        if (start(&R, &R.r[t]))
            abort();   /* the barriers would wait for it forever */
    supervise(&R);
    for (unsigned t = 0; t < R.threads; t++)
        pthread_join(R.r[t].tid, NULL);
    /* every thread is gone: free what is left from here, checking it first */
    for (unsigned t = 0; t < R.threads && !fzt_failed(k); t++) {
        handed got[QUEUE_CAP];
        size_t n = take_all(&R.r[t].q, got);
        for (size_t i = 0; i < n; i++)
            if (check_handed(k, NULL, &got[i], "left in a queue at the end"))
                fzt_free(k, got[i].p);
        fzt_release_all(k, &R.r[t].model, "end of input");
    }
    if (!fzt_failed(k))
        fzt_check_world(k, 0, NULL, 0, "end of input");
    destroy_run(&R);
    free(idx);
}
