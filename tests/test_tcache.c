/*
 * test_tcache.c - the global API's per-thread cache of small blocks and its
 * outbox of remote frees (src/tcache.c, src/global.c).
 *
 * What it shows:
 *   - a small block freed by its thread comes back on the next malloc of its
 *     size, and hl_stats_global counts it as cached, not in use; a calloc
 *     served from the cache is zeroed and counted as a calloc;
 *   - each size keeps at most hl_cache_depth() blocks; the rest go back to
 *     the heap's free lists;
 *   - a second free (and a realloc) of a cached block is a reported double
 *     free, and the cache is unchanged by it;
 *   - hl_check_all sees cached blocks: a cached block's link overwritten, a
 *     used header forged to read "cached" (with or without a valid check word)
 *     are reported;
 *   - malloc refuses a cached block whose link is no block of its list (past
 *     the user address space, nobody's segment, misaligned, a large mapping,
 *     a link where the count says the list ends) or whose header is
 *     overwritten (check word, slack), on the fast path and on the locked
 *     path after a drain of remote frees;
 *   - remote frees wait in the freeing thread's outbox and reach their owner
 *     a batch of HL_OUTBOX_BATCH at a time, the rest when the thread exits;
 *   - after fork the child's cache still works and its heaps check clean.
 *
 * The tests run on the main thread (cmocka asserts there) and on helper
 * threads that run one function and exit.
 */
#include "test_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hl_global.h"   /* the owner heap of a pointer, its remote-free counters */

static hl_global_stats stats(void) {
    hl_global_stats s;
    hl_stats_global(&s);
    return s;
}

static hl_heap *heap_of(const void *p) {
    bool large;
    return hl__registry_owner(p, &large);
}

static hl_block *blk(void *p) { return hl_payload_block(p); }

static int setup(void **state) {
    (void)state;
    tu_errors_install();
    return 0;
}

/* --- reuse and the bound ----------------------------------------------------------- */
/* A calloc served from the cache is zeroed and counted as a calloc, a malloc
 * served from it as a malloc (hl_heap_stats of the thread's heap). */
static void test_calloc_from_the_cache_counts_as_calloc(void **state) {
    (void)state;
    void *p = hl_malloc(72);
    assert_non_null(p);
    memset(p, 0xCD, 72);
    hl_heap *h = heap_of(p);
    hl_free(p);   /* cached */
    hl_stats before;
    hl_heap_stats(h, &before);
    unsigned char *q = hl_calloc(8, 9);   /* the same block size */
    assert_ptr_equal(q, p);
    for (int i = 0; i < 72; i++) assert_int_equal(q[i], 0);
    hl_stats after;
    hl_heap_stats(h, &after);
    assert_int_equal(after.callocs, before.callocs + 1);
    assert_int_equal(after.mallocs, before.mallocs);
    hl_free(q);
    void *r = hl_malloc(72);
    assert_ptr_equal(r, p);
    hl_heap_stats(h, &before);
    assert_int_equal(before.mallocs, after.mallocs + 1);
    assert_int_equal(before.callocs, after.callocs);
    hl_free(r);
    tu_assert_no_errors();
}

static void test_freed_block_comes_back(void **state) {
    (void)state;
    void *p = hl_malloc(40);
    assert_non_null(p);
    memset(p, 0xAB, 40);
    hl_global_stats before = stats();
    hl_free(p);
    hl_global_stats cached = stats();
    assert_int_equal(cached.cached_blocks, before.cached_blocks + 1);
    assert_int_equal(cached.blocks_in_use, before.blocks_in_use - 1);
    assert_int_equal(cached.bytes_in_use, before.bytes_in_use - 40);
    assert_true(tu_read_word(&blk(p)->size_flags) & HL_CACHED);   /* metadata: read past ASan's poison */
    void *q = hl_malloc(33);   /* another request of the same block size */
    assert_ptr_equal(q, p);
    assert_false(tu_read_word(&blk(q)->size_flags) & HL_CACHED);
    hl_global_stats back = stats();
    assert_int_equal(back.cached_blocks, before.cached_blocks);
    assert_int_equal(back.bytes_in_use, before.bytes_in_use - 40 + 33);
    assert_int_equal(hl_check_all(NULL), 0);
    hl_free(q);
    tu_assert_no_errors();
}

/* A free that finds its list full gives the newest half of the list back to
 * the heap under one lock (src/tcache.c, hl__cache_trim_put) and takes the
 * list's place; the next frees of that size are cached again. */
static void test_each_size_keeps_at_most_depth_blocks(void **state) {
    (void)state;
    const int depth = (int)hl_cache_depth(hl_cache_class(224));   /* a 200-byte request's block */
    enum { EXTRA = 10 };                                          /* frees past a full list */
    const int N = depth + EXTRA;
    void *p[HL_CACHE_DEPTH + EXTRA];
    for (int i = 0; i < N; i++) assert_non_null(p[i] = hl_malloc(200));
    hl_thread_cache_flush();   /* the misses carved blocks of this size into the cache (their own test below) */
    hl_global_stats before = stats();
    for (int i = 0; i < depth; i++) hl_free(p[i]);
    hl_global_stats full = stats();
    assert_int_equal(full.cached_blocks - before.cached_blocks, depth);
    hl_free(p[depth]);   /* the list is full: p[depth - 1] .. p[depth / 2] go back to the heap */
    hl_global_stats trimmed = stats();
    assert_int_equal(trimmed.cached_blocks - before.cached_blocks, depth / 2 + 1);
    assert_int_equal(trimmed.bytes_free - full.bytes_free, (size_t)(depth / 2) * 224);   /* the half, coalesced or not */
    for (int i = depth + 1; i < N; i++) hl_free(p[i]);
    hl_global_stats after = stats();
    assert_true(EXTRA - 1 < depth / 2);   /* no second trim in this test */
    assert_int_equal(after.cached_blocks - before.cached_blocks, depth / 2 + EXTRA);
    assert_int_equal(before.blocks_in_use - after.blocks_in_use, N);
    assert_int_equal(hl_check_all(NULL), 0);
    /* the cached ones come back first, newest first: the frees past the trim, then the older half */
    for (int i = N - 1; i >= depth; i--) assert_ptr_equal(hl_malloc(200), p[i]);
    for (int i = depth / 2 - 1; i >= 0; i--) assert_ptr_equal(hl_malloc(200), p[i]);
    assert_int_equal(stats().cached_blocks, before.cached_blocks);
    for (int i = 0; i < depth / 2; i++) hl_free(p[i]);
    for (int i = depth; i < N; i++) hl_free(p[i]);
    assert_int_equal(hl_check_all(NULL), 0);
    tu_assert_no_errors();
}

/* A malloc that misses an empty list carves half a list of blocks of its
 * size out of the free memory after the block it got (hl__cache_refill):
 * the next mallocs of that size are those blocks, nearest first, counted as
 * the cache's mallocs; a list that is not empty is not refilled.
 * hl_thread_cache_flush gives every cached block back.  On a fresh thread,
 * whose heap's first block has the rest of its region behind it; the thread
 * records, the test asserts. */
static void run_thread(void *(*fn)(void *), void *arg);
enum { REFILL_N = 300, REFILL_SIZE = 336 };   /* a request and its block */
typedef struct refill_run {
    char *p, *q[HL_CACHE_DEPTH], *again;
    hl_global_stats before, refilled, taken, freed, flushed;
    hl_stats hs0, hs1;
    size_t block_size;
    int check_refilled, check_flushed;
} refill_run;

static void *refill_thread(void *arg) {
    refill_run *r = arg;
    const int half = (int)hl_cache_depth(hl_cache_class(REFILL_SIZE)) / 2;
    hl_free(hl_malloc(1));   /* this thread's heap */
    hl_thread_cache_flush();  /* and nothing in its cache */
    r->before = stats();
    r->p = hl_malloc(REFILL_N);
    hl_heap *h = heap_of(r->p);
    hl_heap_stats(h, &r->hs0);
    r->block_size = tu_read_word(&blk(r->p)->size_flags) & ~HL_FLAGS;
    r->refilled = stats();
    r->check_refilled = hl_check_all(NULL);
    for (int i = 0; i < half; i++) r->q[i] = hl_malloc(REFILL_N);
    hl_heap_stats(h, &r->hs1);
    r->taken = stats();
    hl_free(r->q[0]);
    r->again = hl_malloc(REFILL_N);   /* the list holds q[0]: no refill behind a hit */
    hl_free(r->again);
    hl_free(r->p);
    for (int i = 1; i < half; i++) hl_free(r->q[i]);
    r->freed = stats();
    hl_thread_cache_flush();
    r->flushed = stats();
    r->check_flushed = hl_check_all(NULL);
    return NULL;
}

static void test_miss_refills_the_list(void **state) {
    (void)state;
    static refill_run r;
    run_thread(refill_thread, &r);
    const int half = (int)hl_cache_depth(hl_cache_class(REFILL_SIZE)) / 2;
    assert_non_null(r.p);
    assert_int_equal(r.block_size, REFILL_SIZE);
    assert_int_equal(r.refilled.cached_blocks - r.before.cached_blocks, half);
    assert_int_equal(r.refilled.blocks_in_use - r.before.blocks_in_use, 1);   /* the program holds p alone */
    assert_int_equal(r.refilled.bytes_in_use - r.before.bytes_in_use, REFILL_N);
    assert_int_equal(r.check_refilled, 0);
    for (int i = 0; i < half; i++) assert_ptr_equal(r.q[i], r.p + (size_t)(i + 1) * REFILL_SIZE);
    assert_int_equal(r.hs1.mallocs - r.hs0.mallocs, half);   /* served by the cache, counted once each */
    assert_int_equal(r.taken.cached_blocks, r.before.cached_blocks);
    assert_ptr_equal(r.again, r.q[0]);
    assert_true(r.freed.cached_blocks > r.before.cached_blocks);
    assert_int_equal(r.flushed.cached_blocks, r.before.cached_blocks);
    assert_int_equal(r.flushed.blocks_in_use, r.before.blocks_in_use);
    assert_int_equal(r.flushed.bytes_in_use, r.before.bytes_in_use);
    assert_int_equal(r.check_flushed, 0);
    assert_int_equal(hl_check_all(NULL), 0);
    tu_assert_no_errors();
}

/* A cached block's link into another segment of the heap is looked up in the
 * registry (one into the block's own segment needs no lookup) and followed. */
static void test_link_across_segments_is_followed(void **state) {
    (void)state;
    enum { FILLER = 96 * 1024, MAX_FILLERS = 200, MAX_SMALL = 4096 };
    void *filler[MAX_FILLERS];
    void *small[MAX_SMALL];
    void *x = hl_malloc(500);
    assert_non_null(x);
    uintptr_t seg = (uintptr_t)x / HL_SEGMENT;
    int nf = 0, ns = 0;
    /* fill x's region until the heap has to take another segment */
    while (nf < MAX_FILLERS && (filler[nf] = hl_malloc(FILLER)) != NULL &&
           (uintptr_t)filler[nf] / HL_SEGMENT == seg)
        nf++;
    assert_true(nf < MAX_FILLERS);
    assert_non_null(filler[nf]);
    nf++;
    /* then small blocks until one lies outside x's segment */
    while (ns < MAX_SMALL && (small[ns] = hl_malloc(500)) != NULL && (uintptr_t)small[ns] / HL_SEGMENT == seg) ns++;
    assert_true(ns < MAX_SMALL);
    void *y = small[ns];
    assert_non_null(y);
    assert_ptr_equal(heap_of(y), heap_of(x));
    hl_free(x);
    hl_free(y);   /* the list: y -> x, x in another segment */
    assert_int_equal(hl_check_all(NULL), 0);
    assert_ptr_equal(hl_malloc(500), y);   /* y's link to x is looked up, found to be this heap's */
    assert_ptr_equal(hl_malloc(500), x);
    hl_free(x);
    hl_free(y);
    for (int i = 0; i < ns; i++) hl_free(small[i]);
    for (int i = 0; i < nf; i++) hl_free(filler[i]);
    assert_int_equal(hl_check_all(NULL), 0);
    tu_assert_no_errors();
}

/* --- misuse of cached blocks --------------------------------------------------------- */
static void test_double_free_of_cached_block(void **state) {
    (void)state;
    void *p = hl_malloc(64);
    assert_non_null(p);
    hl_free(p);
    hl_global_stats before = stats();
    tu_misuse_begin();
    hl_free(p);
    tu_misuse_end();
    tu_assert_one_error(HL_ERR_DOUBLE_FREE, p, heap_of(p), "free");
    tu_errors_clear();
    tu_misuse_begin();
    void *r = hl_realloc(p, 100);
    tu_misuse_end();
    assert_null(r);
    tu_assert_one_error(HL_ERR_DOUBLE_FREE, p, heap_of(p), "realloc");
    tu_errors_clear();
    hl_global_stats after = stats();
    assert_int_equal(after.cached_blocks, before.cached_blocks);
    assert_int_equal(after.blocks_in_use, before.blocks_in_use);
    assert_int_equal(hl_check_all(NULL), 0);
    assert_ptr_equal(hl_malloc(64), p);   /* still cached once: handed out once */
    void *q = hl_malloc(64);
    assert_ptr_not_equal(q, p);
    hl_free(q);
    hl_free(p);
    tu_assert_no_errors();
}

/* A use after free that overwrites a cached block's link: the checker finds
 * the list broken, and malloc refuses to follow it. */
static void test_overwritten_link_is_reported(void **state) {
    (void)state;
    void *a = hl_malloc(300), *b = hl_malloc(300), *live = hl_malloc(300);
    assert_non_null(live);
    hl_free(a);
    hl_free(b);   /* the list of 320-byte blocks: b -> a */
    size_t saved = tu_read_word(b);
    tu_write_word(b, (size_t)(uintptr_t)blk(live));   /* b's link now names a used block */
    hl_check_report rep;
    assert_int_equal(hl_check_all(&rep), HL_INV_LIST_MEMBERSHIP);
    assert_non_null(strstr(rep.message, "thread cache"));
    tu_write_word(b, 12345);   /* not even a block address */
    assert_int_equal(hl_check_all(&rep), HL_INV_LIST_LINKS);
    tu_write_word(b, 16 * 12345);   /* aligned, but no heap's */
    tu_misuse_begin();
    void *got = hl_malloc(300);   /* b's header is sound, its link is not: no b, the slow path */
    tu_misuse_end();
    assert_ptr_not_equal(got, b);
    tu_assert_first_error(HL_ERR_CORRUPTED_BLOCK, b, heap_of(b), "malloc");
    tu_errors_clear();
    tu_write_word(b, saved);
    assert_int_equal(hl_check_all(NULL), 0);
    hl_free(got);
    hl_free(live);
    tu_assert_no_errors();
}

/* A block of this heap's freed by a thread that then exits: it waits on the
 * heap's remote-free stack, so the owner's next malloc takes the locked path,
 * drains it, and tries the cache again there (its own copy of the cached
 * block's verification).  Set up before the forgery: in checked builds the
 * malloc here ends with a check of the heap. */
static void *free_one(void *p) {
    hl_free(p);
    return NULL;
}

static void remote_free_waiting(void) {
    void *z = hl_malloc(48);
    assert_non_null(z);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_one, z), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

/* malloc meets b, forged, at the head of its list: it refuses b (a
 * CORRUPTED_BLOCK report whose message says `what`) and serves the request
 * from the heap.  Returns the block it gave, for the caller to free at the
 * end (freed now, it would go on b's list, ahead of b). */
static void *refused_head(void *b, size_t size, const char *what) {
    tu_misuse_begin();
    void *got = hl_malloc(size);
    tu_misuse_end();
    assert_non_null(got);
    assert_ptr_not_equal(got, b);
    tu_assert_first_error(HL_ERR_CORRUPTED_BLOCK, b, heap_of(b), "malloc");
    assert_non_null(strstr(tu_errors()->e[0].message, what));
    tu_errors_clear();
    return got;
}

/* Every kind of link a use after free may leave in a cached block that is
 * not a block of this heap's: refused before it becomes the list's head. */
static void *refuse_link(void *b, size_t link, size_t size, bool slow) {
    if (slow) remote_free_waiting();
    size_t saved = tu_read_word(b);
    tu_write_word(b, link);
    void *got = refused_head(b, size, "the link in cached block");
    tu_write_word(b, saved);
    assert_int_equal(hl_check_all(NULL), 0);
    return got;
}

/* A cached header overwritten: its check word, or a slack beyond the block
 * that carries a check word computed for it (a forger who knows the cookie). */
static void refuse_header(void *b, size_t size, bool slow, void *got[2]) {
    hl_block *blk_b = blk(b);
    size_t sf = tu_read_word(&blk_b->size_flags);
    size_t check_slack = tu_read_word(&blk_b->check);   /* the check word, then the slack */
    if (slow) remote_free_waiting();
    tu_write_word(&blk_b->check, check_slack ^ 0x10);   /* the check word wrong */
    got[0] = refused_head(b, size, "the header of cached block");
    tu_write_word(&blk_b->check, check_slack);
    if (slow) remote_free_waiting();
    uint32_t slack = (uint32_t)((sf & ~HL_FLAGS) - HL_OVERHEAD + 16);
    uint32_t check = hl_check_word(blk_b, sf, slack, heap_of(b)->cookie);
    tu_write_word(&blk_b->check, (size_t)check | (size_t)slack << 32);
    got[1] = refused_head(b, size, "the header of cached block");
    tu_write_word(&blk_b->check, check_slack);
    assert_int_equal(hl_check_all(NULL), 0);
}

static void forged_lists_refused(bool slow) {
    /* size classes of their own in this file, and of each mode's own */
    const size_t SIZE = slow ? 940 : 900, OTHER = slow ? 740 : 700;
    void *a = hl_malloc(SIZE), *b = hl_malloc(SIZE);
    char *big = hl_malloc(200 * 1024);   /* a large mapping of this heap's */
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(big);
    hl_thread_cache_flush();   /* a's miss carved more blocks of its size into the cache */
    hl_free(b);   /* alone on its list: its link must be NULL */
    void *instead[7];
    instead[0] = refuse_link(b, (size_t)(uintptr_t)blk(a), SIZE, slow);   /* this heap's, but the list holds one */
    hl_free(a);   /* the list: a -> b */
    instead[1] = refuse_link(a, (size_t)1 << 47, SIZE, slow);               /* past the user address space */
    instead[2] = refuse_link(a, ((size_t)1 << 47) - HL_SEGMENT, SIZE, slow); /* the last segment below it */
    instead[3] = refuse_link(a, (size_t)(uintptr_t)blk(b) + 8, SIZE, slow);  /* misaligned */
    instead[4] = refuse_link(a, (size_t)(uintptr_t)(big - 64), SIZE, slow);  /* in this heap's large mapping */
    assert_ptr_equal(hl_malloc(SIZE), a);   /* restored: the list is whole again */
    assert_ptr_equal(hl_malloc(SIZE), b);

    void *c = hl_malloc(OTHER);
    assert_non_null(c);
    hl_free(c);
    refuse_header(c, OTHER, slow, &instead[5]);
    assert_ptr_equal(hl_malloc(OTHER), c);   /* restored */
    hl_free(a);
    hl_free(b);
    hl_free(c);
    for (int i = 0; i < 7; i++) hl_free(instead[i]);
    hl_free(big);
    assert_int_equal(hl_check_all(NULL), 0);
    tu_assert_no_errors();
}

static void test_forged_links_are_refused(void **state) {
    (void)state;
    forged_lists_refused(false);
}

static void test_forged_links_are_refused_after_a_drain(void **state) {
    (void)state;
    forged_lists_refused(true);
}

/* A used block whose header is made to read "cached": without the check word
 * it is a forged header; with a valid one it is a cached block on no list. */
static void test_forged_cached_header_is_reported(void **state) {
    (void)state;
    void *p = hl_malloc(500);
    assert_non_null(p);
    hl_block *b = blk(p);
    hl_heap *h = heap_of(p);
    size_t sf = tu_read_word(&b->size_flags);
    size_t check_slack = tu_read_word(&b->check);   /* the check word and the slack */
    size_t *footer = (size_t *)((char *)b + (sf & ~HL_FLAGS) - HL_FOOTER);
    /* checked builds demand the free fill of a cached block's payload past 16
     * bytes, and would report its absence first (FREE_FILL): give it one */
    enum { USABLE = 504 };   /* a 500-byte request's 528-byte block */
    assert_int_equal((sf & ~HL_FLAGS) - HL_OVERHEAD, USABLE);
    static unsigned char saved[USABLE];
    for (size_t i = 0; i < USABLE; i++) saved[i] = tu_read_byte((unsigned char *)p + i);
    if (hl_checked_build())
        for (size_t i = 16; i < USABLE; i++) tu_write_byte((unsigned char *)p + i, HL_FILL_FREE);
    tu_write_word(&b->size_flags, sf | HL_CACHED);
    tu_write_word(footer, sf | HL_CACHED);
    hl_check_report rep;
    assert_int_equal(hl_check_all(&rep), HL_INV_MAGIC);
    uint32_t forged = hl_check_word(b, sf | HL_CACHED, (uint32_t)(check_slack >> 32), h->cookie);
    tu_poke(&b->check, &forged, sizeof forged);
    assert_int_equal(hl_check_all(&rep), HL_INV_LIST_MEMBERSHIP);
    assert_non_null(strstr(rep.message, "on no thread cache list"));
    tu_write_word(&b->size_flags, sf);
    tu_write_word(footer, sf);
    tu_write_word(&b->check, check_slack);
    tu_poke(p, saved, USABLE);
    assert_int_equal(hl_check_all(NULL), 0);
    hl_free(p);
    tu_assert_no_errors();
}

/* --- remote frees go in batches -------------------------------------------------------- */
typedef struct handoff {
    size_t n;
    void *p[64];
    hl_tlheap *owner;
    size_t pushed_mid;   /* the owner's remote_pushed while the freeing thread still runs */
} handoff;

static void *free_all(void *arg) {
    handoff *h = arg;
    for (size_t i = 0; i < h->n; i++) hl_free(h->p[i]);
    h->pushed_mid = atomic_load(&h->owner->remote_pushed);
    return NULL;
}

static void run_thread(void *(*fn)(void *), void *arg) {
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fn, arg), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_remote_frees_batched_and_flushed_at_exit(void **state) {
    (void)state;
    static handoff h;
    h.n = HL_OUTBOX_BATCH + 8;
    for (size_t i = 0; i < h.n; i++) assert_non_null(h.p[i] = hl_malloc(48));
    h.owner = heap_of(h.p[0])->owner;
    size_t pushed = atomic_load(&h.owner->remote_pushed);
    hl_global_stats before = stats();
    run_thread(free_all, &h);
    /* one full batch reached the stack while the thread ran, the rest at its exit */
    assert_int_equal(h.pushed_mid - pushed, HL_OUTBOX_BATCH);
    assert_int_equal(atomic_load(&h.owner->remote_pushed) - pushed, h.n);
    hl_global_stats after = stats();
    assert_int_equal(after.remote_frees - before.remote_frees, h.n);
    assert_int_equal(after.heaps_created, before.heaps_created);   /* freeing only made no heap */
    assert_int_equal(hl_check_all(NULL), 0);   /* they wait on the stack, tagged */
    void *q = hl_malloc(48);                   /* drains them, into the cache first */
    int reused = 0;
    for (size_t i = 0; i < h.n; i++) reused += h.p[i] == q;
    assert_int_equal(reused, 1);
    hl_global_stats drained = stats();
    assert_int_equal(drained.remote_drained, drained.remote_frees);
    assert_int_equal(drained.blocks_in_use, before.blocks_in_use - h.n + 1);
    hl_free(q);
    assert_int_equal(hl_check_all(NULL), 0);
    tu_assert_no_errors();
}

/* --- fork ------------------------------------------------------------------------------ */
static void test_cache_after_fork(void **state) {
    (void)state;
    void *p = hl_malloc(72);
    assert_non_null(p);
    /* the request that maps to p's block size (it may have kept a remainder too small to split) */
    const size_t n = (tu_read_word(&blk(p)->size_flags) & ~HL_FLAGS) - HL_OVERHEAD;
    hl_free(p);   /* cached in the parent, so in the child too */
    fflush(NULL);
    pid_t pid = tu_fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int bad = 0;
        bad |= hl_check_all(NULL) != 0;
        void *q = hl_malloc(n);
        bad |= (q != p) << 1;
        hl_free(q);
        bad |= (hl_malloc(n) != p) << 2;
        bad |= hl_check_all(NULL) != 0 ? 8 : 0;
        _exit(bad);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_ptr_equal(hl_malloc(n), p);
    hl_free(p);
    assert_int_equal(hl_check_all(NULL), 0);
    tu_assert_no_errors();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_freed_block_comes_back, setup),
        cmocka_unit_test_setup(test_calloc_from_the_cache_counts_as_calloc, setup),
        cmocka_unit_test_setup(test_each_size_keeps_at_most_depth_blocks, setup),
        cmocka_unit_test_setup(test_miss_refills_the_list, setup),
        cmocka_unit_test_setup(test_link_across_segments_is_followed, setup),
        cmocka_unit_test_setup(test_double_free_of_cached_block, setup),
        cmocka_unit_test_setup(test_overwritten_link_is_reported, setup),
        cmocka_unit_test_setup(test_forged_links_are_refused, setup),
        cmocka_unit_test_setup(test_forged_links_are_refused_after_a_drain, setup),
        cmocka_unit_test_setup(test_forged_cached_header_is_reported, setup),
        cmocka_unit_test_setup(test_remote_frees_batched_and_flushed_at_exit, setup),
        cmocka_unit_test_setup(test_cache_after_fork, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
