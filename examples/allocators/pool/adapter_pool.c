/*
 * adapter_pool.c - the header-only pool allocator (pool.h) through the byoa
 * adapter.
 *
 * pool.h may be included once only (its functions and globals are defined in
 * it), and pool_demo.c does that; this file declares the symbols it needs.
 * The pool cannot be reset (plain globals, no reset function), so the target
 * runs in fork mode; it exit(1)s when full, which the fuzzer reports as a
 * finding (rule exit) - the point of this example.
 *
 * Claims: 8-byte alignment, sizes up to INT_MAX (pool_alloc takes an int).
 * No realloc or calloc (the pool has none: those operations are skipped),
 * no NULL on exhaustion (it exits), no coalescing, no misuse detection
 * that reports and returns.
 */
#include "byoa.h"

void *pool_alloc(int size);
void pool_release(void *p);

static void *pool_create(const fz_config *cfg, const fz_hooks *hooks, fz_claims *cl, const char **why)
{
    (void)cfg;
    (void)hooks;
    (void)why;
    byoa_claims(cl, 0, 8);
    cl->max_request = BYOA_INT_MAX_REQUEST;
    return byoa_global_heap();
}

static void pool_destroy(void *h) { (void)h; }
static void *pool_malloc(void *h, size_t n) { (void)h; return pool_alloc((int)n); }   /* n <= INT_MAX */
static void pool_free(void *h, void *p) { (void)h; pool_release(p); }

const fz_adapter fz_adapter_pool = {
    .version = FZ_ADAPTER_VERSION,
    .name = "pool",
    .create = pool_create, .destroy = pool_destroy,
    .malloc = pool_malloc, .free = pool_free,
};
