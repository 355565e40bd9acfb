/*
 * global.c - hl_malloc and friends: one allocator for the whole process, safe
 * from any number of threads, built on explicit heaps.
 *
 * Each thread allocates from a heap of its own (segregated fit, segments of
 * HL_SEGMENT from mmap).  The owner holds its heap's lock during each
 * operation; nobody else takes it except to free a large block, to check
 * the world (hl_check_all), around fork(), or to serve an abandoned heap.
 *
 * Freeing a block that another thread's heap owns pushes it onto that heap's
 * remote-free stack with one compare-and-swap and touches nothing else; the
 * owner drains the stack at the start of its next operation, after which the
 * block is free for anyone.  The owner of a pointer is found from its segment
 * in the registry (registry.c), so a pointer heaplab never returned is
 * reported without reading the memory it points to.
 *
 * When a thread exits, its heap is drained; an empty heap is destroyed, a
 * heap with live blocks is abandoned and adopted by the next thread that
 * needs one.  A remote free to an abandoned heap frees the block at once
 * under the lock, so nothing waits for an adopter that may never come.
 */
#include "hl_global.h"
#include "hl_tcache.h"

#include <linux/membarrier.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t world = PTHREAD_MUTEX_INITIALIZER;   /* the lists below */
static hl_tlheap *all_heaps;
static hl_tlheap *abandoned;
static hl_thread *all_threads;
static size_t heaps_created, heaps_adopted;

static __thread hl_thread *me __attribute__((tls_model("initial-exec")));
static __thread bool me_gone __attribute__((tls_model("initial-exec")));   /* past this thread's exit handler */
static pthread_key_t exit_key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void thread_exit(void *arg);
static void atfork_prepare(void);
static void atfork_parent(void);
static void atfork_child(void);

/* --- stopping the fast paths ------------------------------------------------------------
 * The fast paths (the thread cache, the outbox) take no lock, yet hl_check_all,
 * hl_stats_global and fork must see caches and outboxes at rest.  A thread
 * raises its record's `busy` around each fast path and, between the two,
 * reads `stopping`; a stopper raises `stopping`, then waits until every
 * record's `busy` is down.  That is Dekker's pattern, which needs a full
 * fence between each side's store and its load.  The fast path's fence would
 * cost more than the rest of it, so the stopper pays for both with
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which runs a full fence on
 * every thread of the process that is running: after it, a fast path either
 * had raised `busy` where the stopper sees it, or will see `stopping` and take
 * the locked path.  Where the kernel refuses membarrier, the fast path fences
 * itself (fence_fallback).  busy's release store at the end of a fast path
 * and the stopper's acquire load publish the path's writes to the stopper;
 * stopping's release store when the stopper is done and the fast path's
 * acquire load publish the stopper's reads before the next write. */
static _Atomic unsigned stopping;
static _Atomic bool fence_fallback;

static void barrier_init(void) {
    atomic_store(&fence_fallback, syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0);
}

static inline bool fast_begin(hl_thread *th) {
    atomic_store_explicit(&th->busy, 1, memory_order_relaxed);
    if (atomic_load_explicit(&fence_fallback, memory_order_relaxed)) atomic_thread_fence(memory_order_seq_cst);
    else atomic_signal_fence(memory_order_seq_cst);
    if (__builtin_expect(atomic_load_explicit(&stopping, memory_order_acquire) != 0, 0)) {
        atomic_store_explicit(&th->busy, 0, memory_order_release);
        return false;
    }
    return true;
}

static inline void fast_end(hl_thread *th) { atomic_store_explicit(&th->busy, 0, memory_order_release); }

static void deliver_outboxes(void);

/* The caller holds `world`, which keeps all_threads still, and no heap's
 * lock.  Once every fast path is out, the stopper owns every outbox and
 * delivers them, so that nothing waits in one while the world is looked at
 * (or forked, or a heap decides whether it is empty). */
static void stop_world(void) {
    atomic_store(&stopping, 1);
    if (!atomic_load(&fence_fallback) && syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
        atomic_store(&fence_fallback, true);   /* not seen once registered; from now on the fast paths fence */
    for (hl_thread *th = all_threads; th; th = th->next_all)
        while (atomic_load_explicit(&th->busy, memory_order_acquire)) sched_yield();
    deliver_outboxes();
}

static void resume_world(void) { atomic_store_explicit(&stopping, 0, memory_order_release); }

static void global_init(void) {
    hl__page_size();   /* its lazy first answer, while this thread is alone here */
    barrier_init();
    pthread_key_create(&exit_key, thread_exit);
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* --- threads and their heaps --------------------------------------------------------- */
static size_t record_bytes(void) { return hl__round_up(sizeof(hl_thread), hl__page_size()); }

/* This thread's record, made the first time it needs one; NULL once its exit
 * handler has run, or without memory. */
static hl_thread *thread_record(void) {
    if (me) return me;
    if (me_gone) return NULL;
    pthread_once(&once, global_init);
    hl_thread *th = hl__map(record_bytes());
    if (!th) return NULL;
    atomic_init(&th->busy, 0);
    pthread_mutex_lock(&world);
    th->next_all = all_threads;
    all_threads = th;
    pthread_mutex_unlock(&world);
    me = th;
    pthread_setspecific(exit_key, th);
    return th;
}

static void unlink_record(hl_thread *th) {
    for (hl_thread **pp = &all_threads; *pp; pp = &(*pp)->next_all)
        if (*pp == th) {
            *pp = th->next_all;
            return;
        }
}

static hl_tlheap *new_tlheap(void) {
    hl_tlheap *t = hl__map(hl__round_up(sizeof *t, hl__page_size()));
    if (!t) return NULL;
    hl_config cfg = { .policy = HL_SEGREGATED_FIT, .source = HL_SOURCE_MMAP, .grow_size = HL_SEGMENT };
    t->heap = hl_heap_create(&cfg);
    if (!t->heap) {
        hl__unmap(t, hl__round_up(sizeof *t, hl__page_size()));
        return NULL;
    }
    t->heap->owner = t;
    t->heap->seg_align = HL_SEGMENT;
    t->heap->canary_skip = 2 * sizeof(void *);   /* the remote-free link and tag */
    t->heap->cache.enabled = 1;
    pthread_mutex_init(&t->lock, NULL);
    atomic_init(&t->remote, NULL);
    atomic_init(&t->remote_pushed, 0);
    atomic_init(&t->abandoned, 0);
    atomic_init(&t->pushing, 0);
    t->next_all = all_heaps;
    all_heaps = t;
    heaps_created++;
    return t;
}

static hl_tlheap *thread_heap(void) {
    hl_thread *th = thread_record();
    if (!th) return NULL;
    if (th->heap) return th->heap;
    pthread_mutex_lock(&world);
    hl_tlheap *t = abandoned;
    if (t) {
        abandoned = t->next_abandoned;
        /* under t's lock: a free into t that found it abandoned (and so
         * touches its heap under the lock) is over before this thread's
         * lock-free paths start, and one that comes later sees it owned */
        pthread_mutex_lock(&t->lock);
        atomic_store(&t->abandoned, 0);
        pthread_mutex_unlock(&t->lock);
        heaps_adopted++;
    } else {
        t = new_tlheap();
    }
    pthread_mutex_unlock(&world);
    th->heap = t;
    return t;
}

/* A block waiting on a remote-free stack carries, in its second payload word,
 * a tag bound to its address: a second free of it before its owner drains it
 * is then a double free, not a second push that would tie the stack into a
 * loop.  The freeing thread owns those bytes once it has called free. */
#define HL_REMOTE_TAG 0x72656d6f74656672ull   /* "remotefr" */

static uint64_t *tag_word(void *p) { return (uint64_t *)((char *)p + sizeof(void *)); }
static uint64_t tag_of(const void *p) { return HL_REMOTE_TAG ^ (uint64_t)(uintptr_t)p; }

static bool pending(void *p) {
    hl_track_enter();   /* the caller's bytes: maybe never written, maybe NOACCESS to memcheck */
    uint64_t tag = __atomic_load_n(tag_word(p), __ATOMIC_RELAXED);
    hl_track_leave();
    hl_track_defined(&tag, sizeof tag);   /* whatever it holds, comparing it is no bug of the caller's */
    return tag == tag_of(p);
}

static void double_free_pending(hl_tlheap *o, void *p) {
    hl_track_enter();
    hl__report(o->heap, HL_ERR_DOUBLE_FREE, "free", p, NULL,
               "free(): double free of %p: it is already on its way back to its owner thread", p);
    hl_track_leave();
}

/* A used region block of h at p, judged from its header alone: the fast
 * paths' test.  Anything else (cached blocks included) goes to the owner's
 * full checks under the lock. */
static inline bool plain_used_block(const hl_heap *h, const void *p) {
    if ((uintptr_t)p % HL_ALIGN || ((uintptr_t)p & (HL_SEGMENT - 1)) < sizeof(hl_region) + HL_HEADER) return false;
    const hl_block *b = hl_payload_block(p);
    hl_track_enter();
    /* flags first: a plain used block's word is the mix itself (no HL_CACHED key to apply) */
    bool ok = (b->size_flags & HL_FLAGS) == HL_USED &&
              b->check == hl_mix_check(b, b->size_flags, b->slack, h->cookie) &&
              ((uintptr_t)b & (HL_SEGMENT - 1)) + hl_block_size(b) <= HL_SEGMENT &&
              *hl_block_footer(b) == b->size_flags;
    hl_track_leave();
    hl_track_defined(&ok, sizeof ok);   /* an interior pointer's "header" is the caller's bytes */
    return ok;
}

/* A block taken off a remote stack goes into the owner's cache when it fits
 * (the owner is the thread most likely to want its size again), else back to
 * the heap. */
static void drain_one(hl_tlheap *t, void *p) {
    hl_heap *h = t->heap;
    if (plain_used_block(h, p)) {
        hl_track_enter();
        bool cached = hl__cache_put(h, hl_payload_block(p));
        hl_track_leave();
        if (cached) return;
    }
    hl_heap_free(h, p);
}

static void drain(hl_tlheap *t) {
    void *p = atomic_exchange_explicit(&t->remote, NULL, memory_order_acquire);
    while (p) {
        hl_track_enter();
        void *next = *(void **)p;
        __atomic_store_n(tag_word(p), 0, __ATOMIC_RELAXED);
        hl_track_leave();
        hl_track_defined(&next, sizeof next);   /* a link past a small block's visible bytes */
        drain_one(t, p);
        t->remote_drained++;
        p = next;
    }
}

/* --- frees from other threads --------------------------------------------------------- */
static void free_into(hl_tlheap *o, void *p, bool large);

/* Pushes the chain head..tail (n blocks, tagged, linked through their first
 * words) onto o's stack with one compare-and-swap; false, having done
 * nothing, if o's owner has exited.  `pushing` keeps an exiting owner from
 * draining (and perhaps unmapping o) until every push that saw it alive has
 * landed: nothing here touches o after the decrement.  The release CAS
 * publishes the links and tags to the owner's acquire exchange in drain. */
static bool push_chain(hl_tlheap *o, void *head, void *tail, size_t n) {
    atomic_fetch_add(&o->pushing, 1);
    if (atomic_load(&o->abandoned)) {
        atomic_fetch_sub(&o->pushing, 1);
        return false;
    }
    atomic_fetch_add_explicit(&o->remote_pushed, n, memory_order_relaxed);
    hl_track_enter();
    void *old = atomic_load_explicit(&o->remote, memory_order_relaxed);
    do {
        *(void **)tail = old;
    } while (!atomic_compare_exchange_weak_explicit(&o->remote, &old, head, memory_order_release,
                                                    memory_order_relaxed));
    hl_track_leave();
    atomic_fetch_sub_explicit(&o->pushing, 1, memory_order_release);
    return true;
}

static void tag(void *p) {
    hl_track_enter();
    __atomic_store_n(tag_word(p), tag_of(p), __ATOMIC_RELAXED);
    hl_track_leave();
}

static void untag(void *p) {
    hl_track_enter();
    __atomic_store_n(tag_word(p), 0, __ATOMIC_RELAXED);
    hl_track_leave();
}

/* One block, at once (no outbox: a thread past its exit handler, or while the
 * world is stopped). */
static bool remote_push(hl_tlheap *o, void *p) {
    if (pending(p)) {
        double_free_pending(o, p);
        return true;
    }
    tag(p);
    if (push_chain(o, p, p, 1)) return true;
    untag(p);
    return false;
}

/* A batch the outbox let go of: onto o's stack, or, o's owner gone, into its
 * heap under its lock. */
static void deliver(hl_tlheap *o, void *head, void *tail, size_t n) {
    if (push_chain(o, head, tail, n)) return;
    pthread_mutex_lock(&o->lock);
    if (!atomic_load(&o->abandoned)) {
        /* adopted meanwhile: its new owner may be in its lock-free paths, so
         * the heap is not ours to touch; o cannot go away while we hold its
         * lock (its owner's exit takes it), so no `pushing` is needed */
        atomic_fetch_add_explicit(&o->remote_pushed, n, memory_order_relaxed);
        void *old = atomic_load_explicit(&o->remote, memory_order_relaxed);
        hl_track_enter();
        do {
            *(void **)tail = old;
        } while (!atomic_compare_exchange_weak_explicit(&o->remote, &old, head, memory_order_release,
                                                        memory_order_relaxed));
        hl_track_leave();
    } else {
        for (void *p = head; n--; ) {
            hl_track_enter();
            void *next = *(void **)p;
            hl_track_leave();
            hl_track_defined(&next, sizeof next);
            untag(p);
            hl_heap_free(o->heap, p);
            p = next;
        }
    }
    pthread_mutex_unlock(&o->lock);
}

/* The outbox: remote frees wait in a thread's record, a chain per destination
 * heap, until a chain holds HL_OUTBOX_BATCH blocks, the slot is wanted for
 * another heap, the thread takes a locked path of its own, or it exits.  Only
 * its thread writes it (a stopper reads it). */
static void detach(hl_outbox *box, void **head, void **tail, size_t *n) {
    *head = box->head;
    *tail = box->tail;
    *n = box->n;
    box->head = box->tail = NULL;
    box->n = 0;
}

static void flush_outbox(hl_thread *th) {
    for (;;) {
        if (!fast_begin(th)) {
            /* a stopper owns the outboxes (and delivers them): wait for it */
            pthread_mutex_lock(&world);
            pthread_mutex_unlock(&world);
            continue;
        }
        hl_outbox *box = NULL;
        for (unsigned i = 0; i < HL_OUTBOX_SLOTS && !box; i++)
            if (th->box[i].n) box = &th->box[i];
        if (!box) {
            fast_end(th);
            return;
        }
        void *head, *tail;
        size_t n;
        hl_tlheap *o = box->to;
        detach(box, &head, &tail, &n);
        fast_end(th);
        deliver(o, head, tail, n);   /* outside the fast path: it may take a lock */
    }
}

/* Every thread's outbox, by a stopper (see stop_world). */
static void deliver_outboxes(void) {
    for (hl_thread *th = all_threads; th; th = th->next_all)
        for (unsigned i = 0; i < HL_OUTBOX_SLOTS; i++) {
            hl_outbox *box = &th->box[i];
            if (!box->n) continue;
            void *head, *tail;
            size_t n;
            detach(box, &head, &tail, &n);
            deliver(box->to, head, tail, n);
        }
}

/* p, a plain used block of o (not this thread's), into the outbox; false if
 * the world is stopped and the caller must push it at once. */
static bool outbox_put(hl_thread *th, hl_tlheap *o, void *p) {
    if (!fast_begin(th)) return false;
    if (pending(p)) {
        fast_end(th);
        double_free_pending(o, p);
        return true;
    }
    hl_outbox *box = NULL;
    for (unsigned i = 0; i < HL_OUTBOX_SLOTS; i++)
        if (th->box[i].to == o) box = &th->box[i];
    void *head = NULL, *tail = NULL;
    size_t n = 0;
    hl_tlheap *full = NULL;
    if (!box) {
        box = &th->box[th->evict++ % HL_OUTBOX_SLOTS];
        if (box->n) {
            full = box->to;
            detach(box, &head, &tail, &n);
        }
        box->to = o;
    }
    th->outbox_used = true;
    tag(p);
    hl_track_enter();
    *(void **)p = box->head;
    hl_track_leave();
    if (!box->tail) box->tail = p;
    box->head = p;
    if (++box->n == HL_OUTBOX_BATCH) {
        full = o;
        detach(box, &head, &tail, &n);
    }
    fast_end(th);
    if (full) deliver(full, head, tail, n);   /* outside the fast path: it may take a lock */
    return true;
}

/* --- the owner's locked path ------------------------------------------------------------- */
/* A thread past its exit handler (a TLS destructor that runs after ours and
 * allocates) has no heap any more, and must not make one: nothing would
 * ever abandon it.  It is served from an abandoned heap instead, under that
 * heap's lock, and leaves it abandoned: what it allocates is then a block of
 * a dead thread's heap like any other (freed under the lock, adopted with
 * the heap).  The lock is taken under `world`, so an adopter that pops the
 * heap meanwhile waits for it in thread_heap. */
static hl_tlheap *enter_gone(void) {
    pthread_mutex_lock(&world);
    hl_tlheap *t = abandoned;
    if (!t && (t = new_tlheap()) != NULL) {
        atomic_store(&t->abandoned, 1);
        t->next_abandoned = NULL;
        abandoned = t;
    }
    if (t) pthread_mutex_lock(&t->lock);
    pthread_mutex_unlock(&world);
    return t;
}

static hl_tlheap *enter(void) {
    hl_tlheap *t = thread_heap();
    if (!t) return me_gone ? enter_gone() : NULL;
    if (me->outbox_used) {
        me->outbox_used = false;
        flush_outbox(me);
    }
    pthread_mutex_lock(&t->lock);
    if (atomic_load_explicit(&t->remote, memory_order_relaxed)) drain(t);
    return t;
}

static void leave(hl_tlheap *t) { pthread_mutex_unlock(&t->lock); }

static void unlink_all(hl_tlheap *t) {
    for (hl_tlheap **pp = &all_heaps; *pp; pp = &(*pp)->next_all)
        if (*pp == t) {
            *pp = t->next_all;
            return;
        }
}

static void heap_exit(hl_tlheap *t) {
    pthread_mutex_lock(&world);
    pthread_mutex_lock(&t->lock);
    drain(t);
    hl__cache_flush(t->heap);
    bool live = t->heap->st.blocks_in_use != 0;
    pthread_mutex_unlock(&t->lock);
    if (live) {
        /* some may be freed already, waiting in other threads' outboxes */
        stop_world();
        resume_world();
    }
    pthread_mutex_lock(&t->lock);
    /* From here on remote frees take the lock; those already past their
     * abandoned check land before the drain, and none touches t after it. */
    atomic_store(&t->abandoned, 1);
    while (atomic_load(&t->pushing)) sched_yield();
    drain(t);
    hl__cache_flush(t->heap);   /* the drain may have filled it */
    if (t->heap->st.blocks_in_use == 0 && !atomic_load(&t->remote)) {
        unlink_all(t);
        pthread_mutex_unlock(&t->lock);
        hl_heap_destroy(t->heap);
        pthread_mutex_destroy(&t->lock);
        hl__unmap(t, hl__round_up(sizeof *t, hl__page_size()));
    } else {
        hl__lcache_flush(t->heap);   /* nobody reuses a dead thread's cached mappings */
        t->next_abandoned = abandoned;
        abandoned = t;
        pthread_mutex_unlock(&t->lock);
    }
    pthread_mutex_unlock(&world);
}

static void thread_exit(void *arg) {
    hl_thread *th = arg;
    flush_outbox(th);   /* before the heap goes: a batch may hold blocks of it */
    if (th->heap) heap_exit(th->heap);
    pthread_mutex_lock(&world);
    unlink_record(th);
    pthread_mutex_unlock(&world);
    me = NULL;
    me_gone = true;
    hl__unmap(th, record_bytes());
}

/* --- fork: every fast path stopped and every lock taken before, so the child
 * finds them all consistent ----------------------------------------------------------- */
static void atfork_prepare(void) {
    pthread_mutex_lock(&world);
    stop_world();
    for (hl_tlheap *t = all_heaps; t; t = t->next_all) pthread_mutex_lock(&t->lock);
}

static void atfork_parent(void) {
    for (hl_tlheap *t = all_heaps; t; t = t->next_all) pthread_mutex_unlock(&t->lock);
    resume_world();
    pthread_mutex_unlock(&world);
}

/* Only the forking thread lives on in the child: every other heap is
 * abandoned, to be adopted by the child's next threads, with its cache
 * given back to its free lists; every other thread's record (its outbox
 * emptied by the prepare handler's stop) is dropped. */
static void atfork_child(void) {
    abandoned = NULL;
    hl_tlheap *mine = me ? me->heap : NULL;
    for (hl_tlheap *t = all_heaps; t; t = t->next_all) {
        atomic_store(&t->pushing, 0);   /* the threads that were pushing are gone */
        if (t != mine) {
            hl__cache_flush(t->heap);
            atomic_store(&t->abandoned, 1);
            t->next_abandoned = abandoned;
            abandoned = t;
        }
    }
    for (hl_thread **pp = &all_threads; *pp;) {
        hl_thread *th = *pp;
        if (th == me) {
            pp = &th->next_all;
            continue;
        }
        *pp = th->next_all;
        hl__unmap(th, record_bytes());
    }
    atomic_store(&stopping, 0);
    for (hl_tlheap *t = all_heaps; t; t = t->next_all) pthread_mutex_unlock(&t->lock);
    pthread_mutex_unlock(&world);
}

/* --- finding a pointer's owner ---------------------------------------------------------- */
/* The payloads of the last large blocks freed: their mappings, and so their
 * registry entries, are gone, and a second free of one is a double free. */
enum { RECENT_LARGE = 64 };
static _Atomic uintptr_t recent_large[RECENT_LARGE];
static _Atomic unsigned recent_large_next;

static void remember_large(const void *p) {
    unsigned i = atomic_fetch_add_explicit(&recent_large_next, 1, memory_order_relaxed);
    atomic_store_explicit(&recent_large[i % RECENT_LARGE], (uintptr_t)p, memory_order_relaxed);
}

static bool recently_freed_large(const void *p) {
    for (unsigned i = 0; i < RECENT_LARGE; i++)
        if (atomic_load_explicit(&recent_large[i], memory_order_relaxed) == (uintptr_t)p) return true;
    return false;
}

static void not_ours(const char *op, const void *p) {
    hl_track_enter();
    if (recently_freed_large(p))
        hl__report(NULL, HL_ERR_DOUBLE_FREE, op, p, NULL,
                   "%s(): double free of %p: this large block was already freed", op, p);
    else
        hl__report(NULL, HL_ERR_INVALID_POINTER, op, p, NULL,
                   "%s(): invalid pointer %p: not allocated by heaplab", op, p);
    hl_track_leave();
}

/* Frees p into heap o, whose lock the caller holds. */
static void free_locked(hl_tlheap *o, void *p, bool large) {
    if (large) {
        bool inside;
        hl_track_enter();
        bool found = hl__large_find(o->heap, p, &inside) != NULL;
        hl_track_leave();
        if (found) remember_large(p);
    } else if (plain_used_block(o->heap, p) && pending(p)) {
        double_free_pending(o, p);   /* freed by another thread after the owner's last drain */
        return;
    }
    hl_heap_free(o->heap, p);
}

/* Another thread's heap: large blocks, abandoned heaps, misuse to diagnose. */
static void free_into(hl_tlheap *o, void *p, bool large) {
    pthread_mutex_lock(&o->lock);
    if (!large && !atomic_load(&o->abandoned) && plain_used_block(o->heap, p)) {
        /* adopted since we looked: its owner may be in its lock-free paths,
         * so the block goes the owner's way (deliver explains the lock) */
        if (pending(p)) {
            double_free_pending(o, p);
        } else {
            tag(p);
            void *head = p;
            pthread_mutex_unlock(&o->lock);
            deliver(o, head, head, 1);
            return;
        }
    } else {
        free_locked(o, p, large);
    }
    pthread_mutex_unlock(&o->lock);
}

/* In checked builds every operation ends with the check of the heap it
 * touched, the cache's included.  Other threads' operations on the heap (a
 * large free, a misuse report) run that check under the heap's lock, and it
 * reads the cache: so in checked builds the owner holds the lock around its
 * cache operations too.  The cache code is the same; only the lock is added. */
static inline void fast_lock(hl_tlheap *t) {
#if HL_CHECKED
    pthread_mutex_lock(&t->lock);
#else
    (void)t;
#endif
}

static inline void fast_unlock(hl_tlheap *t, bool done, const char *op) {
#if HL_CHECKED
    if (done) hl__check_after(t->heap, op);
    pthread_mutex_unlock(&t->lock);
#else
    (void)t; (void)done; (void)op;
#endif
}

/* The fast path of malloc: a block from the thread cache, or NULL.  Remote
 * frees waiting on the stack send the caller to the locked path, which
 * drains them (into the cache). */
static inline __attribute__((always_inline)) void *cache_malloc(hl_tlheap *t, size_t n, bool zeroed) {
    if (n > HL_CACHE_MAX_BLOCK - HL_OVERHEAD || atomic_load_explicit(&t->remote, memory_order_relaxed))
        return NULL;
    hl_thread *th = me;
    if (!fast_begin(th)) return NULL;
    fast_lock(t);
    hl_track_enter();
    void *p = hl__cache_take(t->heap, n, zeroed);
    const char *op = zeroed ? "calloc" : "malloc";
    HL_TRACE(t->heap, "%s(%zu) = %p (cache)", op, n, p);
    hl_track_leave();
    fast_unlock(t, p != NULL, op);
    fast_end(th);
    return p;
}

/* The locked path's try of the cache, out of line: the fast path keeps the inlined copy. */
static __attribute__((noinline)) void *cache_take_slow(hl_heap *h, size_t n) { return hl__cache_take(h, n, false); }

/* After a refused request of n bytes: true if the cache held blocks, now
 * given back to the free lists, which a retry may use.  Not for a large
 * request: small blocks cannot make a mapping, and the retry would only
 * ask the kernel twice. */
static bool flushed_for(hl_heap *h, size_t n) { return !hl__wants_large(h, n) && hl__cache_flush(h); }

/* A malloc the cache could not serve, by the heap's ordinary path; a small
 * one refills the cache of its size from the memory after the block. */
static void *heap_malloc(hl_tlheap *t, size_t n) {
    hl_heap *h = t->heap;
    void *p = hl_heap_malloc(h, n);
    /* not into an abandoned heap's cache (a late TLS destructor's malloc): nobody owns it */
    if (p && n <= HL_CACHE_MAX_BLOCK - HL_OVERHEAD && !atomic_load_explicit(&t->abandoned, memory_order_relaxed)) {
        hl_track_enter();
        size_t carved = hl__cache_refill(h, hl_payload_block(p), n);
        hl_track_leave();
        if (carved) HL_AFTER(h, "malloc (cache refill)");
    }
    return p;
}

/* --- the API ------------------------------------------------------------------------------ */
/* hl_malloc's locked path, out of line so that the fast path saves no registers. */
static __attribute__((noinline)) void *malloc_slow(hl_tlheap *t, size_t n) {
    size_t drained = t ? t->remote_drained : 0;   /* the owner's own counter */
    t = enter();
    if (!t) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = NULL;
    if (t->remote_drained != drained && n <= HL_CACHE_MAX_BLOCK - HL_OVERHEAD) {
        hl_track_enter();
        p = cache_take_slow(t->heap, n);   /* the drain may have filled it */
        hl_track_leave();
        if (p) HL_AFTER(t->heap, "malloc");
    }
    if (!p) p = heap_malloc(t, n);
    if (!p && flushed_for(t->heap, n)) p = hl_heap_malloc(t->heap, n);   /* cached memory before failing */
    leave(t);
    return p;
}

void *hl_malloc(size_t n) {
    hl_tlheap *t = me ? me->heap : NULL;
    void *p;
    if (t && (p = cache_malloc(t, n, false))) return p;
    return malloc_slow(t, n);
}

void *hl_calloc(size_t count, size_t size) {
    hl_tlheap *t = me ? me->heap : NULL;
    size_t n;
    bool fits = !__builtin_mul_overflow(count, size, &n);   /* hl_heap_calloc reports an overflow */
    void *p;
    if (t && fits && (p = cache_malloc(t, n, true))) {
        memset(p, 0, n);
        return p;
    }
    t = enter();
    if (!t) {
        errno = ENOMEM;
        return NULL;
    }
    p = hl_heap_calloc(t->heap, count, size);
    if (!p && fits && flushed_for(t->heap, n)) p = hl_heap_calloc(t->heap, count, size);
    leave(t);
    return p;
}

void *hl_aligned_alloc(size_t align, size_t n) {
    hl_tlheap *t = enter();
    if (!t) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = hl_heap_aligned_alloc(t->heap, align, n);
    if (!p && errno == ENOMEM && flushed_for(t->heap, n)) p = hl_heap_aligned_alloc(t->heap, align, n);
    leave(t);
    return p;
}

int hl_posix_memalign(void **out, size_t align, size_t n) {
    if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
    int saved = errno;
    void *p = hl_aligned_alloc(align, n);
    if (!p) {
        int err = errno;
        errno = saved;
        return err ? err : ENOMEM;
    }
    *out = p;
    return 0;
}

/* The fast path of a free of the caller's own small block: into the cache.
 * False sends it to the locked path (a full list, a large or odd block, a
 * block on its way back from another thread, a stopped world). */
static inline __attribute__((always_inline)) bool cache_free(hl_thread *th, hl_tlheap *t, void *p) {
    if (atomic_load_explicit(&t->remote, memory_order_relaxed) || !plain_used_block(t->heap, p) || pending(p))
        return false;
    if (!fast_begin(th)) return false;
    fast_lock(t);
    hl_track_enter();
    bool done = hl__cache_put(t->heap, hl_payload_block(p));
    if (done) HL_TRACE(t->heap, "free(%p) (cache)", p);
    hl_track_leave();
    fast_unlock(t, done, "free");
    fast_end(th);
    return done;
}

/* The caller's own small block whose list was full (its heap's lock held):
 * half the list back to the heap, the block into the cache; false if it was
 * not for the cache after all. */
static bool trim_put(hl_heap *h, void *p) {
    if (!plain_used_block(h, p) || pending(p) || !hl__cache_trim_put(h, hl_payload_block(p))) return false;
    HL_AFTER(h, "free");
    return true;
}

/* hl_free past the cache, out of line so that the fast path saves no registers. */
static __attribute__((noinline)) void free_slow(void *p, hl_heap *h, bool large, hl_thread *th) {
    if (!h) {
        not_ours("free", p);
        return;
    }
    hl_tlheap *o = h->owner;
    if (th && o == th->heap) {
        enter();
        if (large || !trim_put(o->heap, p)) free_locked(o, p, large);
        leave(o);
        return;
    }
    if (!large && plain_used_block(h, p)) {
        if ((th || (th = thread_record())) && outbox_put(th, o, p)) return;
        if (remote_push(o, p)) return;   /* no record (an exiting thread), or a stopped world */
    }
    free_into(o, p, large);   /* large blocks, abandoned heaps, and misuse to diagnose */
}

void hl_free(void *p) {
    if (!p) return;
    bool large;
    hl_heap *h = hl__registry_lookup(p, &large);
    hl_thread *th = me;
    if (h && th && h->owner == th->heap && !large && cache_free(th, h->owner, p)) return;
    free_slow(p, h, large, th);
}

void hl_thread_cache_flush(void) {
    if (!me || !me->heap) return;   /* no heap yet: nothing cached, and none made for this */
    hl_tlheap *t = enter();         /* me->heap, locked; drains the remote frees into the cache */
    if (hl__cache_flush(t->heap)) HL_AFTER(t->heap, "cache flush");
    leave(t);
}

size_t hl_malloc_usable_size(const void *p) {
    if (!p) return 0;
    bool large;
    hl_heap *h = hl__registry_owner(p, &large);   /* not a fast path: the out-of-line lookup */
    if (!h) {
        not_ours("usable_size", p);
        return 0;
    }
    hl_tlheap *o = h->owner;
    pthread_mutex_lock(&o->lock);
    size_t n = hl_heap_usable_size(h, p);
    pthread_mutex_unlock(&o->lock);
    return n;
}

void *hl_realloc(void *p, size_t n) {
    if (!p) return hl_malloc(n);
    bool large;
    hl_heap *h = hl__registry_owner(p, &large);   /* not a fast path: the out-of-line lookup */
    if (!h) {
        not_ours("realloc", p);
        errno = EINVAL;
        return NULL;
    }
    hl_tlheap *o = h->owner;
    if (me && o == me->heap) {
        hl_tlheap *t = enter();
        void *q = hl_heap_realloc(h, p, n);
        leave(t);
        return q;
    }
    /* Another thread's block: move it into this thread's heap. */
    size_t old = hl_malloc_usable_size(p);
    if (!old && !plain_used_block(h, p)) return NULL;   /* misuse: reported by usable_size */
    void *q = hl_malloc(n);
    if (!q) return NULL;
    memcpy(q, p, old < n ? old : n);
    hl_free(p);
    return q;
}

/* --- checking the world ------------------------------------------------------------------- */
/* Every node on t's remote stack must be a used block of t's heap. */
static int check_remote(hl_tlheap *t, hl_check_report *rep) {
    size_t limit = t->heap->st.blocks_in_use + 1;
    for (void *p = atomic_load(&t->remote); p; p = *(void **)p) {
        if (!limit-- || !hl__region_of(t->heap, p) || !plain_used_block(t->heap, p)) {
            if (rep) {
                memset(rep, 0, sizeof *rep);
                rep->id = HL_INV_LIST_LINKS;
                rep->invariant = hl_invariant_name(HL_INV_LIST_LINKS);
                rep->block = p;
                snprintf(rep->message, sizeof rep->message,
                         "remote-free stack of heap %p: %p is not a used block of that heap (or the stack cycles)",
                         (void *)t->heap, p);
            }
            return HL_INV_LIST_LINKS;
        }
    }
    return 0;
}

int hl_check_all(hl_check_report *report) {
    pthread_once(&once, global_init);
    pthread_mutex_lock(&world);
    stop_world();
    for (hl_tlheap *t = all_heaps; t; t = t->next_all) pthread_mutex_lock(&t->lock);
    int rc = 0;
    for (hl_tlheap *t = all_heaps; t && !rc; t = t->next_all) {
        rc = hl_heap_check(t->heap, report);
        if (!rc) {
            hl_track_enter();   /* region headers are the allocator's to read */
            rc = check_remote(t, report);
            hl_track_leave();
        }
    }
    for (hl_tlheap *t = all_heaps; t; t = t->next_all) pthread_mutex_unlock(&t->lock);
    resume_world();
    pthread_mutex_unlock(&world);
    if (!rc && report) memset(report, 0, sizeof *report);
    return rc;
}

void hl_stats_global(hl_global_stats *gs) {
    memset(gs, 0, sizeof *gs);
    pthread_once(&once, global_init);
    pthread_mutex_lock(&world);
    stop_world();
    for (hl_tlheap *t = all_heaps; t; t = t->next_all) {
        pthread_mutex_lock(&t->lock);
        hl_stats st;
        hl_heap_stats(t->heap, &st);
        gs->heaps++;
        gs->heaps_abandoned += (size_t)atomic_load(&t->abandoned);
        gs->remote_frees += atomic_load(&t->remote_pushed);
        gs->remote_drained += t->remote_drained;
        gs->bytes_in_use += st.bytes_in_use;
        gs->blocks_in_use += st.blocks_in_use;
        gs->bytes_free += st.bytes_free;
        gs->source_bytes += st.source_bytes;
        gs->cached_blocks += hl__cache_blocks(t->heap);
        gs->cached_bytes += hl__cache_usable_bytes(t->heap);
        pthread_mutex_unlock(&t->lock);
    }
    gs->heaps_created = heaps_created;
    gs->heaps_adopted = heaps_adopted;
    resume_world();
    pthread_mutex_unlock(&world);
}
