/* turnstile.c - see turnstile.h. */
#include "turnstile.h"

#include <string.h>

void fzt_turnstile_init(fzt_turnstile *ts, unsigned lanes, fzt_start_fn start, fzt_job_fn run, void *ctx)
{
    memset(ts, 0, sizeof *ts);
    pthread_mutex_init(&ts->mu, NULL);
    pthread_cond_init(&ts->main_cv, NULL);
    for (unsigned i = 0; i < FZT_TURNSTILE_LANES; i++)
        pthread_cond_init(&ts->lane_cv[i], NULL);
    ts->turn = FZT_MAIN;
    ts->lanes = lanes > FZT_TURNSTILE_LANES ? FZT_TURNSTILE_LANES : lanes;
    ts->start = start;
    ts->run = run;
    ts->ctx = ctx;
}

/* Waits for this lane's turn; the job, or NULL to quit. */
static void *wait_turn(fzt_turnstile *ts, unsigned lane)
{
    pthread_mutex_lock(&ts->mu);
    while (ts->turn != (int)lane)
        pthread_cond_wait(&ts->lane_cv[lane], &ts->mu);
    void *job = ts->job;
    pthread_mutex_unlock(&ts->mu);
    return job;
}

static void give_back(fzt_turnstile *ts, bool ended)
{
    pthread_mutex_lock(&ts->mu);
    ts->ended = ended;
    ts->turn = FZT_MAIN;
    pthread_cond_signal(&ts->main_cv);
    pthread_mutex_unlock(&ts->mu);
}

static void *lane_main(void *arg)
{
    fzt_turnstile *ts = ((struct fzt_lane_arg *)arg)->ts;
    unsigned lane = ((struct fzt_lane_arg *)arg)->lane;
    if (ts->start)
        ts->start(ts->ctx, lane);
    for (;;) {
        void *job = wait_turn(ts, lane);
        if (!job) {
            give_back(ts, true);
            return NULL;
        }
        bool end = ts->run(ts->ctx, lane, job);
        give_back(ts, end);
        if (end)
            return NULL;
    }
}

/* Hands the turn to lane and sleeps until it comes back. */
static bool hand_over(fzt_turnstile *ts, unsigned lane, void *job)
{
    pthread_mutex_lock(&ts->mu);
    ts->job = job;
    ts->turn = (int)lane;
    pthread_cond_signal(&ts->lane_cv[lane]);
    while (ts->turn != FZT_MAIN)
        pthread_cond_wait(&ts->main_cv, &ts->mu);
    bool ended = ts->ended;
    pthread_mutex_unlock(&ts->mu);
    return ended;
}

int fzt_turnstile_run(fzt_turnstile *ts, unsigned lane, void *job)
{
    if (!ts->alive[lane]) {
        ts->arg[lane] = (struct fzt_lane_arg){ ts, lane };
        int rc = pthread_create(&ts->tid[lane], NULL, lane_main, &ts->arg[lane]);
        if (rc)
            return rc;
        ts->alive[lane] = true;
    }
    if (hand_over(ts, lane, job)) {
        pthread_join(ts->tid[lane], NULL);   /* its thread-exit destructors have run */
        ts->alive[lane] = false;
    }
    return 0;
}

bool fzt_turnstile_alive(const fzt_turnstile *ts, unsigned lane) { return ts->alive[lane]; }

void fzt_turnstile_finish(fzt_turnstile *ts)
{
    for (unsigned i = 0; i < ts->lanes; i++)
        if (ts->alive[i])
            fzt_turnstile_run(ts, i, NULL);
}

void fzt_turnstile_destroy(fzt_turnstile *ts)
{
    pthread_cond_destroy(&ts->main_cv);
    for (unsigned i = 0; i < FZT_TURNSTILE_LANES; i++)
        pthread_cond_destroy(&ts->lane_cv[i]);
    pthread_mutex_destroy(&ts->mu);
}
