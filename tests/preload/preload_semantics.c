/*
 * preload_semantics.c - what programs can observe of malloc and friends,
 * printed as facts that must read the same under glibc and under
 * LD_PRELOAD=libheaplab.so (run_compare.sh compares the two runs):
 * realloc(p, 0), the alignments memalign, aligned_alloc, posix_memalign,
 * valloc and pvalloc give, overflow and errno, calloc zeroing, contents kept
 * by realloc, malloc_usable_size.  Exact usable sizes differ between
 * allocators, so only "at least what was asked" is printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Sizes the compiler cannot see, so that it neither warns about nor folds
 * the requests that must fail. */
static volatile size_t size_max = SIZE_MAX, half = SIZE_MAX / 2, ptrdiff_max = PTRDIFF_MAX;

static int aligned(const void *p, size_t a) { return p && (uintptr_t)p % a == 0; }

static const char *err_name(int e) {
    return e == 0 ? "0" : e == ENOMEM ? "ENOMEM" : e == EINVAL ? "EINVAL" : "other";
}

/* memalign and aligned_alloc: the block is aligned to the alignment asked,
 * rounded up to a power of two; usable size covers the request. */
static void alignments(const char *name, void *(*fn)(size_t, size_t)) {
    static const size_t as[] = { 1, 2, 4, 8, 16, 24, 32, 48, 64, 100, 4096, 65536, 1 << 20 };
    for (size_t i = 0; i < sizeof as / sizeof *as; i++) {
        size_t want = 1;
        while (want < as[i]) want <<= 1;
        char *p = fn(as[i], 100);
        printf("%s(%zu, 100): %s, aligned to %zu: %s, usable >= 100: %s\n", name, as[i], p ? "block" : "NULL", want,
               aligned(p, want) ? "yes" : "no", p && malloc_usable_size(p) >= 100 ? "yes" : "no");
        if (p) memset(p, 1, 100);
        free(p);
    }
    errno = 0;
    void *p = fn(half + 2, 1);
    printf("%s(SIZE_MAX / 2 + 2, 1): %s, errno %s\n", name, p ? "block" : "NULL", err_name(errno));
    free(p);
}

static void realloc_cases(void) {
    char *p = malloc(10);
    errno = 0;
    char *q = realloc(p, 0);
    printf("realloc(p, 0): %s\n", q ? "a block" : "NULL (p freed)");
    free(q);
    q = realloc(NULL, 0);
    printf("realloc(NULL, 0): %s\n", q ? "a block" : "NULL");
    free(q);

    p = malloc(100);
    for (int i = 0; i < 100; i++) p[i] = (char)i;
    p = realloc(p, 100000);
    int kept = 1;
    for (int i = 0; i < 100; i++) kept &= p[i] == (char)i;
    p = realloc(p, 50);
    for (int i = 0; i < 50; i++) kept &= p[i] == (char)i;
    printf("realloc grow then shrink keeps the contents: %s\n", kept ? "yes" : "no");

    errno = 0;
    char *volatile kept_p = p;   /* still ours when reallocarray fails */
    q = reallocarray(p, half, 3);
    printf("reallocarray(p, SIZE_MAX / 2, 3): %s, errno %s, p intact: %s\n", q ? "block" : "NULL", err_name(errno),
           kept_p[49] == 49 ? "yes" : "no");
    p = kept_p;
    q = reallocarray(p, 10, 20);
    printf("reallocarray(p, 10, 20): %s, usable >= 200: %s, contents kept: %s\n", q ? "block" : "NULL",
           q && malloc_usable_size(q) >= 200 ? "yes" : "no", q && q[49] == 49 ? "yes" : "no");
    free(q);
}

static void sizes_and_errors(void) {
    void *a = malloc(0), *b = malloc(0);
    printf("malloc(0) twice: %s\n", a && b && a != b ? "two distinct blocks" : "not two blocks");
    free(a);
    free(b);
    errno = 0;
    a = malloc(size_max);
    printf("malloc(SIZE_MAX): %s, errno %s\n", a ? "block" : "NULL", err_name(errno));
    errno = 0;
    a = malloc(ptrdiff_max + 1);
    printf("malloc(PTRDIFF_MAX + 1): %s, errno %s\n", a ? "block" : "NULL", err_name(errno));
    errno = 0;
    a = calloc(half, 3);
    printf("calloc(SIZE_MAX / 2, 3): %s, errno %s\n", a ? "block" : "NULL", err_name(errno));
    free(NULL);
    printf("free(NULL): returns\n");
    printf("malloc_usable_size(NULL): %zu\n", malloc_usable_size(NULL));

    unsigned char *dirty = malloc(5000);
    memset(dirty, 0xff, 5000);
    free(dirty);
    int zero = 1;
    for (int round = 0; round < 4; round++) {
        unsigned char *c = calloc(1, 5000);
        for (int i = 0; i < 5000; i++) zero &= c[i] == 0;
        memset(c, 0xee, 5000);
        free(c);
    }
    printf("calloc after free of dirty blocks: zeroed: %s\n", zero ? "yes" : "no");
    printf("mallopt(M_MMAP_THRESHOLD, 1 MiB): %d\n", mallopt(M_MMAP_THRESHOLD, 1 << 20));
}

static void page_cases(void) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *v = valloc(100);
    printf("valloc(100): page-aligned: %s, usable >= 100: %s\n", aligned(v, page) ? "yes" : "no",
           v && malloc_usable_size(v) >= 100 ? "yes" : "no");
    free(v);
    char *pv = pvalloc(100);
    printf("pvalloc(100): page-aligned: %s, usable >= one page: %s\n", aligned(pv, page) ? "yes" : "no",
           pv && malloc_usable_size(pv) >= page ? "yes" : "no");
    if (pv) memset(pv, 2, page);   /* the rounding is the caller's to use */
    free(pv);
    pv = pvalloc(page + 1);
    printf("pvalloc(page + 1): usable >= two pages: %s\n", pv && malloc_usable_size(pv) >= 2 * page ? "yes" : "no");
    free(pv);
    errno = 0;
    pv = pvalloc(size_max - 10);
    printf("pvalloc(SIZE_MAX - 10): %s, errno %s\n", pv ? "block" : "NULL", err_name(errno));
}

static void posix_cases(void) {
    static const size_t as[] = { 4, 8, 16, 24, 64, 4096, 1 << 20 };
    for (size_t i = 0; i < sizeof as / sizeof *as; i++) {
        void *p = NULL;
        errno = 1234;
        int rc = posix_memalign(&p, as[i], 100);
        printf("posix_memalign(&p, %zu, 100): %s, aligned: %s, errno untouched: %s\n", as[i], err_name(rc),
               rc ? "-" : aligned(p, as[i]) ? "yes" : "no", errno == 1234 ? "yes" : "no");
        if (!rc) free(p);
    }
}

int main(void) {
    realloc_cases();
    alignments("memalign", memalign);
    alignments("aligned_alloc", aligned_alloc);
    posix_cases();
    page_cases();
    sizes_and_errors();
    return 0;
}
