/*
 * test_inspect.c - what hl_heap_stats, hl_heap_dump, hl_heap_walk and the
 * trace show, checked against numbers worked out from the block layout.
 *
 * The scripted heap is a first-fit heap on a 64 KiB array, so every placement
 * is known: a request of n bytes takes tu_block_size(n) bytes (header,
 * payload, footer, rounded to 16), carved from the front of the free block
 * first fit picks (the newest listed block that fits).
 */
#include "test_util.h"  /* first: it includes what cmocka.h needs */
#include <cmocka.h>     /* named here too: tests/CMakeLists.txt links cmocka to files that include it */

#include <inttypes.h>

static _Alignas(16) unsigned char arena[64 * 1024];

static hl_heap *first_fit_arena(void)
{
    hl_config cfg = tu_config(HL_FIRST_FIT, TU_BUF64K);
    cfg.buffer = arena;
    cfg.buffer_size = sizeof arena;
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    return h;
}

typedef struct expect {
    size_t bytes_in_use, blocks_in_use, bytes_free, blocks_free, largest_free;
    size_t mallocs, callocs, reallocs, aligned_allocs, frees, failures, errors, splits, merges;
} expect;

#define assert_stats(h, e) assert_stats_at((h), (e), __LINE__)
static void assert_stats_at(const hl_heap *h, const expect *e, int line)
{
    hl_stats st = tu_stats(h);
    const size_t got[] = {st.bytes_in_use, st.blocks_in_use, st.bytes_free, st.blocks_free, st.largest_free,
                          st.mallocs, st.callocs, st.reallocs, st.aligned_allocs, st.frees,
                          st.failures, st.errors, st.splits, st.merges};
    const size_t want[] = {e->bytes_in_use, e->blocks_in_use, e->bytes_free, e->blocks_free, e->largest_free,
                           e->mallocs, e->callocs, e->reallocs, e->aligned_allocs, e->frees,
                           e->failures, e->errors, e->splits, e->merges};
    static const char *const names[] = {"bytes_in_use", "blocks_in_use", "bytes_free", "blocks_free",
                                        "largest_free", "mallocs", "callocs", "reallocs", "aligned_allocs",
                                        "frees", "failures", "errors", "splits", "merges"};
    for (size_t i = 0; i < sizeof got / sizeof got[0]; i++) {
        if (got[i] != want[i])
            print_error("line %d: stats.%s is %zu, expected %zu\n", line, names[i], got[i], want[i]);
        assert_int_equal(got[i], want[i]);
    }
    tu_assert_heap_ok(h);
}

static void test_stats_exact_after_a_script(void **state)
{
    (void)state;
    tu_errors_install();
    hl_heap *h = first_fit_arena();
    hl_stats fresh = tu_stats(h);
    const size_t F0 = fresh.bytes_free;        /* one free block of F0 bytes */
    const size_t A = tu_block_size(100), B = tu_block_size(200), C = tu_block_size(1000);
    const size_t D = tu_block_size(10), E = tu_block_size(200), G = tu_block_size(300);
    expect e = {0};
    e.bytes_free = F0;
    e.blocks_free = 1;
    e.largest_free = F0 - HL_OVERHEAD;
    assert_stats(h, &e);
    assert_int_equal(fresh.regions, 1);

    unsigned char *a = hl_heap_malloc(h, 100);           /* [a][free] */
    e.mallocs = 1, e.splits = 1, e.bytes_in_use = 100, e.blocks_in_use = 1, e.bytes_free -= A;
    e.largest_free = e.bytes_free - HL_OVERHEAD;
    assert_stats(h, &e);

    unsigned char *b = hl_heap_calloc(h, 4, 50);          /* [a][b][free] */
    e.callocs = 1, e.splits = 2, e.bytes_in_use += 200, e.blocks_in_use = 2, e.bytes_free -= B;
    e.largest_free = e.bytes_free - HL_OVERHEAD;
    assert_stats(h, &e);

    unsigned char *c = hl_heap_malloc(h, 1000);           /* [a][b][c][free] */
    unsigned char *d = hl_heap_malloc(h, 10);             /* [a][b][c][d][free] */
    assert_ptr_equal(b, a + A);
    assert_ptr_equal(c, b + B);
    assert_ptr_equal(d, c + C);
    e.mallocs = 3, e.splits = 4, e.bytes_in_use += 1010, e.blocks_in_use = 4, e.bytes_free -= C + D;
    e.largest_free = e.bytes_free - HL_OVERHEAD;
    const size_t tail = e.bytes_free;
    assert_stats(h, &e);

    hl_heap_free(h, b);                                   /* neighbours used: no merge */
    e.frees = 1, e.bytes_in_use -= 200, e.blocks_in_use = 3, e.bytes_free += B, e.blocks_free = 2;
    assert_stats(h, &e);

    hl_heap_free(h, c);                                   /* merges back into b */
    e.frees = 2, e.merges = 1, e.bytes_in_use -= 1000, e.blocks_in_use = 2, e.bytes_free += C;
    assert_stats(h, &e);

    unsigned char *ee = hl_heap_malloc(h, 200);           /* first fit: the merged b+c */
    assert_ptr_equal(ee, b);
    e.mallocs = 4, e.splits = 5, e.bytes_in_use += 200, e.blocks_in_use = 3, e.bytes_free -= E;
    assert_stats(h, &e);

    /* a's neighbour is used: realloc moves it into the rest of b+c and frees a */
    tu_fill(a, 100, 1);
    unsigned char *g = hl_heap_realloc(h, a, 300);
    assert_ptr_equal(g, b + E);
    tu_assert_intact(g, 100, 1);
    e.reallocs = 1, e.splits = 6, e.bytes_in_use += 200, e.bytes_free += A - G, e.blocks_free = 3;
    assert_stats(h, &e);

    hl_heap_free(h, d);                                   /* merges both ways */
    e.frees = 3, e.merges = 3, e.bytes_in_use -= 10, e.blocks_in_use = 2, e.bytes_free += D, e.blocks_free = 2;
    e.largest_free = tail + (B + C - E - G) + D - HL_OVERHEAD;
    assert_stats(h, &e);
    assert_int_equal(e.bytes_free, F0 - E - G);

    errno = 0;
    assert_null(hl_heap_malloc(h, SIZE_MAX));             /* a failure */
    e.mallocs = 5, e.failures = 1;
    assert_stats(h, &e);

    tu_misuse_begin();
    hl_heap_free(h, ee + 16);                             /* an error, reported */
    tu_misuse_end();
    assert_int_equal(tu_errors()->count, 1);
    e.frees = 4, e.errors = 1;
    assert_stats(h, &e);

    unsigned char *al = hl_heap_aligned_alloc(h, 256, 40);
    assert_non_null(al);
    assert_int_equal((uintptr_t)al % 256, 0);
    hl_stats st = tu_stats(h);
    assert_int_equal(st.aligned_allocs, 1);
    assert_int_equal(st.bytes_in_use, e.bytes_in_use + 40);
    assert_int_equal(st.blocks_in_use, 3);
    tu_walk *w = tu_walk_new(h);
    assert_int_equal(tu_walk_payload(w, al)->size, tu_block_size(40));
    free(w);

    hl_heap_reset(h);
    expect zero = {0};
    zero.bytes_free = F0;
    zero.blocks_free = 1;
    zero.largest_free = F0 - HL_OVERHEAD;
    assert_stats(h, &zero);
    hl_heap_destroy(h);
}

/* --- the dump ---------------------------------------------------------------------------- */

static void test_dump_shows_every_block_and_free_list(void **state)
{
    (void)state;
    tu_errors_install();
    hl_config cfg = tu_config(HL_SEGREGATED_FIT, TU_MMAP);
    cfg.grow_size = 64 * 1024;
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    void *p[10];
    for (int i = 0; i < 10; i++) {
        p[i] = hl_heap_malloc(h, 5000 + 3000 * (size_t)i);  /* several regions */
        assert_non_null(p[i]);
    }
    void *large = hl_heap_malloc(h, 300 * 1024);
    assert_non_null(large);
    for (int i = 0; i < 10; i += 3)
        hl_heap_free(h, p[i]);

    tu_text t;
    tu_text_open(&t);
    hl_heap_dump(h, t.f);
    const char *text = tu_text_get(&t);
    const char *lists = strstr(text, "free lists");
    assert_non_null(lists);
    tu_walk *w = tu_walk_new(h);
    assert_true(tu_walk_count(w, HL_WALK_REGION, -1) >= 2);
    for (size_t i = 0; i < w->count; i++) {
        const hl_walk_info *in = &w->e[i];
        char addr[32], line[512], size[32];
        if (in->kind == HL_WALK_REGION) {
            assert_non_null(strstr(text, tu_addr(in->start, addr, sizeof addr)));
            continue;
        }
        /* each block and mapping: a line with its payload, size and state */
        tu_line_with(text, tu_addr(in->payload, addr, sizeof addr), line, sizeof line);
        if (!line[0])
            print_error("no line for %s in the dump:\n%s", addr, text);
        assert_true(line[0] != '\0');
        snprintf(size, sizeof size, "%zu", in->size);
        assert_non_null(strstr(line, size));
        if (in->kind == HL_WALK_BLOCK) {
            assert_non_null(strstr(line, in->used ? "used" : "free"));
            if (!in->used)  /* and every free block in a free list */
                assert_non_null(strstr(lists, tu_addr(in->start, addr, sizeof addr)));
        }
    }
    free(w);
    tu_text_close(&t);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

/* --- the walk ----------------------------------------------------------------------------- */

static int stop_at_third(const hl_walk_info *info, void *ctx)
{
    (void)info;
    int *calls = ctx;
    return ++*calls == 3 ? 42 : 0;
}

static void test_walk_tiles_every_region(void **state)
{
    (void)state;
    tu_errors_install();
    for (int pol = 0; pol < TU_POLICY_COUNT; pol++) {
        hl_config cfg = tu_config(tu_policy(pol), TU_SBRK);
        cfg.grow_size = 32 * 1024;
        hl_heap *h = hl_heap_create(&cfg);
        assert_non_null(h);
        static tu_shadow s;
        tu_shadow_init(&s, 1);
        for (size_t i = 0; i < 40; i++) {
            void *p = hl_heap_malloc(h, 100 + (i * 977) % 9000);
            assert_non_null(p);
            tu_shadow_add(&s, p, 100 + (i * 977) % 9000);
        }
        void *large = hl_heap_aligned_alloc(h, 8192, 150 * 1024);
        assert_non_null(large);
        for (size_t i = 0; i < s.count; i += 4) {
            void *p = s.b[i].p;
            tu_shadow_remove(&s, i);
            hl_heap_free(h, p);
        }

        tu_walk *w = tu_walk_new(h);
        hl_stats st = tu_stats(h);
        size_t i = 0, regions = 0, used = 0, frees = 0, larges = 0;
        while (i < w->count && w->e[i].kind == HL_WALK_REGION) {
            /* the region's blocks follow it and tile it exactly */
            const char *r = w->e[i].start, *at = r + sizeof(hl_region);
            const char *stop = r + w->e[i].size - HL_EPILOGUE;
            regions++;
            for (i++; i < w->count && w->e[i].kind == HL_WALK_BLOCK; i++) {
                const hl_walk_info *b = &w->e[i];
                assert_ptr_equal(b->start, at);
                assert_ptr_equal(b->payload, at + HL_HEADER);
                assert_int_equal(b->usable, b->size - HL_OVERHEAD);
                assert_int_equal(b->size % HL_ALIGN, 0);
                if (b->used) {
                    used++;
                    assert_true(b->requested <= b->usable);
                } else {
                    frees++;
                    assert_int_equal(b->requested, 0);
                }
                at += b->size;
            }
            assert_ptr_equal(at, stop);
        }
        for (; i < w->count; i++) {   /* then the large mappings, nothing else */
            assert_int_equal(w->e[i].kind, HL_WALK_LARGE);
            assert_ptr_equal(w->e[i].payload, large);
            assert_int_equal(w->e[i].requested, 150 * 1024);
            larges++;
        }
        assert_int_equal(regions, st.regions);
        assert_int_equal(used + larges, st.blocks_in_use);
        assert_int_equal(frees, st.blocks_free);
        assert_int_equal(larges, 1);
        for (size_t k = 0; k < s.count; k++) {   /* each live block, with its request */
            const hl_walk_info *b = tu_walk_payload(w, s.b[k].p);
            assert_non_null(b);
            assert_int_equal(b->used, 1);
            assert_int_equal(b->requested, s.b[k].n);
        }
        free(w);

        int calls = 0;   /* a nonzero return stops the walk and is returned */
        assert_int_equal(hl_heap_walk(h, stop_at_third, &calls), 42);
        assert_int_equal(calls, 3);
        tu_shadow_verify(&s);
        hl_heap_destroy(h);
    }
    tu_assert_no_errors();
}

/* --- the trace ------------------------------------------------------------------------------ */

static size_t lines_with(const char *text, const char *word)
{
    size_t n = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)len, line);
        n += strstr(buf, word) != NULL;
        line += len + (end != NULL);
    }
    return n;
}

static void test_trace_one_line_per_operation_split_and_merge(void **state)
{
    (void)state;
    tu_errors_install();
    hl_heap *h = first_fit_arena();
    tu_text t;
    tu_text_open(&t);
    hl_set_trace(t.f);
    void *a = hl_heap_malloc(h, 100);
    void *b = hl_heap_calloc(h, 2, 50);
    void *c = hl_heap_aligned_alloc(h, 64, 100);
    b = hl_heap_realloc(h, b, 1000);
    hl_heap_free(h, a);
    hl_heap_free(h, b);
    hl_heap_free(h, c);
    hl_set_trace(NULL);
    const char *text = tu_text_get(&t);
    hl_stats st = tu_stats(h);
    size_t ops = st.mallocs + st.callocs + st.reallocs + st.aligned_allocs + st.frees;
    if (tu_count_lines(text) != ops + st.splits + st.merges)
        print_error("%zu ops, %zu splits, %zu merges; the trace:\n%s", ops, st.splits, st.merges, text);
    assert_int_equal(tu_count_lines(text), ops + st.splits + st.merges);
    assert_int_equal(lines_with(text, "malloc("), 1);
    assert_int_equal(lines_with(text, "calloc("), 1);
    assert_int_equal(lines_with(text, "realloc("), 1);
    assert_int_equal(lines_with(text, "aligned_alloc("), 1);
    assert_int_equal(lines_with(text, "free("), 3);
    assert_int_equal(lines_with(text, "split"), st.splits);
    assert_int_equal(lines_with(text, "merge"), st.merges);
    char addr[32], line[512];
    tu_line_with(text, "malloc(", line, sizeof line);
    assert_non_null(strstr(line, tu_addr(a, addr, sizeof addr)));   /* the result */
    assert_true(st.splits > 0 && st.merges > 0);

    size_t len = strlen(text);
    assert_non_null(hl_heap_malloc(h, 10));     /* off: nothing more */
    assert_int_equal(strlen(tu_text_get(&t)), len);
    tu_text_close(&t);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

/* --- the trace names every event ------------------------------------------------------- */

/* Since `mark`, the trace holds a line with `first` that also holds `also`
 * (NULL: nothing more), written by this heap. */
static void assert_traced(tu_text *t, size_t mark, const hl_heap *h, const char *first, const char *also)
{
    const char *text = tu_text_get(t) + mark;
    char line[512], who[48];
    tu_line_with(text, first, line, sizeof line);
    snprintf(who, sizeof who, "heaplab[%p]: ", (const void *)h);
    if (!strstr(line, first) || (also && !strstr(line, also)) || strncmp(line, who, strlen(who)) != 0)
        print_error("no trace line of %s with \"%s\" and \"%s\" in:\n%s", who, first, also ? also : "", text);
    assert_non_null(strstr(line, first));
    if (also)
        assert_non_null(strstr(line, also));
    assert_int_equal(strncmp(line, who, strlen(who)), 0);
}

static size_t trace_end(tu_text *t) { return strlen(tu_text_get(t)); }

static void test_trace_names_every_event(void **state)
{
    (void)state;
    tu_errors_install();
    tu_text t;
    tu_text_open(&t);
    hl_set_trace(t.f);
    hl_config cfg = tu_config(HL_FIRST_FIT, TU_MMAP);
    hl_heap *h = hl_heap_create(&cfg);
    assert_non_null(h);
    assert_traced(&t, 0, h, "create policy 1 source 0", "threshold 131072");

    size_t mark = trace_end(&t);
    unsigned char *a = hl_heap_malloc(h, 1000);
    assert_non_null(a);
    assert_traced(&t, mark, h, "region ", "from the source");
    mark = trace_end(&t);
    assert_ptr_equal(hl_heap_realloc(h, a, 100), a);       /* shrinks in place, gives the tail back */
    assert_traced(&t, mark, h, "+ tail", "split");
    mark = trace_end(&t);
    assert_ptr_equal(hl_heap_realloc(h, a, 600), a);       /* grows into that tail again */
    assert_traced(&t, mark, h, "(realloc)", "merge");
    mark = trace_end(&t);
    void *al = hl_heap_aligned_alloc(h, 4096, 100);
    assert_non_null(al);
    assert_traced(&t, mark, h, "for alignment 4096", "gap");
    mark = trace_end(&t);
    void *big = hl_heap_malloc(h, 200 * 1024);
    assert_non_null(big);
    assert_traced(&t, mark, h, "large ", "mapping");
    mark = trace_end(&t);
    hl_heap_free(h, big);                                  /* kept for reuse (docs/large.md) */
    assert_traced(&t, mark, h, "cache: keep ", "bytes)");

    char addr[32];
    tu_addr(a + 16, addr, sizeof addr);
    mark = trace_end(&t);
    hl_heap_free(h, a + 16);                               /* refused, and the report traced */
    assert_int_equal(tu_errors()->count, 1);
    assert_traced(&t, mark, h, "error invalid-pointer: free(): invalid pointer", addr);
    assert_traced(&t, mark, h, " refused", addr);
    mark = trace_end(&t);
    hl_heap_reset(h);
    assert_traced(&t, mark, h, "]: reset", NULL);
    mark = trace_end(&t);
    hl_heap_destroy(h);
    assert_traced(&t, mark, h, "]: destroy", NULL);
    hl_set_trace(NULL);
    tu_text_close(&t);
}

static int never_stop(const hl_walk_info *info, void *ctx)
{
    (void)info;
    ++*(int *)ctx;
    return 0;
}

/* --- the dump: each policy and source by name; a corrupted heap -------------------------------- */

static void test_dump_names_policy_and_source(void **state)
{
    (void)state;
    tu_errors_install();
    static const char *const policy[TU_POLICY_COUNT] = {"segregated-fit", "first-fit", "best-fit"};
    static const struct { int source; const char *name; } sources[] = {
        {TU_BUF64K, "buffer"}, {TU_MMAP, "mmap"}, {TU_SBRK, "sbrk"},
    };
    for (int p = 0; p < TU_POLICY_COUNT; p++) {
        for (size_t s = 0; s < sizeof sources / sizeof sources[0]; s++) {
            hl_config cfg = tu_config(tu_policy(p), sources[s].source);
            hl_heap *h = hl_heap_create(&cfg);
            assert_non_null(h);
            assert_non_null(hl_heap_malloc(h, 100));
            tu_text t;
            tu_text_open(&t);
            hl_heap_dump(h, t.f);
            char want[64], line[512];
            snprintf(want, sizeof want, ": %s on %s;", policy[p], sources[s].name);
            tu_line_with(tu_text_get(&t), "heaplab heap", line, sizeof line);
            if (!strstr(line, want))
                print_error("dump header [%s], want \"%s\"\n", line, want);
            assert_non_null(strstr(line, want));
            tu_text_close(&t);
            hl_heap_destroy(h);
        }
    }
    tu_assert_no_errors();
}

static void test_dump_and_walk_of_a_corrupted_heap(void **state)
{
    (void)state;
    tu_errors_install();
    hl_heap *h = first_fit_arena();
    unsigned char *a = hl_heap_malloc(h, 64), *x = hl_heap_malloc(h, 64), *c = hl_heap_malloc(h, 64);
    assert_non_null(a && x && c);
    hl_heap_free(h, x);                  /* heads the free list */
    tu_flip_check(x, 0x4);
    tu_walk *w = calloc(1, sizeof *w);
    assert_non_null(w);
    assert_int_equal(hl_heap_walk(h, tu_walk_cb, w), -1);
    assert_int_equal(w->count, 2);       /* the region and a: the walk stops at x */
    free(w);
    tu_text t;
    tu_text_open(&t);
    hl_heap_dump(h, t.f);
    const char *text = tu_text_get(&t);
    char addr[32], line[512];
    assert_non_null(strstr(text, "(walk stopped at a corrupted block: run hl_heap_check)"));
    tu_line_with(text, "(corrupted: run hl_heap_check)", line, sizeof line);
    assert_non_null(strstr(line, tu_addr(hl_payload_block(x), addr, sizeof addr)));
    tu_text_close(&t);
    tu_flip_check(x, 0x4);
    tu_assert_heap_ok(h);

    /* a list that loops: the dump shows as many nodes as there are free blocks, and ends */
    size_t link = tu_read_word(x);                 /* x->next_free: x's first payload bytes */
    tu_write_word(x, (size_t)(uintptr_t)hl_payload_block(x));
    size_t nfree = h->st.blocks_free;
    tu_text_open(&t);
    hl_heap_dump(h, t.f);
    char node[48];
    snprintf(node, sizeof node, " %p (96)", (void *)hl_payload_block(x));
    tu_line_with(tu_text_get(&t), "  [0]:", line, sizeof line);
    assert_int_equal(tu_count_substr(line, node), nfree + 1);
    tu_text_close(&t);
    tu_write_word(x, link);
    tu_assert_heap_ok(h);

    /* a list head outside every region: the dump names it and stops there */
    static _Alignas(16) unsigned char foreign[64];
    hl_block *head = h->lists[0];
    h->lists[0] = (hl_block *)foreign;
    tu_text_open(&t);
    hl_heap_dump(h, t.f);
    tu_line_with(tu_text_get(&t), "(corrupted: run hl_heap_check)", line, sizeof line);
    assert_non_null(strstr(line, tu_addr(foreign, addr, sizeof addr)));
    tu_text_close(&t);
    h->lists[0] = head;
    tu_assert_heap_ok(h);

    /* a sealed header too small to be a block: the walk stops at it */
    hl_block *ab = hl_payload_block(a);
    size_t sf = tu_read_word(&ab->size_flags), ck = tu_read_word(&ab->check);
    uint32_t check = hl_check_word(ab, 32 | HL_USED, 0, h->cookie), zero = 0;
    tu_write_word(&ab->size_flags, 32 | HL_USED);
    tu_poke(&ab->check, &check, sizeof check);
    tu_poke(&ab->slack, &zero, sizeof zero);
    int seen = 0;
    assert_int_equal(hl_heap_walk(h, never_stop, &seen), -1);
    assert_int_equal(seen, 1);           /* the region only */
    tu_write_word(&ab->size_flags, sf);
    tu_write_word(&ab->check, ck);
    tu_assert_heap_ok(h);

    /* a region header whose seal no longer matches: the walk does not enter it */
    hl_region *r = h->regions;
    size_t seal = tu_read_word(&r->seal);
    tu_write_word(&r->seal, seal ^ 1);
    int calls = 0;
    assert_int_equal(hl_heap_walk(h, never_stop, &calls), -1);
    assert_int_equal(calls, 0);
    tu_write_word(&r->seal, seal);
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

/* --- the walk stops where its callback says ------------------------------------------------ */

typedef struct stop_at { int calls, stop; } stop_at;

static int stop_at_call(const hl_walk_info *info, void *ctx)
{
    (void)info;
    stop_at *s = ctx;
    return ++s->calls == s->stop ? 7 : 0;
}

static void test_walk_stops_where_the_callback_says(void **state)
{
    (void)state;
    tu_errors_install();
    hl_config cfg = tu_config(HL_SEGREGATED_FIT, TU_MMAP);
    hl_heap *h = hl_heap_create(&cfg);
    void *small = hl_heap_malloc(h, 100), *big = hl_heap_malloc(h, 200 * 1024);
    assert_non_null(small && big);
    int total = 0;
    assert_int_equal(hl_heap_walk(h, never_stop, &total), 0);
    assert_int_equal(total, 4);          /* the region, its two blocks, the large mapping */
    for (int stop = 1; stop <= total; stop++) {
        stop_at s = {0, stop};
        assert_int_equal(hl_heap_walk(h, stop_at_call, &s), 7);
        assert_int_equal(s.calls, stop);
    }
    /* a large mapping whose block header was overwritten ends the walk there */
    tu_flip_check(big, 0x100);
    int calls = 0;
    assert_int_equal(hl_heap_walk(h, never_stop, &calls), -1);
    assert_int_equal(calls, 3);
    tu_flip_check(big, 0x100);
    hl_large *l = hl_block_large_header(hl_payload_block(big));
    size_t seal = tu_read_word(&l->seal);
    tu_write_word(&l->seal, seal ^ 1);
    calls = 0;
    assert_int_equal(hl_heap_walk(h, never_stop, &calls), -1);
    assert_int_equal(calls, 3);
    tu_write_word(&l->seal, seal);
    tu_assert_heap_ok(h);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

/* --- the checker's report as text: what it prints when there is no block or no bytes ---------- */

static void test_report_print_without_block_or_bytes(void **state)
{
    (void)state;
    tu_errors_install();
    hl_check_report r;
    assert_int_equal(hl_heap_check(NULL, &r), HL_INV_REGION);
    tu_text t;
    tu_text_open(&t);
    hl_check_report_print(&r, t.f);
    const char *text = tu_text_get(&t);
    assert_non_null(strstr(text, "heap check: invariant 12 (region) violated"));
    assert_non_null(strstr(text, "the heap pointer is NULL"));
    assert_non_null(strstr(text, "(no bytes known readable around it)"));
    assert_null(strstr(text, "  block "));
    assert_null(strstr(text, "  in "));
    tu_text_close(&t);

    /* a region header gone bad: the report names the region, not a block */
    hl_heap *h = first_fit_arena();
    hl_region *reg = h->regions;
    size_t magic = tu_read_word(&reg->magic);
    tu_write_word(&reg->magic, magic ^ 0x100);
    assert_int_equal(hl_heap_check(h, &r), HL_INV_REGION);
    assert_null(r.block);
    assert_ptr_equal(r.region, reg);
    tu_text_open(&t);
    hl_check_report_print(&r, t.f);
    char want[48];
    snprintf(want, sizeof want, "  in        %p\n", (void *)reg);
    assert_non_null(strstr(tu_text_get(&t), want));
    assert_non_null(strstr(tu_text_get(&t), "bad magic"));
    tu_text_close(&t);
    tu_write_word(&reg->magic, magic);
    tu_assert_heap_ok(h);

    /* a report made by hand: a dump that ends mid-line, a block inside it */
    hl_check_report made;
    memset(&made, 0, sizeof made);
    made.id = HL_INV_FOOTER;
    snprintf(made.message, sizeof made.message, "made by hand");
    for (int i = 0; i < 20; i++)
        made.dump[i] = (unsigned char)('A' + i);
    made.dump_addr = (const void *)(uintptr_t)0x10000;
    made.dump_len = 20;
    made.block = (const void *)(uintptr_t)0x10010;
    tu_text_open(&t);
    hl_check_report_print(&made, t.f);
    const char *out = tu_text_get(&t);
    char l2[256], second[32];
    snprintf(second, sizeof second, "  %#014" PRIxPTR " ", (uintptr_t)0x10010);   /* as the dump writes addresses */
    tu_line_with(out, second, l2, sizeof l2);
    assert_non_null(strstr(l2, " 51 52 53 54 "));            /* the last four bytes, then padding */
    assert_non_null(strstr(l2, "|QRST| <- block +0"));
    assert_non_null(strstr(out, "20 bytes at"));
    tu_text_close(&t);
    made.dump_len = 1000;                                   /* more than dump[] holds: 8 lines of it */
    tu_text_open(&t);
    hl_check_report_print(&made, t.f);
    snprintf(second, sizeof second, "\n  %#012" PRIxPTR, (uintptr_t)0x100);      /* the lines at 0x100x0 */
    assert_int_equal(tu_count_substr(tu_text_get(&t), second), 8);
    tu_text_close(&t);
    made.dump_len = 0;                                      /* an address, but no bytes */
    tu_text_open(&t);
    hl_check_report_print(&made, t.f);
    assert_non_null(strstr(tu_text_get(&t), "(no bytes known readable around it)"));
    tu_text_close(&t);

    /* nothing to print, or nowhere to print it: nothing happens */
    tu_text_open(&t);
    hl_check_report_print(NULL, t.f);
    assert_string_equal(tu_text_get(&t), "");
    hl_check_report_print(&r, NULL);
    tu_text_close(&t);
    hl_heap_destroy(h);
    tu_assert_no_errors();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_exact_after_a_script),
        cmocka_unit_test(test_dump_shows_every_block_and_free_list),
        cmocka_unit_test(test_walk_tiles_every_region),
        cmocka_unit_test(test_trace_one_line_per_operation_split_and_merge),
        cmocka_unit_test(test_trace_names_every_event),
        cmocka_unit_test(test_dump_names_policy_and_source),
        cmocka_unit_test(test_dump_and_walk_of_a_corrupted_heap),
        cmocka_unit_test(test_walk_stops_where_the_callback_says),
        cmocka_unit_test(test_report_print_without_block_or_bytes),
    };
    return cmocka_run_group_tests_name("inspect", tests, NULL, NULL) != 0;
}
