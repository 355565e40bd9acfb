/*
 * test_seeds.c - one test per feature of the seed allocators heaplab grew
 * from (/work/shared/seeds), each named after the feature it shows:
 *
 *   a 64 KiB fixed heap in a byte array with first fit;
 *   an mmap'd page heap with a magic number checked on free;
 *   an sbrk pool;
 *   header and footer boundary tags with best fit;
 *   split and coalesce, forward and backward;
 *   realloc and calloc;
 *   available memory, print free list, reset;
 *   large blocks via mmap above 128 KiB;
 *   free(ptr + 1) reported as an error;
 *   debug logging of every operation.
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */
#include <cmocka.h>     /* named here too: tests/CMakeLists.txt links cmocka to files that include it */

static const char *self_path;  /* argv[0], for the tests that run this program again */

static hl_heap *buffer_heap(unsigned char *buf, size_t size, hl_policy policy)
{
    hl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.policy = policy;
    cfg.source = HL_SOURCE_BUFFER;
    cfg.buffer = buf;
    cfg.buffer_size = size;
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    return h;
}

static hl_heap *source_heap(hl_source source, hl_policy policy, size_t grow)
{
    hl_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.policy = policy;
    cfg.source = source;
    cfg.grow_size = grow;
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    return h;
}

/* Three holes of different sizes, each between two used guards, in address
 * order: holes[0] of 512 bytes, holes[1] of 128, holes[2] of 256.  The big
 * one is freed last, so a first fit (newest first) meets it before the others
 * while a best fit passes it over. */
static void make_holes(hl_heap *h, unsigned char *holes[3])
{
    const size_t sizes[3] = {512, 128, 256};
    for (int i = 0; i < 3; i++) {
        holes[i] = hl_heap_malloc(h, sizes[i]);
        assert_non_null(hl_heap_malloc(h, 32));  /* guard: keeps the holes apart */
        assert_non_null(holes[i]);
    }
    hl_heap_free(h, holes[1]);
    hl_heap_free(h, holes[2]);
    hl_heap_free(h, holes[0]);
    for (int i = 1; i < 3; i++)
        assert_true(holes[i] > holes[i - 1]);
    assert_int_equal(tu_stats(h).blocks_free, 4);  /* the holes and the tail */
}

/* --- the features ----------------------------------------------------------------------- */

static void test_fixed_64k_heap_in_byte_array_with_first_fit(void **state)
{
    (void)state;
    static _Alignas(16) unsigned char heap_bytes[64 * 1024];
    tu_errors_install();
    hl_heap *h = buffer_heap(heap_bytes, sizeof heap_bytes, HL_FIRST_FIT);
    assert_true((unsigned char *)h >= heap_bytes && (unsigned char *)h < heap_bytes + sizeof heap_bytes);

    /* first fit takes the first hole that fits, though a smaller one would do */
    unsigned char *holes[3];
    make_holes(h, holes);
    assert_ptr_equal(hl_heap_malloc(h, 200), holes[0]);

    /* every byte comes from the array, and the array is all there is */
    static tu_shadow s;
    tu_shadow_init(&s, 1);
    void *p;
    errno = 0;
    while ((p = hl_heap_malloc(h, 2000)) != NULL) {
        assert_true((unsigned char *)p >= heap_bytes && (unsigned char *)p + 2000 <= heap_bytes + sizeof heap_bytes);
        tu_shadow_add(&s, p, 2000);
    }
    assert_int_equal(errno, ENOMEM);
    assert_true(s.count >= 25);   /* most of 64 KiB */
    hl_stats st = tu_stats(h);
    assert_int_equal(st.regions, 1);
    assert_true(st.source_bytes <= sizeof heap_bytes);
    tu_shadow_verify(&s);
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

static void test_mmap_page_heap_with_magic_checked_on_free(void **state)
{
    (void)state;
    tu_errors_install();
    hl_heap *h = source_heap(HL_SOURCE_MMAP, HL_FIRST_FIT, 0);
    unsigned char *a = hl_heap_malloc(h, 64);
    unsigned char *b = hl_heap_malloc(h, 256);
    assert_non_null(a);
    assert_non_null(b);
    tu_fill(a, 64, 1);
    tu_fill(b, 256, 2);

    /* regions are whole pages from mmap */
    tu_walk *w = tu_walk_new(h);
    long page = sysconf(_SC_PAGESIZE);
    for (size_t i = 0; i < w->count; i++)
        if (w->e[i].kind == HL_WALK_REGION)
            assert_int_equal((uintptr_t)w->e[i].start % (uintptr_t)page, 0);
    free(w);

    /* a's header copied in front of a forged payload inside b */
    tu_peek(b + 48, a - HL_HEADER, HL_HEADER);
    tu_errors_clear();
    tu_misuse_begin();
    hl_heap_free(h, b + 64);
    tu_misuse_end();
    tu_assert_one_error(HL_ERR_INVALID_POINTER, b + 64, h, "free");
    tu_fill(b, 256, 2);

    /* the same copy in memory the heap never owned */
    _Alignas(16) unsigned char outside[64];
    tu_peek(outside, a - HL_HEADER, HL_HEADER);
    tu_errors_clear();
    tu_misuse_begin();
    hl_heap_free(h, outside + HL_HEADER);
    tu_misuse_end();
    tu_assert_one_error(HL_ERR_INVALID_POINTER, outside + HL_HEADER, h, "free");

    /* one flipped bit of the magic (check word) */
    tu_flip_check(a, 1u << 13);
    tu_errors_clear();
    tu_misuse_begin();
    hl_heap_free(h, a);
    tu_misuse_end();
    tu_assert_first_error(HL_ERR_CORRUPTED_BLOCK, a, h, "free");
    tu_flip_check(a, 1u << 13);

    tu_assert_intact(a, 64, 1);
    tu_assert_intact(b, 256, 2);
    tu_assert_heap_ok(h);
    tu_errors_clear();
    hl_heap_free(h, a);
    hl_heap_free(h, b);
    tu_assert_no_errors();
    hl_heap_destroy(h);
}

extern char end;  /* the end of the program's data: the break starts above it */

static void test_sbrk_pool(void **state)
{
    (void)state;
    tu_errors_install();
    hl_heap *h = source_heap(HL_SOURCE_SBRK, HL_SEGREGATED_FIT, 32 * 1024);
    static tu_shadow s;
    tu_shadow_init(&s, 10);
    for (int i = 0; i < 12; i++) {
        void *p = hl_heap_malloc(h, 10000);
        assert_non_null(p);
        tu_shadow_assert_disjoint(h, &s, p);
        tu_shadow_add(&s, p, 10000);
    }
    hl_stats st = tu_stats(h);
    assert_true(st.regions >= 3);
    /* every region lies in the data segment, between the end of the program's
     * data and the current break: memory sbrk gave */
    tu_walk *w = tu_walk_new(h);
    const char *brk_now = sbrk(0);
    for (size_t i = 0; i < w->count; i++) {
        if (w->e[i].kind != HL_WALK_REGION)
            continue;
        const char *r = w->e[i].start;
        assert_true(r >= &end);
        assert_true(r + w->e[i].size <= brk_now);
    }
    for (size_t i = 0; i < s.count; i++)
        assert_true(tu_walk_in_region(w, s.b[i].p));
    free(w);
    tu_shadow_verify(&s);
    tu_assert_heap_ok(h);
    tu_shadow_free_all(h, &s);
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

/* A region that cannot go back to the system (a later sbrk lies above it)
 * waits in the process's pool, and the next sbrk heap that needs a region of
 * that size gets it instead of moving the break again. */
static void test_sbrk_pool_reuses_a_stranded_region(void **state)
{
    (void)state;
    tu_errors_install();
    hl_heap *a = source_heap(HL_SOURCE_SBRK, HL_FIRST_FIT, 32 * 1024);
    hl_heap *b = source_heap(HL_SOURCE_SBRK, HL_FIRST_FIT, 32 * 1024);
    unsigned char *pa = hl_heap_malloc(a, 100);
    unsigned char *pb = hl_heap_malloc(b, 100);
    assert_non_null(pa);
    assert_non_null(pb);
    assert_true(pb > pa);                    /* b's region lies above a's */
    hl_heap_destroy(a);                      /* a's region is not the top of the break */
    const char *brk_before = sbrk(0);
    hl_heap *c = source_heap(HL_SOURCE_SBRK, HL_FIRST_FIT, 32 * 1024);
    unsigned char *pc = hl_heap_malloc(c, 100);
    assert_ptr_equal(pc, pa);                /* the same region, the same first block */
    assert_ptr_equal(sbrk(0), brk_before);   /* and the break did not move for it */
    tu_assert_heap_ok(c);
    hl_heap_destroy(c);
    hl_heap_destroy(b);
    tu_assert_no_errors();
}

/* Every block's footer repeats its header's size and flags. */
static void assert_boundary_tags(const hl_heap *h)
{
    tu_walk *w = tu_walk_new(h);
    for (size_t i = 0; i < w->count; i++) {
        if (w->e[i].kind != HL_WALK_BLOCK)
            continue;
        /* read around memcheck and ASan: tags are heaplab's own bytes */
        const char *b = w->e[i].start;
        size_t header = tu_read_word(b);
        assert_int_equal(header & ~HL_FLAGS, w->e[i].size);
        assert_int_equal((header & HL_USED) != 0, w->e[i].used != 0);
        assert_int_equal(tu_read_word(b + w->e[i].size - HL_FOOTER), header);
    }
    free(w);
}

static void test_header_and_footer_boundary_tags_with_best_fit(void **state)
{
    (void)state;
    static _Alignas(16) unsigned char buf[64 * 1024];
    tu_errors_install();
    hl_heap *h = buffer_heap(buf, sizeof buf, HL_BEST_FIT);
    unsigned char *holes[3];
    make_holes(h, holes);
    assert_boundary_tags(h);
    /* best fit takes the smallest hole that fits, wherever it is */
    assert_ptr_equal(hl_heap_malloc(h, 200), holes[2]);   /* 256 over 512 and the tail */
    assert_ptr_equal(hl_heap_malloc(h, 100), holes[1]);   /* 128 */
    assert_ptr_equal(hl_heap_malloc(h, 400), holes[0]);   /* 512, not the tail */
    assert_boundary_tags(h);
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

static const hl_walk_info *block_at(const tu_walk *w, const void *payload)
{
    const hl_walk_info *i = tu_walk_payload(w, payload);
    assert_non_null(i);
    return i;
}

/* The free block whose payload is p has this size, per the walk. */
static void assert_free_block(const hl_heap *h, const void *p, size_t size)
{
    tu_walk *w = tu_walk_new(h);
    const hl_walk_info *i = block_at(w, p);
    assert_int_equal(i->used, 0);
    assert_int_equal(i->size, size);
    free(w);
}

static void test_split_and_coalesce_forward_and_backward(void **state)
{
    (void)state;
    static _Alignas(16) unsigned char buf[64 * 1024];
    tu_errors_install();
    hl_heap *h = buffer_heap(buf, sizeof buf, HL_FIRST_FIT);
    size_t initial_free = tu_stats(h).bytes_free;
    const size_t bs = tu_block_size(100);
    unsigned char *p[7];
    for (int i = 0; i < 7; i++) {
        p[i] = hl_heap_malloc(h, 100);
        assert_non_null(p[i]);
        assert_int_equal(tu_stats(h).splits, (size_t)i + 1);  /* each carved off the tail */
    }
    tu_walk *w = tu_walk_new(h);
    assert_int_equal(tu_walk_count(w, HL_WALK_BLOCK, 1), 7);
    assert_int_equal(tu_walk_count(w, HL_WALK_BLOCK, 0), 1);
    free(w);

    hl_heap_free(h, p[1]);                 /* neighbours used: no merge */
    assert_int_equal(tu_stats(h).merges, 0);
    hl_heap_free(h, p[2]);                 /* backward into p[1] */
    assert_int_equal(tu_stats(h).merges, 1);
    assert_free_block(h, p[1], 2 * bs);
    hl_heap_free(h, p[5]);                 /* neighbours used: no merge */
    assert_int_equal(tu_stats(h).merges, 1);
    hl_heap_free(h, p[4]);                 /* forward into p[5] */
    assert_int_equal(tu_stats(h).merges, 2);
    assert_free_block(h, p[4], 2 * bs);
    assert_int_equal(tu_stats(h).blocks_free, 3);
    hl_heap_free(h, p[3]);                 /* both ways at once */
    assert_int_equal(tu_stats(h).merges, 4);
    assert_free_block(h, p[1], 5 * bs);
    assert_int_equal(tu_stats(h).blocks_free, 2);
    hl_heap_free(h, p[0]);                 /* forward */
    hl_heap_free(h, p[6]);                 /* backward and into the tail */
    hl_stats st = tu_stats(h);
    assert_int_equal(st.merges, 7);
    assert_int_equal(st.blocks_free, 1);
    assert_int_equal(st.bytes_free, initial_free);
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

static void test_realloc_and_calloc(void **state)
{
    (void)state;
    static _Alignas(16) unsigned char buf[64 * 1024];
    tu_errors_install();
    hl_heap *h = buffer_heap(buf, sizeof buf, HL_SEGREGATED_FIT);
    unsigned char *dirty = hl_heap_malloc(h, 3000);
    assert_non_null(dirty);
    memset(dirty, 0xEE, 3000);
    hl_heap_free(h, dirty);
    unsigned char *z = hl_heap_calloc(h, 30, 100);
    assert_non_null(z);
    assert_true(tu_all_zero(z, 3000));

    unsigned char *a = hl_heap_malloc(h, 300);
    unsigned char *guard = hl_heap_malloc(h, 16);
    assert_non_null(a);
    assert_non_null(guard);
    tu_fill(a, 300, 5);
    unsigned char *moved = hl_heap_realloc(h, a, 5000);  /* guard blocks growth: moves */
    assert_non_null(moved);
    assert_ptr_not_equal(moved, a);
    tu_assert_intact(moved, 300, 5);
    unsigned char *shrunk = hl_heap_realloc(h, moved, 200);
    assert_ptr_equal(shrunk, moved);
    tu_assert_intact(shrunk, 200, 5);
    unsigned char *grown = hl_heap_realloc(h, shrunk, 4000);  /* its old tail is free */
    assert_ptr_equal(grown, shrunk);
    tu_assert_intact(grown, 200, 5);
    hl_stats st = tu_stats(h);
    assert_int_equal(st.reallocs, 3);
    assert_int_equal(st.callocs, 1);
    assert_int_equal(st.bytes_in_use, 3000 + 16 + 4000);
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

static void test_available_memory_print_free_list_and_reset(void **state)
{
    (void)state;
    static _Alignas(16) unsigned char buf[64 * 1024];
    tu_errors_install();
    hl_heap *h = buffer_heap(buf, sizeof buf, HL_FIRST_FIT);
    hl_stats fresh = tu_stats(h);
    assert_int_equal(fresh.blocks_free, 1);
    assert_int_equal(fresh.largest_free, fresh.bytes_free - HL_OVERHEAD);

    /* available memory drops by exactly the block each request takes */
    unsigned char *a = hl_heap_malloc(h, 1000);
    unsigned char *b = hl_heap_malloc(h, 50);
    unsigned char *c = hl_heap_malloc(h, 70);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    hl_stats st = tu_stats(h);
    assert_int_equal(st.bytes_free, fresh.bytes_free - tu_block_size(1000) - tu_block_size(50) - tu_block_size(70));
    hl_heap_free(h, b);
    st = tu_stats(h);
    assert_int_equal(st.bytes_free, fresh.bytes_free - tu_block_size(1000) - tu_block_size(70));
    assert_int_equal(st.blocks_free, 2);

    /* the printed free list names every free block */
    tu_text t;
    tu_text_open(&t);
    hl_heap_dump(h, t.f);
    const char *text = tu_text_get(&t);
    const char *lists = strstr(text, "free lists");
    assert_non_null(lists);
    tu_walk *w = tu_walk_new(h);
    size_t free_seen = 0;
    for (size_t i = 0; i < w->count; i++) {
        if (w->e[i].kind != HL_WALK_BLOCK || w->e[i].used)
            continue;
        char addr[32];
        assert_non_null(strstr(lists, tu_addr(w->e[i].start, addr, sizeof addr)));
        free_seen++;
    }
    assert_int_equal(free_seen, 2);
    free(w);
    tu_text_close(&t);

    /* reset: every block freed at once, the heap as new */
    hl_heap_reset(h);
    st = tu_stats(h);
    assert_int_equal(st.bytes_free, fresh.bytes_free);
    assert_int_equal(st.blocks_free, 1);
    assert_int_equal(st.blocks_in_use, 0);
    assert_int_equal(st.mallocs + st.frees + st.splits + st.merges, 0);
    assert_ptr_equal(hl_heap_malloc(h, 1000), a);  /* carved from the start again */
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

static void test_large_blocks_via_mmap_above_128k(void **state)
{
    (void)state;
    tu_errors_install();
    hl_heap *h = source_heap(HL_SOURCE_MMAP, HL_SEGREGATED_FIT, 0);
    unsigned char *small = hl_heap_malloc(h, HL_MMAP_THRESHOLD_DEFAULT - 1);
    assert_non_null(small);
    assert_int_equal(tu_stats(h).large_blocks, 0);
    unsigned char *big = hl_heap_malloc(h, HL_MMAP_THRESHOLD_DEFAULT);
    assert_non_null(big);
    tu_fill(big, HL_MMAP_THRESHOLD_DEFAULT, 9);
    hl_stats st = tu_stats(h);
    assert_int_equal(st.large_blocks, 1);
    assert_true(st.large_bytes >= HL_MMAP_THRESHOLD_DEFAULT);
    tu_walk *w = tu_walk_new(h);
    const hl_walk_info *i = block_at(w, big);
    assert_int_equal(i->kind, HL_WALK_LARGE);
    assert_int_equal((uintptr_t)i->start % (uintptr_t)sysconf(_SC_PAGESIZE), 0);
    assert_true((const unsigned char *)i->start < big);
    assert_true(big + HL_MMAP_THRESHOLD_DEFAULT <= (const unsigned char *)i->start + i->size);
    assert_false(tu_walk_in_region(w, big));
    free(w);
    tu_assert_intact(big, HL_MMAP_THRESHOLD_DEFAULT, 9);
    hl_heap_free(h, big);
    st = tu_stats(h);
    assert_int_equal(st.large_blocks, 0);
    assert_int_equal(st.large_bytes, 0);
    hl_heap_free(h, small);
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

static void test_free_ptr_plus_one_reported_as_error(void **state)
{
    (void)state;
    static _Alignas(16) unsigned char buf[8 * 1024];
    tu_errors_install();
    hl_heap *h = buffer_heap(buf, sizeof buf, HL_FIRST_FIT);
    unsigned char *p = hl_heap_malloc(h, 100);
    assert_non_null(p);
    tu_fill(p, 100, 3);
    tu_misuse_begin();
    hl_heap_free(h, p + 1);
    tu_misuse_end();
    tu_assert_one_error(HL_ERR_INVALID_POINTER, p + 1, h, "free");
    assert_non_null(strstr(tu_errors()->e[0].message, "invalid pointer"));
    tu_assert_intact(p, 100, 3);
    assert_int_equal(tu_stats(h).blocks_in_use, 1);
    tu_assert_heap_ok(h);
    tu_errors_clear();
    hl_heap_free(h, p);
    tu_assert_no_errors();
    hl_heap_destroy(h);
}

/* --- debug logging ---------------------------------------------------------------------- */

/* What the program does when run as `test_seeds --trace-child`. */
static int trace_child_main(void)
{
    hl_heap *h = hl_heap_create(NULL);
    if (!h)
        return 2;
    void *p = hl_heap_malloc(h, 100);
    void *q = hl_heap_calloc(h, 3, 10);
    hl_heap_free(h, p);
    hl_heap_free(h, q);
    hl_heap_destroy(h);
    return 0;
}

/* Runs this program again as the trace child, HEAPLAB_TRACE set or not. */
static void run_trace_child(const char *trace, tu_child *c)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = tu_fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        if (trace)
            setenv("HEAPLAB_TRACE", trace, 1);
        else
            unsetenv("HEAPLAB_TRACE");
        execl(self_path, self_path, "--trace-child", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    tu_read_all(fds[0], c);
    close(fds[0]);
    assert_int_equal(waitpid(pid, &c->status, 0), pid);
    assert_true(WIFEXITED(c->status));
    assert_int_equal(WEXITSTATUS(c->status), 0);
}

static void test_debug_logging_of_every_operation(void **state)
{
    (void)state;
    static _Alignas(16) unsigned char buf[16 * 1024];
    tu_errors_install();
    hl_heap *h = buffer_heap(buf, sizeof buf, HL_FIRST_FIT);
    tu_text t;
    tu_text_open(&t);
    hl_set_trace(t.f);
    void *a = hl_heap_malloc(h, 100);
    void *b = hl_heap_calloc(h, 4, 8);
    void *c = hl_heap_aligned_alloc(h, 64, 50);
    b = hl_heap_realloc(h, b, 200);
    hl_heap_free(h, a);
    hl_heap_free(h, b);
    hl_heap_free(h, c);
    hl_set_trace(NULL);
    const char *text = tu_text_get(&t);
    const char *words[] = {"malloc", "calloc", "aligned_alloc", "realloc", "free", "split", "merge"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (!strstr(text, words[i]))
            print_error("no \"%s\" in the trace:\n%s", words[i], text);
        assert_non_null(strstr(text, words[i]));
    }
    size_t lines = tu_count_lines(text);
    assert_true(lines >= 7);
    assert_non_null(hl_heap_malloc(h, 10));   /* tracing is off again */
    assert_int_equal(tu_count_lines(tu_text_get(&t)), lines);
    tu_text_close(&t);
    hl_heap_destroy(h);

    /* HEAPLAB_TRACE=1 turns it on, to stderr, for a program that never asked */
    tu_child child;
    run_trace_child("1", &child);
    assert_non_null(strstr(child.err, "malloc"));
    assert_non_null(strstr(child.err, "calloc"));
    assert_non_null(strstr(child.err, "free"));
    assert_true(tu_count_lines(child.err) >= 4);
    run_trace_child(NULL, &child);
    assert_int_equal(child.len, 0);
    tu_assert_no_errors();
}

int main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc == 2 && strcmp(argv[1], "--trace-child") == 0)
        return trace_child_main();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_64k_heap_in_byte_array_with_first_fit),
        cmocka_unit_test(test_mmap_page_heap_with_magic_checked_on_free),
        cmocka_unit_test(test_sbrk_pool_reuses_a_stranded_region),   /* first: while the pool is empty */
        cmocka_unit_test(test_sbrk_pool),
        cmocka_unit_test(test_header_and_footer_boundary_tags_with_best_fit),
        cmocka_unit_test(test_split_and_coalesce_forward_and_backward),
        cmocka_unit_test(test_realloc_and_calloc),
        cmocka_unit_test(test_available_memory_print_free_list_and_reset),
        cmocka_unit_test(test_large_blocks_via_mmap_above_128k),
        cmocka_unit_test(test_free_ptr_plus_one_reported_as_error),
        cmocka_unit_test(test_debug_logging_of_every_operation),
    };
    return cmocka_run_group_tests_name("seeds", tests, NULL, NULL) != 0;
}
