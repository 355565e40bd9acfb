/*
 * preload.c - the C library's allocation functions on heaplab's global API,
 * for libheaplab.so:  LD_PRELOAD=libheaplab.so any-program
 *
 * glibc lets a program or a preloaded library replace malloc: every call in
 * the process, the C library's own and the dynamic linker's once it has
 * relocated, then goes to the first definition in the global scope.  The set
 * glibc's manual names for a complete replacement is defined here: malloc,
 * free, calloc, realloc, aligned_alloc, malloc_usable_size, memalign,
 * posix_memalign, pvalloc, valloc; plus reallocarray, cfree, and mallopt,
 * malloc_trim and mallinfo2, which accept their arguments and do nothing
 * harmful (mallinfo2 reports heaplab's own totals).
 *
 * Start-up safety: nothing here resolves a symbol at run time (no dlsym, so
 * no dlsym calling calloc calling dlsym), the library has no constructor, and
 * every thread-local variable in it is initial-exec (-ftls-model), so a first
 * malloc from the dynamic linker or from a new thread never enters
 * __tls_get_addr, which itself may allocate.  The global API sets itself up
 * on first use with pthread_once and pthread_key_create, which do not
 * allocate.
 *
 * Semantics follow glibc 2.36 where programs rely on them:
 *  - realloc(p, 0) with p != NULL frees p and returns NULL;
 *  - memalign rounds an alignment that is not a power of two up to one and
 *    treats alignments up to 16 as malloc; valloc aligns to the page; pvalloc
 *    also rounds the size up to whole pages;
 *  - aligned_alloc is memalign, as in glibc up to 2.37 (2.38 and C2x reject
 *    an alignment that is not a power of two; accepting it breaks nothing);
 *  - reallocarray and calloc fail with ENOMEM when count * size overflows,
 *    leaving the old block untouched.
 * tests/preload/preload_semantics.c prints each of these under glibc and
 * under heaplab, and the preload tests compare the two.
 */
#include "heaplab.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HL_EXPORT __attribute__((visibility("default")))

/* glibc dropped cfree's declaration; the symbol is still looked for. */
HL_EXPORT void cfree(void *p);

static size_t page_size(void) {
    static size_t page;   /* a benign race: every thread stores the same value */
    if (!page) page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

/* The smallest power of two at least a (a <= SIZE_MAX / 2 + 1). */
static size_t pow2_at_least(size_t a) {
    size_t p = HL_ALIGNMENT;
    while (p < a) p <<= 1;
    return p;
}

/* memalign's rules, shared by valloc and pvalloc. */
static void *memalign_glibc(size_t align, size_t n) {
    if (align <= HL_ALIGNMENT) return hl_malloc(n);
    if (align > SIZE_MAX / 2 + 1) {
        errno = EINVAL;
        return NULL;
    }
    return hl_aligned_alloc(pow2_at_least(align), n);
}

HL_EXPORT void *malloc(size_t n) { return hl_malloc(n); }

HL_EXPORT void free(void *p) { hl_free(p); }

HL_EXPORT void cfree(void *p) { hl_free(p); }

HL_EXPORT void *calloc(size_t count, size_t size) { return hl_calloc(count, size); }

HL_EXPORT void *realloc(void *p, size_t n) {
    if (p && n == 0) {
        hl_free(p);
        return NULL;
    }
    return hl_realloc(p, n);
}

HL_EXPORT void *reallocarray(void *p, size_t count, size_t size) {
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n);
}

HL_EXPORT int posix_memalign(void **out, size_t align, size_t n) { return hl_posix_memalign(out, align, n); }

HL_EXPORT void *aligned_alloc(size_t align, size_t n) { return memalign_glibc(align, n); }

HL_EXPORT void *memalign(size_t align, size_t n) { return memalign_glibc(align, n); }

HL_EXPORT void *valloc(size_t n) { return memalign_glibc(page_size(), n); }

HL_EXPORT void *pvalloc(size_t n) {
    size_t page = page_size(), rounded;
    if (__builtin_add_overflow(n, page - 1, &rounded)) {
        errno = ENOMEM;
        return NULL;
    }
    return memalign_glibc(page, rounded & ~(page - 1));
}

HL_EXPORT size_t malloc_usable_size(void *p) { return hl_malloc_usable_size(p); }

/* --- glibc's tuning entry points: accepted, nothing to tune ---------------------- */
HL_EXPORT int mallopt(int param, int value) {
    (void)param;
    (void)value;
    return 1;   /* glibc's "success" */
}

HL_EXPORT int malloc_trim(size_t pad) {
    (void)pad;
    return 0;   /* "no memory was returned": heaplab returns it on its own terms */
}

HL_EXPORT struct mallinfo2 mallinfo2(void) {
    hl_global_stats gs;
    hl_stats_global(&gs);
    struct mallinfo2 mi;
    memset(&mi, 0, sizeof mi);
    mi.arena = gs.source_bytes;
    mi.uordblks = gs.bytes_in_use;
    mi.fordblks = gs.bytes_free;
    return mi;
}
