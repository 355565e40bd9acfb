/*
 * threads_freerun.h - the free-running mode of fuzz_threads.
 *
 * Each thread index runs the input's operations tagged with it, at the same
 * time as the others, on a model of its own.  `free sN` on thread t hands the
 * block to thread N % threads when that is another thread: the block goes on
 * the receiver's bounded queue (full: t frees it itself), and the receiver,
 * at its next step, checks its contents and frees it, or first reallocs it
 * when (N / threads) is odd (realloc of another thread's block).  Every
 * `sync` operations of the input all threads meet at a barrier, where the
 * main thread checks every model, every queued block, hl_check_all and
 * hl_stats_global.  `exit` ends the thread; the main thread joins it and
 * starts a fresh one that carries on with the rest of the index's operations.
 */
#ifndef FZT_FREERUN_H
#define FZT_FREERUN_H

#include "threads_input.h"
#include "threads_oracle.h"

/* Runs ops; every thread it starts is joined, every block it allocated freed. */
void fzt_run_free(fzt_sink *k, const fzt_header *h, const fz_op *ops, size_t nops);

#endif /* FZT_FREERUN_H */
