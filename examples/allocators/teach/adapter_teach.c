/*
 * adapter_teach.c - the teaching allocator (teach.c) through the byoa adapter.
 *
 * The CMake line renames teach.c's malloc, free, realloc and calloc to
 * teach_malloc ... in every object of this target, this file's included, so
 * the calls below reach the teaching allocator while the harness and libc
 * keep glibc's (or ASan's) malloc.
 *
 * Its heap is global and cannot be reset (fork mode gives each input a fresh
 * process), it takes memory with sbrk (SBRK: the harness keeps glibc off the
 * break), it prints every call (captured), and it exit(1)s when free() meets a
 * pointer it did not hand out - so no misuse is claimed: the oracle never
 * issues one, and an exit during an ordinary operation is a finding.
 *
 * Claims: 16-byte alignment, NULL with ENOMEM when the heap cannot grow, exact
 * first fit (NULL only when no free block holds the request), and coalescing.
 * The walk reads the block headers (teach.h) and refuses a header that is not
 * sound, which the oracle reports as a broken walk.
 *
 * TEACH_FALSE_THREAD_CLAIM (the teach_mt example) adds FZ_CLAIM_THREAD_SAFE,
 * which is false - one unlocked list, one unlocked sbrk - to show what
 * fuzz_threads_teach_mt does with an allocator whose claim is wrong.
 */
#include "byoa.h"
#include "teach.h"

#include <stdbool.h>
#include <stdint.h>

static void *ta_create(const fz_config *cfg, const fz_hooks *hooks, fz_claims *cl, const char **why)
{
    (void)cfg;
    (void)hooks;
    (void)why;
    unsigned flags = FZ_CLAIM_NULL_ON_EXHAUSTION | FZ_CLAIM_ERRNO | FZ_CLAIM_EXACT_FIT | FZ_CLAIM_COALESCES;
#ifdef TEACH_FALSE_THREAD_CLAIM
    flags |= FZ_CLAIM_THREAD_SAFE;   /* false: the demonstration */
#endif
    byoa_claims(cl, flags, TEACH_ALIGN);
    return byoa_global_heap();
}

static void ta_destroy(void *h) { (void)h; }
static void *ta_malloc(void *h, size_t n) { (void)h; return malloc(n); }
static void ta_free(void *h, void *p) { (void)h; free(p); }
static void *ta_realloc(void *h, void *p, size_t n) { (void)h; return realloc(p, n); }
static void *ta_calloc(void *h, size_t c, size_t s) { (void)h; return calloc(c, s); }

static size_t ta_usable(void *h, const void *p)
{
    (void)h;
    return ((const struct block *)p - 1)->size;
}

/* A header the walk can trust: a known magic that agrees with the free flag,
 * a size that is aligned and stays inside the heap, the right back link. */
static bool sound(const struct block *b, const struct block *prev)
{
    size_t room = (size_t)((const char *)heap_end - (const char *)(b + 1));
    bool magic_ok = b->free ? b->magic == TEACH_MAGIC_FREE : b->magic == TEACH_MAGIC_USED;
    return magic_ok && b->free <= 1 && b->size % TEACH_ALIGN == 0 && b->size <= room && b->prev == prev;
}

static int ta_walk(void *h, fz_walk_fn fn, void *ctx)
{
    (void)h;
    if (!heap_start)
        return 0;
    fz_walk_info region = { .kind = FZ_WALK_REGION, .start = heap_start,
                            .size = (size_t)((char *)heap_end - (char *)heap_start) };
    int rc = fn(&region, ctx);
    const struct block *prev = NULL;
    for (struct block *b = heap_start; rc == 0 && b < heap_end; prev = b, b = (struct block *)((char *)(b + 1) + b->size)) {
        if (!sound(b, prev))
            return -1;
        fz_walk_info info = { .kind = FZ_WALK_BLOCK, .start = b, .size = sizeof *b + b->size,
                              .payload = b + 1, .usable = b->size, .used = !b->free };
        rc = fn(&info, ctx);
    }
    return rc;
}

const fz_adapter fz_adapter_teach = {
    .version = FZ_ADAPTER_VERSION,
    .name = "teach",
    .create = ta_create, .destroy = ta_destroy,
    .malloc = ta_malloc, .free = ta_free, .realloc = ta_realloc, .calloc = ta_calloc,
    .usable_size = ta_usable, .walk = ta_walk,
};
