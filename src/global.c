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

#include <sched.h>
#include <stdlib.h>

static pthread_mutex_t world = PTHREAD_MUTEX_INITIALIZER;   /* the lists below */
static hl_tlheap *all_heaps;
static hl_tlheap *abandoned;
static size_t heaps_created, heaps_adopted;

static __thread hl_tlheap *my_heap __attribute__((tls_model("initial-exec")));
static pthread_key_t exit_key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void thread_exit(void *arg);
static void atfork_prepare(void);
static void atfork_parent(void);
static void atfork_child(void);

static void global_init(void) {
    pthread_key_create(&exit_key, thread_exit);
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* --- heaps for threads -------------------------------------------------------------- */
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
    if (my_heap) return my_heap;
    pthread_once(&once, global_init);
    pthread_mutex_lock(&world);
    hl_tlheap *t = abandoned;
    if (t) {
        abandoned = t->next_abandoned;
        atomic_store(&t->abandoned, 0);
        heaps_adopted++;
    } else {
        t = new_tlheap();
    }
    pthread_mutex_unlock(&world);
    if (t) {
        my_heap = t;
        pthread_setspecific(exit_key, t);
    }
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

static void drain(hl_tlheap *t) {
    void *p = atomic_exchange_explicit(&t->remote, NULL, memory_order_acquire);
    while (p) {
        hl_track_enter();
        void *next = *(void **)p;
        __atomic_store_n(tag_word(p), 0, __ATOMIC_RELAXED);
        hl_track_leave();
        hl_track_defined(&next, sizeof next);   /* a link past a small block's visible bytes */
        hl_heap_free(t->heap, p);
        t->remote_drained++;
        p = next;
    }
}

static hl_tlheap *enter(void) {
    hl_tlheap *t = thread_heap();
    if (!t) return NULL;
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

static void thread_exit(void *arg) {
    hl_tlheap *t = arg;
    my_heap = NULL;
    pthread_mutex_lock(&world);
    pthread_mutex_lock(&t->lock);
    /* From here on remote frees take the lock; those already past their
     * abandoned check land before the drain, and none touches t after it. */
    atomic_store(&t->abandoned, 1);
    while (atomic_load(&t->pushing)) sched_yield();
    drain(t);
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

/* --- fork: every lock is taken before, so the child finds them all consistent ---- */
static void atfork_prepare(void) {
    pthread_mutex_lock(&world);
    for (hl_tlheap *t = all_heaps; t; t = t->next_all) pthread_mutex_lock(&t->lock);
}

static void atfork_parent(void) {
    for (hl_tlheap *t = all_heaps; t; t = t->next_all) pthread_mutex_unlock(&t->lock);
    pthread_mutex_unlock(&world);
}

/* Only the forking thread lives on in the child: every other heap is
 * abandoned, to be adopted by the child's next threads. */
static void atfork_child(void) {
    abandoned = NULL;
    for (hl_tlheap *t = all_heaps; t; t = t->next_all) {
        atomic_store(&t->pushing, 0);   /* the threads that were pushing are gone */
        if (t != my_heap) {
            atomic_store(&t->abandoned, 1);
            t->next_abandoned = abandoned;
            abandoned = t;
        }
        pthread_mutex_unlock(&t->lock);   /* this thread took them all in atfork_prepare */
    }
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

/* A used region block of h at p, judged from its header alone: the fast
 * path of a remote free.  Anything else goes to the owner's full checks. */
static bool plain_used_block(const hl_heap *h, const void *p) {
    if ((uintptr_t)p % HL_ALIGN || ((uintptr_t)p & (HL_SEGMENT - 1)) < sizeof(hl_region) + HL_HEADER) return false;
    const hl_block *b = hl_payload_block(p);
    hl_track_enter();
    bool ok = hl__header_ok(h, b) && hl_block_used(b) && !hl_block_large(b);
    hl_track_leave();
    hl_track_defined(&ok, sizeof ok);   /* an interior pointer's "header" is the caller's bytes */
    return ok;
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

static void free_under_lock(hl_tlheap *o, void *p, bool large) {
    pthread_mutex_lock(&o->lock);
    free_locked(o, p, large);
    pthread_mutex_unlock(&o->lock);
}

/* Pushes p onto o's stack; false, having done nothing, if o's owner has
 * exited.  `pushing` keeps an exiting owner from draining (and perhaps
 * unmapping o) until every push that saw it alive has landed: nothing here
 * touches o after the decrement. */
static bool remote_push(hl_tlheap *o, void *p) {
    atomic_fetch_add(&o->pushing, 1);
    if (atomic_load(&o->abandoned)) {
        atomic_fetch_sub(&o->pushing, 1);
        return false;
    }
    if (pending(p)) {
        double_free_pending(o, p);
    } else {
        atomic_fetch_add_explicit(&o->remote_pushed, 1, memory_order_relaxed);
        hl_track_enter();
        __atomic_store_n(tag_word(p), tag_of(p), __ATOMIC_RELAXED);
        void *head = atomic_load_explicit(&o->remote, memory_order_relaxed);
        do {
            *(void **)p = head;
        } while (!atomic_compare_exchange_weak_explicit(&o->remote, &head, p, memory_order_release,
                                                        memory_order_relaxed));
        hl_track_leave();
    }
    atomic_fetch_sub_explicit(&o->pushing, 1, memory_order_release);
    return true;
}

/* --- the API ------------------------------------------------------------------------------ */
void *hl_malloc(size_t n) {
    hl_tlheap *t = enter();
    if (!t) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = hl_heap_malloc(t->heap, n);
    leave(t);
    return p;
}

void *hl_calloc(size_t count, size_t size) {
    hl_tlheap *t = enter();
    if (!t) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = hl_heap_calloc(t->heap, count, size);
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

void hl_free(void *p) {
    if (!p) return;
    bool large;
    hl_heap *h = hl__registry_owner(p, &large);
    if (!h) {
        not_ours("free", p);
        return;
    }
    hl_tlheap *o = h->owner;
    if (o == my_heap) {
        pthread_mutex_lock(&o->lock);
        if (atomic_load_explicit(&o->remote, memory_order_relaxed)) drain(o);
        free_locked(o, p, large);
        pthread_mutex_unlock(&o->lock);
    } else if (!large && plain_used_block(h, p) && remote_push(o, p)) {
        /* pushed (or a pending double free reported): the owner frees it on its next operation */
    } else {
        free_under_lock(o, p, large);   /* large blocks, abandoned heaps, and misuse to diagnose */
    }
}

size_t hl_malloc_usable_size(const void *p) {
    if (!p) return 0;
    bool large;
    hl_heap *h = hl__registry_owner(p, &large);
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
    hl_heap *h = hl__registry_owner(p, &large);
    if (!h) {
        not_ours("realloc", p);
        errno = EINVAL;
        return NULL;
    }
    hl_tlheap *o = h->owner;
    if (o == my_heap) {
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
    pthread_mutex_unlock(&world);
    if (!rc && report) memset(report, 0, sizeof *report);
    return rc;
}

void hl_stats_global(hl_global_stats *gs) {
    memset(gs, 0, sizeof *gs);
    pthread_once(&once, global_init);
    pthread_mutex_lock(&world);
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
        pthread_mutex_unlock(&t->lock);
    }
    gs->heaps_created = heaps_created;
    gs->heaps_adopted = heaps_adopted;
    pthread_mutex_unlock(&world);
}
