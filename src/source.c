/*
 * source.c - where a heap's memory comes from: the caller's buffer, anonymous
 * mappings, or the program break.
 *
 * Every request for memory goes through hl__source_acquire, which applies the
 * heap's cap (max_bytes over region and large-mapping bytes) and the fault
 * injection of hl_heap_fail_source, so "the source said no" is one code path.
 * hl_fail_maps fails the anonymous mappings themselves, whoever asked.
 *
 * sbrk shares the program break with glibc's malloc and anyone else in the
 * process.  So every extension is a region of its own (never assumed
 * contiguous with the last), and the break is only lowered when the memory
 * being released is exactly the top of it.  Memory that cannot be returned
 * that way goes to a process-wide pool that the next sbrk heap draws from,
 * so creating and destroying sbrk heaps in a loop (as a fuzzer does) does
 * not grow the break without bound.
 */
#include "hl_core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

size_t hl__page_size(void) {
    static size_t page;
    if (!page) page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

/* hl_fail_maps: process-wide, for the memory no heap's source accounts for
 * (thread records, thread heaps, registry leaves, heap headers, region
 * indexes) as well as every mapping a heap asks for.  A lock, not atomics:
 * skip and count change together, and only while a test has them set. */
static pthread_mutex_t map_fail_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic unsigned map_fail_count;
static unsigned map_fail_skip;

void hl_fail_maps(unsigned skip, unsigned count) {
    pthread_mutex_lock(&map_fail_lock);
    map_fail_skip = skip;
    atomic_store(&map_fail_count, count);
    pthread_mutex_unlock(&map_fail_lock);
}

static bool map_fails(void) {
    if (!atomic_load_explicit(&map_fail_count, memory_order_relaxed)) return false;
    pthread_mutex_lock(&map_fail_lock);
    bool fails = false;
    if (map_fail_skip) {
        map_fail_skip--;
    } else if (atomic_load(&map_fail_count)) {
        atomic_fetch_sub(&map_fail_count, 1);
        fails = true;
    }
    pthread_mutex_unlock(&map_fail_lock);
    return fails;
}

void *hl__map(size_t size) {
    if (map_fails()) return NULL;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void hl__unmap(void *base, size_t size) { munmap(base, size); }

/* A mapping of size bytes (a multiple of align) starting at an align boundary. */
static void *map_aligned(size_t size, size_t align) {
    if (size > SIZE_MAX - align) return NULL;
    char *raw = hl__map(size + align);
    if (!raw) return NULL;
    char *start = (char *)hl__round_up((uintptr_t)raw, align);
    if (start > raw) hl__unmap(raw, (size_t)(start - raw));
    size_t tail = (size_t)(raw + size + align - (start + size));
    if (tail) hl__unmap(start + size, tail);
    return start;
}

/* --- the sbrk pool ------------------------------------------------------------ */
typedef struct sbrk_piece {
    struct sbrk_piece *next;
    size_t size;
} sbrk_piece;

static pthread_mutex_t sbrk_lock = PTHREAD_MUTEX_INITIALIZER;
static sbrk_piece *sbrk_pool;

static void *pool_take(size_t size, size_t *got) {
    for (sbrk_piece **pp = &sbrk_pool; *pp; pp = &(*pp)->next) {
        sbrk_piece *p = *pp;
        if (p->size >= size && p->size <= 2 * size) {
            *pp = p->next;
            *got = p->size;
            return p;
        }
    }
    return NULL;
}

static void *sbrk_acquire(size_t size, size_t *got) {
    pthread_mutex_lock(&sbrk_lock);
    void *mem = pool_take(size, got);
    if (!mem) {
        void *cur = sbrk(0);
        size_t pad = (size_t)(-(uintptr_t)cur) & (HL_ALIGN - 1);
        if (cur != (void *)-1 && size <= (size_t)INTPTR_MAX - pad && sbrk((intptr_t)(size + pad)) == cur) {
            mem = (char *)cur + pad;
            *got = size;
        }
    }
    pthread_mutex_unlock(&sbrk_lock);
    return mem;
}

static void sbrk_release(void *base, size_t size) {
    pthread_mutex_lock(&sbrk_lock);
    if ((char *)base + size == (char *)sbrk(0)) {
        sbrk(-(intptr_t)size);
    } else {
        sbrk_piece *p = base;
        p->size = size;
        p->next = sbrk_pool;
        sbrk_pool = p;
    }
    pthread_mutex_unlock(&sbrk_lock);
}

/* --- the heap's view -------------------------------------------------------------- */
static bool injected_failure(hl_heap *h) {
    if (!h->fail_count) return false;
    if (h->fail_skip) {
        h->fail_skip--;
        return false;
    }
    h->fail_count--;
    return true;
}

static bool over_cap(const hl_heap *h, size_t size) {
    return h->cfg.max_bytes && (size > h->cfg.max_bytes || h->st.source_bytes > h->cfg.max_bytes - size);
}

void *hl__source_acquire(hl_heap *h, size_t size, size_t *got) {
    bool mapping = got == NULL;   /* large blocks always map, whatever the source */
    size_t dummy;
    if (!got) got = &dummy;
    if (h->cfg.source == HL_SOURCE_BUFFER) return NULL;
    if (injected_failure(h)) return NULL;
    if (over_cap(h, size)) {
        /* cached mappings count against the cap: they go first, but only
         * when that makes room, so a refusal changes nothing */
        size_t cached = h->st.large_cached_bytes;
        if (!cached || size > h->cfg.max_bytes || h->st.source_bytes - cached > h->cfg.max_bytes - size)
            return NULL;
        hl__lcache_flush(h);
    }
    if (h->cfg.source == HL_SOURCE_SBRK && !mapping) return sbrk_acquire(size, got);
    *got = size;
    return h->seg_align ? map_aligned(size, h->seg_align) : hl__map(size);
}

bool hl__source_may_grow(hl_heap *h, size_t more) {
    if (h->cfg.source == HL_SOURCE_BUFFER || injected_failure(h)) return false;
    if (!over_cap(h, more)) return true;
    size_t cached = h->st.large_cached_bytes;
    if (!cached || more > h->cfg.max_bytes || h->st.source_bytes - cached > h->cfg.max_bytes - more) return false;
    hl__lcache_flush(h);
    return true;
}

void hl__source_release(hl_heap *h, void *base, size_t size) {
    hl_track_release(base, size);
    if (h->cfg.source == HL_SOURCE_SBRK) sbrk_release(base, size);
    else if (h->cfg.source == HL_SOURCE_MMAP) hl__unmap(base, size);
}

void hl_heap_fail_source(hl_heap *h, unsigned skip, unsigned count) {
    if (!hl__heap_ok(h)) return;
    h->fail_skip = skip;
    h->fail_count = count;
}
