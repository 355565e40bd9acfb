/*
 * hl_global.h - the thread-safe global API's private types (src/ only).
 *
 *   hl_tlheap   a global heap: an explicit heap (segregated fit, segments of
 *               HL_SEGMENT from mmap) plus the lock its owner thread holds
 *               during each operation, and the remote-free stack on which
 *               other threads push the blocks they free.  Owned by one
 *               thread at a time; abandoned when that thread exits and
 *               adopted by the next thread that needs a heap.
 */
#ifndef HL_GLOBAL_H
#define HL_GLOBAL_H

#include "hl_core.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct hl_tlheap {
    hl_heap *heap;
    pthread_mutex_t lock;             /* held by whoever operates on heap */
    _Atomic(void *) remote;           /* stack of payloads freed by other threads,
                                         linked through their first 8 bytes */
    _Atomic size_t remote_pushed;     /* blocks pushed, ever */
    size_t remote_drained;            /* blocks drained, ever (under lock) */
    _Atomic int abandoned;            /* its thread has exited; waiting for adoption */
    _Atomic unsigned pushing;         /* remote frees past their abandoned check, not yet done */
    struct hl_tlheap *next_all;       /* every global heap (under the global lock) */
    struct hl_tlheap *next_abandoned;
} hl_tlheap;

/* A thread's record (src/global.c): its heap, if it has allocated, and its
 * outbox of remote frees, a chain of blocks per destination heap delivered
 * with one compare-and-swap per chain.  `busy` is raised while the thread
 * runs a lock-free path (the cache, the outbox), so that a stopper
 * (hl_check_all, hl_stats_global, fork) can wait for every thread to be out
 * of them. */
enum { HL_OUTBOX_SLOTS = 4, HL_OUTBOX_BATCH = 32 };
typedef struct hl_outbox {
    hl_tlheap *to;                    /* the heap whose blocks this chain holds */
    void *head, *tail;                /* linked through their first 8 bytes, tagged */
    size_t n;
} hl_outbox;

typedef struct hl_thread {
    _Atomic int busy;
    bool outbox_used;                 /* a put since the last flush */
    hl_tlheap *heap;
    hl_outbox box[HL_OUTBOX_SLOTS];
    unsigned evict;                   /* the slot a new destination takes next */
    struct hl_thread *next_all;       /* every record (under the global lock) */
} hl_thread;

/* registry.c */
bool hl__registry_add(const void *base, size_t size, hl_heap *h, bool large);
void hl__registry_remove(const void *base, size_t size);
hl_heap *hl__registry_owner(const void *p, bool *large);

#endif /* HL_GLOBAL_H */
