/*
 * turnstile.h - real threads, one at a time, in an order the caller chooses.
 *
 * The deterministic mode of fuzz_threads runs each operation on a pthread of
 * its own thread index, but hands the turn to exactly one thread at a time:
 * the main thread gives thread t a job and sleeps until t gives the turn back.
 * The interleaving is then the input's, every run, while the allocator still
 * sees distinct threads (thread-local heaps, remote frees, thread exit).
 *
 * A lane's pthread is started the first time it gets a job; a job that ends
 * the thread makes it return, and the main thread joins it before the next
 * job (so the allocator's thread-exit destructor has finished); the lane's
 * next job starts a fresh pthread.  Mutex + one condition variable per lane:
 * every hand-over is a happens-before edge, so ThreadSanitizer sees none of
 * the harness's own data as raced.
 */
#ifndef FZT_TURNSTILE_H
#define FZT_TURNSTILE_H

#include <pthread.h>
#include <stdbool.h>

enum { FZT_TURNSTILE_LANES = 8, FZT_MAIN = -1 };

/* Runs `job` on lane `lane`'s thread; returns true if the thread must end. */
typedef bool (*fzt_job_fn)(void *ctx, unsigned lane, void *job);
/* Called on a lane's fresh pthread before its first job. */
typedef void (*fzt_start_fn)(void *ctx, unsigned lane);

struct fzt_turnstile;
struct fzt_lane_arg { struct fzt_turnstile *ts; unsigned lane; };

typedef struct fzt_turnstile {
    pthread_mutex_t mu;
    pthread_cond_t lane_cv[FZT_TURNSTILE_LANES];
    pthread_cond_t main_cv;
    int turn;                          /* the lane that may run, or FZT_MAIN */
    void *job;                         /* its job; NULL: quit */
    bool ended;                        /* the job ended the thread */
    bool alive[FZT_TURNSTILE_LANES];
    pthread_t tid[FZT_TURNSTILE_LANES];
    struct fzt_lane_arg arg[FZT_TURNSTILE_LANES];
    unsigned lanes;
    fzt_job_fn run;
    fzt_start_fn start;
    void *ctx;
} fzt_turnstile;

void fzt_turnstile_init(fzt_turnstile *ts, unsigned lanes, fzt_start_fn start, fzt_job_fn run, void *ctx);
/* Main thread: runs job on lane (starting its thread if needed) and waits
 * for it.  Returns 0, or an errno from pthread_create. */
int fzt_turnstile_run(fzt_turnstile *ts, unsigned lane, void *job);
bool fzt_turnstile_alive(const fzt_turnstile *ts, unsigned lane);
/* Ends and joins every lane still running. */
void fzt_turnstile_finish(fzt_turnstile *ts);
void fzt_turnstile_destroy(fzt_turnstile *ts);

#endif /* FZT_TURNSTILE_H */
