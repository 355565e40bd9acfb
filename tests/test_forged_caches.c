/*
 * test_forged_caches.c - the checker against forged state of the two caches
 * and the region index (invariants/check_cache.c, check_large.c,
 * check_regions.c): each forgery is reported as the invariant it breaks, by
 * id and name, and the heap checks clean once it is undone.
 *
 *   thread cache   a list's count above its depth, shorter or longer than
 *                  its list, a head that is no block header, a block forged
 *                  inside a live payload and listed (a node the block walk
 *                  never saw);
 *   large cache    a cached mapping's owner, base, size, age and block
 *                  header, a misaligned head, a buffer heap with a cache;
 *   region index   an entry missing, entries out of order, an entry that is
 *                  none of the regions, an index that is not readable;
 *   global heaps   a remote-free stack whose head is no block; and, through
 *                  the public API, what the caches do with misuse: a double
 *                  free of a large block already unmapped, an overwritten
 *                  cached header met by a thread's exit flush, the owner
 *                  freeing a block that waits in another thread's outbox.
 *
 * The layout written here is the documented one of src/hl_internal.h.
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "hl_global.h"   /* the owner heap of a global pointer */

enum { MIB = 1 << 20 };

static int setup(void **state) {
    (void)state;
    tu_errors_install();
    tu_errors_clear();
    return 0;
}

/* The check must fail with invariant `id`, named `name`, its message
 * containing `what`. */
#define expect_report(rc, rep, inv, name, what)                 \
    do {                                                        \
        assert_int_equal((rc), (inv));                          \
        assert_int_equal((rep).id, (inv));                      \
        assert_string_equal((rep).invariant, (name));           \
        assert_non_null(strstr((rep).message, (what)));         \
    } while (0)

/* --- the thread cache of a global heap --------------------------------------------- */
static hl_heap *heap_of(const void *p) {
    bool large;
    return hl__registry_owner(p, &large);
}

/* A header's size, read past ASan's poison of heap metadata. */
static size_t size_of(const hl_block *b) { return tu_read_word(&b->size_flags) & ~HL_FLAGS; }

static void test_cache_counts_forged(void **state) {
    (void)state;
    void *p = hl_malloc(600);   /* a 624-byte block: its own list */
    assert_non_null(p);
    hl_thread_cache_flush();    /* empty (the miss carved blocks of its size into it) */
    hl_heap *h = heap_of(p);
    hl_block *b = hl_payload_block(p);
    size_t i = hl_cache_class(size_of(b));
    unsigned before = h->cache.count[i];
    hl_free(p);   /* cached: head[i] is b */
    assert_int_equal(h->cache.count[i], before + 1);
    assert_ptr_equal(h->cache.head[i], b);
    assert_int_equal(hl_check_all(NULL), 0);
    const uint32_t count = h->cache.count[i];
    hl_check_report rep;

    h->cache.count[i] = hl_cache_depth(i) + 1;   /* more than a list may hold */
    expect_report(hl_check_all(&rep), rep, HL_INV_LIST_LINKS, "list-links", "at most");
    assert_int_equal(rep.found, hl_cache_depth(i) + 1);

    h->cache.count[i] = count + 1;   /* the list ends before its count */
    expect_report(hl_check_all(&rep), rep, HL_INV_LIST_LINKS, "list-links", "ends the list before its count");

    h->cache.count[i] = count - 1;   /* the list goes on past it */
    expect_report(hl_check_all(&rep), rep, HL_INV_LIST_LINKS, "list-links", "continues the list past its count");

    h->cache.count[i] = count;
    assert_int_equal(hl_check_all(NULL), 0);
    assert_ptr_equal(hl_malloc(600), p);   /* still the cached block */
    assert_int_equal(h->cache.count[i], count - 1);

    /* A heap without a cache lists nothing (the block walk would first
     * refuse any header that reads cached: this list names a used block). */
    assert_int_equal(h->cache.count[i], 0);
    h->cache.enabled = 0;
    h->cache.head[i] = b;
    expect_report(hl_check_all(&rep), rep, HL_INV_LIST_LINKS, "list-links", "none if the heap has no cache");
    h->cache.head[i] = NULL;
    h->cache.enabled = 1;
    assert_int_equal(hl_check_all(NULL), 0);
    hl_free(p);
    tu_assert_no_errors();
}

static void test_cache_head_forged(void **state) {
    (void)state;
    char *live = hl_malloc(500);
    void *p = hl_malloc(600);
    assert_non_null(live);
    assert_non_null(p);
    memset(live, 0, 500);
    hl_heap *h = heap_of(p);
    hl_block *b = hl_payload_block(p);
    size_t i = hl_cache_class(size_of(b));
    hl_free(p);
    assert_ptr_equal(h->cache.head[i], b);
    hl_check_report rep;

    /* aligned, inside a region's blocks, but zeros: no header */
    h->cache.head[i] = (hl_block *)(live + 64);
    expect_report(hl_check_all(&rep), rep, HL_INV_LIST_LINKS, "list-links", "its head,");
    assert_non_null(strstr(rep.message, "does not point at a block header"));
    assert_int_equal(rep.found, (uintptr_t)(live + 64));

    h->cache.head[i] = (hl_block *)((char *)b + 8);   /* not 16-byte aligned */
    expect_report(hl_check_all(&rep), rep, HL_INV_LIST_LINKS, "list-links", "16-byte aligned");

    /* A sound cached header forged in a live payload and put on the list:
     * every list node checks, but the lists hold one block more than the
     * block walk found cached. */
    hl_block *fake = (hl_block *)(live + 64);
    fake->size_flags = size_of(b) | HL_USED | HL_CACHED;
    fake->slack = 0;
    fake->check = hl_check_word(fake, fake->size_flags, 0, h->cookie);
    fake->next_free = b;
    h->cache.head[i] = fake;
    h->cache.count[i]++;
    expect_report(hl_check_all(&rep), rep, HL_INV_LIST_MEMBERSHIP, "list-membership", "listed twice");
    assert_int_equal(rep.found, rep.expected + 1);   /* lists hold one more than the regions */
    h->cache.count[i]--;
    h->cache.head[i] = b;
    assert_int_equal(hl_check_all(NULL), 0);

    assert_ptr_equal(hl_malloc(600), p);
    hl_free(p);
    hl_free(live);
    tu_assert_no_errors();
}

/* The remote-free stack of a heap is walked by hl_check_all: a head that is
 * in no region, a head inside a region that is no block, and a stack that
 * cycles through a used block are reported. */
static void test_remote_stack_forged(void **state) {
    (void)state;
    void *p = hl_malloc(48);
    assert_non_null(p);
    hl_tlheap *t = heap_of(p)->owner;
    assert_non_null(t);
    assert_null(atomic_load(&t->remote));   /* nothing freed by other threads waits */
    static _Alignas(16) char elsewhere[64];   /* in no region of any heap */
    atomic_store(&t->remote, (void *)(elsewhere + 16));
    hl_check_report rep;
    expect_report(hl_check_all(&rep), rep, HL_INV_LIST_LINKS, "list-links", "remote-free stack");
    assert_ptr_equal(rep.block, elsewhere + 16);
    assert_int_equal(hl_check_all(NULL), HL_INV_LIST_LINKS);   /* the same verdict without a report */

    atomic_store(&t->remote, (void *)((char *)p + 16));   /* inside the heap's region, but no block */
    expect_report(hl_check_all(&rep), rep, HL_INV_LIST_LINKS, "list-links", "is not a used block of that heap");
    assert_ptr_equal(rep.block, (char *)p + 16);

    void *saved;
    memcpy(&saved, p, sizeof saved);
    memcpy(p, &p, sizeof p);   /* a used block of the heap whose link is itself: a cycle */
    atomic_store(&t->remote, p);
    expect_report(hl_check_all(&rep), rep, HL_INV_LIST_LINKS, "list-links", "or the stack cycles");
    assert_ptr_equal(rep.block, p);
    memcpy(p, &saved, sizeof saved);

    atomic_store(&t->remote, NULL);
    assert_int_equal(hl_check_all(NULL), 0);
    hl_free(p);
    tu_assert_no_errors();
}

/* A global large block too big for the large cache is unmapped when freed:
 * a second free finds no heap owning it, and is still named a double free. */
static void test_unmapped_large_double_free(void **state) {
    (void)state;
    enum { BIG = 80 << 20 };   /* past the one-mapping bound of the large cache */
    char *p = hl_malloc(BIG);
    assert_non_null(p);
    p[0] = 1;
    p[BIG - 1] = 2;
    hl_free(p);
    assert_null(heap_of(p));   /* unmapped, not cached */
    tu_misuse_begin();
    hl_free(p);
    tu_misuse_end();
    tu_assert_one_error(HL_ERR_DOUBLE_FREE, p, NULL, "free");
    assert_non_null(strstr(tu_errors()->e[0].message, "already freed"));
    tu_errors_clear();
    static _Alignas(16) char never[32];   /* never a heaplab block: an invalid pointer */
    tu_misuse_begin();
    hl_free(never + 16);
    tu_misuse_end();
    tu_assert_one_error(HL_ERR_INVALID_POINTER, never + 16, NULL, "free");
    tu_errors_clear();
    assert_int_equal(hl_check_all(NULL), 0);
}

/* A thread's exit gives its cached blocks back to the free lists; a cached
 * header found overwritten there is reported, and left in place (the rest of
 * its list cannot be trusted) for the checker. */
typedef struct exiting {
    void *cached, *kept;   /* a cached block, and a live one that keeps the heap */
    size_t size_flags;     /* the cached block's header word, before the forgery */
} exiting;

static void *cache_then_exit(void *arg) {
    exiting *e = arg;
    e->cached = hl_malloc(64);
    e->kept = hl_malloc(64);
    if (!e->cached || !e->kept) return NULL;
    hl_free(e->cached);   /* into this thread's cache */
    hl_block *b = hl_payload_block(e->cached);
    e->size_flags = tu_read_word(&b->size_flags);
    tu_write_word(&b->size_flags, e->size_flags & ~(size_t)HL_CACHED);   /* no longer reads cached */
    return NULL;   /* the exit flushes the cache */
}

static void test_exit_flush_finds_forged_header(void **state) {
    (void)state;
    static exiting e;
    pthread_t th;
    tu_misuse_begin();
    assert_int_equal(pthread_create(&th, NULL, cache_then_exit, &e), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    tu_misuse_end();
    assert_non_null(e.cached);
    assert_non_null(e.kept);
    hl_heap *h = heap_of(e.cached);
    assert_non_null(h);   /* kept alive, abandoned, by the live block */
    /* the exit flushes twice (before and after its last drain): a report each time */
    const tu_error_log *log = tu_errors();
    assert_int_equal(log->count, 2);
    for (int k = 0; k < log->count; k++) {
        tu_assert_error_entry(&log->e[k], HL_ERR_CORRUPTED_BLOCK, e.cached, h, "malloc");
        assert_non_null(strstr(log->e[k].message, "the header of cached block"));
    }
    tu_errors_clear();
    hl_block *b = hl_payload_block(e.cached);
    size_t i = hl_cache_class(e.size_flags & ~HL_FLAGS);
    assert_ptr_equal(h->cache.head[i], b);   /* left on its list */
    hl_check_report rep;
    assert_int_not_equal(hl_check_all(&rep), 0);
    tu_write_word(&b->size_flags, e.size_flags);
    assert_int_equal(hl_check_all(NULL), 0);
    hl_free(e.kept);
    assert_int_equal(hl_check_all(NULL), 0);
    tu_assert_no_errors();
}

/* A block another thread freed waits in that thread's outbox, tagged as on
 * its way back; its owner freeing it meanwhile is a double free, reported,
 * and the block reaches the owner once, when the outbox is delivered.  A
 * block too large for the thread cache shows it on the owner's locked path. */
typedef struct held {
    void *p;
    hl_tlheap *owner;
    size_t pushed_before, pushed_held;   /* the owner's remote_pushed */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int step;   /* 1: freed into the outbox; 2: the owner has freed it again */
} held;

static void held_wait(held *x, int step) {
    pthread_mutex_lock(&x->lock);
    while (x->step < step) pthread_cond_wait(&x->cond, &x->lock);
    pthread_mutex_unlock(&x->lock);
}

static void held_step(held *x, int step) {
    pthread_mutex_lock(&x->lock);
    x->step = step;
    pthread_cond_broadcast(&x->cond);
    pthread_mutex_unlock(&x->lock);
}

static void *free_and_hold(void *arg) {
    held *x = arg;
    hl_free(x->p);   /* into this thread's outbox: one block, far from a batch */
    x->pushed_held = atomic_load(&x->owner->remote_pushed);
    held_step(x, 1);
    held_wait(x, 2);
    return NULL;   /* the exit delivers the outbox */
}

static void test_owner_frees_block_held_in_outbox(void **state) {
    (void)state;
    static held x = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
    enum { BIG = 2000 };   /* a block past HL_CACHE_MAX_BLOCK, still a region block */
    assert_true((size_t)BIG > (size_t)HL_CACHE_MAX_BLOCK);
    x.p = hl_malloc(BIG);
    assert_non_null(x.p);
    x.owner = heap_of(x.p)->owner;
    x.pushed_before = atomic_load(&x.owner->remote_pushed);
    hl_global_stats before;
    hl_stats_global(&before);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, free_and_hold, &x), 0);
    held_wait(&x, 1);
    assert_int_equal(x.pushed_held, x.pushed_before);   /* held, not yet pushed */
    tu_misuse_begin();
    hl_free(x.p);
    tu_misuse_end();
    held_step(&x, 2);
    assert_int_equal(pthread_join(th, NULL), 0);
    tu_assert_one_error(HL_ERR_DOUBLE_FREE, x.p, heap_of(x.p), "free");
    assert_non_null(strstr(tu_errors()->e[0].message, "on its way back to its owner"));
    tu_errors_clear();
    assert_int_equal(atomic_load(&x.owner->remote_pushed), x.pushed_before + 1);   /* delivered once */
    assert_int_equal(hl_check_all(NULL), 0);
    void *q = hl_malloc(16);   /* the owner's next locked malloc drains it */
    assert_non_null(q);
    hl_global_stats after;
    hl_stats_global(&after);
    assert_int_equal(after.blocks_in_use, before.blocks_in_use);   /* x.p gone, q come */
    hl_free(q);
    assert_int_equal(hl_check_all(NULL), 0);
    tu_assert_no_errors();
}

/* What malloc does with a forged cached block at the head of its list (a bad
 * check word or slack, a link out of the heap, misaligned, into a large
 * mapping, or where the count ends the list), on the fast path and on the
 * locked path after a drain: tests/test_tcache.c, forged_lists_refused. */

/* --- the large cache of an explicit heap ------------------------------------------- */
static hl_heap *mmap_heap(size_t grow_size) {
    hl_config cfg = { .policy = HL_SEGREGATED_FIT, .source = HL_SOURCE_MMAP, .grow_size = grow_size };
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    return h;
}

static hl_large *one_cached_mapping(hl_heap *h) {
    void *p = hl_heap_malloc(h, 2 * MIB);
    assert_non_null(p);
    hl_heap_free(h, p);
    hl_large *l = h->lcache;
    assert_non_null(l);
    assert_null(tu_read_word(&l->next));
    assert_int_equal(hl_heap_check(h, NULL), 0);
    return l;
}

/* Seals l as the cache would, computed on a copy (its header is poisoned to ASan). */
static void reseal(hl_heap *h, hl_large *l) {
    hl_large copy;
    tu_peek(&copy, l, sizeof copy);
    uint64_t x = h->cookie ^ (copy.pad * 0xc4ceb9fe1a85ec53ull);
    uint64_t seal = hl_seal(x, l, (uint64_t)(uintptr_t)copy.next, (uint64_t)(uintptr_t)copy.prev,
                            (uint64_t)(uintptr_t)copy.base, copy.map_size);
    tu_write_word(&l->seal, seal);
}

static void test_cached_mapping_forged(void **state) {
    (void)state;
    hl_heap *h = mmap_heap(0);
    hl_large *l = one_cached_mapping(h);
    hl_block *b = hl_large_block(l);
    hl_check_report rep;

    size_t owner = tu_read_word(&l->heap);
    tu_write_word(&l->heap, owner + 4096);   /* someone else's */
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_LARGE, "large", "expected heap");
    tu_write_word(&l->heap, owner);

    size_t base = tu_read_word(&l->base);
    tu_write_word(&l->base, base + 4096);   /* the mapping is not where its header is */
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_LARGE, "large", "base itself");
    tu_write_word(&l->base, base);

    size_t size = tu_read_word(&l->map_size);
    tu_write_word(&l->map_size, 16);   /* cannot hold its own header */
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_LARGE, "large", "cannot hold its header");
    assert_int_equal(rep.found, 16);

    tu_write_word(&l->map_size, size + 1024 * MIB);   /* sealed, but mostly unmapped */
    reseal(h, l);
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_LARGE, "large", "are not all mapped");
    tu_write_word(&l->map_size, size);
    reseal(h, l);
    assert_int_equal(hl_heap_check(h, NULL), 0);

    /* older than the cache lets a mapping wait */
    uint64_t clock = h->large_clock;
    h->large_clock = tu_read_word(&l->pad) + HL_LCACHE_AGE + 1;
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_LARGE, "large", "older than");
    h->large_clock = clock;
    /* cached at an operation still to come */
    size_t pad = tu_read_word(&l->pad);
    tu_write_word(&l->pad, clock + 1);
    reseal(h, l);
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_LARGE, "large", "older than");
    assert_int_equal(rep.found, clock + 1);
    tu_write_word(&l->pad, pad);
    reseal(h, l);

    /* the free block header after it: a slack, or a used flag */
    size_t sf = tu_read_word(&b->size_flags);
    tu_write_word(&b->size_flags, sf | HL_USED);
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_LARGE, "large", "expected free|large");
    tu_write_word(&b->size_flags, sf);
    uint32_t slack = 8;
    tu_poke(&b->slack, &slack, sizeof slack);
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_LARGE, "large", "(slack 8)");
    slack = 0;
    tu_poke(&b->slack, &slack, sizeof slack);

    /* the head is no page */
    h->lcache = (hl_large *)((char *)l + 16);
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_LARGE, "large", "misaligned or not mapped");
    h->lcache = l;
    assert_int_equal(hl_heap_check(h, NULL), 0);

    assert_non_null(hl_heap_malloc(h, 2 * MIB));   /* the cached mapping serves it */
    assert_int_equal(tu_stats(h).large_cached, 0);
    assert_int_equal(hl_heap_check(h, NULL), 0);
    tu_assert_no_errors();
    hl_heap_destroy(h);
}

static void test_buffer_heap_has_no_caches(void **state) {
    (void)state;
    static _Alignas(16) unsigned char buf[64 * 1024];
    hl_config cfg = { .policy = HL_FIRST_FIT, .source = HL_SOURCE_BUFFER, .buffer = buf, .buffer_size = sizeof buf };
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    assert_null(h->lcache);
    hl_check_report rep;
    static _Alignas(4096) unsigned char elsewhere[4096];
    h->lcache = (hl_large *)elsewhere;
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_LARGE, "large", "its large cache starts at");
    h->lcache = NULL;
    h->large = (hl_large *)elsewhere;
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_LARGE, "large", "its large list starts at");
    h->large = NULL;
    assert_int_equal(hl_heap_check(h, NULL), 0);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

/* --- the region index ---------------------------------------------------------------- */
static void test_region_index_forged(void **state) {
    (void)state;
    hl_heap *h = mmap_heap(4096);
    enum { N = 8 };
    void *p[N];
    for (int i = 0; i < N; i++) assert_non_null(p[i] = hl_heap_malloc(h, 3000));   /* a region each */
    size_t n = h->rindex_count;
    assert_true(n >= 3);
    assert_int_equal(n, tu_stats(h).regions);
    assert_int_equal(hl_heap_check(h, NULL), 0);
    hl_check_report rep;

    h->rindex_count = n - 1;   /* a region missing */
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_REGION, "region", "but the heap has");
    assert_int_equal(rep.expected, n);
    assert_int_equal(rep.found, n - 1);
    h->rindex_count = n;

    size_t cap = h->rindex_cap;
    h->rindex_cap = n - 1;   /* more entries than the mapping holds */
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_REGION, "region", "but the heap has");
    h->rindex_cap = cap;

    hl_region **index = h->rindex;
    h->rindex = NULL;
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_REGION, "region", "its region index holds");
    void *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(none != MAP_FAILED);
    h->rindex = none;
    h->rindex_cap = 4096 / sizeof *h->rindex;
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_REGION, "region", "is not readable");
    h->rindex = index;
    h->rindex_cap = cap;
    assert_int_equal(munmap(none, 4096), 0);

    hl_region *first = index[0], *second = index[1];
    index[0] = second;   /* out of order: a lookup would miss */
    index[1] = first;
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_REGION, "region", "entry 1");
    assert_non_null(strstr(rep.message, "is not above entry 0"));
    index[0] = first;
    index[1] = second;

    hl_region *last = index[n - 1];
    index[n - 1] = (hl_region *)((char *)last + 16);   /* in order, but no region */
    expect_report(hl_heap_check(h, &rep), rep, HL_INV_REGION, "region", "is none of its regions");
    index[n - 1] = last;
    assert_int_equal(hl_heap_check(h, NULL), 0);

    for (int i = 0; i < N; i++) hl_heap_free(h, p[i]);
    assert_int_equal(hl_heap_check(h, NULL), 0);
    tu_assert_no_errors();
    hl_heap_destroy(h);
}

/* --- realloc of large blocks: the mapping's edge paths --------------------------------- */
static void fill(unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i += 4096) p[i] = (unsigned char)(seed + i / 4096);
    p[n - 1] = (unsigned char)seed;
}

static void assert_filled(const unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i += 4096) assert_int_equal(p[i], (unsigned char)(seed + i / 4096));
}

/* A mapping that cannot grow where it lies (the next page is taken) moves,
 * contents kept; one the heap's cap forbids to grow is refused, unchanged. */
static void test_large_realloc_moves_or_is_refused(void **state) {
    (void)state;
    hl_config cfg = { .policy = HL_SEGREGATED_FIT, .source = HL_SOURCE_MMAP, .max_bytes = 16 * MIB };
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    unsigned char *p = hl_heap_malloc(h, 2 * MIB);
    assert_non_null(p);
    fill(p, 2 * MIB, 7);
    hl_large *l = hl_block_large_header(hl_payload_block(p));
    char *end = (char *)tu_read_word(&l->base) + tu_read_word(&l->map_size);
    void *guard = mmap(end, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    assert_true(guard == end || guard == MAP_FAILED);   /* MAP_FAILED: the page was already taken */
    unsigned char *q = hl_heap_realloc(h, p, 4 * MIB);
    assert_non_null(q);
    assert_ptr_not_equal(q, p);   /* moved */
    assert_filled(q, 2 * MIB, 7);
    assert_int_equal(tu_stats(h).large_blocks, 1);
    assert_int_equal(hl_heap_check(h, NULL), 0);
    if (guard == end) assert_int_equal(munmap(guard, 4096), 0);

    errno = 0;
    assert_null(hl_heap_realloc(h, q, 32 * MIB));   /* past max_bytes */
    assert_int_equal(errno, ENOMEM);
    assert_filled(q, 2 * MIB, 7);   /* unchanged */
    assert_true(hl_heap_usable_size(h, q) >= 4 * MIB);
    assert_int_equal(hl_heap_check(h, NULL), 0);
    hl_heap_free(h, q);
    tu_assert_no_errors();
    hl_heap_destroy(h);
}

/* A global heap's large block grows and shrinks by whole mappings too; the
 * registry follows, so the block is still found by its address. */
static void test_global_large_realloc(void **state) {
    (void)state;
    unsigned char *p = hl_malloc(4 * MIB);
    assert_non_null(p);
    fill(p, 4 * MIB, 3);
    unsigned char *q = hl_realloc(p, 12 * MIB);
    assert_non_null(q);
    assert_filled(q, 4 * MIB, 3);
    fill(q, 12 * MIB, 5);
    assert_true(hl_malloc_usable_size(q) >= 12 * MIB);
    unsigned char *r = hl_realloc(q, 1 * MIB);   /* a shrink by far more than 1/8: the tail is unmapped */
    assert_ptr_equal(r, q);
    assert_filled(r, 1 * MIB, 5);
    size_t usable = hl_malloc_usable_size(r);
    assert_true(usable >= 1 * MIB && usable < 4 * MIB);
    assert_non_null(heap_of(r));
    assert_int_equal(hl_check_all(NULL), 0);
    hl_free(r);
    assert_int_equal(hl_check_all(NULL), 0);
    tu_assert_no_errors();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_cache_counts_forged, setup),
        cmocka_unit_test_setup(test_cache_head_forged, setup),
        cmocka_unit_test_setup(test_remote_stack_forged, setup),
        cmocka_unit_test_setup(test_unmapped_large_double_free, setup),
        cmocka_unit_test_setup(test_exit_flush_finds_forged_header, setup),
        cmocka_unit_test_setup(test_owner_frees_block_held_in_outbox, setup),
        cmocka_unit_test_setup(test_cached_mapping_forged, setup),
        cmocka_unit_test_setup(test_buffer_heap_has_no_caches, setup),
        cmocka_unit_test_setup(test_region_index_forged, setup),
        cmocka_unit_test_setup(test_large_realloc_moves_or_is_refused, setup),
        cmocka_unit_test_setup(test_global_large_realloc, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
